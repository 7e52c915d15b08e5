import middy from '@middy/core';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { requiredEnv } from '../core/config';
import { applyPlatformEvent, failureTypeDimension, parsePlatformEvent, PlatformEventFormatError, type FeedbackDeps } from '../core/feedback';
import { createStore } from '../core/store/table';
import { logger, metrics } from '../observability';

function depsFromEnv(): FeedbackDeps {
  return { store: createStore(requiredEnv('TABLE_NAME')) };
}

function countFeedback(eventType: string, failureType: string): void {
  const metric = metrics.singleMetric();
  // addDimension, not addDimensions (which starts a second dimension set): one set, service + both.
  metric.addDimension('eventType', eventType);
  metric.addDimension('failureType', failureType);
  metric.addMetric('PushFeedback', MetricUnit.Count, 1);
}

/**
 * The feedback Lambda: SNS platform-application events (delivery failures, endpoint updates and
 * deletions), fed by the feedback queue subscribed to the applications' event topic. Each event
 * updates the devices using its endpoint and is counted (`PushFeedback`, by eventType and
 * failureType). A message that is no such event is counted and dropped (retrying cannot fix it);
 * a store error fails only its record, which SQS redelivers and finally dead-letters.
 */
export function createFeedbackHandler(overrides: Partial<FeedbackDeps> = {}) {
  let deps: FeedbackDeps | undefined;
  const processor = new BatchProcessor(EventType.SQS);
  const handleRecord = async (record: SQSRecord): Promise<void> => {
    let event;
    try {
      event = parsePlatformEvent(record.body);
    } catch (error) {
      if (!(error instanceof PlatformEventFormatError)) throw error;
      countFeedback('Unrecognized', 'None');
      logger.warn('not a platform-application event; dropped', { messageId: record.messageId, reason: error.message });
      return;
    }
    const result = await applyPlatformEvent(deps!, event);
    countFeedback(event.eventType, failureTypeDimension(event));
    // The event's type and counts only: endpoint attributes may hold the device token.
    logger.info('platform event applied', {
      eventType: event.eventType,
      failureType: event.failureType,
      snsMessageId: event.messageId,
      devicesMatched: result.devicesMatched,
      devicesDisabled: result.devicesDisabled,
      staleLookups: result.staleLookups,
    });
  };
  return middy(async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    deps ??= { ...depsFromEnv(), ...overrides };
    return processPartialResponse(event, handleRecord, processor, { context, throwOnFullBatchFailure: false });
  })
    // Each metric is a single-metric EMF line, flushed at once; nothing is left for logMetrics().
    .use(injectLambdaContext(logger));
}

export const handler = createFeedbackHandler();
