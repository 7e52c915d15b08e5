import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { HeraldError, isHeraldError } from './core/errors';
import type { HttpRequest, HttpResponse } from './core/http';
import { logger } from './observability';

/**
 * What the HTTP handlers (ingest, admin) share at the edge: API Gateway's event in, Herald's
 * response out, one error mapping, and one way of logging a request.
 */

/** API Gateway HTTP API (payload 2.0) → Herald's request. Header names arrive lower-cased. */
export function toHttpRequest(event: APIGatewayProxyEventV2): HttpRequest {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (value !== undefined) headers[name.toLowerCase()] = value;
  }
  const query: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.queryStringParameters ?? {})) {
    if (value !== undefined) query[name] = value;
  }
  return {
    method: event.requestContext.http.method,
    path: event.rawPath,
    query,
    headers,
    body: event.body === undefined ? Buffer.alloc(0) : Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8'),
    sourceIp: event.requestContext.http.sourceIp,
  };
}

export function toLambdaResult(response: HttpResponse): APIGatewayProxyStructuredResultV2 {
  return { statusCode: response.status, headers: response.headers, body: response.body };
}

/**
 * A typed error stays as it is; anything else (DynamoDB, SNS, Secrets Manager failing) becomes a
 * 503 with Retry-After, never a false 2xx, and keeps its cause for the logs.
 */
export function asHeraldError(error: unknown): HeraldError {
  return isHeraldError(error)
    ? error
    : new HeraldError('service_unavailable', 'Herald could not complete the request; retry later', { 'retry-after': '5' }, error);
}

/** An error's name and message; SDK messages name resources, never Herald's secrets. */
export function describeCause(cause: unknown): string | undefined {
  return cause instanceof Error ? `${cause.name}: ${cause.message}` : undefined;
}

/**
 * One log line per request: an error with its cause for a 5xx, the error code for a refusal, else
 * `handled`. `entry` must hold no query string or header: tokens and magic codes travel there.
 */
export function logRequest(entry: Record<string, unknown>, status: number, error?: HeraldError, handled: Record<string, unknown> = {}): void {
  if (status >= 500) logger.error('request failed', { ...entry, status, cause: describeCause(error?.cause) });
  else if (error) logger.info('request refused', { ...entry, status, error: error.code });
  else logger.info('request handled', { ...entry, status, ...handled });
}
