import { uuidv7Time } from '../../lambdas/core/clear';
import { uuidv7 } from '../../lambdas/core/ids';

describe('uuidv7Time', () => {
  test('reads back the time a notification id was made at', () => {
    const at = new Date('2026-03-29T01:30:00.123Z');
    expect(uuidv7Time(uuidv7(at))).toBe(at.getTime());
  });

  test('is undefined for anything that is not a UUIDv7', () => {
    expect(uuidv7Time('0b9f6a52-6d38-4c43-9a55-6f2f4f3b7c11')).toBeUndefined(); // v4
    expect(uuidv7Time('no-such-notification')).toBeUndefined();
    expect(uuidv7Time(uuidv7().toUpperCase())).toBeUndefined();
  });
});
