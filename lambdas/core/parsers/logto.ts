import { fromHex, hmac, macEquals } from '../auth/signatures';
import { HeraldError } from '../errors';
import type { DeliveryType, NotificationInput } from '../notification';
import {
  asString,
  bodyBytes,
  capitalize,
  guardParse,
  header,
  isObject,
  joinLines,
  listLine,
  notificationContent,
  oneLine,
  onlyHeraldErrors,
  readJsonObject,
  scalarText,
  sha256,
} from './helpers';
import type { ParseResult, Parser, WebhookRequest } from './types';

/**
 * Logto webhooks (idp-formats.md §6; `logto-io/logto` `libraries/hook/index.ts`, `utils.ts`).
 *
 * `sendWebhookRequest` POSTs `JSON.stringify(payload)` with `user-agent: Logto (https://logto.io/)`
 * and `logto-signature-sha-256: <lowercase hex HMAC-SHA256 of the body>`: no prefix, no timestamp
 * (one indexed variant of `sign.ts` writes `sha256=<hex>`, accepted too). Three payload families,
 * each with `hookId` appended last:
 * - interaction hooks (`PostRegister`, `PostSignIn`, `PostSignInAdaptiveMfaTriggered`,
 *   `PostResetPassword`): `{event, interactionEvent, createdAt, sessionId, userAgent, userId,
 *   userIp, user{…}, application{id, type, name, description}, adaptiveMfaResult?}`;
 * - data hooks (`User.Created`, `Role.Scopes.Updated`, `Organization.Membership.Updated`, …):
 *   `{event, createdAt, userAgent, ip, path, method, status, params, matchedRoute, data}`, plus
 *   the interaction's metadata and `application` when an interaction caused the change;
 * - exception hooks (`Identifier.Lockout` `{type, value}`, `Message.RateLimited` `{action,
 *   recipient}`, `Grant.LimitExceeded` `{userId, applicationId, maxAllowedGrants,
 *   preRevocationActiveGrantCount}`): the request's metadata (`ip`, `applicationId`, …) and
 *   `application`.
 * Interaction hooks carry `userIp`; the others `ip`.
 *
 * Severity: an adaptive-MFA challenge (a risky sign-in), an identifier lockout and a suspension
 * are CRITICAL; the rest NORMAL. Logto sends no event id, so the dedupe key is the body's hash:
 * `createdAt` makes every real event's body unique, and a byte-identical body is a replay.
 */

const SIGNATURE_HEADER = 'logto-signature-sha-256';
const SIGNATURE_PREFIX = /^sha256=/i;
/** `sendWebhookRequest`'s user agent, unless the hook's custom headers replace it. */
const LOGTO_USER_AGENT = /^Logto\b/;
const LIST_MAX_ITEMS = 5;

const INTERACTION_TITLES = new Map<string, string>([
  ['PostRegister', 'User registered'],
  ['PostSignIn', 'Sign-in'],
  ['PostSignInAdaptiveMfaTriggered', 'Adaptive MFA triggered'],
  ['PostResetPassword', 'Password reset'],
]);

/** Data hook titles where the event's name reads badly; others are built from the name. */
const DATA_TITLES = new Map<string, string>([
  ['User.Created', 'User created'],
  ['User.Deleted', 'User deleted'],
  ['User.Data.Updated', 'User updated'],
]);

const EXCEPTION_EVENTS = new Set(['Identifier.Lockout', 'Message.RateLimited', 'Grant.LimitExceeded']);

const USER_SCHEMA = 'User';

export const logtoParser: Parser = {
  name: 'logto',
  aliases: ['logto-webhook'],

  auth: {
    kind: 'signature',
    verify(request: WebhookRequest, signingKey: string): void {
      onlyHeraldErrors(
        () => verifyLogtoSignature(request, signingKey),
        (error) => new HeraldError('invalid_signature', 'logto: the signature could not be checked', {}, error),
      );
    },
  },

  detect(request: WebhookRequest): boolean {
    try {
      if (header(request.headers, SIGNATURE_HEADER) !== undefined) return true;
      const userAgent = header(request.headers, 'user-agent');
      if (userAgent !== undefined && LOGTO_USER_AGENT.test(userAgent)) return true;
      const payload = readJsonObject(request.body);
      return (
        payload !== undefined &&
        typeof payload.event === 'string' &&
        typeof payload.hookId === 'string' &&
        typeof payload.createdAt === 'string'
      );
    } catch {
      return false;
    }
  },

  parse(request: WebhookRequest): ParseResult {
    return guardParse('logto', () => {
      const content = parsePayload(request.body);
      // No event id: a byte-identical redelivery is a replay.
      return { kind: 'notifications', notifications: [{ content, dedupeKey: `logto:${sha256(bodyBytes(request.body))}` }] };
    });
  },
};

// ---- signature ---------------------------------------------------------------------------------

