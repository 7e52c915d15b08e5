import { decodeFields, type HttpRequest } from './http';
import { IGNORED_ZENTIK_FIELDS, type NotificationInput } from './notification';
import type { ParsedNotification } from './parsers/types';

/** Query parameters that address or authenticate the request rather than describe the message. */
const REQUEST_PARAMS = new Set(['token', 'access_token', 'magicCode', 'bucketId', 'parser']);
const IGNORED = new Set<string>(IGNORED_ZENTIK_FIELDS);

export interface NativeMessage {
  readonly parsed: ParsedNotification;
  /** Zentik fields accepted but not (yet) supported, named in the response. */
  readonly ignoredFields: string[];
  /** `bucketId` / `magicCode` given in the body (Zentik accepts them there too). */
  readonly address: { bucketId?: string; magicCode?: string };
}

/**
 * Herald's own message API (Zentik's `POST|GET /message`): fields from a JSON or form body, then
 * the query string on top, as Zentik merges them. Validation happens once, in `acceptNotifications`.
 * Dedupe only on an explicit `Idempotency-Key`.
 */
export function readNativeMessage(request: HttpRequest): NativeMessage {
  const fields: Record<string, unknown> = { ...(request.method === 'GET' ? {} : decodeFields(request)) };
  for (const [name, value] of Object.entries(request.query)) {
    if (!REQUEST_PARAMS.has(name)) fields[name] = value;
  }
  const ignoredFields: string[] = [];
  const address = {
    bucketId: typeof fields.bucketId === 'string' ? fields.bucketId : undefined,
    magicCode: typeof fields.magicCode === 'string' ? fields.magicCode : undefined,
  };
  for (const name of Object.keys(fields)) {
    if (IGNORED.has(name) || REQUEST_PARAMS.has(name)) {
      if (IGNORED.has(name)) ignoredFields.push(name);
      delete fields[name];
    }
  }
  // When to send is not part of the notification's content: ingest resolves it against its clock.
  const { scheduledSendAt, delay, ...content } = fields;
  const timing = scheduledSendAt !== undefined || delay !== undefined ? { timing: { scheduledSendAt, delay } } : {};
  return {
    parsed: { content: content as NotificationInput, dedupeKey: idempotencyDedupeKey(request), ...timing },
    ignoredFields,
    address,
  };
}

/** An explicit `Idempotency-Key` header as a dedupe key: a retried request is queued once in 24 h. */
export function idempotencyDedupeKey(request: HttpRequest): string | undefined {
  const idempotencyKey = request.headers['idempotency-key']?.trim();
  return idempotencyKey ? `idempotency:${idempotencyKey.slice(0, 200)}` : undefined;
}
