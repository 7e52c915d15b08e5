import { HeraldError } from '../errors';
import type { DeliveryType, NotificationInput } from '../notification';
import {
  authorizationSecret,
  bodyText,
  describeError,
  guardParse,
  idDedupeKey,
  isObject,
  joinLines,
  nonBlank,
  notificationContent,
  oneLine,
  sha256,
  trimmedText,
} from './helpers';
import type { ParsedNotification, ParseResult, Parser, WebhookRequest } from './types';

/**
 * Auth0 Log Streams, "Custom Webhook" type `http` (idp-formats.md §4). The sink's
 * `httpContentFormat` decides the body: `JSONARRAY` (`[item, …]`), `JSONLINES` (one item per line,
 * not JSON as a whole) or `JSONOBJECT` (one item). Each item is `{log_id, data: {type, …}}`.
 *
 * Auth0 signs nothing: the sink's `httpAuthorization` arrives verbatim as the `Authorization`
 * header, and replay protection is dedupe on `log_id` (delivery is at least once).
 *
 * Routine codes (logouts, silent auth, Management API calls, token exchanges, codes sent, MFA
 * challenges passed) become notifications flagged `routine`: ingest queues them only for buckets
 * that opted in to Auth0's routine events.
 */

/** How Herald treats an Auth0 event code (Auth0's "Log event type codes"). */
interface EventRule {
  readonly deliveryType: DeliveryType;
  readonly title: (event: Auth0Event) => string;
  /** The title already says what `description` says, so the body leaves it out. */
  readonly describedInTitle?: boolean;
}

const loginFailed: EventRule = { deliveryType: 'CRITICAL', title: (event) => `Login failed: ${event.user}` };

/** Codes worth a push; anything else that is not routine gets a generic notification. */
const EVENT_RULES: Readonly<Record<string, EventRule>> = {
  f: loginFailed,
  fp: loginFailed, // wrong password
  fu: { deliveryType: 'CRITICAL', title: (event) => `Login failed: ${event.user} (unknown username)` },
  limit_wc: { deliveryType: 'CRITICAL', title: (event) => `Account blocked: ${event.user}` },
  limit_sul: { deliveryType: 'CRITICAL', title: (event) => `Account blocked: ${event.user}` },
  // Blocked for attempts across many users: the IP is the subject, not a user.
  limit_mu: { deliveryType: 'CRITICAL', title: (event) => `IP blocked: ${event.ip ?? event.user}` },
  pwd_leak: { deliveryType: 'CRITICAL', title: (event) => `Breached password: ${event.user}` },
  signup_pwd_leak: { deliveryType: 'CRITICAL', title: (event) => `Breached password at signup: ${event.user}` },
  reset_pwd_leak: { deliveryType: 'CRITICAL', title: (event) => `Breached password at reset: ${event.user}` },
  gd_auth_failed: { deliveryType: 'CRITICAL', title: (event) => `MFA failed: ${event.user}` },
  gd_auth_rejected: { deliveryType: 'CRITICAL', title: (event) => `MFA rejected: ${event.user}` },
  gd_otp_rate_limit_exceed: { deliveryType: 'CRITICAL', title: (event) => `MFA blocked (too many codes): ${event.user}` },
  gd_recovery_failed: { deliveryType: 'CRITICAL', title: (event) => `MFA recovery failed: ${event.user}` },
  s: { deliveryType: 'NORMAL', title: (event) => `Login: ${event.user}` },
  scp: { deliveryType: 'NORMAL', title: (event) => `Password changed: ${event.user}` },
  fcp: { deliveryType: 'NORMAL', title: (event) => `Password change failed: ${event.user}` },
  ss: { deliveryType: 'NORMAL', title: (event) => `Signup: ${event.user}` },
  fs: { deliveryType: 'NORMAL', title: (event) => `Signup failed: ${event.user}` },
  gd_enrollment_complete: { deliveryType: 'NORMAL', title: (event) => `MFA enrolled: ${event.user}` },
  gd_unenroll: { deliveryType: 'NORMAL', title: (event) => `MFA removed: ${event.user}` },
  gd_recovery_succeed: { deliveryType: 'NORMAL', title: (event) => `MFA recovery code used: ${event.user}` },
  du: { deliveryType: 'NORMAL', title: (event) => `User deleted: ${event.user}` },
  sdu: { deliveryType: 'NORMAL', title: (event) => `User deleted: ${event.user}` },
  ublkdu: { deliveryType: 'NORMAL', title: (event) => `Account unblocked: ${event.user}` },
};

