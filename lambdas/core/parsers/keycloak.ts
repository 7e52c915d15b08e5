import { fromHex, hmac, macEquals } from '../auth/signatures';
import { HeraldError } from '../errors';
import type { NotificationInput } from '../notification';
import {
  asString,
  bodyBytes,
  capitalize,
  guardParse,
  header,
  idDedupeKey,
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
import type { ParsedNotification, ParseResult, Parser, WebhookRequest } from './types';

/**
 * Keycloak events (idp-formats.md §3). Keycloak has no webhooks of its own; two extensions send
 * them, and one parser reads both, told apart by the body's shape:
 *
 * - p2-inc/keycloak-events, listener `ext-event-webhook` (§3a): an `ExtendedAdminEvent`,
 *   `{id, time, realmId, realmName, authDetails{realmId, clientId, userId, ipAddress, username,
 *   sessionId}, details, error?, uid, type, resourceType?, operationType?, resourcePath?,
 *   representation?}`, where `type` is `access.<EventType>`, `admin.<RESOURCE>-<OPERATION>` or
 *   `system.*`. `authDetails.realmId` holds the realm NAME; the top-level `realmId` is the UUID
 *   for user events. Signed: `X-Keycloak-Signature: <lowercase hex HMAC over the raw body>`,
 *   HmacSHA256 by default, HmacSHA1 allowed; no prefix, no timestamp.
 * - vymalo/keycloak-webhook, provider `webhook-http` (§3b): a flat `{type, realmId, id, time,
 *   clientId, userId, ipAddress, error?, details?, resourcePath?, representation?, sessionId?}`,
 *   `type` bare (`LOGIN_ERROR`) or `<RESOURCE>-<OPERATION>` for admin events, whose `userId` is
 *   the admin's. It cannot sign (HTTP Basic only): with a Keycloak signing key configured for the
 *   bucket, its unsigned requests are refused, as they must be.
 *
 * Severity: failed logins, brute-force lockouts and a removed OTP are CRITICAL. Removing the
 * second factor is the step that turns a stolen session into a kept account, and users rarely do
 * it, so it is worth waking someone; Keycloak's own email listener notifies on it by default.
 * Keycloak ≥ 24 also sends REMOVE_CREDENTIAL for the same removal: that one stays NORMAL, so a
 * removal pages once. Token traffic (refresh, code exchange, introspection, client logins) and
 * logouts are routine: they notify (NORMAL) flagged `routine`, and ingest queues them only for
 * buckets that opted in to Keycloak's routine events.
 */

const SIGNATURE_HEADER = 'x-keycloak-signature';
/** p2's `type`: the event's category, a dot, then the Keycloak event or admin type (custom for `system.`). */
const P2_TYPE = /^(access|admin|system)\.[^\r\n]*$/;
/** Realms are named in p2 bodies; vymalo (and p2's older admin events) send the realm's UUID. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** vymalo's `type`: `EventType` (`LOGIN_ERROR`) or `ResourceType-OperationType` (`USER-CREATE`). */
const VYMALO_TYPE = /^[A-Z][A-Z0-9_]*(?:-[A-Z][A-Z0-9_]*)?$/;
/** An event id short and plain enough to key the dedupe table with as it is. */
const PLAIN_EVENT_ID = /^[A-Za-z0-9-]{1,64}$/;
/** Two-segment admin resource paths name the resource by id: `users/<uuid>`, `clients/<uuid>`. */
const RESOURCE_BY_ID = /^[A-Za-z-]+\/([^/]+)$/;
/** Representation fields never shown: a client's secret, a user's initial credentials, keys. */
const SENSITIVE_FIELD = /secret|password|credential|token|key|hash|salt|otp|private|certificate/i;
const REPRESENTATION_MAX_LINES = 25;
const LIST_MAX_ITEMS = 10;

/**
 * User events that are routine traffic: token refreshes and exchanges, client logins, logouts.
 * Each has its title; `client` adds the client to it (`Token refreshed: jdoe (mobile-app)`).
 */
const ROUTINE_EVENTS: ReadonlyMap<string, { readonly title: string; readonly client?: boolean }> = new Map(Object.entries({
  LOGOUT: { title: 'Logout' },
  LOGOUT_ERROR: { title: 'Logout failed' },
  REFRESH_TOKEN: { title: 'Token refreshed', client: true },
  REFRESH_TOKEN_ERROR: { title: 'Token refresh failed', client: true },
  CODE_TO_TOKEN: { title: 'Code exchanged for tokens', client: true },
  CODE_TO_TOKEN_ERROR: { title: 'Code exchange failed', client: true },
  INTROSPECT_TOKEN: { title: 'Token introspected', client: true },
  INTROSPECT_TOKEN_ERROR: { title: 'Token introspection failed', client: true },
  CLIENT_LOGIN: { title: 'Client login' },
  VALIDATE_ACCESS_TOKEN: { title: 'Access token validated', client: true },
  VALIDATE_ACCESS_TOKEN_ERROR: { title: 'Access token validation failed', client: true },
  USER_INFO_REQUEST: { title: 'Userinfo requested', client: true },
  USER_INFO_REQUEST_ERROR: { title: 'Userinfo request failed', client: true },
  TOKEN_EXCHANGE: { title: 'Token exchanged', client: true },
  TOKEN_EXCHANGE_ERROR: { title: 'Token exchange failed', client: true },
  PERMISSION_TOKEN: { title: 'Permission token issued', client: true },
  PERMISSION_TOKEN_ERROR: { title: 'Permission token failed', client: true },
  OAUTH2_DEVICE_CODE_TO_TOKEN: { title: 'Device code exchanged for tokens', client: true },
  AUTHREQID_TO_TOKEN: { title: 'Backchannel request exchanged for tokens', client: true },
  PUSHED_AUTHORIZATION_REQUEST: { title: 'Pushed authorization request', client: true },
  CLIENT_INFO: { title: 'Client info requested' },
}));

const CRITICAL_EVENTS = new Set([
  'LOGIN_ERROR',
  'REMOVE_TOTP',
  'USER_DISABLED_BY_PERMANENT_LOCKOUT',
  'USER_DISABLED_BY_TEMPORARY_LOCKOUT',
]);

/** Titles for the user events people act on; any other is titled from its name. */
const EVENT_TITLES = new Map<string, string>([
  ['LOGIN', 'Login'],
  ['LOGIN_ERROR', 'Login failed'],
  ['REGISTER', 'User registered'],
  ['REGISTER_ERROR', 'Registration failed'],
  ['UPDATE_PASSWORD', 'Password changed'],
  ['RESET_PASSWORD', 'Password reset'],
  ['SEND_RESET_PASSWORD', 'Password reset email sent'],
  ['UPDATE_TOTP', 'OTP set up'],
  ['REMOVE_TOTP', 'OTP removed'],
  ['UPDATE_CREDENTIAL', 'Credential updated'],
  ['REMOVE_CREDENTIAL', 'Credential removed'],
  ['UPDATE_EMAIL', 'Email changed'],
  ['VERIFY_EMAIL', 'Email verified'],
  ['DELETE_ACCOUNT', 'Account deleted'],
  ['IMPERSONATE', 'Impersonation'],
  ['USER_DISABLED_BY_PERMANENT_LOCKOUT', 'User locked out permanently'],
  ['USER_DISABLED_BY_TEMPORARY_LOCKOUT', 'User locked out temporarily'],
]);

/** Keycloak's `Errors` constants a reader may not know by name. */
const ERROR_EXPLANATIONS = new Map<string, string>([
  ['invalid_user_credentials', 'wrong password or code'],
  ['user_not_found', 'no such user'],
  ['user_disabled', 'user disabled'],
  ['user_temporarily_disabled', 'locked by brute-force detection'],
  ['invalid_client_credentials', 'wrong client secret'],
]);

/** `details` entries worth a line of a user event's body, in this order. */
const DETAIL_LABELS: readonly (readonly [string, string])[] = [
  ['identity_provider', 'Identity provider'],
  ['identity_provider_identity', 'Identity provider user'],
  ['credential_type', 'Credential'],
  ['impersonator', 'Impersonator'],
  ['previous_email', 'Previous email'],
  ['updated_email', 'New email'],
];

const ADMIN_VERBS = new Map<string, string>([
  ['CREATE', 'created'],
  ['UPDATE', 'updated'],
  ['DELETE', 'deleted'],
  ['ACTION', 'action'],
]);

type Category = 'access' | 'admin' | 'system';

/** What the two extensions' bodies have in common, read from whichever one arrived. */
interface KeycloakEvent {
  readonly category: Category;
  /** `LOGIN_ERROR`, `USER-CREATE`, or what follows `system.`. */
  readonly eventType: string;
  readonly id?: string;
  /** The realm's name where the body carries it (p2), else its UUID (vymalo). */
  readonly realm?: string;
  readonly clientId?: string;
  /** User events: the user. Admin events: the admin. */
  readonly userId?: string;
  /** User events: the user's username as Keycloak resolved it. Admin events: the admin's. */
  readonly username?: string;
  readonly ipAddress?: string;
  readonly error?: string;
  readonly details: ReadonlyMap<string, string>;
  /** Admin events: the realm the admin authenticated in (p2's `authDetails.realmId`). */
  readonly adminRealm?: string;
  readonly resourceType?: string;
  readonly operationType?: string;
  readonly resourcePath?: string;
  /** Admin events: the resource as a JSON string, when the realm includes representations. */
  readonly representation?: string;
}

export const keycloakParser: Parser = {
  name: 'keycloak',
  aliases: ['keycloak-events', 'p2-keycloak', 'vymalo', 'keycloak-webhook'],

  auth: {
    kind: 'signature',
    verify(request: WebhookRequest, signingKey: string): void {
      onlyHeraldErrors(
        () => verifyKeycloakSignature(request, signingKey),
        (error) => new HeraldError('invalid_signature', 'keycloak: the signature could not be checked', {}, error),
      );
    },
  },

  detect(request: WebhookRequest): boolean {
    try {
      if (header(request.headers, SIGNATURE_HEADER) !== undefined) return true;
      const payload = readJsonObject(request.body);
      return payload !== undefined && (isP2Body(payload) || isVymaloBody(payload));
    } catch {
      return false;
    }
  },

  parse(request: WebhookRequest): ParseResult {
    return guardParse('keycloak', () => parsePayload(request.body));
  },
};

// ---- signature ---------------------------------------------------------------------------------

/** p2's `calculateHmacSha`: lowercase hex of Mac(HmacSHA256 | HmacSHA1) over the body bytes. */
function verifyKeycloakSignature(request: WebhookRequest, signingKey: string): void {
  const presented = header(request.headers, SIGNATURE_HEADER)?.trim();
  if (!presented) {
    throw new HeraldError(
      'invalid_signature',
      'keycloak: no X-Keycloak-Signature header, but this bucket has a Keycloak signing key. vymalo/keycloak-webhook cannot sign: remove the key and authenticate it with a magic code or token',
    );
  }
  // The algorithm is the webhook's setting, not sent: the digest's length tells them apart.
  const algorithm = presented.length === 64 ? 'sha256' : presented.length === 40 ? 'sha1' : undefined;
  if (!algorithm) {
    throw new HeraldError(
      'invalid_signature',
      'keycloak: X-Keycloak-Signature must be the hex HMAC-SHA256 (64 digits) or HMAC-SHA1 (40 digits) of the body',
    );
  }
  const expected = hmac(algorithm, signingKey, [bodyBytes(request.body)]);
  if (!macEquals(expected, fromHex(presented))) {
    throw new HeraldError('invalid_signature', 'keycloak: X-Keycloak-Signature does not match the body and the signing key of this bucket');
  }
}

// ---- reading the two bodies --------------------------------------------------------------------

function parsePayload(body: unknown): ParseResult {
  const payload = readJsonObject(body);
  if (payload === undefined) {
    throw new HeraldError('invalid_body', 'keycloak: the body must be a JSON object (an event from keycloak-events or keycloak-webhook)');
  }
  const type = asString(payload.type);
  if (type !== undefined && P2_TYPE.test(type)) return build(readP2Event(payload, type), body);
  if (type !== undefined && VYMALO_TYPE.test(type)) return build(readVymaloEvent(payload, type), body);
  throw new HeraldError(
    'invalid_body',
    'keycloak: expected an event with "type" such as "access.LOGIN" or "admin.USER-CREATE" (keycloak-events), or "LOGIN" or "USER-CREATE" (keycloak-webhook)',
  );
}

function readP2Event(payload: Record<string, unknown>, type: string): KeycloakEvent {
  const dot = type.indexOf('.');
  const category = type.slice(0, dot) as Category;
  const rest = type.slice(dot + 1);
  const authDetails = isObject(payload.authDetails) ? payload.authDetails : {};
  const common = {
    id: scalarText(payload.id),
    clientId: scalarText(authDetails.clientId),
    userId: scalarText(authDetails.userId),
    username: scalarText(authDetails.username),
    ipAddress: scalarText(authDetails.ipAddress),
    error: scalarText(payload.error),
    details: readDetails(payload.details),
  };
  if (category === 'admin') {
    const [resourceFromType, operationFromType] = splitAdminType(rest);
    return {
      ...common,
      category,
      eventType: rest,
      // Newer p2 puts the event realm's name in the top-level realmId of admin events.
      realm: scalarText(payload.realmName) ?? scalarText(payload.realmId),
      adminRealm: scalarText(authDetails.realmId),
      resourceType: scalarText(payload.resourceType) ?? resourceFromType,
      operationType: scalarText(payload.operationType) ?? operationFromType,
      resourcePath: scalarText(payload.resourcePath),
      representation: asString(payload.representation),
    };
  }
  return {
    ...common,
    category,
    eventType: rest,
    // authDetails.realmId is the realm NAME for user events; the top-level realmId its UUID.
    realm: scalarText(payload.realmName) ?? scalarText(authDetails.realmId) ?? scalarText(payload.realmId),
  };
}

function readVymaloEvent(payload: Record<string, unknown>, type: string): KeycloakEvent {
  const common = {
    id: scalarText(payload.id),
    // realmName is computed but not sent over HTTP; a later version may send it.
    realm: scalarText(payload.realmName) ?? scalarText(payload.realmId),
    clientId: scalarText(payload.clientId),
    userId: scalarText(payload.userId),
    ipAddress: scalarText(payload.ipAddress),
    error: scalarText(payload.error),
    details: readDetails(payload.details),
  };
  if (type.includes('-')) {
    const [resourceType, operationType] = splitAdminType(type);
    return {
      ...common,
      category: 'admin',
      eventType: type,
      resourceType,
      operationType,
      resourcePath: scalarText(payload.resourcePath),
      representation: asString(payload.representation),
    };
  }
  return { ...common, category: 'access', eventType: type };
}

/** `USER-CREATE` → `['USER', 'CREATE']`; resource types hold underscores, never dashes. */
function splitAdminType(type: string): [string | undefined, string | undefined] {
  const dash = type.lastIndexOf('-');
  if (dash < 0) return [type || undefined, undefined];
  return [type.slice(0, dash) || undefined, type.slice(dash + 1) || undefined];
}

// ---- from an event to a notification -----------------------------------------------------------

function build(event: KeycloakEvent, body: unknown): ParseResult {
  const routine = event.category === 'access' && ROUTINE_EVENTS.has(event.eventType);
  const content =
    event.category === 'admin' ? adminNotification(event) : event.category === 'system' ? systemNotification(event) : userNotification(event);
  const notification: ParsedNotification = { content, dedupeKey: dedupeKey(event, body), ...(routine ? { routine: true } : {}) };
  return { kind: 'notifications', notifications: [notification] };
}

function userNotification(event: KeycloakEvent): NotificationInput {
  const type = event.eventType;
  const typedUsername = event.details.get('username');
  // A failed login names what was typed; Keycloak resolves a user only when one matched.
  const shownUser = type === 'LOGIN_ERROR' ? (typedUsername ?? event.username) : (event.username ?? typedUsername);
  const routine = ROUTINE_EVENTS.get(type);
  let who = shownUser ?? event.userId;
  if (type === 'LOGIN_ERROR' && event.error === 'user_not_found') who = who ? `${who} (unknown user)` : 'unknown user';
  // A client login's user is the client's service account: the client is what logged in.
  if (type === 'CLIENT_LOGIN' || type === 'CLIENT_INFO') who = event.clientId ?? who;
  if (!who && type.startsWith('CLIENT_')) who = event.clientId;
  // Token traffic names the client that asked, unless the client is already the subject.
  if (routine?.client && event.clientId && who !== event.clientId) who = who ? `${who} (${event.clientId})` : event.clientId;

  const lines: string[] = [];
  if (event.username && shownUser !== event.username) lines.push(`User: ${event.username}`);
  lines.push(...originLines(event));
  if (event.error) lines.push(`Error: ${explainError(event.error)}`);
  for (const [key, label] of DETAIL_LABELS) {
    const value = event.details.get(key);
    if (value) lines.push(`${label}: ${value}`);
  }

  return notificationContent({
    title: `${eventTitle(type)}${who ? `: ${who}` : ''}`,
    subtitle: event.details.get('email'),
    body: joinLines(lines),
    deliveryType: CRITICAL_EVENTS.has(type) ? 'CRITICAL' : 'NORMAL',
    tags: ['keycloak', oneLine(type.toLowerCase() || 'event')],
  });
}

function adminNotification(event: KeycloakEvent): NotificationInput {
  const representation = readRepresentation(event.representation);
  const resource = isObject(representation) ? representation : undefined;
  const resourceType = event.resourceType ?? 'RESOURCE';
  const operation = event.operationType;
  const verb = (operation && ADMIN_VERBS.get(operation)) ?? operation?.toLowerCase() ?? 'changed';
  // p2 adds details.username for `users/<uuid>`; authDetails.userId is the admin, not the user.
  const affected =
    event.details.get('username') ??
    scalarText(resource?.username) ??
    scalarText(resource?.name) ??
    scalarText(resource?.clientId) ??
    scalarText(resource?.alias) ??
    RESOURCE_BY_ID.exec(event.resourcePath ?? '')?.[1];

  const admin = event.username ?? event.userId;
  const lines: string[] = [];
  if (admin) lines.push(`By: ${admin}${event.adminRealm && event.adminRealm !== event.realm ? ` (realm ${event.adminRealm})` : ''}`);
  lines.push(...originLines(event));
  if (event.resourcePath) lines.push(`Resource: ${event.resourcePath}`);
  if (event.error) lines.push(`Error: ${explainError(event.error)}`);
  lines.push(...representationLines(representation, resourceType));

  return notificationContent({
    title: `Admin: ${words(resourceType)} ${verb}${affected ? `: ${affected}` : ''}`,
    subtitle: resourceType === 'USER' ? scalarText(resource?.email) : undefined,
    body: joinLines(lines),
    deliveryType: 'NORMAL',
    tags: ['keycloak', 'admin', oneLine(event.eventType.toLowerCase())],
  });
}

/** `system.*`: custom events posted to `/realms/<realm>/events`; shown with their details. */
function systemNotification(event: KeycloakEvent): NotificationInput {
  const lines = [...originLines(event)];
  if (event.error) lines.push(`Error: ${event.error}`);
  for (const [key, value] of event.details) lines.push(`${key}: ${value}`);
  return notificationContent({
    title: `Keycloak system event${event.eventType ? `: ${event.eventType}` : ''}`,
    body: joinLines(lines),
    deliveryType: 'NORMAL',
    tags: ['keycloak', 'system'],
  });
}

function originLines(event: KeycloakEvent): string[] {
  const lines: string[] = [];
  if (event.realm) lines.push(`${UUID.test(event.realm) ? 'Realm ID' : 'Realm'}: ${event.realm}`);
  if (event.clientId) lines.push(`Client: ${event.clientId}`);
  if (event.ipAddress) lines.push(`IP: ${event.ipAddress}`);
  return lines;
}

function eventTitle(type: string): string {
  const known = EVENT_TITLES.get(type) ?? ROUTINE_EVENTS.get(type)?.title;
  if (known) return known;
  if (type.endsWith('_ERROR')) return `${capitalize(words(type.slice(0, -'_ERROR'.length)))} failed`;
  return capitalize(words(type)) || 'Keycloak event';
}

function explainError(error: string): string {
  const explanation = ERROR_EXPLANATIONS.get(error);
  return explanation ? `${error} (${explanation})` : error;
}

function readRepresentation(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined; // never shown raw: it may hold a secret the field filter would have hidden
  }
}

