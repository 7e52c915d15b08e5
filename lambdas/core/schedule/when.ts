import { HeraldError } from '../errors';

/**
 * When a notification is due: `scheduledSendAt` (an ISO 8601 time with an offset or `Z`, or a unix
 * timestamp in seconds) or `delay` (`30s`, `30m`, `2h`, `1d`, `1h30m`, or plain seconds), the way
 * Zentik and ntfy (`X-Delay`, `X-At`, `X-In`) let senders ask for it. Pure: the caller gives `now`.
 */
export interface RequestedTiming {
  readonly scheduledSendAt?: unknown;
  readonly delay?: unknown;
}

/** Scheduler and Herald's records both keep a schedule for at most this long ahead. */
export const MAX_SCHEDULE_AHEAD_MS = 30 * 24 * 60 * 60 * 1000;
/** A due time this little in the past is a sender's clock running slow, not a mistake: sent now. */
export const PAST_SKEW_MS = 5_000;
/** SQS delays a message by at most 15 minutes; further ahead, EventBridge Scheduler holds it. */
export const MAX_SQS_DELAY_MS = 15 * 60 * 1000;

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
/** One or more number+unit parts in descending order of size, e.g. `1h30m`; units as ntfy spells them. */
const DURATION = /^(?:(\d+)\s*(?:d|days?))?\s*(?:(\d+)\s*(?:h|hours?))?\s*(?:(\d+)\s*(?:m|mins?|minutes?))?\s*(?:(\d+)\s*(?:s|secs?|seconds?))?$/i;
/** ISO 8601 date-time with a zone (Z or ±hh:mm): a time without one would be read in the server's zone. */
const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/i;
/** Unix timestamps in seconds, as ntfy's `X-At: 1639194738` (10 digits covers 2001–2286). */
const UNIX_SECONDS = /^\d{10}$/;

/** Parses a duration (`30m`, `1h30m`, `90`), in milliseconds, or undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return trimmed.length > 9 ? undefined : Number(trimmed) * 1000;
  if (trimmed === '') return undefined;
  const match = DURATION.exec(trimmed);
  if (!match || match.slice(1).every((part) => part === undefined)) return undefined;
  const [days, hours, minutes, seconds] = match.slice(1).map((part) => (part === undefined ? 0 : Number(part)));
  const total = days! * UNIT_MS.d! + hours! * UNIT_MS.h! + minutes! * UNIT_MS.m! + seconds! * UNIT_MS.s!;
  return Number.isSafeInteger(total) ? total : undefined;
}

/** Parses an absolute time (ISO with a zone, or unix seconds), or undefined when it is not one. */
export function parseInstant(text: string): Date | undefined {
  const trimmed = text.trim();
  if (UNIX_SECONDS.test(trimmed)) return new Date(Number(trimmed) * 1000);
  if (!ISO_WITH_ZONE.test(trimmed)) return undefined;
  const time = Date.parse(trimmed);
  return Number.isNaN(time) ? undefined : new Date(time);
}

const fail = (message: string) => new HeraldError('validation_failed', message);

/**
 * The due time asked for, or undefined for "now". Throws a 400 naming the field for a time it
 * cannot read, one in the past (beyond a few seconds of skew), or one more than 30 days ahead.
 */
export function resolveDueAt(timing: RequestedTiming, now: Date): Date | undefined {
  const given = (value: unknown) => value !== undefined && value !== null && value !== '';
  const { scheduledSendAt, delay } = timing;
  if (given(scheduledSendAt) && given(delay)) throw fail('scheduledSendAt, delay: give one of them, not both');
  let field: 'scheduledSendAt' | 'delay';
  let dueAt: Date;
  if (given(scheduledSendAt)) {
    field = 'scheduledSendAt';
    const text = typeof scheduledSendAt === 'number' ? String(scheduledSendAt) : scheduledSendAt;
    const parsed = typeof text === 'string' ? parseInstant(text) : undefined;
    if (!parsed) throw fail('scheduledSendAt: must be an ISO 8601 time with a zone (2026-01-31T09:00:00Z) or a unix timestamp in seconds');
    dueAt = parsed;
  } else if (given(delay)) {
    field = 'delay';
    const text = typeof delay === 'number' ? String(delay) : delay;
    if (typeof text !== 'string') throw fail('delay: must be a duration such as 30s, 30m, 2h, 1d or 1h30m, or a time');
    // ntfy's X-Delay/X-In also take absolute times; a duration is tried first.
    const duration = parseDuration(text);
    const instant = duration === undefined ? parseInstant(text) : undefined;
    if (duration === undefined && !instant) throw fail(`delay: must be a duration such as 30s, 30m, 2h, 1d or 1h30m, or a time (given "${text.slice(0, 40)}")`);
    dueAt = instant ?? new Date(now.getTime() + duration!);
  } else {
    return undefined;
  }
  const ahead = dueAt.getTime() - now.getTime();
  if (ahead < -PAST_SKEW_MS) throw fail(`${field}: is in the past`);
  if (ahead > MAX_SCHEDULE_AHEAD_MS) throw fail(`${field}: is more than 30 days ahead (the limit)`);
  // Due now (or within the skew): delivered at once, like an unscheduled notification.
  return ahead <= 0 ? undefined : dueAt;
}
