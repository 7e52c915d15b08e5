import { z } from 'zod';
import { ACTION_TYPES, DELIVERY_TYPES } from '../notification';
import { isTimeZone, MAX_QUIET_WINDOWS, WALL_TIME, WEEKDAYS } from '../quiet-hours';
import { TOKEN_SCOPES } from '../store/credentials';
import { TEMPLATE_LIMITS } from '../templates/render';

/**
 * The management API's contract: the zod schemas its handlers validate with and the route table
 * the OpenAPI document is generated from (one source of truth). Admin routes are authorized by
 * AWS IAM (SigV4) at API Gateway; the device and read routes by a bucket token's scope.
 */

const isoTime = z.string().datetime({ offset: true });
const sourceName = z.string().min(1).max(64);

const timeZone = z.string().refine(isTimeZone, 'must be an IANA time zone name such as "Europe/Berlin" (fixed offsets do not follow daylight-saving time)');
const wallTime = z.string().regex(WALL_TIME, 'must be a wall-clock time HH:MM, 00:00–23:59');

/** A weekly quiet window in the bucket's time zone; an `end` at or before `start` ends the next day. */
export const quietWindowSchema = z.strictObject({
  days: z.array(z.enum(WEEKDAYS)).min(1).max(7),
  start: wallTime,
  end: wallTime,
});

export const bucketSchema = z.object({
  id: z.string(),
  name: z.string(),
  displayName: z.string().optional(),
  icon: z.string().optional(),
  routineSources: z.array(z.string()).optional(),
  /** IANA time zone of `quietHours` (UTC when absent). */
  timeZone: z.string().optional(),
  /** Weekly windows in which NORMAL notifications arrive passive (no sound, no banner); CRITICAL still alerts. */
  quietHours: z.array(quietWindowSchema).optional(),
  /** Until this instant NORMAL notifications arrive passive. */
  snoozeUntil: isoTime.optional(),
  createdAt: isoTime,
  updatedAt: isoTime.optional(),
});

export const createBucketRequest = z.strictObject({
  name: z.string().min(1).max(64),
  displayName: z.string().max(128).optional(),
  icon: z.string().max(2048).optional(),
  routineSources: z.array(sourceName).max(32).optional(),
});

export const updateBucketRequest = z.strictObject({
  /** A new name: `?bucketId=<old name>` and ntfy topic URLs stop working, ids keep working. */
  name: z.string().min(1).max(64).optional(),
  displayName: z.string().max(128).nullable().optional(),
  icon: z.string().max(2048).nullable().optional(),
  routineSources: z.array(sourceName).max(32).optional(),
  /** IANA time zone the quiet hours are in; null clears it (UTC). */
  timeZone: timeZone.nullable().optional(),
  /** Replaces the weekly quiet windows; null or [] clears them. */
  quietHours: z.array(quietWindowSchema).max(MAX_QUIET_WINDOWS).nullable().optional(),
  /** NORMAL notifications arrive passive until then; null ends the snooze. */
  snoozeUntil: isoTime.nullable().optional(),
});

export const createdBucketResponse = z.object({
  bucket: bucketSchema,
  /** Shown once. */
  token: z.string(),
  /** Shown once. */
  magicCode: z.string(),
});

export const credentialSchema = z.object({
  id: z.string(),
  kind: z.enum(['token', 'magicCode']),
  name: z.string().optional(),
  scopes: z.array(z.enum(TOKEN_SCOPES)),
  createdAt: isoTime,
  validUntil: isoTime.optional(),
  revokedAt: isoTime.optional(),
});

export const createTokenRequest = z.strictObject({
  name: z.string().min(1).max(64),
  /** When the token stops working. */
  expiresAt: isoTime.optional(),
  /** @default every scope */
  scopes: z.array(z.enum(TOKEN_SCOPES)).min(1).optional(),
});

export const createMagicCodeRequest = z.strictObject({ name: z.string().min(1).max(64).optional() });

export const createdCredentialResponse = z.object({
  credential: credentialSchema,
  /** The token or magic code itself, shown once; only its hash is stored. */
  secret: z.string(),
});

export const setSourceSecretRequest = z.strictObject({ secret: z.string().min(8).max(4096) });