/**
 * Codes that happen on every ordinary session and would drown the alerts: logout, silent auth,
 * Management API calls, MFA challenges sent and passed (the `s` that follows is the notification),
 * codes and links sent, verification mails. They notify, flagged routine (NORMAL), so a bucket can
 * opt in to them.
 */
const ROUTINE_RULES: Readonly<Record<string, EventRule>> = {
  slo: routineRule((event) => `Logout: ${subject(event)}`),
  ssa: routineRule((event) => `Silent authentication: ${subject(event)}`),
  // "Login required" from a silent-auth probe, every time a signed-out SPA loads.
  fsa: routineRule((event) => `Silent authentication failed: ${subject(event)}`),
  sapi: routineRule((event) => `Management API call: ${described(event)}`, true),
  mgmt_api_read: routineRule((event) => `Management API read: ${described(event)}`, true),
  scoa: routineRule((event) => `Cross-origin authentication: ${subject(event)}`),
  srrt: routineRule((event) => `Refresh token revoked: ${subject(event)}`),
  cs: routineRule((event) => `Passwordless code sent: ${subject(event)}`),
  cls: routineRule((event) => `Passwordless link sent: ${subject(event)}`),
  sv: routineRule((event) => `Email verified: ${subject(event)}`),
  svr: routineRule((event) => `Verification email sent: ${subject(event)}`),
  scpr: routineRule((event) => `Password reset email sent: ${subject(event)}`),
  gd_start_auth: routineRule((event) => `MFA challenge started: ${subject(event)}`),
  gd_start_enroll: routineRule((event) => `MFA enrollment started: ${subject(event)}`),
  gd_send_sms: routineRule((event) => `MFA code sent by SMS: ${subject(event)}`),
  gd_send_voice: routineRule((event) => `MFA code sent by voice call: ${subject(event)}`),
  gd_send_pn: routineRule((event) => `MFA push notification sent: ${subject(event)}`),
  gd_send_email: routineRule((event) => `MFA code sent by email: ${subject(event)}`),
  gd_auth_succeed: routineRule((event) => `MFA passed: ${subject(event)}`),
};
/** Successful token exchanges: `seacft`, `seccft`, `sepft`, `sertft`, `seoobft`, `seotpft`, `sercft`, … */
const TOKEN_EXCHANGE_SUCCESS = /^se[a-z]*ft$/;
/** What was exchanged for the token, by code; other codes the pattern matches are titled without it. */
const TOKEN_EXCHANGE_GRANTS: Readonly<Record<string, string>> = {
  seacft: 'authorization code',
  seccft: 'client credentials',
  sepft: 'password',
  sertft: 'refresh token',
  seoobft: 'out-of-band MFA',
  seotpft: 'MFA code',
  sercft: 'MFA recovery code',
};
const tokenExchange = routineRule((event) => {
  const grant = Object.hasOwn(TOKEN_EXCHANGE_GRANTS, event.type) ? TOKEN_EXCHANGE_GRANTS[event.type] : undefined;
  return `Token exchange: ${subject(event)}${grant ? ` (${grant})` : ''}`;
});
const UNKNOWN_USER = 'unknown user';
/** `log_id`s are digit strings; anything else is hashed before it keys the dedupe table. */
const PLAIN_LOG_ID = /^[A-Za-z0-9_-]{1,128}$/;

