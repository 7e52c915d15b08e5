import { checkTimestamp, fromHex, hmac, macEquals } from '../auth/signatures';
import { HeraldError } from '../errors';
import type { DeliveryType, NotificationInput } from '../notification';
import {
  bodyText,
  cap,
  capitalize,
  describeError,
  guardParse,
  isObject,
  joinLines,
  nonBlank,
  notificationContent,
  oneLine,
  onlyHeraldErrors,
  parseJsonObject,
  sha256,
} from './helpers';
import type { ParsedNotification, ParseResult, Parser, ReplyContext, SourceReply, WebhookRequest } from './types';

/**
 * ZITADEL Actions v2 targets (idp-formats.md §2). One target URL receives whichever execution an
 * administrator points at it, and the body alone tells which:
 * - event: `{aggregateID, aggregateType, resourceOwner, instanceID, version, sequence, event_type,
 *   created_at, userID, event_payload?}`; `event_payload` is an inline object in the newest source
 *   (`json.RawMessage`), a base64 string in older ones (`[]byte`), absent when the event has no data;
 * - request: `{fullMethod, instanceID, orgID, projectID, userID, request, headers?}`, `request` in
 *   protojson (lowerCamelCase) or, in older versions, snake_case;
 * - response: the same plus `response`;
 * - function: `{function: 'function/preuserinfo' | …, userinfo, user, user_metadata, org, user_grants}`.
 *
 * With the payload type JWT the body is a compact JWS of that JSON; its payload is read without
 * checking the JWS, as the HMAC (or the bucket token) already authenticates the bytes. JWE needs the
 * target's private key, which Herald does not hold.
 *
 * Event payloads also hold secrets (`user.human.password.changed` carries the password hash, OTP
 * events encrypted codes), so only named fields are read from them, never the payload as a whole;
 * the same goes for request bodies (`SetPassword` carries the new password).
 */

const SIGNATURE_HEADER = 'zitadel-signature';
/** target.proto's comment names this header; third-party receivers copied it (idp-formats.md §7). */
const SIGNATURE_HEADER_AS_DOCUMENTED = 'x-zitadel-signature';
/** `pkg/actions/signing.go` DefaultTolerance. */
const TOLERANCE_SECONDS = 300;
/** Unix seconds have 10 digits until the year 2286; anything far longer is not a timestamp. */
const TIMESTAMP = /^\d{1,15}$/;
const MAX_SIGNATURE_HEADER = 8192;

const FULL_METHOD_PREFIX = '/zitadel.';
const FUNCTION_PREFIX = 'function/';
/**
 * Function executions run on every userinfo call, token issuance or SAML response: routine noise
 * for a push. Herald answers them (`{}`: nothing to set or append) and notifies flagged `routine`,
 * which ingest queues only for buckets that opted in to ZITADEL's routine events. The title names
 * what happened; the user follows it.
 */
const ROUTINE_FUNCTIONS: ReadonlyMap<string, string> = new Map(Object.entries({
  'function/preuserinfo': 'Userinfo requested',
  'function/preaccesstoken': 'Token issued',
  'function/presamlresponse': 'SAML response issued',
}));

/**
 * A 2xx body with either key makes ZITADEL fail the call (`HandleResponse`, error forwarding). Go's
 * encoding/json matches keys case-insensitively with Unicode simple folding (`forwardedStatuſCode`
 * matches); NFKC and lower case cover those folds, and a few more, which errs on the safe side.
 */
const FORWARDING_KEYS = new Set(['forwardedstatuscode', 'forwardederrormessage']);

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const COMPACT_JWE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** Dedupe key parts used as they are; anything else is hashed. */
const PLAIN_KEY_PART = /^[A-Za-z0-9_-]{1,64}$/;
/** A long value (a user agent) is cut so that it leaves room for the other lines. */
const MAX_LINE_VALUE = 1000;

type ExecutionKind = 'event' | 'request' | 'response' | 'function';

