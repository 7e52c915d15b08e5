import { hmac, macEquals, fromBase64, checkTimestamp } from '../auth/signatures';
import { HeraldError } from '../errors';
import {
  describeError,
  guardParse,
  header,
  idDedupeKey,
  isObject,
  joinLines,
  nonBlank,
  notificationContent,
  oneLine,
  onlyHeraldErrors,
  readJsonObject,
  sha256,
  trimmedText,
} from './helpers';
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
      onlyHeraldErrors(
        () => verifySvixSignature(request, signingKey, now),
        (error) => new HeraldError('invalid_signature', `Svix: the signature could not be checked (${describeError(error)})`),
      );
    },
  },

  detect(request: WebhookRequest): boolean {
    try {
      if (header(request?.headers, 'svix-id') !== undefined) return true;
      const payload = readJsonObject(request.body);
      return payload !== undefined && payload.object === 'event' && isEventShape(payload);
    } catch {
      return false;
    }
  },

  parse(request: WebhookRequest): ParseResult {
    return guardParse('clerk', () => parseEvent(request));
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
  const ip = trimmedText(httpRequest.client_ip);
  const userAgent = trimmedText(httpRequest.user_agent);
  if (ip) lines.push(`IP: ${ip}`);
  if (userAgent) lines.push(`User agent: ${userAgent}`);
  const content = notificationContent({
    title: presentation.title,
    body: joinLines(lines.map(oneLine)),
    deliveryType: 'NORMAL', // Clerk has no failed-sign-in or lockout event to make critical
    tags: ['clerk', oneLine(type)],
  });
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
      return { title: `User deleted: ${trimmedText(data.id) ?? 'unknown user'}`, lines: [] };
    case 'email.created':
      // Never the subject or body: they carry one-time codes and magic links.
      return {
        title: `Email sent: ${trimmedText(data.to_email_address) ?? 'unknown address'}`,
        lines: trimmedText(data.slug) ? [`Template: ${trimmedText(data.slug)}`] : [],
      };
    case 'sms.created':
      return {
        title: `SMS sent: ${trimmedText(data.to_phone_number) ?? 'unknown number'}`,
        lines: trimmedText(data.slug) ? [`Template: ${trimmedText(data.slug)}`] : [],
      };
    default: {
      const id = trimmedText(data.id);
      return { title: `Clerk: ${type}`, lines: id ? [`ID: ${id}`] : [] };
    }
  }
}

/** A session names only `user_id`; some payloads add `public_user_data` (identifier, names). */
function sessionUser(data: Record<string, unknown>): string {
  const publicData = isObject(data.public_user_data) ? data.public_user_data : {};
  return trimmedText(publicData.identifier) ?? fullName(publicData) ?? trimmedText(data.user_id) ?? 'unknown user';
}

function sessionLines(data: Record<string, unknown>): string[] {
  const lines: string[] = [];
  const userId = trimmedText(data.user_id);
  if (userId && sessionUser(data) !== userId) lines.push(`User ID: ${userId}`);
  const activity = isObject(data.latest_activity) ? data.latest_activity : {};
  const browser = [trimmedText(activity.browser_name), trimmedText(activity.device_type)].filter(Boolean).join(' on ');
  if (browser) lines.push(`Browser: ${browser}`);
  const place = [trimmedText(activity.city), trimmedText(activity.country)].filter(Boolean).join(', ');
  if (place) lines.push(`Location: ${place}`);
  return lines;
}

/** A Clerk user: its primary email, else any email, username, phone, name, or id. */
function userLabel(user: Record<string, unknown>): string {
  const emails = Array.isArray(user.email_addresses) ? user.email_addresses.filter(isObject) : [];
  const primary = emails.find((email) => email.id !== undefined && email.id === user.primary_email_address_id) ?? emails[0];
  const phones = Array.isArray(user.phone_numbers) ? user.phone_numbers.filter(isObject) : [];
  return (
    trimmedText(primary?.email_address) ??
    trimmedText(user.username) ??
    trimmedText(phones[0]?.phone_number) ??
    fullName(user) ??
    trimmedText(user.id) ??
    'unknown user'
  );
}

function userLines(user: Record<string, unknown>): string[] {
  const lines: string[] = [];
  const name = fullName(user);
  if (name && name !== userLabel(user)) lines.push(`Name: ${name}`);
  const id = trimmedText(user.id);
  if (id && id !== userLabel(user)) lines.push(`User ID: ${id}`);
  return lines;
}

function fullName(value: Record<string, unknown>): string | undefined {
  const name = [trimmedText(value.first_name), trimmedText(value.last_name)].filter(Boolean).join(' ');
  return name || undefined;
}

/** `svix:<svix-id>`, the same on every retry of one message; without it, a hash of the body. */
function dedupeKey(request: WebhookRequest): string {
  const messageId = firstHeader(request, SIGNATURE_HEADERS.id)?.trim();
  if (messageId) return idDedupeKey('svix', messageId, PLAIN_MESSAGE_ID);
  return `svix:${sha256(request.body)}`;
}

// ---- small helpers -----------------------------------------------------------------------------

function isEventShape(payload: Record<string, unknown>): boolean {
  return nonBlank(payload.type) && isObject(payload.data);
}

function firstHeader(request: WebhookRequest, names: readonly string[]): string | undefined {
  for (const name of names) {
    const value = header(request?.headers, name);
    if (value !== undefined) return value;
  }
  return undefined;
}