export const deviceSchema = z.object({
  id: z.string(),
  platform: z.enum(['ios', 'android']),
  environment: z.enum(['production', 'sandbox']).optional(),
  name: z.string().optional(),
  enabled: z.boolean(),
  disabledReason: z.string().optional(),
  createdAt: isoTime,
  updatedAt: isoTime,
});

export const refreshDeviceRequest = z.strictObject({ token: z.string().trim().min(8).max(4096) });

export const notificationSchema = z.object({
  id: z.string(),
  bucketId: z.string(),
  source: z.string(),
  createdAt: isoTime,
  title: z.string(),
  subtitle: z.string().optional(),
  body: z.string().optional(),
  deliveryType: z.enum(DELIVERY_TYPES),
  actions: z.array(z.object({ type: z.enum(ACTION_TYPES), value: z.string().optional(), title: z.string().optional() })).optional(),
  tapUrl: z.string().optional(),
  imageUrl: z.string().optional(),
  sound: z.string().optional(),
  groupId: z.string().optional(),
  collapseId: z.string().optional(),
  tags: z.array(z.string()).optional(),
  /** When it was asked to be sent (`scheduledSendAt` or `delay`). */
  scheduledSendAt: isoTime.optional(),
});

export const outcomeSchema = z.object({
  deviceId: z.string(),
  platform: z.string(),
  status: z.enum(['sent', 'endpoint_disabled', 'failed', 'platform_not_configured']),
  detail: z.string().optional(),
  at: isoTime,
});

export const historyEntrySchema = z.object({
  notification: notificationSchema,
  deliveredAt: isoTime,
  /** Final outcomes counted by status. */
  outcomes: z.record(z.string(), z.number()),
  /** When it was cleared from the devices (DELETE /notifications/{id}). */
  clearedAt: isoTime.optional(),
  /** How it was shown: `passive` (no sound, no banner) in quiet hours or while snoozed; NORMAL only. */
  deliveredAs: z.enum(['alert', 'passive', 'silent']).optional(),
  quietReason: z.enum(['quiet_hours', 'snoozed']).optional(),
});

export const clearedNotificationResponse = z.object({
  id: z.string(),
  cleared: z.literal(true),
  /** When it was first cleared: a repeated DELETE gets the same answer and sends nothing. */
  clearedAt: isoTime,
  /** Not delivered yet: it will not be pushed, or will be cleared as soon as it is. */
  pending: z.literal(true).optional(),
});

export const scheduledNotificationSchema = z.object({
  notification: notificationSchema,
  /** When it is sent. */
  dueAt: isoTime,
  status: z.enum(['pending', 'sent', 'cancelled']),
  /** SQS holds it (due within 15 minutes of being sent) or an EventBridge Scheduler schedule does. */
  mechanism: z.enum(['sqs-delay', 'scheduler']),
  scheduleName: z.string().optional(),
});

export const cancelledNotificationResponse = z.object({
  id: z.string(),
  cancelled: z.literal(true),
  /** When it was first cancelled: a repeated cancel gets the same answer. */
  cancelledAt: isoTime,
  /** When it would have been sent. */
  scheduledSendAt: isoTime,
});

/** DELETE /notifications/{id}: cleared, or (a scheduled one not sent yet) cancelled. */
export const clearOrCancelResponse = z.union([clearedNotificationResponse, cancelledNotificationResponse]);

export const notificationDetailSchema = historyEntrySchema.extend({ devices: z.array(outcomeSchema) });

export const deadLetterSchema = z.object({
  messageId: z.string(),
  notificationId: z.string().optional(),
  bucketId: z.string().optional(),
  title: z.string().optional(),
  /** A continuation page of a large bucket's delivery. */
  page: z.boolean().optional(),
  /** The clear of the notification (DELETE /notifications/{id}), not the notification itself. */
  clear: z.boolean().optional(),
  /** SQS's ApproximateReceiveCount: the notification queue's receives, plus looks at the dead-letter queue. */
  receiveCount: z.number().int(),
  firstReceivedAt: isoTime.optional(),
  sentAt: isoTime,
  /** Why its last delivery attempt failed, or why it cannot be delivered. */
  reason: z.string().optional(),
  /** Failed delivery attempts recorded for the notification. */
  attempts: z.number().int().optional(),
  lastFailedAt: isoTime.optional(),
  /** The start of the body, only for a message that is not a Herald delivery job. */
  body: z.string().optional(),
});