/** The JSON the target received: the body itself, or a JWS's payload. */
interface Execution {
  readonly kind: ExecutionKind;
  /** The JSON text, kept to echo `request`/`response` byte for byte and to read `sequence` exactly. */
  readonly text: string;
  readonly payload: Record<string, unknown>;
}

export const zitadelParser: Parser = {
  name: 'zitadel',
  aliases: ['ZITADEL', 'zitadel-actions'],

  auth: {
    kind: 'signature',
    verify: verifyZitadelSignature,
  },

  detect(request: WebhookRequest): boolean {
    try {
      if (signatureHeader(request.headers) !== undefined) return true;
      return readExecution(request.body) !== undefined;
    } catch {
      return false;
    }
  },

  parse(request: WebhookRequest): ParseResult {
    return guardParse('zitadel', () => parseExecution(request.body), { onlyInvalidBody: true, keepCause: true });
  },

  reply(context: ReplyContext): SourceReply {
    return { status: 200, headers: { 'Content-Type': 'application/json' }, body: replyBody(context?.request) };
  },
};

// ---- signature ---------------------------------------------------------------------------------

/**
 * `ZITADEL-Signature: t=<unix>,v1=<hex>[,v1=<hex>]`: HMAC-SHA256 with the target's signing key
 * (UTF-8) over `t + "." + raw body` (`pkg/actions/signing.go computeSignature`), 300 s tolerance
 * both ways. The MAC is checked first, so `signature_expired` is only ever said of a request that
 * ZITADEL did sign (a clock or queue problem), and a forgery is always `invalid_signature`.
 */
export function verifyZitadelSignature(request: WebhookRequest, signingKey: string, now: Date): void {
  onlyHeraldErrors(
    () => verifySignature(request, signingKey, now),
    (error) => new HeraldError('invalid_signature', `ZITADEL signature could not be checked (${describeError(error)})`, {}, error),
  );
}

function verifySignature(request: WebhookRequest, signingKey: string, now: Date): void {
  if (typeof signingKey !== 'string' || signingKey.length === 0) {
    // An empty key would make every signature forgeable.
    throw new HeraldError('invalid_signature', 'no ZITADEL signing key is configured for this bucket');
  }
  const header = signatureHeader(request?.headers);
  if (header === undefined) {
    throw new HeraldError('invalid_signature', 'the ZITADEL-Signature header is missing (set a signing key on the target)');
  }
  const { timestamp, signatures } = parseSignatureHeader(header);
  const body = request.body;
  if (!Buffer.isBuffer(body) && typeof body !== 'string') {
    throw new HeraldError('invalid_signature', 'ZITADEL signature does not match the body');
  }
  const expected = hmac('sha256', signingKey, [`${timestamp}.`, body]);
  let matched = false;
  // Every candidate is compared, so the time taken does not tell which one matched.
  for (const signature of signatures) matched = macEquals(expected, fromHex(signature)) || matched;
  if (!matched) throw new HeraldError('invalid_signature', 'ZITADEL signature does not match the body');
  if (!(now instanceof Date) || Number.isNaN(now.getTime())) {
    throw new HeraldError('invalid_signature', 'ZITADEL signature timestamp cannot be checked without the current time');
  }
  checkTimestamp(Number(timestamp), now, TOLERANCE_SECONDS, 'ZITADEL');
}

/** Header names arrive lower-cased from API Gateway; anything else is looked up case-insensitively. */
function signatureHeader(headers: unknown): string | undefined {
  if (!isObject(headers)) return undefined;
  let documented: string | undefined;
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value !== 'string') continue;
    const lower = name.toLowerCase();
    if (lower === SIGNATURE_HEADER) return value;
    if (lower === SIGNATURE_HEADER_AS_DOCUMENTED) documented ??= value;
  }
  return documented;
}

/**
 * `t=…,v1=…`; a repeated header arrives comma-joined, so a repeated `t` is accepted when it names
 * the same second. Unknown schemes are ignored, as Stripe-style receivers do.
 */
