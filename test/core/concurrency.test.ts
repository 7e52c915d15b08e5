import { mapWithConcurrency } from '../../lambdas/core/concurrency';

/** Resolves after `ms` of real time (a few ms: enough to interleave the workers). */
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Work that records how many calls are in flight at once. */
function countingWork<T, R>(body: (item: T) => Promise<R>) {
  const counter = { inFlight: 0, maxInFlight: 0, calls: 0 };
  const work = async (item: T): Promise<R> => {
    counter.calls += 1;
    counter.inFlight += 1;
    counter.maxInFlight = Math.max(counter.maxInFlight, counter.inFlight);
    try {
      return await body(item);
    } finally {
      counter.inFlight -= 1;
    }
  };
  return { counter, work };
}

describe('mapWithConcurrency', () => {
  test('keeps the input order when later items finish first', async () => {
    const items = [30, 1, 20, 2, 10, 3];

    const results = await mapWithConcurrency(items, 3, async (ms) => {
      await sleep(ms);
      return `done ${ms}`;
    });

    expect(results).toEqual(items.map((ms) => `done ${ms}`));
  });

  test('never has more than `limit` calls in flight, and reaches the limit', async () => {
    const items = Array.from({ length: 40 }, (_, i) => i);
    const { counter, work } = countingWork(async (i: number) => {
      await sleep(i % 3);
      return i * 2;
    });

    const results = await mapWithConcurrency(items, 4, work);

    expect(counter.maxInFlight).toBe(4);
    expect(counter.calls).toBe(40);
    expect(results).toEqual(items.map((i) => i * 2));
  });

  test('runs one at a time with a limit of 1', async () => {
    const { counter, work } = countingWork(async (i: number) => {
      await sleep(1);
      return i;
    });

    await mapWithConcurrency([1, 2, 3, 4, 5], 1, work);

    expect(counter.maxInFlight).toBe(1);
  });

  test('starts no more workers than items when the limit is larger', async () => {
    const { counter, work } = countingWork(async (i: number) => {
      await sleep(1);
      return i;
    });

    expect(await mapWithConcurrency([1, 2, 3], 16, work)).toEqual([1, 2, 3]);
    expect(counter.maxInFlight).toBe(3);
  });

  test('calls work exactly once per item', async () => {
    const seen: number[] = [];

    await mapWithConcurrency([5, 6, 7, 8, 9], 2, async (i) => {
      seen.push(i);
      await sleep(0);
    });

    expect(seen.sort()).toEqual([5, 6, 7, 8, 9]);
  });

  test('returns an empty array for no items without calling work', async () => {
    const work = jest.fn(async (i: number) => i);

    expect(await mapWithConcurrency([], 4, work)).toEqual([]);
    expect(work).not.toHaveBeenCalled();
  });

  test('rejects with the first failure', async () => {
    await expect(
      mapWithConcurrency([1, 2, 3], 2, async (i) => {
        if (i === 2) throw new Error('item 2 failed');
        return i;
      }),
    ).rejects.toThrow('item 2 failed');
  });
});
