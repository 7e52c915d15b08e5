import fc from 'fast-check';
import { DELIVERY_TYPES } from '../../lambdas/core/notification';
import { deliveryMode, isTimeZone, wallClock, WEEKDAYS, type QuietSettings, type QuietWindow } from '../../lambdas/core/quiet-hours';

const BERLIN = 'Europe/Berlin';
const EVERY_DAY = [...WEEKDAYS];
const nightly: QuietSettings = { timeZone: BERLIN, quietHours: [{ days: EVERY_DAY, start: '22:00', end: '07:00' }] };
const at = (iso: string) => new Date(iso);
const modeAt = (settings: QuietSettings, iso: string) => deliveryMode(settings, 'NORMAL', at(iso)).deliveredAs;

describe('wallClock', () => {
  test('reads Berlin wall time with its DST offset, not a fixed one', () => {
    expect(wallClock(at('2026-01-15T21:00:00Z'), BERLIN)).toEqual({ weekday: 'thu', minutes: 22 * 60 });
    expect(wallClock(at('2026-07-15T20:00:00Z'), BERLIN)).toEqual({ weekday: 'wed', minutes: 22 * 60 });
  });

  test('shows midnight as 00:00', () => {
    expect(wallClock(at('2026-12-04T23:00:00Z'), BERLIN)).toEqual({ weekday: 'sat', minutes: 0 });
  });
});

describe('deliveryMode: 22:00–07:00 in Europe/Berlin follows the wall clock', () => {
  test.each([
    // Winter (CET, UTC+1): 21:00–06:00 UTC.
    ['2026-03-27T20:59:00Z', 'alert'],
    ['2026-03-27T21:00:00Z', 'passive'],
    ['2026-03-28T05:59:00Z', 'passive'],
    ['2026-03-28T06:00:00Z', 'alert'],
    // Summer (CEST, UTC+2): 20:00–05:00 UTC.
    ['2026-07-10T19:59:00Z', 'alert'],
    ['2026-07-10T20:00:00Z', 'passive'],
    ['2026-07-11T04:59:00Z', 'passive'],
    ['2026-07-11T05:00:00Z', 'alert'],
  ])('at %s it is %s', (instant, expected) => {
    expect(modeAt(nightly, instant)).toBe(expected);
  });
});

describe('deliveryMode across the spring-forward night (29 March 2026, 02:00 CET → 03:00 CEST)', () => {
  test.each([
    // Saturday evening in winter time, the window starts at 21:00 UTC.
    ['2026-03-28T20:59:00Z', 'alert'],
    ['2026-03-28T21:00:00Z', 'passive'],
    // 01:59 CET, then one minute later 03:00 CEST: still in the window either side of the jump.
    ['2026-03-29T00:59:00Z', 'passive'],
    ['2026-03-29T01:00:00Z', 'passive'],
    // The morning ends at 07:00 wall time, now 05:00 UTC: the night was an hour shorter.
    ['2026-03-29T04:59:00Z', 'passive'],
    ['2026-03-29T05:00:00Z', 'alert'],
    // Sunday evening in summer time starts at 20:00 UTC.
    ['2026-03-29T19:59:00Z', 'alert'],
    ['2026-03-29T20:00:00Z', 'passive'],
  ])('at %s it is %s', (instant, expected) => {
    expect(modeAt(nightly, instant)).toBe(expected);
  });

  test('a window starting in the skipped hour begins at the first wall time after it', () => {
    const settings: QuietSettings = { timeZone: BERLIN, quietHours: [{ days: ['sun'], start: '02:30', end: '04:00' }] };
    expect(modeAt(settings, '2026-03-29T00:59:59Z')).toBe('alert'); // 01:59:59 CET
    expect(modeAt(settings, '2026-03-29T01:00:00Z')).toBe('passive'); // 03:00 CEST
    expect(modeAt(settings, '2026-03-29T01:59:00Z')).toBe('passive'); // 03:59 CEST
    expect(modeAt(settings, '2026-03-29T02:00:00Z')).toBe('alert'); // 04:00 CEST
  });
});

describe('deliveryMode across the fall-back night (25 October 2026, 03:00 CEST → 02:00 CET)', () => {
  test.each([
    // Saturday evening in summer time starts at 20:00 UTC.
    ['2026-10-24T19:59:00Z', 'alert'],
    ['2026-10-24T20:00:00Z', 'passive'],
    ['2026-10-25T00:59:00Z', 'passive'], // 02:59 CEST
    ['2026-10-25T01:00:00Z', 'passive'], // 02:00 CET, the repeated hour
    // The morning ends at 07:00 CET = 06:00 UTC: the night was an hour longer.
    ['2026-10-25T05:59:00Z', 'passive'],
    ['2026-10-25T06:00:00Z', 'alert'],
  ])('at %s it is %s', (instant, expected) => {
    expect(modeAt(nightly, instant)).toBe(expected);
  });

  test('the repeated hour is judged by its wall time both times', () => {
    const settings: QuietSettings = { timeZone: BERLIN, quietHours: [{ days: ['sun'], start: '02:00', end: '02:30' }] };
    expect(modeAt(settings, '2026-10-24T23:59:00Z')).toBe('alert'); // 01:59 CEST
    expect(modeAt(settings, '2026-10-25T00:00:00Z')).toBe('passive'); // 02:00 CEST, first pass
    expect(modeAt(settings, '2026-10-25T00:30:00Z')).toBe('alert'); // 02:30 CEST
    expect(modeAt(settings, '2026-10-25T01:00:00Z')).toBe('passive'); // 02:00 CET, second pass
    expect(modeAt(settings, '2026-10-25T01:29:00Z')).toBe('passive'); // 02:29 CET
    expect(modeAt(settings, '2026-10-25T01:30:00Z')).toBe('alert'); // 02:30 CET
  });
});

