import type { NotificationInput } from '../notification';

/** What a parser sees of an HTTP request: the raw body bytes and lower-cased header names. */
export interface WebhookRequest {
  readonly body: Buffer;
  /** Header names lower-cased (API Gateway HTTP API delivers them so). */
  readonly headers: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string>>;
}

export interface ParsedNotification {
  /** Validated by ingest with `validateNotification`, so a parser may leave fields out. */
  readonly content: NotificationInput;
  /**
   * Replay protection: the source's event id, or a hash of what makes the event unique. Ingest
   * queues a notification at most once per (bucket, dedupeKey) within 24 h. Omit for no dedupe.
   */
  readonly dedupeKey?: string;
}

export type ParseResult =
  | { readonly kind: 'notifications'; readonly notifications: readonly ParsedNotification[] }
  /** The payload is valid but carries nothing to push (answered 204, as Zentik does). */
  | { readonly kind: 'skip'; readonly reason: string };

export interface Parser {
  /** Canonical name, used in metrics and `source` of the notification. */
  readonly name: string;
  /** Names accepted by `?parser=`, compared case-insensitively (Zentik's `ZENTIK_*` included). */
  readonly aliases: readonly string[];
  /** True when the request looks like this source's, for auto-detection without `?parser=`. */
  detect(request: WebhookRequest): boolean;
  /** Throws `HeraldError('invalid_body', …)` when the body is not this source's format. */
  parse(request: WebhookRequest): ParseResult;
}