export const deadLettersQuery = z.strictObject({ limit: z.coerce.number().int().min(1).max(100).optional() });

export const deadLettersResponse = z.object({
  deadLetters: z.array(deadLetterSchema),
  /** Messages in the dead-letter queue, as SQS counts them. */
  approximateCount: z.number().int(),
});

export const redriveTaskSchema = z.object({
  /** Only while the task runs. */
  taskHandle: z.string().optional(),
  status: z.enum(['RUNNING', 'COMPLETED', 'CANCELLING', 'CANCELLED', 'FAILED']),
  startedAt: isoTime,
  messagesMoved: z.number().int(),
  messagesToMove: z.number().int().optional(),
  failureReason: z.string().optional(),
});

export const startedRedriveResponse = z.object({
  taskHandle: z.string(),
  /** A redrive was already running (SQS runs one per queue at a time): this is its handle. */
  alreadyRunning: z.boolean(),
});

const expression = (what: string) => z.string().min(1).max(TEMPLATE_LIMITS.sourceBytes).meta({ description: `JSONata expression for ${what}` });

/** One JSONata expression per notification field, evaluated against the payload (docs/templates.md). */
export const templateFieldsSchema = z.strictObject({
  title: expression('the title (required)'),
  subtitle: expression('the subtitle').optional(),
  body: expression('the body').optional(),
  deliveryType: expression('the delivery type: SILENT, NORMAL, CRITICAL or NO_PUSH').optional(),
  tapUrl: expression('the URL opened on tap').optional(),
  imageUrl: expression('the image URL').optional(),
  tags: expression('the tags: a list of strings, or comma-separated text').optional(),
  groupId: expression('the group id').optional(),
  collapseId: expression('the collapse id (a later notification with the same id replaces the earlier one)').optional(),
});

export const templateSchema = z.object({
  name: z.string(),
  description: z.string().optional(),
  fields: templateFieldsSchema,
  createdAt: isoTime,
  updatedAt: isoTime,
});

export const putTemplateRequest = z.strictObject({
  description: z.string().max(256).optional(),
  fields: templateFieldsSchema,
});

export const testTemplateRequest = z.strictObject({
  /** The sample payload, as a webhook would send it (any JSON). */
  payload: z.unknown().meta({ description: 'the sample payload, as a webhook would send it (any JSON)' }),
});

export const renderedPayloadSchema = z.object({
  key: z.string(),
  payload: z.unknown(),
  attributes: z.record(z.string(), z.string()),
  truncated: z.boolean(),
});

export const testTemplateResponse = z.object({
  notification: notificationSchema,
  /** Absent for a NO_PUSH notification. */
  apns: renderedPayloadSchema.optional(),
  fcm: renderedPayloadSchema.optional(),
});

export const errorSchema = z.object({ error: z.string(), message: z.string() });

export const listQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).optional(),
  cursor: z.string().max(2048).optional(),
});

export type Authorization = 'iam' | { scope: 'devices' | 'read' | 'send' } | 'none';

export interface RouteSpec {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path template with `{param}` segments. */
  readonly path: string;
  readonly operationId: string;
  readonly summary: string;
  readonly authorization: Authorization;
  readonly body?: z.ZodType;
  readonly query?: z.ZodType;
  readonly status: number;
  /** Absent for responses without a body (204). */
  readonly response?: z.ZodType;
}

const list = <T extends z.ZodType>(key: string, item: T) => z.object({ [key]: z.array(item), cursor: z.string().optional() });

