import { constantTimeEqual, hashSecret } from './auth/secrets';
import { HeraldError } from './errors';
import { stampNotification, validateNotification, type Notification } from './notification';
import { detectParser, findParser } from './parsers/registry';
import type { SourceReply, WebhookRequest } from './parsers/types';
import { buildApnsPayload } from './push/apns';
import { buildFcmPayload } from './push/fcm';
import type { PlatformPayload } from './push/types';

export interface RenderInput {
  /** Parser name or alias; auto-detected when absent, as ingest does. */
  readonly parser?: string;
  readonly request: WebhookRequest;
  /** The source's signing key or secret header value; verified like ingest does when given. */
  readonly secret?: string;
  /** The time to verify a timestamped signature at (replaying a recorded delivery). */
  readonly now?: Date;
}

export interface RenderedPayload {
  readonly key: string;
  readonly payload: unknown;
  readonly attributes: Record<string, string>;
  readonly truncated: boolean;
}

export interface Rendered {
  readonly parser: string;
  /** `routine: true` marks routine events, pushed only to buckets that opted in to them. */
  readonly notifications: (Notification & { routine?: true })[];
  readonly apns: RenderedPayload[];
  readonly fcm: RenderedPayload[];
  readonly skipped?: string;
  /** The reply the source would get, when it expects a particular one. */
  readonly reply?: SourceReply;
}

/**
 * What Herald would do with a webhook, without a bucket or AWS: the same parser, verification,
 * validation and payload builders as the ingest and delivery Lambdas (`herald render`).
 */
export function renderWebhook(input: RenderInput): Rendered {
  const now = input.now ?? new Date();
  const parser = input.parser ? findParser(input.parser) : detectParser(input.request);
  if (input.secret !== undefined) {
    if (!parser.auth) throw new HeraldError('validation_failed', `secret: ${parser.name} does not sign its requests`);
    if (parser.auth.kind === 'signature') parser.auth.verify(input.request, input.secret, now);
    else {
      const presented = parser.auth.presentedSecret(input.request);
      if (!presented || !constantTimeEqual(hashSecret(presented), hashSecret(input.secret))) {
        throw new HeraldError('invalid_signature', `the ${parser.name} secret header is missing or does not match`);
      }
    }
  }
  let result;
  try {
    result = parser.parse(input.request);
  } catch (error) {
    if (error instanceof HeraldError) throw error;
    throw new HeraldError('invalid_body', `the ${parser.name} parser could not read this body`);
  }
  const notifications =
    result.kind === 'skip'
      ? []
      : result.notifications.map((item) => ({
          ...stampNotification(validateNotification(item.content), 'render', parser.name, now),
          ...(item.routine ? { routine: true as const } : {}),
        }));
  const reply = parser.reply?.({ request: input.request, result, notificationIds: notifications.map((n) => n.id) });
  const pushable = notifications.filter((notification) => notification.deliveryType !== 'NO_PUSH');
  return {
    parser: parser.name,
    notifications,
    apns: pushable.map((notification) => renderedPayload(buildApnsPayload(notification, 'production'))),
    fcm: pushable.map((notification) => renderedPayload(buildFcmPayload(notification))),
    ...(result.kind === 'skip' ? { skipped: result.reason } : {}),
    ...(reply ? { reply } : {}),
  };
}

/** A platform payload as `herald render` and the template test show it: parsed JSON, plain attributes. */
export function renderedPayload(payload: PlatformPayload): RenderedPayload {
  return {
    key: payload.key,
    payload: JSON.parse(payload.payload),
    attributes: Object.fromEntries(Object.entries(payload.attributes).map(([name, value]) => [name, value.StringValue])),
    truncated: payload.truncated,
  };
}