function parseSignatureHeader(header: string): { timestamp: string; signatures: string[] } {
  const malformed = () =>
    new HeraldError('invalid_signature', 'the ZITADEL-Signature header is malformed; expected "t=<unix seconds>,v1=<hex>"');
  if (header.length > MAX_SIGNATURE_HEADER) throw malformed();
  let timestamp: string | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const separator = part.indexOf('=');
    if (separator < 0) continue;
    const scheme = part.slice(0, separator).trim();
    const value = part.slice(separator + 1).trim();
    if (scheme === 't') {
      if (!TIMESTAMP.test(value) || (timestamp !== undefined && timestamp !== value)) throw malformed();
      timestamp = value;
    } else if (scheme === 'v1') {
      signatures.push(value);
    }
  }
  if (timestamp === undefined || signatures.length === 0) throw malformed();
  return { timestamp, signatures };
}

// ---- reading the body --------------------------------------------------------------------------

function readExecution(body: unknown): Execution | undefined {
  const text = readJsonText(body);
  if (text === undefined) return undefined;
  const payload = parseJsonObject(text);
  if (payload === undefined) return undefined;
  const kind = executionKind(payload);
  return kind === undefined ? undefined : { kind, text, payload };
}

/** The JSON text of the body: as sent, or decoded from a compact JWS (payload type JWT). */
function readJsonText(body: unknown): string | undefined {
  const text = bodyText(body);
  if (text === undefined) return undefined;
  const trimmed = text.trim();
  if (COMPACT_JWS.test(trimmed)) return Buffer.from(trimmed.split('.')[1], 'base64url').toString('utf8');
  return text;
}

function executionKind(payload: Record<string, unknown>): ExecutionKind | undefined {
  if (nonBlank(payload.aggregateID) && nonBlank(payload.event_type)) return 'event';
  if (typeof payload.fullMethod === 'string' && payload.fullMethod.startsWith(FULL_METHOD_PREFIX)) {
    return Object.prototype.hasOwnProperty.call(payload, 'response') ? 'response' : 'request';
  }
  if (typeof payload.function === 'string' && payload.function.startsWith(FUNCTION_PREFIX)) return 'function';
  return undefined;
}

function parseExecution(body: Buffer): ParseResult {
  const text = readJsonText(body);
  if (text !== undefined && COMPACT_JWE.test(text.trim())) {
    throw new HeraldError('invalid_body', 'zitadel: the body is a JWE, which Herald cannot decrypt; set the target’s payload type to JSON or JWT');
  }
  const payload = text === undefined ? undefined : parseJsonObject(text);
  if (payload === undefined) {
    throw new HeraldError('invalid_body', 'zitadel: the body must be a JSON object (or a JWT of one), as Actions v2 targets receive');
  }
  const kind = executionKind(payload);
  const execution = kind === undefined ? undefined : { kind, text: text as string, payload };
  switch (execution?.kind) {
    case 'event':
      return notifications(fromEvent(execution));
    case 'request':
    case 'response':
      return notifications(fromCall(execution));
    case 'function':
      return fromFunction(execution);
    default:
      throw new HeraldError(
        'invalid_body',
        'zitadel: expected an Actions v2 payload: an event {aggregateID, event_type, …}, a request or response {fullMethod: "/zitadel.…", …} or a function {function: "function/…", …}',
      );
  }
}

function notifications(notification: ParsedNotification): ParseResult {
  return { kind: 'notifications', notifications: [notification] };
}

// ---- event executions --------------------------------------------------------------------------

interface EventTitle {
  readonly title: string;
  readonly critical?: boolean;
}