/** The fields Herald reads from one log event (`item.data`). */
interface Auth0Event {
  readonly type: string;
  readonly user: string;
  readonly description?: string;
  readonly clientName?: string;
  readonly connection?: string;
  readonly ip?: string;
  readonly userAgent?: string;
  readonly hostname?: string;
}

/** A log stream item with where it came from, for error messages. */
interface Auth0Item {
  readonly value: unknown;
  /** `line 3` (JSONLINES) or `item [2]` (JSONARRAY). */
  readonly where: string;
}

export const auth0Parser: Parser = {
  name: 'auth0',
  aliases: ['auth0-log-streams'],

  auth: {
    kind: 'header',
    // The sink's `httpAuthorization`, verbatim (`Bearer xyz`).
    presentedSecret: authorizationSecret,
  },

  detect(request: WebhookRequest): boolean {
    try {
      const text = bodyText(request.body);
      if (text === undefined) return false;
      const whole = tryJson(text);
      if (whole.ok) {
        if (Array.isArray(whole.value)) return whole.value.length > 0 && whole.value.every(isLogStreamItem);
        return isLogStreamItem(whole.value);
      }
      // JSONLINES: the first line decides.
      const firstLine = text.split('\n').find((line) => line.trim().length > 0);
      if (firstLine === undefined) return false;
      const first = tryJson(firstLine);
      return first.ok && isLogStreamItem(first.value);
    } catch {
      return false;
    }
  },

  parse(request: WebhookRequest): ParseResult {
    return guardParse('auth0', () => parseItems(readItems(request.body)));
  },
};

// ---- the three body formats --------------------------------------------------------------------

function readItems(body: unknown): Auth0Item[] {
  const text = bodyText(body);
  if (text === undefined || text.trim().length === 0) {
    throw new HeraldError('invalid_body', 'auth0: the body is empty (a log stream sends JSON, a JSON array or JSON lines)');
  }
  const whole = tryJson(text);
  if (whole.ok) {
    if (Array.isArray(whole.value)) return whole.value.map((value, index) => ({ value, where: `item [${index}]` })); // JSONARRAY
    if (isObject(whole.value)) return [{ value: whole.value, where: 'the body' }]; // JSONOBJECT
    throw new HeraldError('invalid_body', 'auth0: the body must be a log event object, an array of them, or JSON lines');
  }
  // JSONLINES: one item per line, blank lines ignored, `\r\n` allowed.
  const items: Auth0Item[] = [];
  text.split('\n').forEach((rawLine, index) => {
    const line = rawLine.trim();
    if (line.length === 0) return;
    const parsed = tryJson(line);
    if (!parsed.ok) {
      throw new HeraldError('invalid_body', `auth0: line ${index + 1} is not JSON (${describeError(parsed.error)})`);
    }
    items.push({ value: parsed.value, where: `line ${index + 1}` });
  });
  return items;
}

function parseItems(items: readonly Auth0Item[]): ParseResult {
  if (items.length === 0) return { kind: 'skip', reason: 'auth0: the batch holds no log events' };
  const notifications: ParsedNotification[] = [];
  for (const item of items) {
    if (!isObject(item.value) || !isObject(item.value.data) || !nonBlank(item.value.data.type)) {
      throw new HeraldError('invalid_body', `auth0: ${item.where} is not a log event {log_id, data: {type, …}}`);
    }
    const data = item.value.data;
    const type = (data.type as string).trim();
    const routine = routineRuleFor(type);
    const content = buildNotification(readEvent(type, data), routine ?? ruleFor(type));
    notifications.push({ content, dedupeKey: dedupeKey(item.value, data), ...(routine ? { routine: true } : {}) });
  }
  return { kind: 'notifications', notifications };
}

/** Own properties only: a code such as `constructor` or `__proto__` has no rule. */
function ruleFor(type: string): EventRule | undefined {
  return Object.hasOwn(EVENT_RULES, type) ? EVENT_RULES[type] : undefined;
}