/** Top-level scalar fields of the resource, or the names of a list (role mappings, groups). */
function representationLines(representation: unknown, resourceType: string): string[] {
  if (Array.isArray(representation)) {
    const names = representation
      .map((item) => (isObject(item) ? (scalarText(item.name) ?? scalarText(item.username) ?? scalarText(item.id)) : scalarText(item)))
      .filter((name): name is string => name !== undefined);
    if (names.length === 0) return [];
    const label = resourceType.includes('ROLE') ? 'Roles' : resourceType.includes('GROUP') ? 'Groups' : 'Items';
    return [listLine(label, names, LIST_MAX_ITEMS)];
  }
  if (!isObject(representation)) return [];
  const lines: string[] = [];
  for (const [key, value] of Object.entries(representation)) {
    if (lines.length >= REPRESENTATION_MAX_LINES) break;
    if (SENSITIVE_FIELD.test(key)) continue;
    const text = scalarText(value);
    if (text !== undefined && text !== '') lines.push(`${key}: ${text}`);
  }
  return lines;
}

function dedupeKey(event: KeycloakEvent, body: unknown): string {
  if (event.id) return idDedupeKey('keycloak', event.id, PLAIN_EVENT_ID);
  // Without an id, a byte-identical redelivery is the only replay Herald can tell.
  return `keycloak:${sha256(bodyBytes(body))}`;
}