const EVENT_TITLES: ReadonlyMap<string, EventTitle> = new Map(Object.entries({
  'user.locked': { title: 'User locked', critical: true },
  'user.unlocked': { title: 'User unlocked' },
  'user.deactivated': { title: 'User deactivated' },
  'user.reactivated': { title: 'User reactivated' },
  'user.removed': { title: 'User removed' },
  'user.human.added': { title: 'User added' },
  'user.human.selfregistered': { title: 'User registered' },
  'user.machine.added': { title: 'Service user added' },
  'user.human.password.changed': { title: 'Password changed' },
  'user.human.password.check.failed': { title: 'Password check failed', critical: true },
  'user.human.password.check.succeeded': { title: 'Password check succeeded' },
  'user.human.mfa.otp.check.failed': { title: 'MFA check failed (TOTP)', critical: true },
  'user.human.mfa.u2f.token.check.failed': { title: 'MFA check failed (security key)', critical: true },
  'user.human.otp.sms.check.failed': { title: 'MFA check failed (SMS code)', critical: true },
  'user.human.otp.email.check.failed': { title: 'MFA check failed (email code)', critical: true },
  'user.human.passwordless.token.check.failed': { title: 'Passkey check failed', critical: true },
  'user.human.signed.out': { title: 'User signed out' },
  'session.added': { title: 'Sign-in started' },
  'session.user.checked': { title: 'Sign-in: user checked' },
  'session.password.checked': { title: 'Sign-in: password checked' },
  'session.intent.checked': { title: 'Sign-in: identity provider checked' },
  'session.webAuthN.checked': { title: 'Sign-in: passkey checked' },
  'session.totp.checked': { title: 'Sign-in: TOTP checked' },
  'session.otp.sms.checked': { title: 'Sign-in: SMS code checked' },
  'session.otp.email.checked': { title: 'Sign-in: email code checked' },
  'session.terminated': { title: 'Session ended' },
}));

/** Words of event types written as people write them. */
const WORDS: ReadonlyMap<string, string> = new Map(Object.entries({
  mfa: 'MFA',
  otp: 'OTP',
  totp: 'TOTP',
  sms: 'SMS',
  u2f: 'U2F',
  idp: 'IdP',
  webauthn: 'WebAuthn',
  oidc: 'OIDC',
  saml: 'SAML',
  ldap: 'LDAP',
  jwt: 'JWT',
  pat: 'PAT',
  api: 'API',
  iam: 'IAM',
  smtp: 'SMTP',
  org: 'organization',
  selfregistered: 'self-registered',
  externallogin: 'external login',
}));

interface Person {
  readonly id?: string;
  readonly username?: string;
  readonly name?: string;
  readonly email?: string;
}

function fromEvent({ text, payload }: Execution): ParsedNotification {
  const eventType = payload.event_type as string;
  const aggregateID = payload.aggregateID as string;
  const aggregateType = nonBlankString(payload.aggregateType);
  const instanceID = nonBlankString(payload.instanceID);
  const data = readEventPayload(payload.event_payload);
  const isUserEvent = eventType.startsWith('user.');
  const isSessionEvent = eventType.startsWith('session.');

  // `userID` is who caused the event (the login UI's service user, an admin), not its subject:
  // a user event's subject is the aggregate, a session's is `event_payload.userID` (§2).
  const subject: Person | undefined = isUserEvent
    ? { id: aggregateID, ...personFrom([data]) }
    : isSessionEvent && nonBlank(data?.userID)
      ? { id: data.userID as string, ...personFrom([data]) }
      : undefined;
  // A session belongs to the instance; the user's own organization is in the payload.
  const organization = (isSessionEvent ? nonBlankString(data?.userResourceOwner) : undefined) ?? nonBlankString(payload.resourceOwner);
  const creator = nonBlankString(payload.userID);

  const known = EVENT_TITLES.get(eventType);
  const critical = known?.critical ?? /\.check\.failed$/.test(eventType);
  const title = known?.title ?? describeEventType(eventType);

  const lines: (string | undefined)[] = [];
  if (subject) lines.push(...personLines(subject));
  if (isSessionEvent) lines.push(line('Session', aggregateID));
  else if (!isUserEvent) lines.push(line(capitalize(aggregateType ? describeWords([aggregateType]) : 'aggregate'), aggregateID));
  lines.push(...clientLines(data));
  // An organization's or instance's own events name it as their aggregate already, and what the
  // instance owns (a session without its user's organization) belongs to no organization.
  if (organization !== aggregateID && organization !== instanceID) lines.push(line('Organization', organization));
  if (instanceID !== aggregateID) lines.push(line('Instance', instanceID));
  if (creator && creator !== subject?.id) lines.push(line('Performed by', creator));
  lines.push(line('Time', nonBlankString(payload.created_at)));
  const sequence = sequenceText(text, payload.sequence);
  lines.push(line('Event', `${eventType}${sequence === undefined ? '' : ` (sequence ${sequence})`}`));

  const content = buildContent({
    title,
    subtitle: subject ? personLabel(subject) : undefined,
    lines,
    deliveryType: critical ? 'CRITICAL' : 'NORMAL',
    tag: eventType,
  });
  return { content, dedupeKey: eventDedupeKey(instanceID ?? '', aggregateType ?? '', aggregateID, sequence, text) };
}

