/**
 * Herald's one error family. Each error carries a stable `error` code; the edge maps the code to
 * exactly one HTTP status, and clients see `{error, message}`.
 */
export const ERROR_STATUS = {
  invalid_body: 400,
  validation_failed: 400,
  unknown_parser: 400,
  unknown_source: 400,
  /** A template's JSONata does not parse (when it is set). */
  invalid_template: 400,
  /** A template failed on a payload: a JSONata error, or output that is not a notification field. */
  template_failed: 400,
  /** A template exceeded its time, depth, size or item budget on a payload. */
  template_limit: 400,
  unauthorized: 401,
  token_revoked: 401,
  token_expired: 401,
  invalid_signature: 401,
  signature_expired: 401,
  source_secret_missing: 401,
  forbidden: 403,
  not_found: 404,
  /** The notification is not in the caller's bucket's history (another bucket's ids get this too). */
  notification_not_found: 404,
  template_not_found: 404,
  method_not_allowed: 405,
  /** A scheduled notification that has already been sent cannot be cancelled. */
  notification_already_sent: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  service_unavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export class HeraldError extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Extra response headers, e.g. `Allow` or `Retry-After`. */
    readonly headers: Record<string, string> = {},
    /** The underlying failure, for the logs (never sent to the client). */
    cause?: unknown,
  ) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'HeraldError';
    this.status = ERROR_STATUS[code];
  }

  toJSON(): { error: ErrorCode; message: string } {
    return { error: this.code, message: this.message };
  }
}

export function isHeraldError(e: unknown): e is HeraldError {
  return e instanceof HeraldError;
}
