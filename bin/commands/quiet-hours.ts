import { WALL_TIME, WEEKDAYS, type QuietWindow, type Weekday } from '../../lambdas/core/quiet-hours';
import { CliError } from './output';

/**
 * `--quiet-hours`: windows of days then a time range, e.g. `mon-fri 22:00-07:00, sat,sun 23:00-09:00`.
 * Days are names (`mon` … `sun`), ranges (`mon-fri`, `fri-mon`) or `daily`, separated by commas;
 * the time range ends a window, and the next window's days follow after a comma or semicolon. An
 * end at or before the start ends the next morning (the window belongs to the day it starts on).
 */
export function parseQuietHours(text: string): QuietWindow[] {
  const windows: QuietWindow[] = [];
  let days: Weekday[] = [];
  for (const piece of text.split(/[,;]/).map((part) => part.trim()).filter(Boolean)) {
    const match = /^(?:(\S+)\s+)?(\S+)-(\S+)$/.exec(piece);
    const range = match && WALL_TIME.test(match[2]!) && WALL_TIME.test(match[3]!) ? match : undefined;
    if (range) {
      if (range[1]) days.push(...parseDays(range[1]));
      if (days.length === 0) throw new CliError(`--quiet-hours: "${piece}" names no days (e.g. "mon-fri 22:00-07:00")`);
      windows.push({ days: WEEKDAYS.filter((day) => days.includes(day)), start: range[2]!, end: range[3]! });
      days = [];
    } else {
      days.push(...parseDays(piece));
    }
  }
  if (days.length > 0) throw new CliError(`--quiet-hours: the days "${days.join(',')}" have no time range after them (e.g. "sat,sun 23:00-09:00")`);
  if (windows.length === 0) throw new CliError('--quiet-hours: give at least one window, e.g. "mon-fri 22:00-07:00"');
  return windows;
}

function parseDays(text: string): Weekday[] {
  if (text === 'daily') return [...WEEKDAYS];
  const [from, to, extra] = text.split('-');
  const first = weekday(from!, text);
  if (to === undefined) return [first];
  if (extra !== undefined) throw new CliError(`--quiet-hours: "${text}" is not a day range (mon-fri) or a time range (22:00-07:00)`);
  const last = weekday(to, text);
  const days: Weekday[] = [];
  // A range may wrap the week (fri-mon).
  for (let index = WEEKDAYS.indexOf(first); ; index = (index + 1) % 7) {
    days.push(WEEKDAYS[index]!);
    if (WEEKDAYS[index] === last) return days;
  }
}

function weekday(text: string, context: string): Weekday {
  const day = text.toLowerCase();
  if ((WEEKDAYS as readonly string[]).includes(day)) return day as Weekday;
  throw new CliError(`--quiet-hours: "${context}" is not a day, a day range or a time range HH:MM-HH:MM (days: ${WEEKDAYS.join(', ')}, daily)`);
}

/** The windows as `--quiet-hours` takes them. */
export function formatQuietHours(windows: readonly QuietWindow[]): string {
  return windows.map((window) => `${window.days.join(',')} ${window.start}-${window.end}`).join('; ');
}

const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `--snooze 2h` (minutes, hours or days from now) or an ISO 8601 time with an offset. */
export function parseSnooze(text: string, now = new Date()): string {
  const duration = /^(\d{1,5})([mhd])$/.exec(text.trim());
  if (duration) return new Date(now.getTime() + Number(duration[1]) * UNIT_MS[duration[2] as keyof typeof UNIT_MS]).toISOString();
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(text.trim()) && !Number.isNaN(Date.parse(text))) return text.trim();
  throw new CliError(`--snooze: "${text}" is neither a duration (30m, 2h, 1d) nor an ISO time with an offset (2026-12-24T08:00:00+01:00)`);
}
