import { createHash } from 'node:crypto';
import { HeraldError, isHeraldError } from '../errors';
import { LIMITS, type DeliveryType, type NotificationInput } from '../notification';
import type { WebhookRequest } from './types';

/**
 * What the parsers share: reading untrusted values and requests, shaping text for a notification,
 * hashing for dedupe keys, and keeping `parse`'s promise to throw nothing but HeraldErrors. One way
 * to do each thing; a parser that needs something else keeps its own helper and says why.
 */

// ---- reading untrusted values ------------------------------------------------------------------

/** A JSON object: not null, not an array. */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The value when it is a string, blank or not; anything else undefined. */
export function asString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** A string with something besides white space in it. */
export function nonBlank(value: unknown): value is string {
  return typeof value === 'string' && value.trim().length > 0;
}

/** A non-blank string or finite number, as one trimmed string; anything else undefined. */
export function trimmedText(value: unknown): string | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : undefined;
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return trimmed.length > 0 ? trimmed : undefined;
}

/** Non-blank strings (untrimmed), finite numbers and booleans (`true`/`false`) as text; anything else undefined. */
export function scalarText(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim().length > 0 ? value : undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : undefined;
  if (typeof value === 'boolean') return String(value);
  return undefined;
}

// ---- reading the request -----------------------------------------------------------------------

/** The body as text, a leading BOM dropped; undefined when it is neither bytes nor text. */
export function bodyText(body: unknown): string | undefined {
  if (!Buffer.isBuffer(body) && typeof body !== 'string') return undefined;
  return (Buffer.isBuffer(body) ? body.toString('utf8') : body).replace(/^\uFEFF/, '');
}

/** The body's bytes as received (a string as UTF-8); no bytes when it is neither. */
export function bodyBytes(body: unknown): Buffer {
  if (Buffer.isBuffer(body)) return body;
  return typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.alloc(0);
}

/** The text parsed as JSON when it is an object; undefined for anything else, invalid JSON included. */
export function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return isObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** The body (bytes or text, BOM dropped) parsed as a JSON object; undefined for anything else. */
export function readJsonObject(body: unknown): Record<string, unknown> | undefined {
  const text = bodyText(body);
  return text === undefined ? undefined : parseJsonObject(text);
}

/**
 * A request header by its lower-cased `name`: API Gateway HTTP API lower-cases header names, other
 * callers may not have, so any other spelling is looked up too. Non-string values are ignored.
 */
export function header(headers: unknown, name: string): string | undefined {
  if (!isObject(headers)) return undefined;
  const exact = headers[name];
  if (typeof exact === 'string') return exact;
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name && typeof value === 'string') return value;
  }
  return undefined;
}

/**
 * `presentedSecret` for a source that authenticates with a static secret sent verbatim in
 * `Authorization` (Auth0's `httpAuthorization`, Okta's `authScheme`): the header's value, or
 * undefined when it is absent or empty. Never throws.
 */
export function authorizationSecret(request: WebhookRequest): string | undefined {
  try {
    return header(request?.headers, 'authorization') || undefined;
  } catch {
    return undefined;
  }
}

// ---- shaping text ------------------------------------------------------------------------------

/** White space runs folded to one space, trimmed: titles, subtitles, tags and body values are one line. */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** Truncates to `limit` UTF-16 units (zod's count) with "…", never splitting a surrogate pair. */
export function cap(text: string, limit: number): string {
  if (text.length <= limit) return text;
  let end = limit - 1;
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}…`;
}

/** The first letter upper-cased, the rest as it is. */
export function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Body lines joined by newlines, absent and empty ones left out. */
export function joinLines(lines: readonly (string | undefined)[]): string {
  return lines.filter((line): line is string => line !== undefined && line.length > 0).join('\n');
}

/** `Label: a, b, c and 7 more`: at most `max` items named, the rest counted. */
export function listLine(label: string, items: readonly string[], max: number): string {
  const shown = items.slice(0, max).join(', ');
  return `${label}: ${shown}${items.length > max ? ` and ${items.length - max} more` : ''}`;
}

// ---- the notification --------------------------------------------------------------------------

export interface ContentParts {
  /** Made one line and capped. */
  readonly title: string;
  /** Made one line and capped; left out when absent or blank. */
  readonly subtitle?: string;
  /** Capped; left out when blank. */
  readonly body: string;
  readonly deliveryType: DeliveryType;
  /**
   * Each capped, empty ones left out. Not made one line here: most parsers pass `oneLine(…)`,
   * authentik tags an action as the body names it.
   */
  readonly tags: readonly string[];
}

/** A parser's notification, within the limits `validateNotification` checks. */
export function notificationContent(parts: ContentParts): NotificationInput {
  const subtitle = parts.subtitle ? oneLine(parts.subtitle) : '';
  return {
    title: cap(oneLine(parts.title), LIMITS.title),
    ...(subtitle ? { subtitle: cap(subtitle, LIMITS.subtitle) } : {}),
    ...(parts.body.trim() ? { body: cap(parts.body, LIMITS.body) } : {}),
    deliveryType: parts.deliveryType,
    tags: parts.tags.map((tag) => cap(tag, LIMITS.tag)).filter((tag) => tag.length > 0),
  };
}

// ---- dedupe keys -------------------------------------------------------------------------------

/** Lowercase hex SHA-256 of the bytes, or of the text as UTF-8. */
export function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * `<source>:<id>` for an event id `plain` accepts as a dedupe table key as it is; any other id
 * (long, or holding characters the key should not) is hashed.
 */
export function idDedupeKey(source: string, id: string, plain: RegExp): string {
  return `${source}:${plain.test(id) ? id : sha256(id)}`;
}

// ---- errors ------------------------------------------------------------------------------------

/** An error's message, shortened, for a HeraldError that names what went wrong. */
export function describeError(error: unknown): string {
  return error instanceof Error ? error.message.slice(0, 200) : 'unknown error';
}

/**
 * Runs `action`, rethrowing a HeraldError (one that `passes`, when given) as it is and replacing
 * anything else thrown with `wrap(error)`: how a parser keeps its promise to throw HeraldErrors only.
 */
export function onlyHeraldErrors<T>(
  action: () => T,
  wrap: (error: unknown) => HeraldError,
  passes: (error: HeraldError) => boolean = () => true,
): T {
  try {
    return action();
  } catch (error) {
    if (isHeraldError(error) && passes(error)) throw error;
    throw wrap(error);
  }
}

export interface GuardParseOptions {
  /** Rewrap a HeraldError of another code too, so `parse` throws `invalid_body` and nothing else (ZITADEL). */
  readonly onlyInvalidBody?: boolean;
  /** Keep what was thrown as the `cause` of the `invalid_body` error, for the logs (ZITADEL). */
  readonly keepCause?: boolean;
}

/**
 * Runs a parser's `parse` so that unexpected input still answers 400, never 500: a HeraldError
 * passes through, anything else thrown (a RangeError from hostile nesting, a TypeError from a
 * malformed request) becomes `HeraldError('invalid_body', '<source>: unreadable body (…)')`.
 */
export function guardParse<T>(source: string, parse: () => T, options: GuardParseOptions = {}): T {
  return onlyHeraldErrors(
    parse,
    (error) => new HeraldError('invalid_body', `${source}: unreadable body (${describeError(error)})`, {}, options.keepCause ? error : undefined),
    (error) => !options.onlyInvalidBody || error.code === 'invalid_body',
  );
}
