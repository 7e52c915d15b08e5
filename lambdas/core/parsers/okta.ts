import { HeraldError } from '../errors';
import type { DeliveryType, NotificationInput } from '../notification';
import {
  authorizationSecret,
  guardParse,
  header,
  idDedupeKey,
  isObject,
  joinLines,
  notificationContent,
  oneLine,
  readJsonObject,
  sha256,
  trimmedText,
} from './helpers';
import type { ParsedNotification, ParseResult, Parser, SourceReply, WebhookRequest } from './types';

/**
 * Okta Event Hooks (idp-formats.md §5). Okta signs nothing: it sends the static secret registered
 * with the hook in `Authorization`, verifies the endpoint once with a GET carrying
 * `X-Okta-Verification-Challenge`, then POSTs `{eventType: 'com.okta.event_hook', data: {events:
 * [LogEvent, …]}}`, batched, unordered, at least once (dedupe on each event's `uuid`). It wants
 * 200 or 204 with an empty body within 3 s.
 */

const EVENT_HOOK = 'com.okta.event_hook';
const CHALLENGE_HEADER = 'x-okta-verification-challenge';
/** LogEvent `uuid`s are UUIDs; anything else is hashed before it keys the dedupe table. */
const PLAIN_EVENT_ID = /^[A-Za-z0-9_-]{1,128}$/;
/** Okta writes `"null"` and `"UNKNOWN"` where it knows nothing (`client.zone`, `userAgent.os`). */
const NO_VALUE = new Set(['null', 'unknown']);
/** `outcome.result` values that mean the attempt did not go through. */
const FAILED = new Set(['FAILURE', 'DENY']);

/** The fields Herald reads from one System Log `LogEvent`. */
interface OktaEvent {
  readonly eventType: string;
  readonly displayMessage?: string;
  readonly severity?: string;
  readonly result?: string;
  readonly reason?: string;
  /** Who acted: `actor.alternateId` (the login name for a sign-in), else its display name. */
  readonly actor?: string;
  /** Whom it was done to: the first `User` target, for admin actions on an account. */
  readonly targetUser?: string;
  readonly ip?: string;
  readonly city?: string;
  readonly country?: string;
  readonly browser?: string;
  readonly os?: string;
}

/** What a LogEvent becomes: a title, how urgent, and the lines that lead the body. */
interface Presentation {
  readonly title: string;
  readonly deliveryType: DeliveryType;
  readonly lead: readonly string[];
}

const OKTA_REPLY: SourceReply = { status: 200, body: '' };

export const oktaParser: Parser = {
  name: 'okta',
  aliases: ['okta-event-hooks'],

  auth: {
    kind: 'header',
    // The hook's `authScheme` value, sent verbatim in `Authorization`.
    presentedSecret: authorizationSecret,
  },

  detect(request: WebhookRequest): boolean {
    try {
      if (header(request?.headers, CHALLENGE_HEADER) !== undefined) return true;
      const payload = readJsonObject(request.body);
      return payload?.eventType === EVENT_HOOK;
    } catch {
      return false;
    }
  },

  /** The one-time verification: echo the challenge as `{"verification": …}`, 200, JSON. */
  handshake(request: WebhookRequest & { readonly method: string }): SourceReply | undefined {
    try {
      if (typeof request.method !== 'string' || request.method.toUpperCase() !== 'GET') return undefined;
      const challenge = header(request?.headers, CHALLENGE_HEADER);
      if (challenge === undefined || challenge.length === 0) return undefined;
      return { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ verification: challenge }) };
    } catch {
      return undefined;
    }
  },

  // Okta ignores the body and asks for an empty one, whatever Herald did with the events.
  reply(): SourceReply {
    return OKTA_REPLY;
  },

  parse(request: WebhookRequest): ParseResult {
    return guardParse('okta', () => parseDelivery(request.body));
  },
};

