import { mapWithConcurrency } from './concurrency';
import { platformKeyOf } from './devices';
import type { Notification } from './notification';
import { PushError, type PushGateway } from './push/gateway';
import { buildPublishInput } from './push/publish-request';
import { disableDevice, listDevices, type Device } from './store/devices';
import { recordHistory } from './store/history';
import { listOutcomes, recordOutcome, type DeliveryOutcome } from './store/outcomes';
import type { Store } from './store/table';

export interface DeliveryDeps {
  readonly store: Store;
  readonly gateway: PushGateway;
  /** Publishes in flight at once. @default 16 */
  readonly concurrency?: number;
  /** Days a notification stays in its bucket's history. @default 30 */
  readonly historyDays?: number;
  readonly now?: () => Date;
}

export interface DeliveryReport {
  /** Final outcomes recorded by this attempt. */
  readonly outcomes: DeliveryOutcome[];
  /** Devices already done by an earlier attempt (a retried message), not published again. */
  alreadyDone: number;
  /** Devices whose publish failed transiently; the notification must be retried for them. */
  readonly retry: { deviceId: string; platform: string; reason: string }[];
}

/** Thrown when some devices must be retried, so SQS redelivers the message (a batch item failure). */
export class RetryableDeliveryError extends Error {
  constructor(readonly report: DeliveryReport) {
    super(`${report.retry.length} device(s) to retry: ${[...new Set(report.retry.map((r) => r.reason))].join(', ')}`);
    this.name = 'RetryableDeliveryError';
  }
}

/**
 * Pushes one notification to every device of its bucket, each (notification, device) at most once:
 * outcomes already recorded by an earlier attempt are skipped, and each new outcome is recorded
 * with a conditional write. Devices that fail transiently are reported for retry; the others keep
 * their outcome, so a retry re-sends to nobody else.
 */
export async function deliverNotification(deps: DeliveryDeps, notification: Notification): Promise<DeliveryReport> {
  const report: DeliveryReport = { outcomes: [], alreadyDone: 0, retry: [] };
  if (notification.deliveryType === 'NO_PUSH') {
    // Kept in history only, as Zentik does with NO_PUSH messages.
    await recordHistory(deps.store, { notification, deliveredAt: (deps.now?.() ?? new Date()).toISOString(), outcomes: {} }, deps.historyDays);
    return report;
  }
  const done = await listOutcomes(deps.store, notification.id);
  let cursor: string | undefined;
  do {
    const page = await listDevices(deps.store, notification.bucketId, cursor);
    const pending = page.devices.filter((device) => {
      if (!device.enabled) return false;
      if (done.has(device.id)) {
        report.alreadyDone += 1;
        return false;
      }
      return true;
    });
    await mapWithConcurrency(pending, deps.concurrency ?? 16, (device) => deliverToDevice(deps, notification, device, report));
    cursor = page.cursor;
  } while (cursor);
  if (report.retry.length > 0) throw new RetryableDeliveryError(report);
  await recordHistory(
    deps.store,
    { notification, deliveredAt: (deps.now?.() ?? new Date()).toISOString(), outcomes: countStatuses([...done.values(), ...report.outcomes]) },
    deps.historyDays,
  );
  return report;
}

function countStatuses(outcomes: readonly DeliveryOutcome[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const outcome of outcomes) counts[outcome.status] = (counts[outcome.status] ?? 0) + 1;
  return counts;
}

async function deliverToDevice(deps: DeliveryDeps, notification: Notification, device: Device, report: DeliveryReport): Promise<void> {
  const at = () => (deps.now?.() ?? new Date()).toISOString();
  const platform = platformKeyOf(device);
  let outcome: DeliveryOutcome;
  if (!device.endpointArn) {
    outcome = { deviceId: device.id, platform, status: 'platform_not_configured', at: at() };
  } else {
    try {
      const { input } = buildPublishInput(notification, {
        platform: device.platform,
        environment: device.environment,
        endpointArn: device.endpointArn,
      });
      const messageId = await deps.gateway.publish(input);
      outcome = { deviceId: device.id, platform, status: 'sent', detail: messageId, at: at() };
    } catch (error) {
      const failure = error instanceof PushError ? error : new PushError('retryable', (error as Error).name ?? 'Error');
      if (failure.kind === 'retryable') {
        report.retry.push({ deviceId: device.id, platform, reason: failure.reason });
        return;
      }
      if (failure.kind === 'endpoint_disabled') {
        await disableDevice(deps.store, device.bucketId, device.id, failure.reason);
        outcome = { deviceId: device.id, platform, status: 'endpoint_disabled', detail: failure.reason, at: at() };
      } else {
        outcome = { deviceId: device.id, platform, status: 'failed', detail: failure.reason, at: at() };
      }
    }
  }
  await recordOutcome(deps.store, notification.id, outcome);
  report.outcomes.push(outcome);
}
