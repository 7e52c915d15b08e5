import { HeraldError } from '../errors';
import type { DeliveryType, NotificationInput } from '../notification';
import { asString, capitalize, guardParse, idDedupeKey, isObject, joinLines, notificationContent, readJsonObject, sha256 } from './helpers';
import { parsePythonLiteral } from './python-literal';
import type { ParsedNotification, ParseResult, Parser, WebhookRequest } from './types';

/**
 * authentik Notification Transports (idp-formats.md §1), titled as Zentik's `ZENTIK_AUTHENTIK`
 * parser titles them (peers.md §2.6), so a Zentik user sees the same notifications.
 *
 * Three bodies arrive:
 * - the generic webhook `{body, severity, user_email, user_username, event_user_email?,
 *   event_user_username?}`, where `body` is `Event.summary`: `context["message"]`, or else
 *   `f"{action}: {context}"`, a Python dict repr;
 * - a Webhook Body Mapping's return value; Herald reads `{event_uuid, action, severity, body,
 *   event_user{username, email}, context?, client_ip?}` (the mapping in idp-formats.md §1);
 * - Slack mode `{username: 'authentik', attachments: [{title: <action>, fields: […]}]}`.
 */

const SEVERITIES = new Set(['notice', 'warning', 'alert']);
/** The Test button's text (`NotificationTransportViewSet.test`); its event has no user. */
const TEST_BUTTON = /^Test Notification from transport /;
/** `Event.summary` without a message starts with the action (`EventAction`, or `custom_…`). */
const ACTION_PREFIX = /^([A-Za-z0-9_]+):\s*\{/;
/** Zentik's fallback: any leading `word:` names the action. */
const LEADING_ACTION = /^(\w+):/;
/** Actions are snake_case words; Slack's title is one, or else the notification's text. */
const ACTION_NAME = /^[a-z][a-z0-9_]*$/;
/** guardian's user for a failed login with a username that does not exist (`on_login_failed`). */
const ANONYMOUS_USER = 'AnonymousUser';
/** Any POST from authentik's HTTP session (`authentik_user_agent()`). */
const AUTHENTIK_USER_AGENT = /^authentik@/i;
const SLACK_EVENT_USER_FIELD = 'Event user';
const SLACK_SEVERITY_FIELD = 'Severity';
/** An event id short and plain enough to key the dedupe table with as it is. */
const PLAIN_EVENT_ID = /^[A-Za-z0-9-]{1,64}$/;

type EventKind = 'login' | 'login_failed' | 'logout' | 'update_available' | 'test' | 'other' | 'unknown';

/** What the three body shapes have in common, read from whichever one arrived. */
interface AuthentikEvent {
  /** `Event.summary` (or the mapping's `body`): a message, or `action: {context repr}`. */
  readonly text: string;
  /** The action when the body names it apart from the text (mapping, Slack). */
  readonly action?: string;
  /** The event context when the body carries it as JSON (a mapping that returns it). */
  readonly context?: Record<string, unknown>;
  readonly severity?: string;
  /** The user who caused the event, else the recipient (Zentik's `event_user_* ?? user_*`). */
  readonly username?: string;
  readonly email?: string;
  /** The event's own user is absent (system events, the Test button). */
  readonly hasEventUser: boolean;
  /** The username typed at a failed login, when the body carries it outside a context. */
  readonly triedUsername?: string;
  /** Lines the body adds after the event's own (Slack fields, the mapping's client IP). */
  readonly extraLines: readonly string[];
}

export const authentikParser: Parser = {
  name: 'authentik',
  aliases: ['ZENTIK_AUTHENTIK', 'authentik'],

  detect(request: WebhookRequest): boolean {
    try {
      const userAgent = request.headers?.['user-agent'];
      if (typeof userAgent === 'string' && AUTHENTIK_USER_AGENT.test(userAgent)) return true;
      const payload = readJsonObject(request.body);
      return payload !== undefined && (isGenericBody(payload) || isMappingBody(payload) || isSlackBody(payload));
    } catch {
      return false;
    }
  },

  parse(request: WebhookRequest): ParseResult {
    return guardParse('authentik', () => ({ kind: 'notifications', notifications: [parsePayload(request.body)] }));
  },
};

function parsePayload(body: Buffer): ParsedNotification {
  const payload = readJsonObject(body);
  if (payload === undefined) {
    throw new HeraldError('invalid_body', 'authentik: the body must be a JSON object (the transport sends JSON)');
  }
  if (isSlackBody(payload)) return fromSlackBody(payload);
  if (typeof payload.action === 'string' || typeof payload.event_uuid === 'string') return fromMappingBody(payload);
  if (typeof payload.body === 'string') return fromGenericBody(payload);
  throw new HeraldError(
    'invalid_body',
    'authentik: expected the generic webhook body {body, severity, user_username, …}, a webhook mapping with "action", or a Slack-mode body',
  );
}

// ---- the three body shapes ---------------------------------------------------------------------

function fromGenericBody(payload: Record<string, unknown>): ParsedNotification {
  const text = payload.body as string;
  const eventUsername = asString(payload.event_user_username);
  const eventEmail = asString(payload.event_user_email);
  const event: AuthentikEvent = {
    text,
    severity: asString(payload.severity),
    username: eventUsername ?? asString(payload.user_username),
    email: eventEmail ?? asString(payload.user_email),
    hasEventUser: eventUsername !== undefined,
    extraLines: [],
  };
  const built = buildNotification(event);
  if (built.kind === 'test') return { content: built.content }; // users press Test repeatedly
  // One POST per recipient, differing only in user_*: the rest identifies the event.
  const identity = [text, event.severity ?? null, eventUsername ?? null, eventEmail ?? null];
  return { content: built.content, dedupeKey: `authentik:${sha256(JSON.stringify(identity))}` };
}

function fromMappingBody(payload: Record<string, unknown>): ParsedNotification {
  const eventUser = isObject(payload.event_user) ? payload.event_user : undefined;
  const action = asString(payload.action);
  const text = asString(payload.body) ?? action ?? '';
  const clientIp = asString(payload.client_ip);
  const eventUsername = asString(eventUser?.username) ?? asString(payload.event_user_username);
  const event: AuthentikEvent = {
    text,
    action,
    context: isObject(payload.context) ? payload.context : undefined,
    severity: asString(payload.severity),
    username: eventUsername ?? asString(payload.user_username) ?? asString(payload.recipient),
    email: asString(eventUser?.email) ?? asString(payload.event_user_email) ?? asString(payload.user_email),
    hasEventUser: eventUsername !== undefined,
    extraLines: clientIp ? [`Client IP: ${clientIp}`] : [],
  };
  const built = buildNotification(event);
  if (built.kind === 'test') return { content: built.content };
  const eventId = asString(payload.event_uuid);
  if (eventId) return { content: built.content, dedupeKey: idDedupeKey('authentik', eventId, PLAIN_EVENT_ID) };
  // A mapping without the event id: what the event shares across recipients, with its timestamp.
  const identity = [text, event.severity ?? null, action ?? null, asString(payload.created) ?? null, eventUsername ?? null];
  return { content: built.content, dedupeKey: `authentik:${sha256(JSON.stringify(identity))}` };
}

/**
 * Slack mode carries no event id and only string context values, so two real events can look the
 * same (two failed logins by one user): no dedupe key, a duplicate beats a lost alert.
 */
function fromSlackBody(payload: Record<string, unknown>): ParsedNotification {
  const attachment = (payload.attachments as unknown[])[0] as Record<string, unknown>;
  const title = asString(attachment.title) ?? '';
  const fields = (Array.isArray(attachment.fields) ? attachment.fields : [])
    .filter(isObject)
    .map((field) => ({ title: asString(field.title) ?? '', value: pythonText(field.value) ?? '' }));
  const eventUser = fields.find((field) => field.title === SLACK_EVENT_USER_FIELD)?.value;
  const severity = fields.find((field) => field.title === SLACK_SEVERITY_FIELD)?.value;
  // The title is the action when there is an event, else the notification text itself.
  const titleIsAction = ACTION_NAME.test(title);
  const event: AuthentikEvent = {
    text: titleIsAction ? '' : title,
    action: titleIsAction ? title : undefined,
    severity,
    username: eventUser,
    hasEventUser: eventUser !== undefined,
    // String context values follow the fixed fields; a failed login's includes `username`.
    triedUsername: fields.find((field) => field.title === 'username')?.value,
    extraLines: fields
      .filter((field) => field.title !== SLACK_EVENT_USER_FIELD)
      .map((field) => `${field.title}: ${field.value}`),
  };
  return { content: buildNotification(event).content };
}

// ---- from an event to a notification ----------------------------------------------------------

function buildNotification(event: AuthentikEvent): { kind: EventKind; content: NotificationInput } {
  const fromText = splitSummary(event.text);
  // An action named apart from the text decides; the text may still carry the context.
  const summary: Summary = event.action === undefined ? fromText : { action: event.action, named: true, context: fromText.context };
  const context = event.context ?? summary.context;
  const kind = classify(event, summary);
  const action = kind === 'other' ? (summary.action ?? kind) : kind;
  const user = displayUser(event, context);

  let title: string;
  let body: string;
  switch (kind) {
    case 'login':
    case 'login_failed':
    case 'logout':
      title = `${capitalize(action)}: ${user}`;
      // A repr the reader could not parse is shown as it came.
      body = summary.contextUnreadable ? event.text : [user, ...userEventLines(context), ...event.extraLines].join('\n');
      break;
    case 'update_available':
      title = 'Update Available';
      body = joinLines([event.text, ...event.extraLines]);
      break;
    case 'test':
      title = 'authentik: test notification';
      body = event.text;
      break;
    case 'other':
      title = `${capitalize(action)} - Unmapped event`;
      body = joinLines([context ? renderContext(context) : event.text, ...event.extraLines]);
      break;
    default:
      title = 'Unknown - Unmapped event';
      body = joinLines([event.text, ...event.extraLines]);
  }

  const severe = event.severity?.toLowerCase() === 'alert' || kind === 'login_failed';
  const deliveryType: DeliveryType = severe ? 'CRITICAL' : 'NORMAL';
  const tagAction = kind === 'test' ? 'notification_test' : kind === 'unknown' ? undefined : action;
  const content = notificationContent({
    title,
    subtitle: kind === 'test' || isAnonymous(event) ? undefined : event.email,
    body,
    deliveryType,
    // The action as the body names it, not made one line.
    tags: ['authentik', ...(tagAction ? [tagAction] : [])],
  });
  return { kind, content };
}

interface Summary {
  action?: string;
  /** The action is certain: the body named it, or the text is `action: {context}`. */
  named?: boolean;
  context?: Record<string, unknown>;
  /** The text looked like `action: {…}` but the repr did not parse. */
  contextUnreadable?: boolean;
}

/** Splits `Event.summary` into the action and the parsed context, when it has them. */
function splitSummary(text: string): Summary {
  // Zentik reads the context as the `{…}` that follows the first `:` and ends the text, so it also
  // reads prose such as `User x logged in successfully: {…}`. Found without a backtracking regex.
  const trimmed = text.trimEnd();
  const opening = trimmed.endsWith('}') ? /:\s*\{/.exec(trimmed) : null;
  const context = opening ? readContext(trimmed.slice(opening.index + opening[0].length - 1)) : {};
  // A leading word has no `:`, so when the text starts `action: {` that is the first `: {`.
  const prefixed = opening ? ACTION_PREFIX.exec(trimmed) : null;
  if (prefixed) return { action: prefixed[1], named: true, ...context };
  return { action: LEADING_ACTION.exec(text)?.[1], ...context };
}

function readContext(repr: string): Pick<Summary, 'context' | 'contextUnreadable'> {
  try {
    const value = parsePythonLiteral(repr);
    return isObject(value) ? { context: value } : { contextUnreadable: true };
  } catch {
    return { contextUnreadable: true };
  }
}

/**
 * The action the body names decides; Zentik's English phrases come next, for message bodies and
 * prose; then any leading `word:` (peers.md §2.6).
 */
function classify(event: AuthentikEvent, summary: Summary): EventKind {
  const { text } = event;
  if (event.action === undefined && !event.hasEventUser && TEST_BUTTON.test(text)) return 'test';
  if (summary.named && summary.action !== undefined) return kindOfAction(summary.action);
  if (text.includes('logged in successfully')) return 'login';
  if (text.includes('failed to log in')) return 'login_failed';
  if (text.includes('logged out')) return 'logout';
  if (text.includes('New version') && text.includes('available')) return 'update_available';
  return summary.action === undefined ? 'unknown' : kindOfAction(summary.action);
}

function kindOfAction(action: string): EventKind {
  switch (action) {
    case 'login':
    case 'login_failed':
    case 'logout':
    case 'update_available':
      return action;
    default:
      return 'other';
  }
}

function isAnonymous(event: AuthentikEvent): boolean {
  return event.hasEventUser && event.username === ANONYMOUS_USER;
}

/** The event user; for guardian's AnonymousUser, the username that was tried. */
function displayUser(event: AuthentikEvent, context: Record<string, unknown> | undefined): string {
  if (isAnonymous(event)) {
    const tried = pythonText(context?.username) ?? event.triedUsername;
    return tried ? `${tried} (unknown user)` : 'unknown user';
  }
  return event.username || 'unknown user';
}

/** Zentik's lines: App, User agent, Authentication method, ASN, Location (peers.md §2.6). */
function userEventLines(context: Record<string, unknown> | undefined): string[] {
  if (!context) return [];
  const httpRequest = isObject(context.http_request) ? context.http_request : {};
  const lines: string[] = [];
  const app = appOrigin(context, httpRequest);
  if (app) lines.push(`App: ${app}`);
  const userAgent = pythonText(context.userAgent) ?? pythonText(httpRequest.user_agent);
  if (userAgent) lines.push(`User agent: ${userAgent}`);
  const authMethod = pythonText(context.auth_method) ?? pythonText(context.authMethod);
  if (authMethod) lines.push(`Authentication method: ${authMethod}`);
  const asn = isObject(context.asn) ? context.asn : undefined;
  const asnNumber = pythonText(asn?.asn);
  if (asnNumber) {
    const org = pythonText(asn?.as_org);
    lines.push(`ASN: ${asnNumber}${org ? ` (${org})` : ''}`);
  }
  const geo = isObject(context.geo) ? context.geo : undefined;
  const place = [pythonText(geo?.city), pythonText(geo?.country)].filter((part) => part).join(', ');
  if (place) lines.push(`Location: ${place}`);
  return lines;
}

/**
 * The application signed in to: the origin of `redirect_uri` inside the flow's `next`
 * (`/application/o/authorize/?…&redirect_uri=https://app…`). The flow executor API may carry the
 * original query string in `args.query` instead.
 */
function appOrigin(context: Record<string, unknown>, httpRequest: Record<string, unknown>): string | undefined {
  const args = isObject(httpRequest.args) ? httpRequest.args : {};
  let next = pythonText(context.pathNext) ?? pythonText(args.next);
  const query = pythonText(args.query);
  if (!next && query) next = new URLSearchParams(query).get('next') ?? undefined;
  if (!next) return undefined;
  try {
    const redirect = new URL(next, 'https://authentik.invalid').searchParams.get('redirect_uri');
    if (!redirect) return undefined;
    const url = new URL(redirect);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.origin : undefined;
  } catch {
    return undefined;
  }
}

// ---- rendering ---------------------------------------------------------------------------------

/** Enough for any real context; a mapping's JSON context is not depth-limited by its reader. */
const RENDER_MAX_DEPTH = 16;
const RENDER_MAX_LINES = 500;

/** A context as `key: value` lines, nested keys dotted; model references as `name (app.model, pk)`. */
function renderContext(context: Record<string, unknown>): string {
  const lines: string[] = [];
  const walk = (value: unknown, path: string, depth: number): void => {
    if (lines.length >= RENDER_MAX_LINES) return;
    const leaf = pythonText(value);
    if (depth > RENDER_MAX_DEPTH) {
      lines.push(`${path}: …`);
    } else if (leaf !== undefined || value === null) {
      lines.push(`${path}: ${leaf ?? 'None'}`);
    } else if (Array.isArray(value)) {
      if (value.length === 0) lines.push(`${path}: []`);
      else if (value.every((item) => pythonText(item) !== undefined)) lines.push(`${path}: ${value.map(pythonText).join(', ')}`);
      else value.forEach((item, index) => walk(item, `${path}[${index}]`, depth + 1));
    } else if (isObject(value)) {
      const model = modelReference(value);
      if (model) lines.push(`${path}: ${model}`);
      else if (Object.keys(value).length === 0) lines.push(`${path}: {}`);
      else for (const [key, item] of Object.entries(value)) walk(item, path ? `${path}.${key}` : key, depth + 1);
    }
  };
  walk(context, '', 0);
  return lines.join('\n');
}

/** `sanitize_item` turns a model into `{app, model_name, pk, name}`. */
function modelReference(value: Record<string, unknown>): string | undefined {
  const [app, modelName, name] = [pythonText(value.app), pythonText(value.model_name), pythonText(value.name)];
  if (!app || !modelName || name === undefined) return undefined;
  const pk = pythonText(value.pk);
  return `${name} (${app}.${modelName}${pk ? `, pk ${pk}` : ''})`;
}

// ---- small helpers -----------------------------------------------------------------------------

function isGenericBody(payload: Record<string, unknown>): boolean {
  return (
    typeof payload.body === 'string' &&
    typeof payload.severity === 'string' &&
    SEVERITIES.has(payload.severity) &&
    typeof payload.user_username === 'string'
  );
}

function isMappingBody(payload: Record<string, unknown>): boolean {
  return (
    typeof payload.action === 'string' &&
    typeof payload.severity === 'string' &&
    SEVERITIES.has(payload.severity) &&
    (typeof payload.event_uuid === 'string' || isObject(payload.event_user))
  );
}

function isSlackBody(payload: Record<string, unknown>): boolean {
  return (
    payload.username === 'authentik' &&
    Array.isArray(payload.attachments) &&
    payload.attachments.length > 0 &&
    isObject(payload.attachments[0])
  );
}

/**
 * Strings, numbers and booleans as text, booleans as Python prints them (`True`); anything else
 * undefined. Not the shared `scalarText`: authentik's values are Python's (the context is a repr),
 * shown as Zentik shows them, and a blank string is a value here, not an absent one.
 */
function pythonText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : undefined;
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  return undefined;
}
