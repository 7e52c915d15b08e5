import { cachedQuietSettings } from '../../lambdas/core/presentation';
import type { QuietSettings } from '../../lambdas/core/quiet-hours';

describe('cachedQuietSettings', () => {
  function countingReader() {
    const reads: string[] = [];
    let settings: QuietSettings = { timeZone: 'Europe/Berlin' };
    return {
      reads,
      change: (next: QuietSettings) => (settings = next),
      read: async (bucketId: string) => {
        reads.push(bucketId);
        return settings;
      },
    };
  }

  test('reads a bucket once per time-to-live, then again', async () => {
    // GIVEN a 30 s cache on a clock the test moves
    let now = 1_000_000;
    const source = countingReader();
    const cached = cachedQuietSettings(source.read, 30_000, () => now);

    // WHEN
    const first = await cached('b1');
    source.change({ snoozeUntil: '2026-12-06T00:00:00Z' });
    now += 29_999;
    const stillCached = await cached('b1');
    now += 1;
    const reread = await cached('b1');

    // THEN
    expect(first).toEqual({ timeZone: 'Europe/Berlin' });
    expect(stillCached).toEqual({ timeZone: 'Europe/Berlin' });
    expect(reread).toEqual({ snoozeUntil: '2026-12-06T00:00:00Z' });
    expect(source.reads).toEqual(['b1', 'b1']);
  });

  test('keeps buckets apart', async () => {
    const source = countingReader();
    const cached = cachedQuietSettings(source.read, 30_000, () => 0);
    await cached('b1');
    await cached('b2');
    await cached('b1');
    expect(source.reads).toEqual(['b1', 'b2']);
  });

  test('0 reads every time', async () => {
    const source = countingReader();
    const cached = cachedQuietSettings(source.read, 0, () => 0);
    await cached('b1');
    await cached('b1');
    expect(source.reads).toEqual(['b1', 'b1']);
  });
});
