import { mapWithConcurrency } from './concurrency';
import type { Notification } from './notification';
import { PushError, type PushGateway } from './push/gateway';
import { buildPublishInput } from './push/publish-request';
import { disableDevice, listDevices, platformKeyOf, type Device } from './store/devices';
import { addToHistory } from './store/history';
import { claimDelivery, listOutcomes, recordOutcome, releaseClaim, type DeliveryOutcome } from './store/outcomes';
import type { Store } from './store/table';

export interface DeliveryDeps {
  readonly store: Store;
  readonly gateway: PushGateway;
  /** Publishes in flight at once. @default 16 */
  readonly concurrency?: number;
  /** Devices handled by one invocation; the rest go on in continuation messages. @default 1000 */
  readonly pageSize?: number;
  /**
   * Queues the next page of a large bucket as its own message, so pages are delivered in parallel
   * by other invocations. Without it (tests, the CLI) every page is delivered here, in turn.
   */
  readonly continueWith?: (notification: Notification, cursor: string) => Promise<void>;
  /**
   * A claim older than this, with no outcome, belonged to an attempt that died: longer than the
   * function's timeout. @default 90 s
   */
  readonly claimTimeoutMs?: number;
  /** Tries per device within one attempt when SNS throttles. @default 3 */
  readonly throttleRetries?: number;
  /** Days a notification stays in its bucket's history. @default 30 */
  readonly historyDays?: number;
  readonly now?: () => Date;
  /** Waits between throttled tries (replaced by tests). */
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface DeliveryReport {
  /** Final outcomes recorded by this attempt. */
  readonly outcomes: DeliveryOutcome[];
  /** Devices already done by an earlier attempt (a retried message), not published again. */
  alreadyDone: number;
  /**
   * Devices whose earlier attempt died after claiming them, so whether they got the push is
   * unknown: published again, and counted (the only possible duplicates).
   */
  unknownRetried: number;
  /** Devices to try again later: a transient failure, or another attempt still holds them. */
  readonly retry: { deviceId: string; platform: string; reason: string }[];
}

/** Thrown when some devices must be retried, so SQS redelivers the message (a batch item failure). */
export class RetryableDeliveryError extends Error {
  constructor(readonly report: DeliveryReport) {
    super(`${report.retry.length} device(s) to retry: ${[...new Set(report.retry.map((r) => r.reason))].join(', ')}`);
    this.name = 'RetryableDeliveryError';
  }
}

const THROTTLED = new Set(['ThrottledException', 'ThrottlingException', 'KMSThrottlingException']);

/**
 * Pushes one notification to the devices of its bucket, each (notification, device) at most once:
 * every device is claimed with a conditional write before its publish and gets its final outcome
 * after, so a retried message, a redelivered one, or a concurrent duplicate skips the devices
 * already served. A bucket larger than a page continues in another message (`cursor`), queued
 * before this page is published so pages run in parallel.
 *
 * A redelivered message (`redelivered`: SQS has handed it out before) first reads the page's
 * recorded outcomes in one query, so the devices an earlier attempt finished cost nothing more;
 * a first delivery skips that read, since it would find nothing.
 */
export async function deliverNotification(deps: DeliveryDeps, notification: Notification, cursor?: string, redelivered = false): Promise<DeliveryReport> {
  const report: DeliveryReport = { outcomes: [], alreadyDone: 0, unknownRetried: 0, retry: [] };
  const now = () => deps.now?.() ?? new Date();
  if (notification.deliveryType === 'NO_PUSH') {
    // Kept in history only, as Zentik does with NO_PUSH messages.
    await addToHistory(deps.store, notification, [], now(), deps.historyDays);
    return report;
  }
  let next = cursor;
  do {
    const page = await listDevices(deps.store, notification.bucketId, next, deps.pageSize ?? 1000);
    next = page.cursor;
    if (next && deps.continueWith) {
      await deps.continueWith(notification, next);
      next = undefined;
    }
    const done = redelivered && page.devices.length > 0
      ? await listOutcomes(deps.store, notification.id, { first: page.devices[0]!.id, last: page.devices.at(-1)!.id })
      : new Map<string, DeliveryOutcome>();
    const enabled = page.devices.filter((device) => device.enabled && !done.has(device.id));
    report.alreadyDone += page.devices.filter((device) => device.enabled && done.has(device.id)).length;
    await mapWithConcurrency(enabled, deps.concurrency ?? 16, (device) => deliverToDevice(deps, notification, device, report));
  } while (next);
  await addToHistory(deps.store, notification, report.outcomes, now(), deps.historyDays);
  if (report.retry.length > 0) throw new RetryableDeliveryError(report);
  return report;
}

async function deliverToDevice(deps: DeliveryDeps, notification: Notification, device: Device, report: DeliveryReport): Promise<void> {
  const at = () => (deps.now?.() ?? new Date()).toISOString();
  const platform = platformKeyOf(device);
  const claim = await claimDelivery(deps.store, notification.id, device.id, deps.now?.() ?? new Date(), deps.claimTimeoutMs ?? 90_000);
  if (claim.kind === 'done') {
    report.alreadyDone += 1;
    return;
  }
  if (claim.kind === 'in_flight') {
    report.retry.push({ deviceId: device.id, platform, reason: 'in_flight_elsewhere' });
    return;
  }
  if (claim.kind === 'unknown') report.unknownRetried += 1;
  let outcome: DeliveryOutcome;
  if (!device.endpointArn) {
    outcome = { deviceId: device.id, platform, status: 'platform_not_configured', at: at() };
  } else {
    const { input } = buildPublishInput(notification, { platform: device.platform, environment: device.environment, endpointArn: device.endpointArn });
    try {
      const messageId = await publishWithBackoff(deps, input);
      outcome = { deviceId: device.id, platform, status: 'sent', detail: messageId, at: at() };
    } catch (error) {
      const failure = error instanceof PushError ? error : new PushError('retryable', (error as Error).name ?? 'Error', true);
      if (failure.kind === 'retryable') {
        // Refused by SNS: the claim goes back and the retry publishes. Maybe sent: the claim stays,
        // so the retry finds it stale and publishes again as an `unknown` (counted) outcome.
        if (!failure.maybeSent) await releaseClaim(deps.store, notification.id, device.id);
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

/** SNS throttling is retried here, with jittered exponential backoff, before the message is. */
async function publishWithBackoff(deps: DeliveryDeps, input: Parameters<PushGateway['publish']>[0]): Promise<string> {
  const tries = deps.throttleRetries ?? 3;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await deps.gateway.publish(input);
    } catch (error) {
      const throttled = error instanceof PushError && error.kind === 'retryable' && THROTTLED.has(error.reason);
      if (!throttled || attempt >= tries) throw error;
      await sleep(Math.random() * 100 * 2 ** attempt);
    }
  }
}