describe('deliveryMode: windows and days', () => {
  // 4 December 2026 is a Friday.
  const fridayNight: QuietSettings = { timeZone: 'UTC', quietHours: [{ days: ['fri'], start: '22:00', end: '07:00' }] };

  test('a midnight-crossing window belongs to the day it starts on', () => {
    expect(modeAt(fridayNight, '2026-12-04T06:00:00Z')).toBe('alert'); // Friday morning: Thursday has no window
    expect(modeAt(fridayNight, '2026-12-04T22:00:00Z')).toBe('passive'); // Friday evening
    expect(modeAt(fridayNight, '2026-12-05T06:59:00Z')).toBe('passive'); // Saturday morning, Friday's window
    expect(modeAt(fridayNight, '2026-12-05T07:00:00Z')).toBe('alert');
    expect(modeAt(fridayNight, '2026-12-05T22:00:00Z')).toBe('alert'); // Saturday evening
  });

  test('a same-day window ends before its end time', () => {
    const lunch: QuietSettings = { quietHours: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '12:00', end: '13:00' }] };
    expect(modeAt(lunch, '2026-12-04T11:59:00Z')).toBe('alert');
    expect(modeAt(lunch, '2026-12-04T12:00:00Z')).toBe('passive');
    expect(modeAt(lunch, '2026-12-04T12:59:00Z')).toBe('passive');
    expect(modeAt(lunch, '2026-12-04T13:00:00Z')).toBe('alert');
    expect(modeAt(lunch, '2026-12-05T12:30:00Z')).toBe('alert'); // Saturday
  });

  test('start equal to end is 24 hours from start', () => {
    const settings: QuietSettings = { quietHours: [{ days: ['fri'], start: '09:00', end: '09:00' }] };
    expect(modeAt(settings, '2026-12-04T08:59:00Z')).toBe('alert');
    expect(modeAt(settings, '2026-12-04T09:00:00Z')).toBe('passive');
    expect(modeAt(settings, '2026-12-05T08:59:00Z')).toBe('passive');
    expect(modeAt(settings, '2026-12-05T09:00:00Z')).toBe('alert');
  });

  test('windows without a time zone are in UTC', () => {
    expect(modeAt({ quietHours: [{ days: EVERY_DAY, start: '22:00', end: '07:00' }] }, '2026-07-10T22:30:00Z')).toBe('passive');
    expect(modeAt({ quietHours: [{ days: EVERY_DAY, start: '22:00', end: '07:00' }] }, '2026-07-10T20:30:00Z')).toBe('alert');
  });
});

describe('deliveryMode: snooze, delivery types', () => {
  test('NORMAL is passive until snoozeUntil, then alerts', () => {
    const settings: QuietSettings = { snoozeUntil: '2026-12-05T18:00:00.000Z' };
    expect(deliveryMode(settings, 'NORMAL', at('2026-12-05T17:59:59.999Z'))).toEqual({ deliveredAs: 'passive', quietReason: 'snoozed' });
    expect(deliveryMode(settings, 'NORMAL', at('2026-12-05T18:00:00.000Z'))).toEqual({ deliveredAs: 'alert' });
  });

  test('quiet hours give their own reason', () => {
    expect(deliveryMode(nightly, 'NORMAL', at('2026-12-05T23:00:00Z'))).toEqual({ deliveredAs: 'passive', quietReason: 'quiet_hours' });
  });

  test('CRITICAL alerts in quiet hours and while snoozed', () => {
    const settings: QuietSettings = { ...nightly, snoozeUntil: '2027-01-01T00:00:00Z' };
    expect(deliveryMode(settings, 'CRITICAL', at('2026-12-05T23:00:00Z'))).toEqual({ deliveredAs: 'alert' });
  });

  test('SILENT stays silent', () => {
    expect(deliveryMode(nightly, 'SILENT', at('2026-12-05T12:00:00Z'))).toEqual({ deliveredAs: 'silent' });
    expect(deliveryMode(nightly, 'SILENT', at('2026-12-05T23:00:00Z'))).toEqual({ deliveredAs: 'silent' });
  });

  test('a bucket with no settings alerts', () => {
    expect(deliveryMode({}, 'NORMAL', at('2026-12-05T03:00:00Z'))).toEqual({ deliveredAs: 'alert' });
  });
});

