import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { handleApiRequest, type ApiDeps } from '../core/api';
import { platformApplicationsFromEnv, requiredEnv } from '../core/config';
import { SnsPushGateway } from '../core/push/sns-gateway';
import { SqsNotificationQueue } from '../core/queue';
import { schedulerFromEnv } from '../core/schedule/scheduler';
import { SecretsManagerVault } from '../core/sources/vault';
import { createStore } from '../core/store/table';
import { logRequest, toHttpRequest, toLambdaResult } from '../http-event';
import { logger, metrics } from '../observability';

function depsFromEnv(): ApiDeps {
  return {
    store: createStore(requiredEnv('TABLE_NAME')),
    queue: new SqsNotificationQueue(requiredEnv('QUEUE_URL')),
    gateway: new SnsPushGateway(),
    platformApplications: platformApplicationsFromEnv(),
    vault: new SecretsManagerVault(),
    scheduler: schedulerFromEnv(),
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
    logRequest({ method: request.method, path: event.routeKey === '$default' ? '$default' : request.path }, response.status, error, { accepted: accepted?.count ?? 0 });
    return toLambdaResult(response);
  })
    // Each metric is a single-metric EMF line, flushed at once; nothing is left for logMetrics().
    .use(injectLambdaContext(logger));
}

export const handler = createIngestHandler();
