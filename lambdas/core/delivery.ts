import { mapWithConcurrency } from './concurrency';
import type { Notification } from './notification';
import { presentationFor, type QuietSettingsReader } from './presentation';
import type { Presentation } from './quiet-hours';
import { buildClearPublishInput } from './push/clear';
import { PushError, type PublishInput, type PushGateway } from './push/gateway';
import { buildPublishInput, type PushTarget } from './push/publish-request';
import type { DeliveryJobKind } from './queue';
import { disableDevice, listDevices, platformKeyOf, type Device } from './store/devices';
import { addToHistory, clearedAtOf } from './store/history';
import { claimDelivery, clearClaimId, listOutcomes, recordOutcome, releaseClaim, type DeliveryOutcome } from './store/outcomes';
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
   * `kind` is the job's (`clear` for the pages of a clear); absent for a delivery.
   */
  readonly continueWith?: (notification: Notification, cursor: string, kind?: DeliveryJobKind) => Promise<void>;
  /**
   * A claim older than this, with no outcome, belonged to an attempt that died: longer than the
   * function's timeout. @default 90 s
   */
  readonly claimTimeoutMs?: number;
  /** Tries per device within one attempt when SNS throttles. @default 3 */
  readonly throttleRetries?: number;
  /** Days a notification stays in its bucket's history. @default 30 */
  readonly historyDays?: number;
  /** A bucket's quiet hours and snooze. @default read from the bucket on every job (no cache) */
  readonly quietSettings?: QuietSettingsReader;
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
 * What one job pushes to each device of a bucket: the notification itself, or the silent push
 * that clears it. Each has its own claims (`claimId`), so each reaches a device at most once.
 */
interface Wave {
  readonly kind: DeliveryJobKind;
  readonly notification: Notification;
  readonly claimId: string;
  readonly publishInput: (target: PushTarget) => PublishInput;
}

const deliveryWave = (notification: Notification, presentation: Presentation): Wave => ({
  kind: 'deliver',
  notification,
  claimId: notification.id,
  publishInput: (target) => buildPublishInput(notification, target, presentation.deliveredAs === 'passive' ? 'passive' : 'alert').input,
});

const clearWave = (notification: Notification): Wave => ({
  kind: 'clear',
  notification,
  claimId: clearClaimId(notification.id),
  publishInput: (target) => buildClearPublishInput(notification, target),
});

const emptyReport = (): DeliveryReport => ({ outcomes: [], alreadyDone: 0, unknownRetried: 0, retry: [] });

/**
 * Pushes one notification to the devices of its bucket, each (notification, device) at most once:
 * every device is claimed with a conditional write before its publish and gets its final outcome
 * after, so a retried message, a redelivered one, or a concurrent duplicate skips the devices
 * already served. A bucket larger than a page continues in another message (`cursor`), queued
 * before this page is published so pages run in parallel.
 *
 * A clear can meet a delivery (DELETE /notifications/{id} while it is queued or being pushed):
 * one cleared before this page is not pushed at all; one cleared while this page was pushed (seen
 * when history is written) is cleared from this page's devices right away. A page that finished
 * before the DELETE is in history, so the DELETE itself queues the clear of every device.
 *
 * A redelivered message (`redelivered`: SQS has handed it out before) first reads the page's
 * recorded outcomes in one query, so the devices an earlier attempt finished cost nothing more;
 * a first delivery skips that read, since it would find nothing.
 */