// ---- detection ---------------------------------------------------------------------------------

function isP2Body(payload: Record<string, unknown>): boolean {
  const type = asString(payload.type);
  return (
    type !== undefined &&
    P2_TYPE.test(type) &&
    (isObject(payload.authDetails) || typeof payload.realmName === 'string' || typeof payload.uid === 'string')
  );
}

function isVymaloBody(payload: Record<string, unknown>): boolean {
  const type = asString(payload.type);
  return (
    type !== undefined &&
    VYMALO_TYPE.test(type) &&
    typeof payload.realmId === 'string' &&
    (typeof payload.id === 'string' || typeof payload.userId === 'string' || typeof payload.ipAddress === 'string')
  );
}

// ---- small helpers -----------------------------------------------------------------------------

/** `details` is a map of strings (Jackson) or of anything (vymalo's Gson `Map<String, Any>`). */
function readDetails(value: unknown): ReadonlyMap<string, string> {
  const details = new Map<string, string>();
  if (!isObject(value)) return details;
  for (const [key, item] of Object.entries(value)) {
    const text = scalarText(item);
    if (text !== undefined && text !== '') details.set(key, text);
  }
  return details;
}

/** `REALM_ROLE_MAPPING` → `realm role mapping`. */
function words(constant: string): string {
  return constant.toLowerCase().replace(/_+/g, ' ').trim();
}
