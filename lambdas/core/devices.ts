import { createHash } from 'node:crypto';
import { z } from 'zod';
import { HeraldError } from './errors';
import { describeIssues, missingFieldIsRequired } from './notification';
import type { PlatformApplications, PushGateway } from './push/gateway';
import type { PlatformKey } from './push/types';
import { getDevice, putDevice, type Device } from './store/devices';
import type { Store } from './store/table';

export const deviceRegistrationSchema = z
  .strictObject({
    platform: z.preprocess((v) => (typeof v === 'string' ? v.toLowerCase() : v), z.enum(['ios', 'android'])),
    /** The APNs device token or FCM registration token. */
    token: z.string().trim().min(8).max(4096),
    name: z.string().max(64).optional(),
    /** iOS only: development builds get sandbox tokens, which the production gateway rejects. */
    environment: z.enum(['production', 'sandbox']).optional(),
  })
  .refine((input) => input.platform === 'ios' || input.environment === undefined, {
    path: ['environment'],
    message: 'only iOS devices have an APNs environment',
  });

export type DeviceRegistration = z.infer<typeof deviceRegistrationSchema>;

export interface DeviceDeps {
  readonly store: Store;
  readonly gateway: PushGateway;
  readonly platformApplications: PlatformApplications;
  readonly now?: () => Date;
}

export interface RegisteredDevice {
  readonly device: Device;
  readonly created: boolean;
  /** Set when the device was stored but cannot receive pushes yet. */
  readonly warning?: string;
}

export function platformKeyOf(device: Pick<Device, 'platform' | 'environment'>): PlatformKey {
  if (device.platform === 'android') return 'GCM';
  return device.environment === 'sandbox' ? 'APNS_SANDBOX' : 'APNS';
}

/** The id is derived from the token, so registering the same token again finds the same device. */
export function deviceIdFor(registration: Pick<DeviceRegistration, 'platform' | 'environment' | 'token'>): string {
  const env = registration.platform === 'ios' ? (registration.environment ?? 'production') : '';
  return createHash('sha256').update(`${registration.platform}:${env}:${registration.token}`).digest('hex').slice(0, 32);
}

export function parseDeviceRegistration(fields: Record<string, unknown>): DeviceRegistration {
  const result = deviceRegistrationSchema.safeParse(fields, { error: missingFieldIsRequired });
  if (!result.success) throw new HeraldError('validation_failed', describeIssues(result.error.issues));
  return result.data;
}

/**
 * Registers a device token with the bucket: creates or repairs its SNS endpoint, then stores the
 * device (without the token). Idempotent: the same token again updates the same device.
 */
export async function registerDevice(deps: DeviceDeps, bucketId: string, registration: DeviceRegistration): Promise<RegisteredDevice> {
  const now = (deps.now?.() ?? new Date()).toISOString();
  const environment = registration.platform === 'ios' ? (registration.environment ?? 'production') : undefined;
  const id = deviceIdFor(registration);
  const existing = await getDevice(deps.store, bucketId, id);
  const key = platformKeyOf({ platform: registration.platform, environment });
  const applicationArn = deps.platformApplications[key];
  const endpointArn = applicationArn
    ? await deps.gateway.ensureEndpoint(applicationArn, registration.token, existing?.endpointArn)
    : undefined;
  const device: Device = {
    bucketId,
    id,
    platform: registration.platform,
    environment,
    name: registration.name ?? existing?.name,
    endpointArn,
    enabled: true,
    createdAt: existing?.createdAt ?? now,
    updatedAt: now,
  };
  await putDevice(deps.store, device);
  return {
    device,
    created: !existing,
    warning: applicationArn ? undefined : `the ${key} platform is not configured in this deployment; the device is stored but gets no pushes until it is`,
  };
}

/** The device as the API shows it: no endpoint ARN, never the token. */
export function publicDevice(device: Device): Record<string, unknown> {
  const { endpointArn: _endpoint, bucketId: _bucket, ...shown } = device;
  return shown;
}
