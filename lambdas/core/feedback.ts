/**
 * Delivery feedback: SNS's platform-application events (aws-notes.md §1.9) turned into device state.
 * A successful Publish is not a delivered push: APNs or FCM may refuse the message afterwards, and
 * SNS then reports it on the application's event topics, which reach Herald through the feedback
 * queue (lib/lifecycle.ts).
 *
 * The message formats, as SNS sends them (the SNS envelope's `Message`, or the SQS body itself with
 * raw message delivery):
 * - `DeliveryFailure` (AWS re:Post "sns push notification list of available failuretypes", and the
 *   same fields in a 2018 APNs example):
 *   `{"DeliveryAttempts":1,"EndpointArn":"arn:aws:sns:eu-central-1:…:endpoint/GCM/PushNotification/…",
 *   "EventType":"DeliveryFailure","FailureMessage":"Platform token associated with the endpoint is not valid",
 *   "FailureType":"InvalidPlatformToken","MessageId":"dd686e01-…","Resource":"arn:aws:sns:eu-central-1:…:app/GCM/PushNotification",
 *   "Service":"SNS","Time":"2022-02-21T12:25:22.787Z"}`.
 *   `MessageId` is the id Publish returned, which Herald keeps as the `sent` outcome's `detail`.
 * - `EndpointCreated`, `EndpointDeleted`, `EndpointUpdated`: AWS documents when they fire, not their
 *   bodies. Herald relies only on the fields they share with `DeliveryFailure` (`EventType`,
 *   `EndpointArn`, `Resource`, `Time`) and, for an update, reads `Attributes.Enabled` when present.
 *
 * Nothing else of a message is kept: endpoint attributes can hold the device token, which must
 * never reach a log, a metric or the table.
 */
import { disableDeviceOnEndpointEvent, deleteEndpointLookup, findDevicesByEndpoint, getDevice } from './store/devices';
import type { Store } from './store/table';

export const PLATFORM_EVENT_TYPES = ['DeliveryFailure', 'EndpointCreated', 'EndpointDeleted', 'EndpointUpdated'] as const;
export type PlatformEventType = (typeof PLATFORM_EVENT_TYPES)[number];

export interface PlatformEvent {
  readonly eventType: PlatformEventType;
  readonly endpointArn: string;
  /** The platform application (`Resource`). */
  readonly applicationArn?: string;
  /** When SNS saw it happen (`Time`). */
  readonly time?: Date;
  /** DeliveryFailure: why the provider refused the message (`InvalidPlatformToken`, …). */
  readonly failureType?: string;
  /** DeliveryFailure: the SNS MessageId of the failed publish. */
  readonly messageId?: string;
  readonly deliveryAttempts?: number;
  /** EndpointUpdated: the endpoint's `Enabled` attribute, when the event carries it. */
  readonly enabled?: boolean;
}

/** A message on the feedback queue that is not a platform-application event Herald understands. */
export class PlatformEventFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PlatformEventFormatError';
  }
}

/** `arn:<partition>:sns:<region>:<account>:endpoint/<PLATFORM>/<application name>/<endpoint id>` */
const ENDPOINT_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:endpoint\/[A-Z_]+\/[A-Za-z0-9_.-]+\/[A-Za-z0-9-]+$/;
const APPLICATION_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:app\/[A-Z_]+\/[A-Za-z0-9_.-]+$/;

/**
 * Parses one feedback-queue message body: the event JSON itself (raw message delivery), or the SNS
 * notification envelope around it. Throws `PlatformEventFormatError` naming what is wrong (never
 * quoting the message, which may hold a token).
 */
export function parsePlatformEvent(body: string): PlatformEvent {
  let parsed = parseObject(body, 'message body');
  if (parsed.Type === 'Notification' && typeof parsed.Message === 'string') parsed = parseObject(parsed.Message, 'SNS Message');
  const { EventType: eventType, EndpointArn: endpointArn } = parsed;
  if (typeof eventType !== 'string' || !(PLATFORM_EVENT_TYPES as readonly string[]).includes(eventType)) {
    throw new PlatformEventFormatError(`EventType must be one of ${PLATFORM_EVENT_TYPES.join(', ')} (given ${describe(eventType)})`);
  }
  if (typeof endpointArn !== 'string' || !ENDPOINT_ARN.test(endpointArn)) {
    throw new PlatformEventFormatError(`EndpointArn must be an SNS platform endpoint ARN (${describe(endpointArn)} given)`);
  }
  const event: { -readonly [K in keyof PlatformEvent]: PlatformEvent[K] } = { eventType: eventType as PlatformEventType, endpointArn };
  if (typeof parsed.Resource === 'string' && APPLICATION_ARN.test(parsed.Resource)) event.applicationArn = parsed.Resource;
  if (typeof parsed.Time === 'string' && !Number.isNaN(Date.parse(parsed.Time))) event.time = new Date(parsed.Time);
  if (eventType === 'DeliveryFailure') {
    if (typeof parsed.FailureType !== 'string' || !/^[A-Za-z]{1,64}$/.test(parsed.FailureType)) {
      throw new PlatformEventFormatError(`FailureType must be a failure name such as InvalidPlatformToken (${describe(parsed.FailureType)} given)`);
    }
    event.failureType = parsed.FailureType;
    if (typeof parsed.MessageId === 'string' && /^[A-Za-z0-9-]{1,100}$/.test(parsed.MessageId)) event.messageId = parsed.MessageId;
    if (typeof parsed.DeliveryAttempts === 'number' && Number.isInteger(parsed.DeliveryAttempts)) event.deliveryAttempts = parsed.DeliveryAttempts;
  }
  if (eventType === 'EndpointUpdated') {
    const attributes = parsed.Attributes;
    const enabled = attributes && typeof attributes === 'object' ? (attributes as Record<string, unknown>).Enabled : undefined;
    if (enabled === 'true' || enabled === true) event.enabled = true;
    if (enabled === 'false' || enabled === false) event.enabled = false;
  }
  return event;
}