function routineRuleFor(type: string): EventRule | undefined {
  if (Object.hasOwn(ROUTINE_RULES, type)) return ROUTINE_RULES[type];
  return TOKEN_EXCHANGE_SUCCESS.test(type) ? tokenExchange : undefined;
}

function routineRule(title: (event: Auth0Event) => string, describedInTitle = false): EventRule {
  return { deliveryType: 'NORMAL', title, describedInTitle };
}

/** Who a routine event is about: the user, else the app (client credentials, API calls). */
function subject(event: Auth0Event): string {
  return event.user === UNKNOWN_USER ? (event.clientName ?? UNKNOWN_USER) : event.user;
}

/** What a Management API call did (`Update a user`), else who made it. */
function described(event: Auth0Event): string {
  return event.description?.replace(/\.$/, '') || subject(event);
}

function readEvent(type: string, data: Record<string, unknown>): Auth0Event {
  const details = isObject(data.details) ? data.details : {};
  const error = isObject(details.error) ? details.error : {};
  return {
    type,
    user: trimmedText(data.user_name) ?? trimmedText(details.username) ?? trimmedText(data.user_id) ?? UNKNOWN_USER,
    description: trimmedText(data.description) ?? trimmedText(error.message),
    clientName: trimmedText(data.client_name),
    connection: trimmedText(data.connection),
    ip: trimmedText(data.ip),
    userAgent: trimmedText(data.user_agent),
    hostname: trimmedText(data.hostname),
  };
}

// ---- from an event to a notification ----------------------------------------------------------

function buildNotification(event: Auth0Event, rule: EventRule | undefined): NotificationInput {
  let title: string;
  const lines: string[] = [];
  if (rule) {
    title = rule.title(event);
    if (event.description && !rule.describedInTitle) lines.push(event.description);
    // A Management API call is titled by what it did; who did it goes in the body.
    if (event.description && rule.describedInTitle && event.user !== UNKNOWN_USER) lines.push(`User: ${event.user}`);
    if (event.type === 'limit_mu' && event.ip) lines.push(`User: ${event.user}`);
  } else {
    // A code Herald has no rule for: the stream's filter chose to send it, so say what Auth0 says.
    const what = event.description?.replace(/\.$/, '') || `Auth0 event ${event.type}`;
    title = event.user === UNKNOWN_USER ? what : `${what}: ${event.user}`;
  }
  if (event.clientName) lines.push(`App: ${event.clientName}`);
  if (event.connection) lines.push(`Connection: ${event.connection}`);
  if (event.ip) lines.push(`IP: ${event.ip}`);
  if (event.userAgent) lines.push(`User agent: ${event.userAgent}`);
  if (event.hostname) lines.push(`Host: ${event.hostname}`);
  return notificationContent({
    title,
    body: joinLines(lines.map(oneLine)),
    deliveryType: rule?.deliveryType ?? 'NORMAL',
    tags: ['auth0', oneLine(event.type)],
  });
}

/**
 * `auth0:<log_id>`; the item repeats it in `data`. Without one, a hash of what identifies the event
 * (fixed fields, so a hostile, deeply nested `details` cannot overflow the stack).
 */
function dedupeKey(item: Record<string, unknown>, data: Record<string, unknown>): string {
  const logId = trimmedText(item.log_id) ?? trimmedText(data.log_id);
  if (logId) return idDedupeKey('auth0', logId, PLAIN_LOG_ID);
  const identity = [data.type, data.date, data.user_id, data.user_name, data.client_id, data.ip, data.description].map((value) => trimmedText(value) ?? null);
  return `auth0:${sha256(JSON.stringify(identity))}`;
}

// ---- small helpers -----------------------------------------------------------------------------

function isLogStreamItem(value: unknown): boolean {
  return (
    isObject(value) &&
    (typeof value.log_id === 'string' || typeof value.log_id === 'number') &&
    isObject(value.data) &&
    nonBlank(value.data.type)
  );
}

function tryJson(text: string): { ok: true; value: unknown } | { ok: false; error: unknown } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return { ok: false, error };
  }
}