/** `sign()`: `createHmac('sha256', signingKey).update(JSON.stringify(payload)).digest('hex')`. */
function verifyLogtoSignature(request: WebhookRequest, signingKey: string): void {
  const presented = header(request.headers, SIGNATURE_HEADER)?.trim().replace(SIGNATURE_PREFIX, '');
  if (!presented) {
    throw new HeraldError('invalid_signature', 'logto: no logto-signature-sha-256 header; set the signing key on the Logto webhook');
  }
  const expected = hmac('sha256', signingKey, [bodyBytes(request.body)]);
  if (!macEquals(expected, fromHex(presented))) {
    throw new HeraldError('invalid_signature', 'logto: logto-signature-sha-256 does not match the body and the signing key of this bucket');
  }
}

// ---- from a payload to a notification ----------------------------------------------------------

function parsePayload(body: unknown): NotificationInput {
  const payload = readJsonObject(body);
  if (payload === undefined) {
    throw new HeraldError('invalid_body', 'logto: the body must be a JSON object (a Logto webhook payload)');
  }
  const event = asString(payload.event);
  if (!event) {
    throw new HeraldError('invalid_body', 'logto: expected a webhook payload with "event", such as {"event": "PostSignIn", "createdAt": …, "hookId": …}');
  }
  if (INTERACTION_TITLES.has(event) || (!event.includes('.') && isObject(payload.user))) return interactionNotification(event, payload);
  if (EXCEPTION_EVENTS.has(event)) return exceptionNotification(event, payload);
  return dataNotification(event, payload);
}

function interactionNotification(event: string, payload: Record<string, unknown>): NotificationInput {
  const user = isObject(payload.user) ? payload.user : { id: payload.userId };
  const person = describeUser(user);
  const lines = [...person.lines];
  const adaptiveMfa = isObject(payload.adaptiveMfaResult) ? payload.adaptiveMfaResult : undefined;
  const rules = (Array.isArray(adaptiveMfa?.triggeredRules) ? adaptiveMfa.triggeredRules : [])
    .map((rule) => (isObject(rule) ? scalarText(rule.rule) : undefined))
    .filter((rule): rule is string => rule !== undefined);
  if (rules.length > 0) lines.push(`Triggered by: ${rules.join(', ')}`);
  // Interaction hooks carry userIp; accept ip too, should a version align them.
  lines.push(...requestLines(payload, scalarText(payload.userIp) ?? scalarText(payload.ip)));

  const critical = event === 'PostSignInAdaptiveMfaTriggered';
  return content({
    title: withApp(`${INTERACTION_TITLES.get(event) ?? humanize(event)}${person.name ? `: ${person.name}` : ''}`, payload),
    subtitle: person.email,
    lines,
    deliveryType: critical ? 'CRITICAL' : 'NORMAL',
    event,
  });
}

function dataNotification(event: string, payload: Record<string, unknown>): NotificationInput {
  const schema = event.split('.')[0];
  const data = isObject(payload.data) ? payload.data : undefined;
  const params = isObject(payload.params) ? payload.params : {};
  const lines: string[] = [];
  let name: string | undefined;
  let email: string | undefined;
  let title = DATA_TITLES.get(event) ?? humanize(event);
  let deliveryType: DeliveryType = 'NORMAL';

  if (schema === USER_SCHEMA) {
    // `data` is the user, picked with userInfoSelectFields; Logto's test payload has none.
    const person = describeUser(data ?? {});
    name = person.name ?? scalarText(params.userId) ?? scalarText(params.id);
    email = person.email;
    lines.push(...person.lines);
    if (event === 'User.SuspensionStatus.Updated') {
      const suspended = data?.isSuspended;
      if (suspended === true) {
        title = 'User suspended';
        deliveryType = 'CRITICAL';
      } else if (suspended === false) {
        title = 'User reactivated';
      }
    }
  } else {
    name = scalarText(data?.name) ?? scalarText(payload.organizationId) ?? scalarText(data?.id) ?? scalarText(params.id);
    const id = scalarText(data?.id) ?? scalarText(payload.organizationId) ?? scalarText(params.id);
    if (id && id !== name) lines.push(`ID: ${id}`);
    const description = scalarText(data?.description);
    if (description) lines.push(`Description: ${description}`);
    lines.push(...membershipLines(payload));
  }

  const method = scalarText(payload.method);
  const path = scalarText(payload.path);
  if (method && path) {
    const status = scalarText(payload.status);
    lines.push(`Request: ${method} ${path}${status ? ` (${status})` : ''}`);
  }
  lines.push(...requestLines(payload, scalarText(payload.ip) ?? scalarText(payload.userIp)));

  return content({
    title: withApp(`${title}${name ? `: ${name}` : ''}`, payload),
    subtitle: email,
    lines,
    deliveryType,
    event,
  });
}