/**
 * `event_payload`: an object (newest, `json.RawMessage`), a base64 string of the JSON (older,
 * `[]byte`), or absent (`omitempty`). Anything unreadable is treated as absent: the event itself
 * is still worth the notification.
 */
function readEventPayload(value: unknown): Record<string, unknown> | undefined {
  if (isObject(value)) return value;
  if (typeof value !== 'string' || value.length === 0) return undefined;
  if (BASE64.test(value)) {
    const decoded = parseJsonObject(Buffer.from(value, 'base64').toString('utf8'));
    if (decoded) return decoded;
  }
  return parseJsonObject(value);
}

/** Who a user is, from whichever of these objects names them (events, requests, functions). */
function personFrom(sources: readonly unknown[]): Omit<Person, 'id'> {
  const objects = sources.filter(isObject);
  const pick = (...keys: string[]): string | undefined => {
    for (const object of objects) {
      for (const key of keys) {
        const value = object[key];
        if (nonBlank(value)) return value;
      }
    }
    return undefined;
  };
  const given = pick('givenName', 'given_name', 'firstName', 'first_name');
  const family = pick('familyName', 'family_name', 'lastName', 'last_name');
  const fullName = [given, family].filter((part) => part !== undefined).join(' ');
  const emailObject = objects.map((object) => object.email).find(isObject);
  return {
    // `preferred_username`: a function's `userinfo` (OIDC claims), when it comes without `user`.
    username: pick('userName', 'username', 'user_name', 'preferredLoginName', 'preferred_login_name', 'loginName', 'preferred_username'),
    name: pick('displayName', 'display_name') ?? (fullName || undefined),
    email: pick('email') ?? (nonBlank(emailObject?.email) ? (emailObject.email as string) : undefined),
  };
}

function personLabel(person: Person): string | undefined {
  return person.name ?? person.username ?? person.email ?? (person.id ? `User ${person.id}` : undefined);
}

function personLines(person: Person): (string | undefined)[] {
  const handle = person.username ?? person.email;
  const user = handle ? (person.id && person.id !== handle ? `${handle} (${person.id})` : handle) : person.id;
  const lines = [line('User', user), line('Name', person.name)];
  if (person.email && person.email !== handle) lines.push(line('Email', person.email));
  return lines;
}

/**
 * Where the request came from: `AuthRequestInfo` (`userAgent`, `remoteIP`) on check events, a
 * session's `user_agent` (`domain.UserAgent`: `description`, `ip`).
 */
function clientLines(data: Record<string, unknown> | undefined): (string | undefined)[] {
  if (!data) return [];
  const agent = [data.user_agent, data.userAgent].find(isObject);
  const userAgent = nonBlankString(data.userAgent) ?? nonBlankString(agent?.description);
  const ip = nonBlankString(data.remoteIP) ?? nonBlankString(data.remote_ip) ?? nonBlankString(agent?.ip);
  return [line('User agent', userAgent), line('IP', ip)];
}

/**
 * An event type as a title: `user.human.email.changed` → "Email changed" (the subtitle names the
 * user), `org.domain.verified` → "Organization domain verified".
 */