describe('time zones', () => {
  test.each(['Europe/Berlin', 'America/New_York', 'UTC', 'Asia/Kolkata', 'Etc/GMT+1'])('%s is a time zone', (zone) => {
    expect(isTimeZone(zone)).toBe(true);
  });

  test.each(['Mars/Olympus_Mons', '+01:00', 'CET+1', '', 'Europe/Berlin; drop', 'x'.repeat(65)])('%j is not', (zone) => {
    expect(isTimeZone(zone)).toBe(false);
  });

  test('an unknown stored zone falls back to UTC instead of failing delivery', () => {
    const settings: QuietSettings = { timeZone: 'Mars/Olympus_Mons', quietHours: [{ days: EVERY_DAY, start: '22:00', end: '07:00' }] };
    expect(modeAt(settings, '2026-07-10T22:30:00Z')).toBe('passive'); // 22:30 UTC
    expect(modeAt(settings, '2026-07-10T20:30:00Z')).toBe('alert'); // Berlin (22:30 CEST) would be passive
  });
});

describe('deliveryMode properties', () => {
  const wallTime = fc.tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 })).map(([h, m]) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`);
  const quietWindow: fc.Arbitrary<QuietWindow> = fc.record({
    days: fc.uniqueArray(fc.constantFrom(...WEEKDAYS), { minLength: 1, maxLength: 7 }),
    start: wallTime,
    end: wallTime,
  });
  const instant = fc.date({ min: at('2020-01-01T00:00:00Z'), max: at('2035-12-31T23:59:59Z'), noInvalidDate: true });
  const zone = fc.constantFrom('Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kathmandu', 'UTC');
  const settings: fc.Arbitrary<QuietSettings> = fc.record(
    { timeZone: zone, quietHours: fc.array(quietWindow, { maxLength: 14 }), snoozeUntil: instant.map((date) => date.toISOString()) },
    { requiredKeys: [] },
  );

  test('CRITICAL is never passive', () => {
    fc.assert(fc.property(settings, instant, (given, now) => deliveryMode(given, 'CRITICAL', now).deliveredAs === 'alert'));
  });

  test('only NORMAL is ever passive, and passive always has a reason', () => {
    fc.assert(
      fc.property(settings, instant, fc.constantFrom(...DELIVERY_TYPES), (given, now, type) => {
        const mode = deliveryMode(given, type, now);
        if (mode.deliveredAs === 'passive') return type === 'NORMAL' && mode.quietReason !== undefined;
        return mode.quietReason === undefined;
      }),
    );
  });

  /** An oracle by another route: a window occurrence starts on a named UTC day and lasts (end - start) mod 24 h. */
  function inWindowUtc(windows: readonly QuietWindow[], now: Date): boolean {
    const minutes = (wall: string) => Number(wall.slice(0, 2)) * 60 + Number(wall.slice(3));
    return windows.some((window) => {
      const length = (minutes(window.end) - minutes(window.start) + 1440) % 1440 || 1440;
      return [0, 1].some((daysBack) => {
        const day = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - daysBack));
        if (!window.days.includes(WEEKDAYS[(day.getUTCDay() + 6) % 7]!)) return false;
        const start = day.getTime() + minutes(window.start) * 60_000;
        return now.getTime() >= start && now.getTime() < start + length * 60_000;
      });
    });
  }

  test('in UTC, NORMAL is passive exactly when snoozed or inside a window', () => {
    fc.assert(
      fc.property(fc.array(quietWindow, { maxLength: 14 }), fc.option(instant, { nil: undefined }), instant, (windows, snooze, now) => {
        const expected = (snooze !== undefined && now < snooze) || inWindowUtc(windows, now) ? 'passive' : 'alert';
        return deliveryMode({ timeZone: 'UTC', quietHours: windows, snoozeUntil: snooze?.toISOString() }, 'NORMAL', now).deliveredAs === expected;
      }),
    );
  });

  test('not snoozed and outside every window is an alert', () => {
    fc.assert(
      fc.property(fc.array(quietWindow, { maxLength: 14 }), instant, (windows, now) => {
        fc.pre(!inWindowUtc(windows, now));
        return deliveryMode({ quietHours: windows, snoozeUntil: new Date(now.getTime() - 1).toISOString() }, 'NORMAL', now).deliveredAs === 'alert';
      }),
    );
  });

  test('in Berlin the result depends only on the wall time: a week later at the same wall time agrees, across DST', () => {
    fc.assert(
      fc.property(fc.array(quietWindow, { minLength: 1, maxLength: 14 }), instant, (windows, now) => {
        const given: QuietSettings = { timeZone: BERLIN, quietHours: windows };
        const local = wallClock(now, BERLIN);
        const week = now.getTime() + 7 * 24 * 3_600_000;
        // A week later is the same wall time, or an hour off when a DST change lies between.
        const later = [week, week - 3_600_000, week + 3_600_000].map((ms) => new Date(ms)).find((candidate) => {
          const other = wallClock(candidate, BERLIN);
          return other.weekday === local.weekday && other.minutes === local.minutes;
        });
        if (!later) return false;
        return deliveryMode(given, 'NORMAL', later).deliveredAs === deliveryMode(given, 'NORMAL', now).deliveredAs;
      }),
    );
  });
});