export const MANAGEMENT_ROUTES: readonly RouteSpec[] = [
  { method: 'POST', path: '/admin/buckets', operationId: 'createBucket', summary: 'Create a bucket; its first token and a magic code are returned once', authorization: 'iam', body: createBucketRequest, status: 201, response: createdBucketResponse },
  { method: 'GET', path: '/admin/buckets', operationId: 'listBuckets', summary: 'List buckets', authorization: 'iam', status: 200, response: list('buckets', bucketSchema) },
  { method: 'GET', path: '/admin/buckets/{bucket}', operationId: 'getBucket', summary: 'Get a bucket by id or name', authorization: 'iam', status: 200, response: z.object({ bucket: bucketSchema }) },
  { method: 'PATCH', path: '/admin/buckets/{bucket}', operationId: 'updateBucket', summary: "Update a bucket's settings", authorization: 'iam', body: updateBucketRequest, status: 200, response: z.object({ bucket: bucketSchema }) },
  { method: 'DELETE', path: '/admin/buckets/{bucket}', operationId: 'deleteBucket', summary: 'Delete a bucket with its devices (and their SNS endpoints), credentials, secrets and history', authorization: 'iam', status: 204 },
  { method: 'POST', path: '/admin/buckets/{bucket}/tokens', operationId: 'createToken', summary: 'Create an access token (shown once)', authorization: 'iam', body: createTokenRequest, status: 201, response: createdCredentialResponse },
  { method: 'GET', path: '/admin/buckets/{bucket}/tokens', operationId: 'listTokens', summary: "List a bucket's tokens (never their secrets)", authorization: 'iam', status: 200, response: list('tokens', credentialSchema) },
  { method: 'DELETE', path: '/admin/buckets/{bucket}/tokens/{credentialId}', operationId: 'revokeToken', summary: 'Revoke a token: the next request with it gets 401 token_revoked', authorization: 'iam', status: 204 },
  { method: 'POST', path: '/admin/buckets/{bucket}/magic-codes', operationId: 'createMagicCode', summary: 'Create a magic code (shown once)', authorization: 'iam', body: createMagicCodeRequest, status: 201, response: createdCredentialResponse },
  { method: 'GET', path: '/admin/buckets/{bucket}/magic-codes', operationId: 'listMagicCodes', summary: "List a bucket's magic codes", authorization: 'iam', status: 200, response: list('magicCodes', credentialSchema) },
  { method: 'POST', path: '/admin/buckets/{bucket}/magic-codes/{credentialId}/rotate', operationId: 'rotateMagicCode', summary: 'Replace a magic code with a new one; the old one stops working', authorization: 'iam', status: 201, response: createdCredentialResponse },
  { method: 'DELETE', path: '/admin/buckets/{bucket}/magic-codes/{credentialId}', operationId: 'revokeMagicCode', summary: 'Revoke a magic code', authorization: 'iam', status: 204 },
  { method: 'PUT', path: '/admin/buckets/{bucket}/sources/{source}/secret', operationId: 'setSourceSecret', summary: "Set a source's signing key or secret header value for the bucket", authorization: 'iam', body: setSourceSecretRequest, status: 204 },
  { method: 'DELETE', path: '/admin/buckets/{bucket}/sources/{source}/secret', operationId: 'removeSourceSecret', summary: "Remove a source's secret", authorization: 'iam', status: 204 },
  { method: 'GET', path: '/admin/buckets/{bucket}/devices', operationId: 'listDevices', summary: "List a bucket's devices", authorization: 'iam', query: listQuery, status: 200, response: list('devices', deviceSchema) },
  { method: 'POST', path: '/admin/buckets/{bucket}/devices/{deviceId}/disable', operationId: 'disableDevice', summary: 'Stop pushing to a device', authorization: 'iam', status: 200, response: z.object({ device: deviceSchema }) },
  { method: 'DELETE', path: '/admin/buckets/{bucket}/devices/{deviceId}', operationId: 'deleteDevice', summary: 'Delete a device and its SNS endpoint', authorization: 'iam', status: 204 },
  { method: 'GET', path: '/admin/buckets/{bucket}/notifications', operationId: 'listNotifications', summary: "A bucket's recent notifications, newest first", authorization: 'iam', query: listQuery, status: 200, response: list('notifications', historyEntrySchema) },
  { method: 'GET', path: '/admin/buckets/{bucket}/notifications/{notificationId}', operationId: 'getNotification', summary: 'A notification with its per-device outcomes', authorization: 'iam', status: 200, response: notificationDetailSchema },
  { method: 'GET', path: '/admin/buckets/{bucket}/scheduled', operationId: 'listScheduled', summary: "A bucket's scheduled notifications not sent yet, soonest first", authorization: 'iam', status: 200, response: z.object({ scheduled: z.array(scheduledNotificationSchema) }) },
  { method: 'DELETE', path: '/admin/buckets/{bucket}/scheduled/{notificationId}', operationId: 'cancelScheduled', summary: 'Cancel a scheduled notification before it is due (404 notification_not_found if it was never scheduled, 409 notification_already_sent once sent)', authorization: 'iam', status: 200, response: cancelledNotificationResponse },
  { method: 'GET', path: '/admin/buckets/{bucket}/templates', operationId: 'listTemplates', summary: "List a bucket's templates", authorization: 'iam', status: 200, response: z.object({ templates: z.array(templateSchema) }) },
  { method: 'GET', path: '/admin/buckets/{bucket}/templates/{template}', operationId: 'getTemplate', summary: 'Get a template', authorization: 'iam', status: 200, response: z.object({ template: templateSchema }) },
  { method: 'PUT', path: '/admin/buckets/{bucket}/templates/{template}', operationId: 'putTemplate', summary: 'Create or replace a template; its JSONata is parsed now (400 invalid_template)', authorization: 'iam', body: putTemplateRequest, status: 200, response: z.object({ template: templateSchema }) },
  { method: 'DELETE', path: '/admin/buckets/{bucket}/templates/{template}', operationId: 'deleteTemplate', summary: 'Delete a template', authorization: 'iam', status: 204 },
  { method: 'POST', path: '/admin/buckets/{bucket}/templates/{template}/test', operationId: 'testTemplate', summary: 'Render a sample payload with a template, without sending: the notification and its APNs and FCM payloads', authorization: 'iam', body: testTemplateRequest, status: 200, response: testTemplateResponse },
  { method: 'GET', path: '/admin/dead-letters', operationId: 'listDeadLetters', summary: "The notification queue's dead letters, with why each failed; read without removing them", authorization: 'iam', query: deadLettersQuery, status: 200, response: deadLettersResponse },
  { method: 'POST', path: '/admin/dead-letters/redrive', operationId: 'redriveDeadLetters', summary: 'Start moving the dead letters back to the notification queue (an SQS message move task); each device still gets a notification at most once', authorization: 'iam', status: 202, response: startedRedriveResponse },
  { method: 'GET', path: '/admin/dead-letters/redrive', operationId: 'getRedriveStatus', summary: 'The most recent redrives, newest first', authorization: 'iam', status: 200, response: z.object({ tasks: z.array(redriveTaskSchema) }) },
  { method: 'PUT', path: '/devices/{deviceId}/token', operationId: 'refreshDeviceToken', summary: "Replace a device's rotated APNs/FCM token; re-enables its endpoint", authorization: { scope: 'devices' }, body: refreshDeviceRequest, status: 200, response: z.object({ device: deviceSchema }) },
  { method: 'DELETE', path: '/devices/{deviceId}', operationId: 'unregisterDevice', summary: 'Unregister a device (deletes its SNS endpoint)', authorization: { scope: 'devices' }, status: 204 },
  { method: 'GET', path: '/notifications', operationId: 'listOwnNotifications', summary: "The token's bucket's recent notifications", authorization: { scope: 'read' }, query: listQuery, status: 200, response: list('notifications', historyEntrySchema) },
  { method: 'GET', path: '/notifications/{notificationId}', operationId: 'getOwnNotification', summary: 'One notification of the token\'s bucket with its per-device outcomes', authorization: { scope: 'read' }, status: 200, response: notificationDetailSchema },
  { method: 'DELETE', path: '/notifications/{notificationId}', operationId: 'clearNotification', summary: "Clear a notification of the token's bucket: every device gets a silent push that lets the app remove it, and history marks it cleared (also with ?magicCode=; unknown ids and other buckets' are 404 notification_not_found). A scheduled notification not sent yet is cancelled instead (answered `cancelled`)", authorization: { scope: 'send' }, status: 202, response: clearOrCancelResponse },
  { method: 'DELETE', path: '/api/v1/messages/{notificationId}', operationId: 'clearMessage', summary: "Zentik's path for clearNotification", authorization: { scope: 'send' }, status: 202, response: clearOrCancelResponse },
];