export async function deliverNotification(deps: DeliveryDeps, notification: Notification, cursor?: string, redelivered = false): Promise<DeliveryReport> {
  const report = emptyReport();
  const now = () => deps.now?.() ?? new Date();
  if (notification.deliveryType === 'NO_PUSH') {
    // Kept in history only, as Zentik does with NO_PUSH messages.
    await addToHistory(deps.store, notification, [], now(), deps.historyDays);
    return report;
  }
  const clearedBefore = await clearedAtOf(deps.store, notification.bucketId, notification.id);
  // Quiet hours and snooze: decided once per notification, recorded with its history.
  const presentation = clearedBefore ? undefined : await presentationFor(deps, notification, now());
  if (presentation) await pushToBucket(deps, deliveryWave(notification, presentation), cursor, report, { continuePages: true, redelivered });
  const { clearedAt, sent } = await addToHistory(deps.store, notification, report.outcomes, now(), deps.historyDays, presentation);
  if (clearedAt && sent > 0) {
    // The devices this job pushed to: its page, or every page when there is no continuation
    // queue; once each (their clear claims skip the ones a clear job already served).
    const cleared = emptyReport();
    await pushToBucket(deps, clearWave(notification), cursor, cleared, { continuePages: deps.continueWith === undefined });
    report.retry.push(...cleared.retry);
  }
  if (report.retry.length > 0) throw new RetryableDeliveryError(report);
  return report;
}

/**
 * Sends every device of the notification's bucket the silent push that removes it (a `clear`
 * job, queued by DELETE /notifications/{id}), each device at most once. History already says it
 * was cleared.
 */
export async function deliverClear(deps: DeliveryDeps, notification: Notification, cursor?: string, redelivered = false): Promise<DeliveryReport> {
  const report = emptyReport();
  await pushToBucket(deps, clearWave(notification), cursor, report, { continuePages: true, redelivered });
  if (report.retry.length > 0) throw new RetryableDeliveryError(report);
  return report;
}

async function pushToBucket(
  deps: DeliveryDeps,
  wave: Wave,
  cursor: string | undefined,
  report: DeliveryReport,
  options: { continuePages: boolean; redelivered?: boolean },
): Promise<void> {
  let next = cursor;
  do {
    const page = await listDevices(deps.store, wave.notification.bucketId, next, deps.pageSize ?? 1000);
    next = options.continuePages ? page.cursor : undefined;
    if (next && deps.continueWith) {
      await deps.continueWith(wave.notification, next, wave.kind === 'deliver' ? undefined : wave.kind);
      next = undefined;
    }
    const done = options.redelivered && page.devices.length > 0
      ? await listOutcomes(deps.store, wave.claimId, { first: page.devices[0]!.id, last: page.devices.at(-1)!.id })
      : new Map<string, DeliveryOutcome>();
    const enabled = page.devices.filter((device) => device.enabled && !done.has(device.id));
    report.alreadyDone += page.devices.filter((device) => device.enabled && done.has(device.id)).length;
    await mapWithConcurrency(enabled, deps.concurrency ?? 16, (device) => deliverToDevice(deps, wave, device, report));
  } while (next);
}

async function deliverToDevice(deps: DeliveryDeps, wave: Wave, device: Device, report: DeliveryReport): Promise<void> {
  const at = () => (deps.now?.() ?? new Date()).toISOString();
  const platform = platformKeyOf(device);
  const claim = await claimDelivery(deps.store, wave.claimId, device.id, deps.now?.() ?? new Date(), deps.claimTimeoutMs ?? 90_000);
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
    const input = wave.publishInput({ platform: device.platform, environment: device.environment, endpointArn: device.endpointArn });
    try {
      const messageId = await publishWithBackoff(deps, input);
      outcome = { deviceId: device.id, platform, status: 'sent', detail: messageId, at: at() };
    } catch (error) {
      const failure = error instanceof PushError ? error : new PushError('retryable', (error as Error).name ?? 'Error', true);
      if (failure.kind === 'retryable') {
        // Refused by SNS: the claim goes back and the retry publishes. Maybe sent: the claim stays,
        // so the retry finds it stale and publishes again as an `unknown` (counted) outcome.
        if (!failure.maybeSent) await releaseClaim(deps.store, wave.claimId, device.id);
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
  await recordOutcome(deps.store, wave.claimId, outcome);
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