function describeEventType(eventType: string): string {
  let parts = eventType.split('.').filter((part) => part.length > 0);
  if (parts[0] === 'session' && parts.length > 2 && parts[parts.length - 1] === 'checked') {
    return `Sign-in: ${describeWords(parts.slice(1, -1))} checked`;
  }
  if (parts[0] === 'user') {
    const rest = parts.slice(parts[1] === 'human' || parts[1] === 'machine' ? 2 : 1);
    parts = rest.length >= 2 ? rest : ['user', ...rest];
  }
  const described = describeWords(parts);
  return described ? capitalize(described) : 'ZITADEL event';
}

function describeWords(parts: readonly string[]): string {
  return parts.map((part) => WORDS.get(part.toLowerCase()) ?? part).join(' ');
}

/** The sequence as ZITADEL wrote it: a uint64 may exceed what a JS number holds exactly. */
function sequenceText(text: string, parsed: unknown): string | undefined {
  const raw = topLevelMemberText(text, 'sequence');
  if (raw !== undefined && /^\d{1,20}$/.test(raw)) return raw;
  if (typeof parsed === 'string' && /^\d{1,20}$/.test(parsed)) return parsed;
  return undefined;
}

/**
 * ZITADEL's event identity is (instance, aggregate, sequence) (idp-formats.md §0), where the
 * sequence counts per aggregate and an aggregate is its type and id: `zitadel:<instance>:<type>:
 * <id>:<sequence>`, either of instance and type empty when the body leaves it out. Parts that are
 * not plain are hashed together. Without a sequence a redelivery still has the same bytes, so the
 * body's hash stands in.
 */
function eventDedupeKey(instanceID: string, aggregateType: string, aggregateID: string, sequence: string | undefined, text: string): string {
  if (sequence === undefined) return `zitadel:${sha256(text)}`;
  const optional = (part: string) => part === '' || PLAIN_KEY_PART.test(part);
  const plain = optional(instanceID) && optional(aggregateType) && PLAIN_KEY_PART.test(aggregateID);
  return plain
    ? `zitadel:${instanceID}:${aggregateType}:${aggregateID}:${sequence}`
    : `zitadel:${sha256(JSON.stringify([instanceID, aggregateType, aggregateID, sequence]))}`;
}

// ---- request and response executions -----------------------------------------------------------

/**
 * A request execution runs before ZITADEL handles the call (it may still fail), a response
 * execution after: "AddHumanUser requested" / "AddHumanUser completed". The administrator picked
 * the methods, so every one notifies (NORMAL); no call carries an event id, so there is no dedupe.
 */
function fromCall({ kind, payload }: Execution): ParsedNotification {
  const fullMethod = payload.fullMethod as string;
  const method = oneLine(fullMethod.slice(fullMethod.lastIndexOf('/') + 1)) || oneLine(fullMethod);
  const request = isObject(payload.request) ? payload.request : undefined;
  const response = kind === 'response' && isObject(payload.response) ? payload.response : undefined;
  const human = isObject(request?.human) ? request.human : undefined;
  // v2 AddHumanUser: {profile: {givenName}, email: {email}}; v2 CreateUser: {human: {profile, email}};
  // v1 and older: snake_case (`given_name`, `first_name`, `user_name`).
  const person = personFrom([request?.profile, human?.profile, human, request]);
  const targetUserID = firstString([request, response], ['userId', 'user_id']);
  const headers = isObject(payload.headers) ? payload.headers : undefined;

  const lines = [
    line('Name', person.name),
    line('Username', person.username),
    line('Email', person.email),
    line('User ID', targetUserID),
    line('Method', fullMethod),
    line('Organization', nonBlankString(payload.orgID)),
    line('Project', nonBlankString(payload.projectID)),
    line('Instance', nonBlankString(payload.instanceID)),
    line('Caller', nonBlankString(payload.userID)),
    line('Origin', callHeader(headers, 'origin')),
    line('Client IP', callHeader(headers, 'x-forwarded-for')?.split(',')[0]),
  ];
  const content = buildContent({
    title: `${method} ${kind === 'request' ? 'requested' : 'completed'}`,
    subtitle: person.name ?? person.email ?? person.username,
    lines,
    deliveryType: 'NORMAL',
    tag: method,
  });
  return { content };
}