function exceptionNotification(event: string, payload: Record<string, unknown>): NotificationInput {
  const lines: string[] = [];
  let title: string;
  let deliveryType: DeliveryType = 'NORMAL';
  if (event === 'Identifier.Lockout') {
    // `{...identifier}`: the identifier as typed, `{type: 'username' | 'email' | 'phone' | …, value}`.
    const value = scalarText(payload.value);
    const type = scalarText(payload.type);
    title = `Locked out${value ? `: ${value}` : ''}`;
    if (value) lines.push(`Identifier: ${value}${type ? ` (${type})` : ''}`);
    deliveryType = 'CRITICAL';
  } else if (event === 'Message.RateLimited') {
    const recipient = scalarText(payload.recipient);
    title = `Messages rate-limited${recipient ? `: ${recipient}` : ''}`;
    const action = scalarText(payload.action);
    if (action) lines.push(`Action: ${action}`);
  } else {
    // Grant.LimitExceeded: a user's grants for one app passed maxAllowedGrants; the oldest are revoked.
    const user = isObject(payload.user) ? describeUser(payload.user) : undefined;
    const who = user?.name ?? scalarText(payload.userId);
    title = `Grant limit exceeded${who ? `: ${who}` : ''}`;
    const active = scalarText(payload.preRevocationActiveGrantCount);
    const allowed = scalarText(payload.maxAllowedGrants);
    if (active) lines.push(`Active grants: ${active}${allowed ? ` (at most ${allowed} allowed)` : ''}`);
    else if (allowed) lines.push(`Grants allowed: ${allowed}`);
  }
  lines.push(...requestLines(payload, scalarText(payload.ip) ?? scalarText(payload.userIp)));
  return content({ title: withApp(title, payload), lines, deliveryType, event });
}

interface UserDescription {
  /** The first of username, primary email, name, primary phone and id. */
  readonly name?: string;
  /** The primary email, unless it is already the name. */
  readonly email?: string;
  readonly lines: readonly string[];
}

function describeUser(user: Record<string, unknown>): UserDescription {
  const username = scalarText(user.username);
  const email = scalarText(user.primaryEmail);
  const fullName = scalarText(user.name);
  const phone = scalarText(user.primaryPhone);
  const id = scalarText(user.id);
  const name = username ?? email ?? fullName ?? phone ?? id;
  const lines: string[] = [];
  if (fullName && fullName !== name) lines.push(`Name: ${fullName}`);
  if (phone && phone !== name) lines.push(`Phone: ${phone}`);
  if (id && id !== name) lines.push(`User ID: ${id}`);
  if (user.isSuspended === true) lines.push('Suspended: yes');
  return { name, email: email !== name ? email : undefined, lines };
}

/** The application, the client's IP and user agent: what every family may carry. */
function requestLines(payload: Record<string, unknown>, ip: string | undefined): string[] {
  const lines: string[] = [];
  const application = isObject(payload.application) ? payload.application : undefined;
  const appName = scalarText(application?.name);
  const appType = scalarText(application?.type);
  const appId = scalarText(application?.id) ?? scalarText(payload.applicationId);
  if (appName) lines.push(`Application: ${appName}${appType ? ` (${appType})` : ''}`);
  else if (appId) lines.push(`Application: ${appId}`);
  if (ip) lines.push(`IP: ${ip}`);
  const userAgent = scalarText(payload.userAgent);
  if (userAgent) lines.push(`User agent: ${userAgent}`);
  return lines;
}

/** Organization.Membership.Updated: `{organizationId, addedUserIds?, removedUserIds?, …}`. */
function membershipLines(payload: Record<string, unknown>): string[] {
  const fields: [string, string][] = [
    ['addedUserIds', 'Users added'],
    ['removedUserIds', 'Users removed'],
    ['addedApplicationIds', 'Applications added'],
    ['removedApplicationIds', 'Applications removed'],
  ];
  const lines: string[] = [];
  for (const [key, label] of fields) {
    const value = payload[key];
    const ids = (Array.isArray(value) ? value : []).map(scalarText).filter((id): id is string => id !== undefined);
    if (ids.length === 0) continue;
    lines.push(listLine(label, ids, LIST_MAX_ITEMS));
  }
  return lines;
}

/** Names the application in the title, as the interaction's metadata gives it. */
function withApp(title: string, payload: Record<string, unknown>): string {
  const application = isObject(payload.application) ? payload.application : undefined;
  const appName = scalarText(application?.name);
  return appName ? `${title} (${appName})` : title;
}

/** `Organization.Membership.Updated` → `Organization membership updated`; `User.Data.Updated` → `User updated`. */
function humanize(event: string): string {
  const parts = event
    .split('.')
    .filter((part) => part !== 'Data')
    .map((part) => part.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase())
    .join(' ');
  const text = oneLine(parts);
  return text ? capitalize(text) : 'Logto event';
}

interface ContentParts {
  title: string;
  subtitle?: string;
  lines: readonly string[];
  deliveryType: DeliveryType;
  event: string;
}

/** Tagged with the event's name. */
function content(parts: ContentParts): NotificationInput {
  return notificationContent({
    title: parts.title,
    subtitle: parts.subtitle,
    body: joinLines(parts.lines),
    deliveryType: parts.deliveryType,
    tags: ['logto', oneLine(parts.event)],
  });
}
