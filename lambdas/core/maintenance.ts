/**
 * Housekeeping run on a schedule (lambdas/maintenance): devices disabled for long enough are pruned
 * with their SNS endpoints. A device is disabled when its provider rejects the token
 * (EndpointDisabled, aws-notes.md §1.6) or an operator disables it; a token refresh re-enables it
 * (lambdas/core/devices.ts `refreshDevice`). One that stays disabled for `olderThanDays` will not
 * come back with this token, and its endpoint only counts against the application.
 */
import { mapWithConcurrency } from './concurrency';
import type { PushGateway } from './push/gateway';
import { listBuckets } from './store/buckets';
import { deleteDevice, getDevice, listDevices, type Device } from './store/devices';
import type { Store } from './store/table';

export interface MaintenanceDeps {
  readonly store: Store;
  readonly gateway: PushGateway;
  readonly now?: () => Date;
  /** Devices read per Query. @default 500 */
  readonly pageSize?: number;
  /** Devices pruned at once. @default 8 */
  readonly concurrency?: number;
}

export interface PruneOptions {
  /** A device disabled (last updated) more than this many days ago is pruned. @default 30 */
  readonly olderThanDays?: number;
}

export interface PruneReport {
  readonly buckets: number;
  /** Devices looked at, in every bucket. */
  readonly devices: number;
  /** Devices deleted, with their endpoints. */
  readonly pruned: number;
  /** Devices that could not be pruned (an SNS or DynamoDB error): they are tried again next run. */
  readonly failures: { readonly bucketId: string; readonly deviceId: string; readonly reason: string }[];
}

/**
 * Deletes every device that has been disabled for more than `olderThanDays` days: its SNS endpoint
 * first (so no endpoint is left without a device), then its items. Buckets are read with Queries
 * (listBuckets, then each bucket's device pages), never a Scan. A device is read again just before
 * it is pruned, so one re-enabled by a token refresh meanwhile is kept. One device failing does
 * not stop the others; failures are reported.
 */
export async function pruneDisabledDevices(deps: MaintenanceDeps, options: PruneOptions = {}): Promise<PruneReport> {
  const olderThanDays = options.olderThanDays ?? 30;
  if (!Number.isFinite(olderThanDays) || olderThanDays < 1) {
    throw new Error(`olderThanDays must be at least 1 (given ${olderThanDays})`);
  }
  const now = deps.now?.() ?? new Date();
  const cutoff = new Date(now.getTime() - olderThanDays * 24 * 60 * 60 * 1000).toISOString();
  const isExpired = (device: Device) => !device.enabled && device.updatedAt < cutoff;
  const report: PruneReport & { buckets: number; devices: number; pruned: number } = { buckets: 0, devices: 0, pruned: 0, failures: [] };

  for (const bucket of await listBuckets(deps.store)) {
    report.buckets += 1;
    let cursor: string | undefined;
    do {
      const page = await listDevices(deps.store, bucket.id, cursor, deps.pageSize ?? 500);
      cursor = page.cursor;
      report.devices += page.devices.length;
      await mapWithConcurrency(page.devices.filter(isExpired), deps.concurrency ?? 8, async (candidate) => {
        try {
          const device = await getDevice(deps.store, candidate.bucketId, candidate.id);
          if (!device || !isExpired(device)) return;
          if (device.endpointArn) await deps.gateway.deleteEndpoint(device.endpointArn);
          await deleteDevice(deps.store, device);
          report.pruned += 1;
        } catch (error) {
          report.failures.push({ bucketId: candidate.bucketId, deviceId: candidate.id, reason: (error as Error)?.name ?? 'Error' });
        }
      });
    } while (cursor);
  }
  return report;
}