function parseDelivery(body: unknown): ParseResult {
  const payload = readJsonObject(body);
  if (payload === undefined) {
    throw new HeraldError('invalid_body', 'okta: the body must be a JSON object (an event hook delivery)');
  }
  if (payload.eventType !== undefined && payload.eventType !== EVENT_HOOK) {
    throw new HeraldError('invalid_body', `okta: eventType must be ${EVENT_HOOK} (an event hook, not an inline hook)`);
  }
  const events = isObject(payload.data) ? payload.data.events : undefined;
  if (!Array.isArray(events)) {
    throw new HeraldError('invalid_body', `okta: expected {eventType: '${EVENT_HOOK}', data: {events: [LogEvent, …]}}`);
  }
  if (events.length === 0) return { kind: 'skip', reason: 'okta: the delivery holds no events' };
  const notifications: ParsedNotification[] = events.map((logEvent, index) => {
    if (!isObject(logEvent) || trimmedText(logEvent.eventType) === undefined) {
      throw new HeraldError('invalid_body', `okta: data.events[${index}] is not a LogEvent (no eventType)`);
    }
    return { content: buildNotification(readEvent(logEvent)), dedupeKey: dedupeKey(logEvent) };
  });
  return { kind: 'notifications', notifications };
}

function readEvent(logEvent: Record<string, unknown>): OktaEvent {
  const outcome = isObject(logEvent.outcome) ? logEvent.outcome : {};
  const actor = isObject(logEvent.actor) ? logEvent.actor : {};
  const client = isObject(logEvent.client) ? logEvent.client : {};
  const geo = isObject(client.geographicalContext) ? client.geographicalContext : {};
  const userAgent = isObject(client.userAgent) ? client.userAgent : {};
  const targets = Array.isArray(logEvent.target) ? logEvent.target.filter(isObject) : [];
  const targetUser = targets.find((target) => target.type === 'User');
  return {
    eventType: trimmedText(logEvent.eventType) as string,
    displayMessage: trimmedText(logEvent.displayMessage),
    severity: trimmedText(logEvent.severity)?.toUpperCase(),
    result: trimmedText(outcome.result)?.toUpperCase(),
    reason: trimmedText(outcome.reason),
    actor: trimmedText(actor.alternateId) ?? trimmedText(actor.displayName),
    targetUser: targetUser ? (trimmedText(targetUser.alternateId) ?? trimmedText(targetUser.displayName)) : undefined,
    ip: trimmedText(client.ipAddress),
    city: trimmedText(geo.city),
    country: trimmedText(geo.country),
    browser: trimmedText(userAgent.browser),
    os: trimmedText(userAgent.os),
  };
}

// ---- from a LogEvent to a notification ---------------------------------------------------------

function present(event: OktaEvent): Presentation {
  const { eventType } = event;
  const failed = event.result !== undefined && FAILED.has(event.result);
  const actor = event.actor ?? 'unknown user';
  // Admin actions on an account: the account is the subject, the admin is named in the body.
  const subject = event.targetUser ?? actor;
  const byLine = event.targetUser && event.actor && event.targetUser !== event.actor ? [`By: ${event.actor}`] : [];
  const lead = event.displayMessage ? [event.displayMessage] : [];

  if (eventType === 'user.session.start') {
    if (failed) return { title: `Sign-in failed: ${actor}`, deliveryType: 'CRITICAL', lead };
    if (event.result === 'SUCCESS' || event.result === 'ALLOW') return { title: `Sign-in: ${actor}`, deliveryType: 'NORMAL', lead };
    // CHALLENGE, SKIPPED, UNKNOWN or no outcome: neither a sign-in nor a failure yet.
    return { title: `Sign-in (${event.result ?? 'no outcome'}): ${actor}`, deliveryType: 'NORMAL', lead };
  }
  if (eventType === 'user.authentication.auth_via_mfa') {
    return failed
      ? { title: `MFA failed: ${actor}`, deliveryType: 'CRITICAL', lead }
      : { title: `MFA passed: ${actor}`, deliveryType: 'NORMAL', lead };
  }
  if (eventType === 'user.account.lock' || eventType.startsWith('user.account.lock.')) {
    return { title: `Account locked: ${subject}`, deliveryType: 'CRITICAL', lead: [...lead, ...byLine] };
  }
  if (eventType === 'security.threat.detected') {
    return { title: `Threat detected: ${event.ip ?? actor}`, deliveryType: 'CRITICAL', lead: [...lead, ...(event.ip ? [`User: ${actor}`] : [])] };
  }
  const named = NAMED_EVENTS[eventType] ?? lifecycleTitle(eventType);
  if (named) return { title: `${named}: ${subject}`, deliveryType: 'NORMAL', lead: [...lead, ...byLine] };
  // Any other subscribed event: Okta's own sentence is the title.
  const what = event.displayMessage ?? eventType;
  return {
    title: event.actor ? `${what}: ${event.actor}` : what,
    deliveryType: event.severity === 'ERROR' || failed ? 'CRITICAL' : 'NORMAL',
    lead: byLine,
  };
}

