import { createHash } from 'node:crypto';
import { hmac, macEquals, fromBase64, checkTimestamp } from '../auth/signatures';
import { HeraldError, isHeraldError } from '../errors';
import { LIMITS, type NotificationInput } from '../notification';
import type { ParseResult, Parser, WebhookRequest } from './types';

/**
 * Clerk webhooks, delivered by Svix (idp-formats.md §6, from the docs). Svix signs
 * `${svix-id}.${svix-timestamp}.${raw body}` with HMAC-SHA256, keyed with the base64-decoded
 * endpoint secret after its `whsec_` prefix, and sends `svix-signature: v1,<base64>`, possibly
 * several space-separated entries during a secret rotation. Timestamps older or newer than 5 min
 * are refused. The body is `{data, event_attributes, instance_id, object: 'event', timestamp, type}`.
 */

/** Svix's tolerance for `svix-timestamp`, either way. */
const TOLERANCE_SECONDS = 300;
const SECRET_PREFIX = 'whsec_';
/** The unbranded (Standard Webhooks) names Svix also accepts, for a sender that uses only them. */
const SIGNATURE_HEADERS = {
  id: ['svix-id', 'webhook-id'],
  timestamp: ['svix-timestamp', 'webhook-timestamp'],
  signature: ['svix-signature', 'webhook-signature'],
} as const;
const UNIX_SECONDS = /^\d{1,15}$/;
/** Svix message ids are `msg_…`; anything else is hashed before it keys the dedupe table. */
const PLAIN_MESSAGE_ID = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * Session ends and removals are sign-outs and expiries, as routine as Auth0's `slo`; `pending` is
 * a sign-in not finished yet (the `session.created` that follows is the notification). They
 * notify flagged `routine`: ingest queues them only for buckets that opted in to Clerk's routine
 * events.
 */
const ROUTINE_EVENTS = new Set(['session.ended', 'session.removed', 'session.pending']);

export const svixParser: Parser = {
  name: 'clerk',
  aliases: ['svix', 'clerk-svix'],

  auth: {
    kind: 'signature',
    verify(request: WebhookRequest, signingKey: string, now: Date): void {
      try {
        verifySvixSignature(request, signingKey, now);
      } catch (error) {
        if (isHeraldError(error)) throw error;
        throw new HeraldError('invalid_signature', `Svix: the signature could not be checked (${describe(error)})`);
      }
    },
  },

  detect(request: WebhookRequest): boolean {
    try {
      if (header(request, 'svix-id') !== undefined) return true;
      const payload = readJsonObject(request.body);
      return payload !== undefined && payload.object === 'event' && isEventShape(payload);
    } catch {
      return false;
    }
  },

  parse(request: WebhookRequest): ParseResult {
    try {
      return parseEvent(request);
    } catch (error) {
      if (isHeraldError(error)) throw error;
      // Unexpected input must still answer 400, never 500.
      throw new HeraldError('invalid_body', `clerk: unreadable body (${describe(error)})`);
    }
  },
};

// ---- signature ---------------------------------------------------------------------------------

function verifySvixSignature(request: WebhookRequest, signingKey: string, now: Date): void {
  const id = firstHeader(request, SIGNATURE_HEADERS.id);
  const timestamp = firstHeader(request, SIGNATURE_HEADERS.timestamp);
  const signatures = firstHeader(request, SIGNATURE_HEADERS.signature);
  if (!id || !timestamp || !signatures) {
    throw new HeraldError('invalid_signature', 'Svix: the svix-id, svix-timestamp and svix-signature headers are required');
  }
  const key = secretBytes(signingKey);
  const body = request.body;
  if (!Buffer.isBuffer(body)) throw new HeraldError('invalid_signature', 'Svix: the request has no raw body to check');

  const expected = hmac('sha256', key, [id, '.', timestamp, '.', body]);
  let matched = false;
  // `v1,<sig> v1,<sig>`: any v1 entry may match; other versions (e.g. `v1a`, asymmetric) are skipped.
  for (const entry of signatures.split(/\s+/)) {
    const comma = entry.indexOf(',');
    if (comma < 0 || entry.slice(0, comma) !== 'v1') continue;
    if (macEquals(expected, fromBase64(entry.slice(comma + 1)))) matched = true;
  }
  if (!matched) throw new HeraldError('invalid_signature', 'Svix: no v1 signature in svix-signature matches the body');

  // Checked after the signature: only an authentic message is told it is too old (a replay).
  if (!(now instanceof Date) || Number.isNaN(now.getTime())) {
    throw new HeraldError('invalid_signature', 'Svix: no valid clock to check svix-timestamp against');
  }
  const seconds = timestamp.trim();
  checkTimestamp(UNIX_SECONDS.test(seconds) ? Number(seconds) : Number.NaN, now, TOLERANCE_SECONDS, 'Svix');
}