/**
 * A header of the call ZITADEL executed. Not the shared `header`: `headers` is Go's `http.Header`,
 * canonical names, each with a list of values; the first is taken, trimmed.
 */
function callHeader(headers: Record<string, unknown> | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== name) continue;
    const first = Array.isArray(value) ? value[0] : value;
    if (typeof first === 'string') return first.trim();
  }
  return undefined;
}

// ---- function executions -----------------------------------------------------------------------

/**
 * Routine functions notify flagged `routine` (see ROUTINE_FUNCTIONS), titled by what happened and
 * to whom; a function Herald does not know notifies quietly. No function call carries an id, so
 * there is no dedupe.
 */
function fromFunction({ payload }: Execution): ParseResult {
  const name = payload.function as string;
  const routineTitle = ROUTINE_FUNCTIONS.get(name);
  const user = isObject(payload.user) ? payload.user : undefined;
  const userinfo = isObject(payload.userinfo) ? payload.userinfo : undefined;
  const org = isObject(payload.org) ? payload.org : undefined;
  const person: Person = {
    id: nonBlankString(user?.id) ?? nonBlankString(userinfo?.sub),
    ...personFrom([user?.human, user, userinfo]),
  };
  const orgName = nonBlankString(org?.name);
  const orgID = nonBlankString(org?.id);
  const shortName = oneLine(name.slice(FUNCTION_PREFIX.length)) || name;
  const who = personLabel(person);
  const content = buildContent({
    title: routineTitle === undefined ? `ZITADEL function: ${shortName}` : `${routineTitle}${who ? `: ${who}` : ''}`,
    // The title of a routine function names the user already; its subtitle names the organization.
    subtitle: routineTitle === undefined ? who : (orgName ?? orgID),
    lines: [
      ...personLines(person),
      line('Organization', orgName && orgID ? `${orgName} (${orgID})` : (orgName ?? orgID)),
      line('Function', name),
    ],
    deliveryType: 'NORMAL',
    tag: shortName,
  });
  return notifications(routineTitle === undefined ? { content } : { content, routine: true });
}

// ---- the reply ZITADEL expects -----------------------------------------------------------------

/**
 * ZITADEL does not say which target type it called, so one reply must suit all three: a
 * `restWebhook` or `restAsync` ignores it, a `restCall`'s reply replaces the content. Hence:
 * request → the original `request`, response → the original `response` (the call goes on
 * unchanged), function → `{}` (nothing to set or append), event → `{}` (ignored).
 *
 * The echo is the JSON text ZITADEL sent, not a re-encoding, so uint64 values and escapes stay as
 * they were. A 2xx body with `forwardedStatusCode`/`forwardedErrorMessage` would make ZITADEL fail
 * the call; no request or response proto has such a field, so when the payload holds one anyway
 * (only a hand-made body can) those keys are stripped, at any depth, and the rest echoed: replying
 * `{}` instead would wipe the call's content for a `restCall` target.
 */
function replyBody(request: WebhookRequest | undefined): string {
  try {
    const execution = readExecution(request?.body);
    if (execution?.kind !== 'request' && execution?.kind !== 'response') return '{}';
    const body = echoMember(execution, execution.kind);
    const reparsed: unknown = JSON.parse(body);
    return isObject(reparsed) && !hasForwardingKey(reparsed) ? body : '{}';
  } catch {
    return '{}';
  }
}

function echoMember(execution: Execution, key: 'request' | 'response'): string {
  if (!isObject(execution.payload[key])) return '{}';
  const raw = topLevelMemberText(execution.text, key);
  const rawValue = raw === undefined ? undefined : parseJsonObject(raw);
  if (raw !== undefined && rawValue !== undefined && !hasForwardingKey(rawValue)) return raw;
  const value = rawValue ?? execution.payload[key];
  return JSON.stringify(value, (name: string, item: unknown) => (isForwardingKey(name) ? undefined : item)) ?? '{}';
}