function parseObject(text: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // JSON.parse quotes the input in its message, so it is not passed on.
    throw new PlatformEventFormatError(`${what} is not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new PlatformEventFormatError(`${what} is not a JSON object`);
  return value as Record<string, unknown>;
}

/** A value's kind, for error messages that must not echo it. */
function describe(value: unknown): string {
  if (typeof value === 'string') return `a string of ${value.length} characters`;
  return value === null ? 'null' : typeof value;
}

/**
 * Delivery-failure types that mean the device token is dead: the device is disabled, as when
 * Publish itself fails with EndpointDisabled (aws-notes.md §1.6), until the app registers again.
 */
const DEAD_TOKEN_FAILURES = new Set(['InvalidPlatformToken', 'EndpointDisabled']);
/** The endpoint is gone (deleted outside Herald): the device can never be reached through it again. */
const ENDPOINT_GONE_FAILURES = new Set(['EndpointNotFound']);
export const ENDPOINT_DELETED_REASON = 'endpoint deleted';

/** What an event means for the devices using its endpoint: disable them (with the reason), or nothing. */
export function disableReasonFor(event: PlatformEvent): string | undefined {
  switch (event.eventType) {
    case 'DeliveryFailure':
      if (DEAD_TOKEN_FAILURES.has(event.failureType!)) return event.failureType;
      if (ENDPOINT_GONE_FAILURES.has(event.failureType!)) return ENDPOINT_DELETED_REASON;
      return undefined;
    case 'EndpointDeleted':
      return ENDPOINT_DELETED_REASON;
    case 'EndpointUpdated':
      // SNS disables an endpoint when the provider reports its token invalid (aws-notes.md §1.5).
      return event.enabled === false ? 'EndpointDisabled' : undefined;
    case 'EndpointCreated':
      return undefined;
  }
}

/**
 * The failure type as a metric dimension: a failure name Herald knows, `Other`, or `None` for
 * events that are no failure. Kept to a fixed set, since every dimension value is a billed metric.
 */
export function failureTypeDimension(event: PlatformEvent): string {
  if (event.failureType === undefined) return 'None';
  return DEAD_TOKEN_FAILURES.has(event.failureType) || ENDPOINT_GONE_FAILURES.has(event.failureType) || event.failureType === 'PlatformApplicationDisabled'
    ? event.failureType
    : 'Other';
}

export interface FeedbackDeps {
  readonly store: Store;
  readonly now?: () => Date;
}

export interface FeedbackResult {
  /** Devices whose stored endpoint is the event's endpoint. */
  readonly devicesMatched: number;
  /** Of those, the devices this event disabled (already disabled, or changed since, are left alone). */
  readonly devicesDisabled: number;
  /** Endpoint lookups found stale (device deleted, or now on another endpoint) and removed. */
  readonly staleLookups: number;
}

/**
 * Applies one event to the devices using its endpoint, found through the endpoint lookup items
 * (lambdas/core/store/devices.ts). Idempotent, so a redelivered event changes nothing more.
 *
 * Delivery failures are not added to the notification's history: the event names the SNS message
 * id, and finding the notification from it would need one more index item per publish. They are
 * counted in metrics, and a dead token disables its device.
 */
export async function applyPlatformEvent(deps: FeedbackDeps, event: PlatformEvent): Promise<FeedbackResult> {
  const now = deps.now?.() ?? new Date();
  const reason = disableReasonFor(event);
  let devicesMatched = 0;
  let devicesDisabled = 0;
  let staleLookups = 0;
  for (const { bucketId, deviceId } of await findDevicesByEndpoint(deps.store, event.endpointArn)) {
    const device = await getDevice(deps.store, bucketId, deviceId);
    if (!device || device.endpointArn !== event.endpointArn) {
      await deleteEndpointLookup(deps.store, event.endpointArn, bucketId, deviceId);
      staleLookups += 1;
      continue;
    }
    devicesMatched += 1;
    if (reason && (await disableDeviceOnEndpointEvent(deps.store, device, event.endpointArn, reason, event.time ?? now, now))) devicesDisabled += 1;
  }
  return { devicesMatched, devicesDisabled, staleLookups };
}