const NAMED_EVENTS: Readonly<Record<string, string>> = {
  'user.account.update_password': 'Password changed',
  'user.account.reset_password': 'Password reset',
  'user.account.unlock': 'Account unlocked',
  'user.mfa.factor.activate': 'MFA factor added',
  'user.mfa.factor.deactivate': 'MFA factor removed',
  'user.mfa.factor.reset_all': 'MFA factors reset',
};

const LIFECYCLE_TITLES: Readonly<Record<string, string>> = {
  create: 'User created',
  activate: 'User activated',
  reactivate: 'User reactivated',
  deactivate: 'User deactivated',
  suspend: 'User suspended',
  unsuspend: 'User unsuspended',
  'delete.initiated': 'User deletion started',
  'delete.completed': 'User deleted',
};

/** `user.lifecycle.<step>`: a known step by name, any other as `User lifecycle (<step>)`. */
function lifecycleTitle(eventType: string): string | undefined {
  const prefix = 'user.lifecycle.';
  if (!eventType.startsWith(prefix)) return undefined;
  const step = eventType.slice(prefix.length);
  return LIFECYCLE_TITLES[step] ?? `User lifecycle (${step || 'change'})`;
}

function buildNotification(event: OktaEvent): NotificationInput {
  const presentation = present(event);
  const lines = [...presentation.lead];
  if (event.reason) lines.push(`Reason: ${event.reason}`);
  if (event.ip) lines.push(`IP: ${event.ip}`);
  const place = [event.city, event.country].filter((part) => part !== undefined && !NO_VALUE.has(part.toLowerCase()));
  if (place.length > 0) lines.push(`Location: ${place.join(', ')}`);
  const browser = known(event.browser);
  const os = known(event.os);
  if (browser || os) lines.push(`Browser: ${[browser, os].filter(Boolean).join(' on ')}`);
  return notificationContent({
    title: presentation.title,
    body: joinLines(lines.map(oneLine)),
    deliveryType: presentation.deliveryType,
    tags: ['okta', oneLine(event.eventType)],
  });
}

/** `okta:<uuid>` per event; without a uuid, a hash of what identifies the event. */
function dedupeKey(logEvent: Record<string, unknown>): string {
  const uuid = trimmedText(logEvent.uuid);
  if (uuid) return idDedupeKey('okta', uuid, PLAIN_EVENT_ID);
  const transaction = isObject(logEvent.transaction) ? logEvent.transaction : {};
  const actor = isObject(logEvent.actor) ? logEvent.actor : {};
  const identity = [logEvent.eventType, logEvent.published, transaction.id, actor.id, logEvent.displayMessage].map((value) => trimmedText(value) ?? null);
  return `okta:${sha256(JSON.stringify(identity))}`;
}

// ---- small helpers -----------------------------------------------------------------------------

function known(value: string | undefined): string | undefined {
  return value !== undefined && !NO_VALUE.has(value.toLowerCase()) ? value : undefined;
}
