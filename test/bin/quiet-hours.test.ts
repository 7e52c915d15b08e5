import { formatQuietHours, parseQuietHours, parseSnooze } from '../../bin/commands/quiet-hours';
import { CliError } from '../../bin/commands/output';

describe('parseQuietHours (herald bucket update --quiet-hours)', () => {
  test('reads day ranges, day lists and several windows', () => {
    expect(parseQuietHours('mon-fri 22:00-07:00, sat,sun 23:00-09:00')).toEqual([
      { days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '22:00', end: '07:00' },
      { days: ['sat', 'sun'], start: '23:00', end: '09:00' },
    ]);
  });

  test('accepts semicolons between windows, daily, and ranges that wrap the week', () => {
    expect(parseQuietHours('daily 12:00-13:00; fri-mon 20:00-08:00')).toEqual([
      { days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: '12:00', end: '13:00' },
      { days: ['mon', 'fri', 'sat', 'sun'], start: '20:00', end: '08:00' },
    ]);
  });

  test('round-trips through its display form', () => {
    const windows = parseQuietHours('mon-fri 22:00-07:00, sat,sun 23:00-09:00');
    expect(parseQuietHours(formatQuietHours(windows))).toEqual(windows);
  });

  test.each([
    ['funday 22:00-07:00', '"funday" is not a day'],
    ['mon-fri 22:00-7:00', 'time range'],
    ['mon-fri 25:00-07:00', 'time range'],
    ['sat,sun', 'have no time range after them'],
    ['22:00-07:00', 'names no days'],
    ['', 'at least one window'],
  ])('%j is refused: %s', (text, message) => {
    expect(() => parseQuietHours(text)).toThrow(CliError);
    expect(() => parseQuietHours(text)).toThrow(message);
  });
});

describe('parseSnooze (herald bucket update --snooze)', () => {
  const now = new Date('2026-12-05T17:00:00.000Z');

  test.each([
    ['30m', '2026-12-05T17:30:00.000Z'],
    ['2h', '2026-12-05T19:00:00.000Z'],
    ['1d', '2026-12-06T17:00:00.000Z'],
  ])('%s is that long from now', (text, until) => {
    expect(parseSnooze(text, now)).toBe(until);
  });

  test('an ISO time with an offset is sent as given', () => {
    expect(parseSnooze('2026-12-24T08:00:00+01:00', now)).toBe('2026-12-24T08:00:00+01:00');
  });

  test.each(['2 hours', '2026-12-24 08:00', '2026-12-24T08:00:00', 'tomorrow', '-1h'])('%j is refused', (text) => {
    expect(() => parseSnooze(text, now)).toThrow(/--snooze: .* is neither a duration/);
  });
});
