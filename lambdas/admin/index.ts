import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type {
  APIGatewayEventRequestContextIAMAuthorizer,
  APIGatewayEventRequestContextV2,
  APIGatewayProxyEventV2WithRequestContext,
  APIGatewayProxyStructuredResultV2,
} from 'aws-lambda';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SqsMessageMoveRedrive, type DeadLetterDeps } from '../core/admin/dead-letters';
import { handleManagementRequest, type ManagementDeps } from '../core/admin/router';
import { platformApplicationsFromEnv, requiredEnv } from '../core/config';
import { HeraldError } from '../core/errors';
import { errorResponse, MAX_BODY_BYTES, type HttpResponse } from '../core/http';
import { SnsPushGateway } from '../core/push/sns-gateway';
import { SecretsManagerVault } from '../core/sources/vault';
import { schedulerFromEnv } from '../core/schedule/scheduler';
import { createStore } from '../core/store/table';
import { asHeraldError, logRequest, toHttpRequest, toLambdaResult } from '../http-event';
import { logger } from '../observability';

/**
 * The event of the `ANY /admin/{proxy+}` route. API Gateway's IAM authorizer verifies the SigV4
 * signature before invoking the function and then sets `requestContext.authorizer.iam`; without it
 * (an event that did not come through that route) every admin route is refused.
 */
export type AdminEvent = APIGatewayProxyEventV2WithRequestContext<
  APIGatewayEventRequestContextV2 & { authorizer?: Partial<APIGatewayEventRequestContextIAMAuthorizer> }
>;

function depsFromEnv(): ManagementDeps {
  return {
    store: createStore(requiredEnv('TABLE_NAME')),
    gateway: new SnsPushGateway(),
    platformApplications: platformApplicationsFromEnv(),
    vault: new SecretsManagerVault(),
    deadLetters: deadLettersFromEnv(),
    scheduler: schedulerFromEnv(),
  };
}

/** The notification queue's DLQ (DEAD_LETTER_QUEUE_URL, _ARN) and where redrive moves it (QUEUE_ARN). */
function deadLettersFromEnv(): DeadLetterDeps | undefined {
  const deadLetterQueueUrl = process.env.DEAD_LETTER_QUEUE_URL;
  if (!deadLetterQueueUrl) return undefined;
  const sqs = new SQSClient({});
  return { sqs, deadLetterQueueUrl, redrive: new SqsMessageMoveRedrive(sqs, requiredEnv('DEAD_LETTER_QUEUE_ARN'), requiredEnv('QUEUE_ARN')) };
}

/**
 * The admin Lambda: the IAM-authorized management API under `/admin/…` (buckets, tokens, magic
 * codes, source secrets, devices, history, dead letters). `overrides` lets local mode hand in its
 * push transport, vault and dead-letter redrive; everything else comes from the environment,
 * exactly as in the cloud.
 */
export function createAdminHandler(overrides: Partial<ManagementDeps> = {}) {
  let deps: ManagementDeps | undefined;
  return middy(async (event: AdminEvent): Promise<APIGatewayProxyStructuredResultV2> => {
    deps ??= { ...depsFromEnv(), ...overrides };
    const request = toHttpRequest(event);
    const iam = event.requestContext.authorizer?.iam;
    let response: HttpResponse;
    let error: HeraldError | undefined;
    try {
      if (request.body.length > MAX_BODY_BYTES) {
        throw new HeraldError('payload_too_large', `body is ${request.body.length} bytes; the limit is ${MAX_BODY_BYTES}`);
      }
      const managed = await handleManagementRequest(request, deps, iam !== undefined);
      if (!managed) throw new HeraldError('not_found', `no route ${request.method} ${request.path.slice(0, 200)}`);
      response = managed;
    } catch (caught) {
      error = asHeraldError(caught);
      response = errorResponse(error);
    }
    // The caller by ARN (CloudTrail's view of who managed what); never the access key id.
    logRequest({ method: request.method, path: request.path.slice(0, 200), caller: iam?.userArn ?? 'unauthenticated' }, response.status, error);
    return toLambdaResult(response);
  }).use(injectLambdaContext(logger));
}

export const handler = createAdminHandler();
