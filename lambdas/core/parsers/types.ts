import type { NotificationInput } from '../notification';
import type { RequestedTiming } from '../schedule/when';

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
  /**
   * Routine noise (token refreshes, sign-outs, successful health checks): queued only for buckets
   * that opted in to this source's routine events, dropped for the others.
   */
  readonly routine?: boolean;
  /** `scheduledSendAt` or `delay` as the sender gave them; validated by ingest against its clock. */
  readonly timing?: RequestedTiming;
}

export type ParseResult =
  | { readonly kind: 'notifications'; readonly notifications: readonly ParsedNotification[] }
  /** The payload is valid but carries nothing to push (answered 204, as Zentik does). */
  | { readonly kind: 'skip'; readonly reason: string };

/**
 * How a source proves who it is, besides a bucket token or magic code:
 * - `signature`: an HMAC over the raw body (and a timestamp, where the source sends one) with a
 *   signing key configured for the bucket; `verify` throws `HeraldError('invalid_signature' |
 *   'signature_expired', …)` and must compare in constant time.
 * - `header`: a static secret the source sends in a header (Okta, Auth0); Herald stores only its
 *   hash and compares hashes in constant time. `presentedSecret` extracts the value sent.
 */
export type SourceAuth =
  | {
      readonly kind: 'signature';
      verify(request: WebhookRequest, signingKey: string, now: Date): void;
    }
  | {
      readonly kind: 'header';
      presentedSecret(request: WebhookRequest): string | undefined;
    };

/** What ingest did with a parsed request, for a source that expects a particular reply. */
export interface ReplyContext {
  readonly request: WebhookRequest;
  readonly result: ParseResult;
  /** Notification ids queued (or recognised as replays). */
  readonly notificationIds: readonly string[];
}

/** A reply a source requires instead of Herald's default (Zentik's 201 JSON, or 204 on skip). */
export interface SourceReply {
  readonly status: number;
  readonly headers?: Record<string, string>;
  /** Serialized as it is; the empty string for no body. */
  readonly body: string;
}

export interface Parser {
  /** Canonical name, used in metrics and `source` of the notification. */
  readonly name: string;
  /** Names accepted by `?parser=`, compared case-insensitively (Zentik's `ZENTIK_*` included). */
  readonly aliases: readonly string[];
  /**
   * True when the request looks like this source's, for auto-detection without `?parser=`.
   * Must never throw; should look at headers first (cheap, specific), then the body's shape.
   */
  detect(request: WebhookRequest): boolean;
  /** Throws `HeraldError('invalid_body', …)` when the body is not this source's format. Never throws anything else. */
  parse(request: WebhookRequest): ParseResult;
  /** How the source authenticates itself, when it can; absent for sources that cannot (authentik). */
  readonly auth?: SourceAuth;
  /**
   * A request the source sends that is not an event, answered before authentication by bucket
   * and parsing (Okta's one-time GET verification). Return undefined for ordinary requests.
   */
  handshake?(request: WebhookRequest & { readonly method: string }): SourceReply | undefined;
  /** The reply the source expects on success; undefined for Herald's default. */
  reply?(context: ReplyContext): SourceReply | undefined;
}
