import type { DeliveryType } from './notification';

/**
 * Quiet hours and snooze: whether a bucket's NORMAL notifications alert (sound, banner) or arrive
 * passive (listed quietly, as iOS's `passive` interruption level and a low-importance Android
 * channel show them). Pure: no AWS, no clock of its own.
 *
 * Windows are wall-clock times in the bucket's IANA time zone (UTC when it has none) and follow
 * the wall clock across daylight-saving changes: 22:00–07:00 in Europe/Berlin is 21:00–06:00 UTC
 * in winter and 20:00–05:00 UTC in summer. On the spring-forward night the skipped hour (02:00–
 * 03:00) is never reached, so a window bound inside it takes effect at the first wall time after
 * it; on the fall-back night the repeated hour is judged by its wall time both times it passes.
 */

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** `HH:MM`, 00:00–23:59. */
export const WALL_TIME = /^([01]\d|2[0-3]):[0-5]\d$/;

/** Enough for a different window per day plus one more each. */
export const MAX_QUIET_WINDOWS = 14;

/**
 * One weekly window: on each of `days`, from `start` until `end`. An `end` at or before `start`
 * ends on the next day (22:00–07:00 on `fri` runs Friday 22:00 to Saturday 07:00; start = end is
 * 24 hours), so the day named is the day the window starts.
 */
export interface QuietWindow {
  readonly days: readonly Weekday[];
  readonly start: string;
  readonly end: string;
}

/** The bucket fields quiet hours read. */
export interface QuietSettings {
  /** IANA zone the windows are in; UTC when absent. */
  readonly timeZone?: string;
  readonly quietHours?: readonly QuietWindow[];
  /** Until this instant every NORMAL notification is passive. */
  readonly snoozeUntil?: string;
}

/** How a notification reached the devices, as history records it. */
export type DeliveredAs = 'alert' | 'passive' | 'silent';
export type QuietReason = 'quiet_hours' | 'snoozed';

export interface Presentation {
  readonly deliveredAs: DeliveredAs;
  /** Why a NORMAL notification was passive. */
  readonly quietReason?: QuietReason;
}

const formats = new Map<string, Intl.DateTimeFormat>();

function wallClockFormat(timeZone: string): Intl.DateTimeFormat {
  let format = formats.get(timeZone);
  if (!format) {
    // h23: midnight is 00, never 24 (some engines give "24" with hour12: false).
    format = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formats.set(timeZone, format);
  }
  return format;
}

/**
 * Whether `timeZone` is an IANA zone name this runtime knows (`Europe/Berlin`, `UTC`). Offsets
 * such as `+01:00` are refused: a fixed offset does not follow daylight-saving time.
 */
export function isTimeZone(timeZone: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(timeZone) || timeZone.length > 64) return false;
  try {
    wallClockFormat(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** The weekday and minute of the day that a clock on the wall in `timeZone` shows at `instant`. */
export function wallClock(instant: Date, timeZone: string): { weekday: Weekday; minutes: number } {
  const parts = wallClockFormat(timeZone).formatToParts(instant);
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((candidate) => candidate.type === type)?.value ?? '';
  const weekday = part('weekday').toLowerCase().slice(0, 3) as Weekday;
  return { weekday, minutes: Number(part('hour')) * 60 + Number(part('minute')) };
}

const minutesOf = (wallTime: string) => Number(wallTime.slice(0, 2)) * 60 + Number(wallTime.slice(3, 5));
const dayBefore = (weekday: Weekday): Weekday => WEEKDAYS[(WEEKDAYS.indexOf(weekday) + 6) % 7]!;

/** Whether a wall-clock time falls in one of the weekly windows. */
export function inQuietWindow(windows: readonly QuietWindow[], local: { weekday: Weekday; minutes: number }): boolean {
  return windows.some((window) => {
    const start = minutesOf(window.start);
    const end = minutesOf(window.end);
    if (start < end) return window.days.includes(local.weekday) && local.minutes >= start && local.minutes < end;
    // Crosses midnight: the evening part on the days named, the morning part on the day after.
    return (window.days.includes(local.weekday) && local.minutes >= start) || (window.days.includes(dayBefore(local.weekday)) && local.minutes < end);
  });
}

/**
 * How a notification is presented at `now`: CRITICAL always alerts, SILENT (and NO_PUSH, which is
 * never pushed) stays silent, NORMAL is passive while the bucket is snoozed or in quiet hours.
 * Nothing is ever dropped.
 */
export function deliveryMode(settings: QuietSettings, deliveryType: DeliveryType, now: Date): Presentation {
  if (deliveryType === 'SILENT' || deliveryType === 'NO_PUSH') return { deliveredAs: 'silent' };
  if (deliveryType === 'CRITICAL') return { deliveredAs: 'alert' };
  if (settings.snoozeUntil && now.getTime() < Date.parse(settings.snoozeUntil)) return { deliveredAs: 'passive', quietReason: 'snoozed' };
  // A zone this runtime does not know (stored before a tzdata change) falls back to UTC rather
  // than failing delivery: a notification is never dropped over its presentation.
  const timeZone = settings.timeZone && isTimeZone(settings.timeZone) ? settings.timeZone : 'UTC';
  if (settings.quietHours?.length && inQuietWindow(settings.quietHours, wallClock(now, timeZone))) {
    return { deliveredAs: 'passive', quietReason: 'quiet_hours' };
  }
  return { deliveredAs: 'alert' };
}