function isForwardingKey(key: string): boolean {
  return FORWARDING_KEYS.has(key.normalize('NFKC').toLowerCase());
}

/** Walks iteratively: a hostile body may nest deeper than the call stack. */
function hasForwardingKey(value: unknown): boolean {
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const item = pending.pop();
    if (Array.isArray(item)) {
      for (const child of item) pending.push(child);
    } else if (isObject(item)) {
      for (const [key, child] of Object.entries(item)) {
        if (isForwardingKey(key)) return true;
        pending.push(child);
      }
    }
  }
  return false;
}

/**
 * The text of a top-level member of a JSON object, as written (the last one, as JSON.parse keeps).
 * The text has already parsed as a JSON object; anything unexpected yields undefined.
 */
function topLevelMemberText(text: string, wanted: string): string | undefined {
  let index = skipWhitespace(text, 0);
  if (text[index] !== '{') return undefined;
  index = skipWhitespace(text, index + 1);
  if (text[index] === '}') return undefined;
  let found: string | undefined;
  for (;;) {
    if (text[index] !== '"') return undefined;
    const keyEnd = endOfString(text, index);
    const key: unknown = JSON.parse(text.slice(index, keyEnd));
    index = skipWhitespace(text, keyEnd);
    if (text[index] !== ':') return undefined;
    const valueStart = skipWhitespace(text, index + 1);
    const valueEnd = endOfValue(text, valueStart);
    if (valueEnd <= valueStart) return undefined;
    if (key === wanted) found = text.slice(valueStart, valueEnd);
    index = skipWhitespace(text, valueEnd);
    if (text[index] === ',') index = skipWhitespace(text, index + 1);
    else return text[index] === '}' ? found : undefined;
  }
}

function skipWhitespace(text: string, index: number): number {
  while (index < text.length && (text[index] === ' ' || text[index] === '\t' || text[index] === '\n' || text[index] === '\r')) index++;
  return index;
}

/** `index` is at an opening quote; returns the index after the closing one. */
function endOfString(text: string, index: number): number {
  for (let i = index + 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '"') return i + 1;
  }
  return text.length;
}

function endOfValue(text: string, index: number): number {
  const first = text[index];
  if (first === '"') return endOfString(text, index);
  if (first === '{' || first === '[') {
    let depth = 0;
    for (let i = index; i < text.length; i++) {
      const char = text[i];
      if (char === '"') i = endOfString(text, i) - 1;
      else if (char === '{' || char === '[') depth++;
      else if ((char === '}' || char === ']') && --depth === 0) return i + 1;
    }
    return text.length;
  }
  let i = index;
  while (i < text.length && !',}] \t\n\r'.includes(text[i])) i++;
  return i;
}

// ---- building the notification -----------------------------------------------------------------

function buildContent(parts: {
  title: string;
  subtitle?: string;
  lines: readonly (string | undefined)[];
  deliveryType: DeliveryType;
  tag: string;
}): NotificationInput {
  return notificationContent({
    title: oneLine(parts.title) || 'ZITADEL',
    subtitle: parts.subtitle,
    body: joinLines(parts.lines),
    deliveryType: parts.deliveryType,
    tags: ['zitadel', oneLine(parts.tag)],
  });
}

/** `Label: value` on one line, or nothing when there is no value. */
function line(label: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const text = cap(oneLine(value), MAX_LINE_VALUE);
  return text ? `${label}: ${text}` : undefined;
}

// ---- small helpers -----------------------------------------------------------------------------

function firstString(sources: readonly (Record<string, unknown> | undefined)[], keys: readonly string[]): string | undefined {
  for (const source of sources) {
    for (const key of keys) {
      const value = source?.[key];
      if (nonBlank(value)) return value;
    }
  }
  return undefined;
}

/**
 * A non-blank string, as it is; anything else undefined. Not the shared `asString`: Go writes an
 * unset string field as `""`, which says nothing here.
 */
function nonBlankString(value: unknown): string | undefined {
  return nonBlank(value) ? value : undefined;
}