/** `whsec_<base64>` → the key bytes. An empty or non-base64 secret would make forging trivial. */
function secretBytes(signingKey: unknown): Buffer {
  const secret = typeof signingKey === 'string' ? signingKey.trim() : '';
  const key = fromBase64(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret);
  if (key.length === 0) {
    throw new HeraldError('invalid_signature', 'Svix: the signing key is not a Svix endpoint secret (whsec_<base64>)');
  }
  return key;
}

// ---- Clerk events ------------------------------------------------------------------------------

interface Presentation {
  readonly title: string;
  readonly lines: readonly string[];
}

function parseEvent(request: WebhookRequest): ParseResult {
  const payload = readJsonObject(request.body);
  if (payload === undefined) {
    throw new HeraldError('invalid_body', 'clerk: the body must be a JSON object (a Svix event)');
  }
  if ((payload.object !== undefined && payload.object !== 'event') || !isEventShape(payload)) {
    throw new HeraldError('invalid_body', "clerk: expected a Svix event {object: 'event', type, data: {…}}");
  }
  const type = (payload.type as string).trim();

  const data = payload.data as Record<string, unknown>;
  const attributes = isObject(payload.event_attributes) ? payload.event_attributes : {};
  const httpRequest = isObject(attributes.http_request) ? attributes.http_request : {};
  const presentation = present(type, data);
  const lines = [...presentation.lines];
  const ip = text(httpRequest.client_ip);
  const userAgent = text(httpRequest.user_agent);
  if (ip) lines.push(`IP: ${ip}`);
  if (userAgent) lines.push(`User agent: ${userAgent}`);
  const body = lines.map(oneLine).filter((line) => line.length > 0).join('\n');
  const tag = cap(oneLine(type), LIMITS.tag);
  const content: NotificationInput = {
    title: cap(oneLine(presentation.title), LIMITS.title),
    ...(body ? { body: cap(body, LIMITS.body) } : {}),
    deliveryType: 'NORMAL', // Clerk has no failed-sign-in or lockout event to make critical
    tags: ['clerk', ...(tag ? [tag] : [])],
  };
  const routine = ROUTINE_EVENTS.has(type);
  return { kind: 'notifications', notifications: [{ content, dedupeKey: dedupeKey(request), ...(routine ? { routine: true } : {}) }] };
}

function present(type: string, data: Record<string, unknown>): Presentation {
  switch (type) {
    case 'session.created':
      return { title: `Sign-in: ${sessionUser(data)}`, lines: sessionLines(data) };
    case 'session.revoked':
      // Revoked from another device or by an admin: deliberate, and worth knowing about.
      return { title: `Session revoked: ${sessionUser(data)}`, lines: sessionLines(data) };
    // Routine (ROUTINE_EVENTS): a sign-out, an expiry, a sign-in not finished yet.
    case 'session.ended':
      return { title: `Session ended: ${sessionUser(data)}`, lines: sessionLines(data) };
    case 'session.removed':
      return { title: `Session removed: ${sessionUser(data)}`, lines: sessionLines(data) };
    case 'session.pending':
      return { title: `Sign-in pending: ${sessionUser(data)}`, lines: sessionLines(data) };
    case 'user.created':
      return { title: `User created: ${userLabel(data)}`, lines: userLines(data) };
    case 'user.updated':
      return { title: `User updated: ${userLabel(data)}`, lines: userLines(data) };
    case 'user.deleted':
      return { title: `User deleted: ${text(data.id) ?? 'unknown user'}`, lines: [] };
    case 'email.created':
      // Never the subject or body: they carry one-time codes and magic links.
      return {
        title: `Email sent: ${text(data.to_email_address) ?? 'unknown address'}`,
        lines: text(data.slug) ? [`Template: ${text(data.slug)}`] : [],
      };
    case 'sms.created':
      return {
        title: `SMS sent: ${text(data.to_phone_number) ?? 'unknown number'}`,
        lines: text(data.slug) ? [`Template: ${text(data.slug)}`] : [],
      };
    default: {
      const id = text(data.id);
      return { title: `Clerk: ${type}`, lines: id ? [`ID: ${id}`] : [] };
    }
  }
}

