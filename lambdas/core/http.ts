import { HeraldError } from './errors';

/**
 * Herald's view of an HTTP request, free of API Gateway types so that the Lambda handler, local mode
 * and the CLI share one router. Header names are lower-case; the body is the raw bytes.
 */
export interface HttpRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
  readonly sourceIp?: string;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export const MAX_BODY_BYTES = 256 * 1024;

export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): HttpResponse {
  return { status, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}

export function emptyResponse(status: number, headers: Record<string, string> = {}): HttpResponse {
  return { status, headers, body: '' };
}

export function errorResponse(error: HeraldError): HttpResponse {
  return jsonResponse(error.status, error.toJSON(), error.headers);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function decodeUtf8(body: Buffer): string {
  try {
    return utf8.decode(body);
  } catch {
    throw new HeraldError('invalid_body', 'body is not valid UTF-8');
  }
}

/** The media type without parameters, lower-cased: `application/json; charset=utf-8` → `application/json`. */
export function mediaType(headers: Readonly<Record<string, string>>): string {
  return (headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

export function isJsonMediaType(type: string): boolean {
  return type === 'application/json' || type === 'text/json' || type.endsWith('+json');
}

/** Parses a JSON body that must be an object (not an array, string or number). */
export function parseJsonObject(text: string, what = 'body'): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new HeraldError('invalid_body', `${what} is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new HeraldError('invalid_body', `${what} must be a JSON object`);
  }
  return value as Record<string, unknown>;
}

/**
 * Decodes a form-like body into fields: JSON objects, `application/x-www-form-urlencoded`, or none.
 * Other media types are refused with 415 naming what is accepted.
 */
export function decodeFields(request: HttpRequest): Record<string, unknown> {
  if (request.body.length === 0) return {};
  const text = decodeUtf8(request.body);
  const type = mediaType(request.headers);
  if (type === '' || isJsonMediaType(type)) {
    if (type === '' && text.trim() === '') return {};
    return parseJsonObject(text);
  }
  if (type === 'application/x-www-form-urlencoded') {
    return Object.fromEntries(new URLSearchParams(text));
  }
  throw new HeraldError(
    'unsupported_media_type',
    `content-type "${type}" is not accepted here: send application/json or application/x-www-form-urlencoded`,
  );
}

/** `Authorization: Bearer <token>` (scheme case-insensitive), else undefined. */
export function bearerToken(headers: Readonly<Record<string, string>>): string | undefined {
  const match = /^bearer\s+(\S+)\s*$/i.exec(headers.authorization ?? '');
  return match?.[1];
}

/** A percent-decoded path segment; malformed escapes (`%E0%A4%A`) are a 404, not a crash. */
export function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HeraldError('not_found', `no route for the malformed path segment "${segment.slice(0, 64)}"`);
  }
}
