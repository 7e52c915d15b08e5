import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';

/** API Gateway passes these bodies as text; anything else arrives base64-encoded. */
function isTextual(contentType: string): boolean {
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  return type === '' || type.startsWith('text/') || type.endsWith('json') || type === 'application/x-www-form-urlencoded' || type.endsWith('xml');
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Builds the event API Gateway HTTP API (payload format 2.0) would hand the ingest Lambda for this
 * request: lower-cased headers, repeated headers and query parameters joined with commas, the body
 * as text or base64, and `routeKey` as the named route or `$default`.
 */
export function toApiGatewayEvent(
  request: IncomingMessage,
  body: Buffer,
  routeKeys: ReadonlySet<string>,
): APIGatewayProxyEventV2 {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const headers: Record<string, string> = {};
  for (let i = 0; i < request.rawHeaders.length; i += 2) {
    const name = request.rawHeaders[i]!.toLowerCase();
    const value = request.rawHeaders[i + 1]!;
    headers[name] = headers[name] === undefined ? value : `${headers[name]},${value}`;
  }
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams) query[name] = query[name] === undefined ? value : `${query[name]},${value}`;
  const method = (request.method ?? 'GET').toUpperCase();
  const templated = url.pathname.replace(/^\/webhooks\/[^/]+$/, '/webhooks/{source}');
  const routeKey = routeKeys.has(`${method} ${templated}`) ? `${method} ${templated}` : '$default';
  let text: string | undefined;
  if (body.length > 0 && isTextual(headers['content-type'] ?? '')) {
    try {
      text = utf8.decode(body);
    } catch {
      text = undefined;
    }
  }
  const now = Date.now();
  return {
    version: '2.0',
    routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    queryStringParameters: Object.keys(query).length > 0 ? query : undefined,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'local',
      http: {
        method,
        path: url.pathname,
        protocol: `HTTP/${request.httpVersion}`,
        sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey,
      stage: '$default',
      time: new Date(now).toISOString(),
      timeEpoch: now,
    },
    body: body.length === 0 ? undefined : text ?? body.toString('base64'),
    isBase64Encoded: body.length > 0 && text === undefined,
  };
}
