import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { handleApiRequest, type ApiDeps } from '../core/api';
import { platformApplicationsFromEnv, requiredEnv } from '../core/config';
import type { HttpRequest } from '../core/http';
import { SnsPushGateway } from '../core/push/sns-gateway';
import { SqsNotificationQueue } from '../core/queue';
import { SecretsManagerVault } from '../core/sources/vault';
import { createStore } from '../core/store/table';
import { logger, metrics } from '../observability';

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

function depsFromEnv(): ApiDeps {
  return {
    store: createStore(requiredEnv('TABLE_NAME')),
    queue: new SqsNotificationQueue(requiredEnv('QUEUE_URL')),
    gateway: new SnsPushGateway(),
    platformApplications: platformApplicationsFromEnv(),
    vault: new SecretsManagerVault(),
  };
}

/**
 * The ingest Lambda: every public route. `overrides` lets local mode hand in its push transport;
 * everything else comes from the environment, exactly as in the cloud.
 */
export function createIngestHandler(overrides: Partial<ApiDeps> = {}) {
  let deps: ApiDeps | undefined;
  return middy(async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
    deps ??= { ...depsFromEnv(), ...overrides };
    const request = toHttpRequest(event);
    const { response, accepted, error } = await handleApiRequest(request, deps);
    if (accepted && accepted.count > 0) {
      const metric = metrics.singleMetric();
      metric.addDimension('parser', accepted.source);
      metric.addMetric('NotificationsAccepted', MetricUnit.Count, accepted.count);
    }
    // Route and status only: the query string and headers carry tokens and magic codes.
    const entry = { method: request.method, path: event.routeKey === '$default' ? '$default' : request.path, status: response.status };
    if (response.status >= 500) logger.error('request failed', { ...entry, cause: describeCause(error?.cause) });
    else if (error) logger.info('request refused', { ...entry, error: error.code });
    else logger.info('request handled', { ...entry, accepted: accepted?.count ?? 0 });
    return { statusCode: response.status, headers: response.headers, body: response.body };
  })
    // Each metric is a single-metric EMF line, flushed at once; nothing is left for logMetrics().
    .use(injectLambdaContext(logger));
}

/** An error's name and message; SDK messages name resources, never Herald's secrets. */
function describeCause(cause: unknown): string | undefined {
  return cause instanceof Error ? `${cause.name}: ${cause.message}` : undefined;
}

export const handler = createIngestHandler();
