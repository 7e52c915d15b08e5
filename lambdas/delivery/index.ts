import middy from '@middy/core';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { requiredEnv } from '../core/config';
import { deliverClear, deliverNotification, RetryableDeliveryError, type DeliveryDeps, type DeliveryReport } from '../core/delivery';
import { cachedQuietSettings, readQuietSettings } from '../core/presentation';
import { SnsPushGateway } from '../core/push/sns-gateway';
import { parseQueuedJob, SqsNotificationQueue } from '../core/queue';
import { releaseScheduled } from '../core/schedule/release';
import { recordDeliveryFailure } from '../core/store/failures';
import { createStore } from '../core/store/table';
import { logger, metrics } from '../observability';

function depsFromEnv(): DeliveryDeps {
  const store = createStore(requiredEnv('TABLE_NAME'));
  return {
    store,
    gateway: new SnsPushGateway(),
    concurrency: Number(process.env.DELIVERY_CONCURRENCY ?? 16),
    historyDays: process.env.HISTORY_RETENTION_DAYS ? Number(process.env.HISTORY_RETENTION_DAYS) : undefined,
    claimTimeoutMs: process.env.CLAIM_TIMEOUT_SECONDS ? Number(process.env.CLAIM_TIMEOUT_SECONDS) * 1000 : undefined,
    pageSize: process.env.DEVICES_PER_INVOCATION ? Number(process.env.DEVICES_PER_INVOCATION) : undefined,
    continueWith: continuationQueue(),
    // Per container: a burst of jobs for one bucket reads its quiet hours once per window.
    quietSettings: cachedQuietSettings(readQuietSettings(store), Number(process.env.QUIET_SETTINGS_CACHE_SECONDS ?? 30) * 1000),
  };
}

/** Large buckets continue on the notification queue itself (QUEUE_URL), one page per message. */
function continuationQueue(): DeliveryDeps['continueWith'] {
  const queueUrl = process.env.QUEUE_URL;
  if (!queueUrl) return undefined;
  const queue = new SqsNotificationQueue(queueUrl);
  return (notification, cursor, kind) => queue.enqueue([{ ...(kind ? { kind } : {}), notification, cursor }]);
}

function countPushes(report: DeliveryReport): void {
  for (const outcome of report.outcomes) {
    const metric = metrics.singleMetric();
    metric.addDimension('platform', outcome.platform);
    metric.addMetric(outcome.status === 'sent' ? 'PushesSent' : 'PushesFailed', MetricUnit.Count, 1);
  }
  // The provider rejected the platform application's credentials (expired or revoked key): every
  // device of that platform fails until they are fixed. The devices are kept for retry; the
  // PlatformApplicationDisabled alarm (lib/monitoring.ts) tells the operator.
  const credentialsRejected = new Map<string, number>();
  for (const { platform, reason } of report.retry) {
    if (reason === PLATFORM_APPLICATION_DISABLED) credentialsRejected.set(platform, (credentialsRejected.get(platform) ?? 0) + 1);
  }
  for (const [platform, count] of credentialsRejected) {
    const metric = metrics.singleMetric();
    metric.addDimension('platform', platform);
    metric.addMetric('PlatformApplicationDisabled', MetricUnit.Count, count);
  }
}

/** The SNS error name of a publish refused because the platform application is disabled. */
const PLATFORM_APPLICATION_DISABLED = 'PlatformApplicationDisabledException';

/**
 * Records why an attempt failed, for `herald dlq list`. Best effort: the record is for people, and
 * failing to write it must not change which messages SQS redelivers.
 */
async function noteFailure(deps: DeliveryDeps, notificationId: string, error: unknown): Promise<void> {
  const reason = error instanceof RetryableDeliveryError ? error.message : error instanceof Error ? `${error.name}: ${error.message}` : 'unknown error';
  try {
    await recordDeliveryFailure(deps.store, notificationId, reason, deps.now?.());
  } catch (recordError) {
    logger.warn('could not record the delivery failure', { notificationId, cause: (recordError as Error)?.name ?? 'unknown' });
  }
}

/**
 * The delivery Lambda: one SQS message per notification. A message whose devices all got a final
 * outcome succeeds; one with devices to retry is reported as a batch item failure, so SQS
 * redelivers only it (and the retry skips the devices already done).
 */
export function createDeliveryHandler(overrides: Partial<DeliveryDeps> = {}) {
  let deps: DeliveryDeps | undefined;
  const deliverRecord = async (record: SQSRecord): Promise<void> => {
    const job = parseQueuedJob(record.body);
    const { kind } = job;
    const cursor = job.kind === 'scheduled' ? undefined : job.cursor;
    try {
      // A scheduled notification's record decides whether it is still to be sent.
      const release = await releaseScheduled(deps!.store, job, deps!.now?.() ?? new Date());
      if (release.kind === 'dropped') {
        metrics.singleMetric().addMetric('ScheduledDropped', MetricUnit.Count, 1);
        logger.info('scheduled notification not sent', { notificationId: job.notification.id, reason: release.reason });
        return;
      }
      const notification = release.notification;
      const redelivered = Number(record.attributes.ApproximateReceiveCount) > 1;
      const report = kind === 'clear' ? await deliverClear(deps!, notification, cursor, redelivered) : await deliverNotification(deps!, notification, cursor, redelivered);
      countPushes(report);
      logger.info(kind === 'clear' ? 'notification cleared' : 'notification delivered', {
        notificationId: notification.id,
        devices: report.outcomes.length,
        alreadyDone: report.alreadyDone,
        unknownRetried: report.unknownRetried,
      });
    } catch (error) {
      if (error instanceof RetryableDeliveryError) {
        countPushes(error.report);
        logger.warn('notification will be retried', { notificationId: job.notification.id, retry: error.report.retry.length, reason: error.message });
      } else {
        logger.error('delivery failed', { notificationId: job.notification.id, cause: error instanceof Error ? `${error.name}: ${error.message}` : 'unknown' });
      }
      await noteFailure(deps!, job.notification.id, error);
      throw error;
    }
  };
  return middy(async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    deps ??= { ...depsFromEnv(), ...overrides };
    // One processor per invocation: a shared one mixes the failures of concurrent batches.
    return processPartialResponse(event, deliverRecord, new BatchProcessor(EventType.SQS), { context, throwOnFullBatchFailure: false });
  })
    // Each metric is a single-metric EMF line, flushed at once; nothing is left for logMetrics().
    .use(injectLambdaContext(logger));
}

export const handler = createDeliveryHandler();
