import fc from 'fast-check';
import { HeraldError } from '../../../lambdas/core/errors';
import { MAX_SCHEDULE_AHEAD_MS, parseDuration, parseInstant, resolveDueAt } from '../../../lambdas/core/schedule/when';

const NOW = new Date('2026-03-01T12:00:00.000Z');
const MINUTE = 60_000;

function refusal(timing: Parameters<typeof resolveDueAt>[0]): { error: string; message: string } {
  try {
    resolveDueAt(timing, NOW);
  } catch (error) {
    if (error instanceof HeraldError) return error.toJSON();
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('parseDuration', () => {
  test.each([
    ['30s', 30_000],
    ['30m', 30 * MINUTE],
    ['2h', 120 * MINUTE],
    ['1d', 24 * 60 * MINUTE],
    ['1h30m', 90 * MINUTE],
    ['1d2h3m4s', ((24 + 2) * 60 + 3) * MINUTE + 4000],
    ['90', 90_000],
    [' 10 min ', 10 * MINUTE],
    ['3 hours', 180 * MINUTE],
  ])('%s is %i ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  test.each(['', 'soon', '10am', 'tomorrow', '1.5h', '30m1h', '-5m', 'm'])('"%s" is not a duration', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  test('every combination of units adds up', () => {
    fc.assert(
      fc.property(fc.nat(40), fc.nat(100), fc.nat(100), fc.nat(100), (d, h, m, s) => {
        const text = `${d ? `${d}d` : ''}${h ? `${h}h` : ''}${m ? `${m}m` : ''}${s ? `${s}s` : ''}`;
        fc.pre(text !== '');
        expect(parseDuration(text)).toBe(((d * 24 + h) * 60 + m) * MINUTE + s * 1000);
      }),
    );
  });
});

describe('parseInstant', () => {
  test('reads ISO 8601 with Z or an offset, and unix seconds', () => {
    expect(parseInstant('2026-03-01T13:00:00Z')).toEqual(new Date('2026-03-01T13:00:00Z'));
    expect(parseInstant('2026-03-01T14:00:00+01:00')).toEqual(new Date('2026-03-01T13:00:00Z'));
    expect(parseInstant('1772370000')).toEqual(new Date(1772370000 * 1000));
  });

  test('refuses a time without a zone, which would be read in the server\'s zone', () => {
    expect(parseInstant('2026-03-01T13:00:00')).toBeUndefined();
    expect(parseInstant('2026-03-01')).toBeUndefined();
  });
});

describe('resolveDueAt', () => {
  test('nothing asked for, or due now, is sent now', () => {
    expect(resolveDueAt({}, NOW)).toBeUndefined();
    expect(resolveDueAt({ delay: '0' }, NOW)).toBeUndefined();
    expect(resolveDueAt({ scheduledSendAt: NOW.toISOString() }, NOW)).toBeUndefined();
  });

  test('a few seconds in the past is clock skew: sent now', () => {
    expect(resolveDueAt({ scheduledSendAt: new Date(NOW.getTime() - 5000).toISOString() }, NOW)).toBeUndefined();
  });

  test('a delay is counted from now; scheduledSendAt is taken as given', () => {
    expect(resolveDueAt({ delay: '1h30m' }, NOW)).toEqual(new Date('2026-03-01T13:30:00Z'));
    expect(resolveDueAt({ delay: 45 }, NOW)).toEqual(new Date('2026-03-01T12:00:45Z'));
    expect(resolveDueAt({ scheduledSendAt: '2026-03-21T09:00:00+01:00' }, NOW)).toEqual(new Date('2026-03-21T08:00:00Z'));
  });

  test('a delay may be a time too, as ntfy\'s X-At and X-In', () => {
    expect(resolveDueAt({ delay: '2026-03-02T00:00:00Z' }, NOW)).toEqual(new Date('2026-03-02T00:00:00Z'));
  });

  test('exactly 30 days ahead is allowed', () => {
    expect(resolveDueAt({ delay: '30d' }, NOW)).toEqual(new Date(NOW.getTime() + MAX_SCHEDULE_AHEAD_MS));
  });

  test.each([
    [{ scheduledSendAt: '2026-03-01T11:59:00Z' }, 'scheduledSendAt: is in the past'],
    [{ delay: '2026-02-01T00:00:00Z' }, 'delay: is in the past'],
    [{ delay: '30d1s' }, 'delay: is more than 30 days ahead (the limit)'],
    [{ scheduledSendAt: '2026-04-01T00:00:00Z' }, 'scheduledSendAt: is more than 30 days ahead (the limit)'],
    [{ scheduledSendAt: '2026-03-01T13:00:00Z', delay: '5m' }, 'scheduledSendAt, delay: give one of them, not both'],
    [{ delay: 'soon' }, 'delay: must be a duration such as 30s, 30m, 2h, 1d or 1h30m, or a time (given "soon")'],
    [{ delay: '10am' }, 'delay: must be a duration such as 30s, 30m, 2h, 1d or 1h30m, or a time (given "10am")'],
    [{ scheduledSendAt: 'next tuesday' }, 'scheduledSendAt: must be an ISO 8601 time with a zone (2026-01-31T09:00:00Z) or a unix timestamp in seconds'],
    [{ scheduledSendAt: true }, 'scheduledSendAt: must be an ISO 8601 time with a zone (2026-01-31T09:00:00Z) or a unix timestamp in seconds'],
  ])('%j is a 400 naming the field', (timing, message) => {
    expect(refusal(timing)).toEqual({ error: 'validation_failed', message });
  });

  test('any delay within the limit is due exactly that long after now; beyond it is refused', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 31 * 24 * 3600 }), (seconds) => {
        if (seconds * 1000 <= MAX_SCHEDULE_AHEAD_MS) {
          expect(resolveDueAt({ delay: `${seconds}s` }, NOW)).toEqual(new Date(NOW.getTime() + seconds * 1000));
        } else {
          expect(refusal({ delay: `${seconds}s` }).message).toBe('delay: is more than 30 days ahead (the limit)');
        }
      }),
    );
  });

  test('no text makes it throw anything but a typed 400', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (delay, scheduledSendAt) => {
        for (const timing of [{ delay }, { scheduledSendAt }]) {
          try {
            const due = resolveDueAt(timing, NOW);
            if (due) expect(due.getTime()).toBeGreaterThan(NOW.getTime());
          } catch (error) {
            expect(error).toBeInstanceOf(HeraldError);
            expect((error as HeraldError).code).toBe('validation_failed');
          }
        }
      }),
    );
  });
});
