import { z } from 'zod';
import { HeraldError } from './errors';
import { uuidv7 } from './ids';

/**
 * The notification model: Zentik's message fields (peers.md §2.4), validated with zod. Every source
 * (native API, parsers) produces a `NotificationInput`; ingest stamps it into a `Notification`.
 */
export const DELIVERY_TYPES = ['SILENT', 'NORMAL', 'CRITICAL', 'NO_PUSH'] as const;
export type DeliveryType = (typeof DELIVERY_TYPES)[number];

export const ACTION_TYPES = [
  'NAVIGATE',
  'BACKGROUND_CALL',
  'MARK_AS_READ',
  'SNOOZE',
  'POSTPONE',
  'OPEN_NOTIFICATION',
  'WEBHOOK',
  'DELETE',
] as const;

export const LIMITS = {
  title: 256,
  subtitle: 256,
  body: 10_000,
  url: 2_048,
  actions: 10,
  tags: 20,
  tag: 64,
  groupId: 256,
  /** APNs rejects an `apns-collapse-id` longer than 64 bytes. */
  collapseId: 64,
  sound: 128,
} as const;

const httpUrl = z
  .string()
  .max(LIMITS.url)
  .refine((value) => /^https?:\/\/[^\s]+$/i.test(value), 'must be an http(s) URL');

/** Query strings and form bodies carry lists as CSV and objects as JSON text. */
const csvList = (item: z.ZodType<string>, max: number) =>
  z.preprocess(
    (value) =>
      typeof value === 'string'
        ? value
            .split(',')
            .map((part) => part.trim())
            .filter((part) => part.length > 0)
        : value,
    z.array(item).max(max),
  );

const jsonText = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => {
    if (typeof value !== 'string') return value;
    try {
      return JSON.parse(value);
    } catch {
      return value; // left for the schema to reject with a field-named message
    }
  }, schema);

export const actionSchema = z.strictObject({
  type: z.enum(ACTION_TYPES),
  value: z.string().max(LIMITS.url).optional(),
  title: z.string().max(64).optional(),
  destructive: z.boolean().optional(),
  icon: z.string().max(128).optional(),
});
export type NotificationAction = z.infer<typeof actionSchema>;

/** Case-insensitive enum: Zentik's clients send `CRITICAL`, humans type `critical`. */
const deliveryType = z.preprocess(
  (value) => (typeof value === 'string' ? value.trim().toUpperCase() : value),
  z.enum(DELIVERY_TYPES),
);

export const notificationInputSchema = z.strictObject({
  title: z.string().trim().min(1, 'is required').max(LIMITS.title),
  subtitle: z.string().max(LIMITS.subtitle).optional(),
  body: z.string().max(LIMITS.body).optional(),
  deliveryType: deliveryType.default('NORMAL'),
  actions: jsonText(z.array(actionSchema).max(LIMITS.actions)).optional(),
  tapUrl: httpUrl.optional(),
  imageUrl: httpUrl.optional(),
  sound: z.string().max(LIMITS.sound).optional(),
  groupId: z.string().max(LIMITS.groupId).optional(),
  collapseId: z.string().min(1).max(LIMITS.collapseId).optional(),
  tags: csvList(z.string().min(1).max(LIMITS.tag), LIMITS.tags).optional(),
});

export type NotificationInput = z.input<typeof notificationInputSchema>;
export type NotificationContent = z.output<typeof notificationInputSchema>;

/**
 * Zentik fields Herald accepts and ignores (for now), so a Zentik client's request still succeeds;
 * the response names them in `ignoredFields`.
 */
export const IGNORED_ZENTIK_FIELDS = [
  'attachments',
  'attachmentUuids',
  'videoUrl',
  'gifUrl',
  'tapAction',
  'addMarkAsReadAction',
  'addDeleteAction',
  'addOpenNotificationAction',
  'snoozes',
  'postpones',
  'locale',
  'ephemeral',
  'userIds',
  'remindEveryMinutes',
  'maxReminders',
  'executionId',
] as const;

/** A validated notification with Herald's identity, as queued for delivery and kept in history. */
export interface Notification extends NotificationContent {
  id: string;
  bucketId: string;
  /** The parser that produced it (`native` for the message API). */
  source: string;
  createdAt: string;
  /** When it was asked to be sent (`scheduledSendAt` or `delay`); absent for "now". */
  scheduledSendAt?: string;
}

/** zod's own message for a missing field is "Invalid input: expected string, received undefined". */
export const missingFieldIsRequired: z.core.$ZodErrorMap = (issue) =>
  issue.code === 'invalid_type' && issue.input === undefined ? 'is required' : undefined;

/** Validates content, naming the first bad field: `title: is required`. */
export function validateNotification(input: unknown): NotificationContent {
  const result = notificationInputSchema.safeParse(input, { error: missingFieldIsRequired });
  if (result.success) return result.data;
  throw new HeraldError('validation_failed', describeIssues(result.error.issues));
}

export function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .slice(0, 5)
    .map((issue) => {
      const path = issue.path.join('.') || '(body)';
      if (issue.code === 'unrecognized_keys') {
        return `${issue.keys.join(', ')}: unknown field${issue.keys.length > 1 ? 's' : ''}`;
      }
      return `${path}: ${issue.message}`;
    })
    .join('; ');
}

export function stampNotification(
  content: NotificationContent,
  bucketId: string,
  source: string,
  now: Date = new Date(),
): Notification {
  return { ...content, id: uuidv7(now), bucketId, source, createdAt: now.toISOString() };
}