/** A session names only `user_id`; some payloads add `public_user_data` (identifier, names). */
function sessionUser(data: Record<string, unknown>): string {
  const publicData = isObject(data.public_user_data) ? data.public_user_data : {};
  return text(publicData.identifier) ?? fullName(publicData) ?? text(data.user_id) ?? 'unknown user';
}

function sessionLines(data: Record<string, unknown>): string[] {
  const lines: string[] = [];
  const userId = text(data.user_id);
  if (userId && sessionUser(data) !== userId) lines.push(`User ID: ${userId}`);
  const activity = isObject(data.latest_activity) ? data.latest_activity : {};
  const browser = [text(activity.browser_name), text(activity.device_type)].filter(Boolean).join(' on ');
  if (browser) lines.push(`Browser: ${browser}`);
  const place = [text(activity.city), text(activity.country)].filter(Boolean).join(', ');
  if (place) lines.push(`Location: ${place}`);
  return lines;
}

/** A Clerk user: its primary email, else any email, username, phone, name, or id. */
function userLabel(user: Record<string, unknown>): string {
  const emails = Array.isArray(user.email_addresses) ? user.email_addresses.filter(isObject) : [];
  const primary = emails.find((email) => email.id !== undefined && email.id === user.primary_email_address_id) ?? emails[0];
  const phones = Array.isArray(user.phone_numbers) ? user.phone_numbers.filter(isObject) : [];
  return (
    text(primary?.email_address) ??
    text(user.username) ??
    text(phones[0]?.phone_number) ??
    fullName(user) ??
    text(user.id) ??
    'unknown user'
  );
}

function userLines(user: Record<string, unknown>): string[] {
  const lines: string[] = [];
  const name = fullName(user);
  if (name && name !== userLabel(user)) lines.push(`Name: ${name}`);
  const id = text(user.id);
  if (id && id !== userLabel(user)) lines.push(`User ID: ${id}`);
  return lines;
}

function fullName(value: Record<string, unknown>): string | undefined {
  const name = [text(value.first_name), text(value.last_name)].filter(Boolean).join(' ');
  return name || undefined;
}

/** `svix:<svix-id>`, the same on every retry of one message; without it, a hash of the body. */
function dedupeKey(request: WebhookRequest): string {
  const messageId = firstHeader(request, SIGNATURE_HEADERS.id)?.trim();
  if (messageId) return `svix:${PLAIN_MESSAGE_ID.test(messageId) ? messageId : sha256(messageId)}`;
  return `svix:${sha256(request.body)}`;
}

// ---- small helpers -----------------------------------------------------------------------------

function isEventShape(payload: Record<string, unknown>): boolean {
  return typeof payload.type === 'string' && payload.type.trim().length > 0 && isObject(payload.data);
}

function readJsonObject(body: unknown): Record<string, unknown> | undefined {
  if (!Buffer.isBuffer(body) && typeof body !== 'string') return undefined;
  const source = (Buffer.isBuffer(body) ? body.toString('utf8') : body).replace(/^\uFEFF/, '');
  try {
    const value: unknown = JSON.parse(source);
    return isObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function firstHeader(request: WebhookRequest, names: readonly string[]): string | undefined {
  for (const name of names) {
    const value = header(request, name);
    if (value !== undefined) return value;
  }
  return undefined;
}

/** A header by its lower-cased name, else by any spelling (HTTP API lower-cases them; others may not). */
function header(request: WebhookRequest, name: string): string | undefined {
  const headers = request?.headers;
  if (!isObject(headers)) return undefined;
  const exact = headers[name];
  if (typeof exact === 'string') return exact;
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name && typeof value === 'string') return value;
  }
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A non-blank string or finite number, as one trimmed string; anything else undefined. */
function text(value: unknown): string | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : undefined;
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return trimmed.length > 0 ? trimmed : undefined;
}

/** Titles and body lines are one line each. */
function oneLine(value: string): string {
  return value.replace(/\s+/g, ' ').trim();
}

/** Truncates to `limit` UTF-16 units (zod's count) with "…", never splitting a surrogate pair. */
function cap(value: string, limit: number): string {
  if (value.length <= limit) return value;
  let end = limit - 1;
  const code = value.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end -= 1;
  return `${value.slice(0, end)}…`;
}

function sha256(value: string | Buffer): string {
  return createHash('sha256').update(value).digest('hex');
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message.slice(0, 200) : 'unknown error';
}
