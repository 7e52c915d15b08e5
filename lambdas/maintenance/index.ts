import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { ScheduledEvent } from 'aws-lambda';
import { requiredEnv } from '../core/config';
import { pruneDisabledDevices, type MaintenanceDeps, type PruneReport } from '../core/maintenance';
import { SnsPushGateway } from '../core/push/sns-gateway';
import { createStore } from '../core/store/table';
import { logger, metrics } from '../observability';

export interface MaintenanceHandlerDeps extends MaintenanceDeps {
  /** Days a device stays disabled before it is pruned (PRUNE_AFTER_DAYS). @default 30 */
  readonly pruneAfterDays?: number;
}

function depsFromEnv(): MaintenanceHandlerDeps {
  return {
    store: createStore(requiredEnv('TABLE_NAME')),
    gateway: new SnsPushGateway(),
    pruneAfterDays: process.env.PRUNE_AFTER_DAYS ? Number(process.env.PRUNE_AFTER_DAYS) : undefined,
  };
}

/** Thrown after a run that left devices unpruned, so the run counts as failed (and the Errors alarm sees it). */
export class PruneIncompleteError extends Error {
  constructor(readonly report: PruneReport) {
    super(`${report.failures.length} device(s) could not be pruned: ${[...new Set(report.failures.map((f) => f.reason))].join(', ')}`);
    this.name = 'PruneIncompleteError';
  }
}

/**
 * The maintenance Lambda, run daily by an EventBridge schedule (lib/lifecycle.ts): prunes devices
 * disabled for longer than PRUNE_AFTER_DAYS, with their SNS endpoints. A run is idempotent, so
 * EventBridge's retries of a failed run are safe.
 */
export function createMaintenanceHandler(overrides: Partial<MaintenanceHandlerDeps> = {}) {
  let deps: MaintenanceHandlerDeps | undefined;
  return middy(async (_event: ScheduledEvent): Promise<Omit<PruneReport, 'failures'> & { failures: number }> => {
    deps ??= { ...depsFromEnv(), ...overrides };
    const report = await pruneDisabledDevices(deps, { olderThanDays: deps.pruneAfterDays });
    const metric = metrics.singleMetric();
    metric.addMetric('DevicesPruned', MetricUnit.Count, report.pruned);
    // Counts and error names only: device ids are fine, endpoint ARNs and tokens stay out of the logs.
    logger.info('pruned disabled devices', { buckets: report.buckets, devices: report.devices, pruned: report.pruned, failures: report.failures.length });
    if (report.failures.length > 0) {
      logger.error('devices left unpruned', { failures: report.failures.slice(0, 20) });
      throw new PruneIncompleteError(report);
    }
    return { ...report, failures: 0 };
  })
    // Each metric is a single-metric EMF line, flushed at once; nothing is left for logMetrics().
    .use(injectLambdaContext(logger));
}

export const handler = createMaintenanceHandler();
