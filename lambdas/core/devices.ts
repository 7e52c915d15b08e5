import { createHash } from 'node:crypto';
import { z } from 'zod';
import { HeraldError } from './errors';
import { describeIssues, missingFieldIsRequired } from './notification';
import type { PlatformApplications, PushGateway } from './push/gateway';
import type { PlatformKey } from './push/types';
import { deleteDevice, findDeviceByToken, getDevice, platformKeyOf, putDevice, type Device } from './store/devices';

export { platformKeyOf };
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
 * device (without the token). Idempotent: the same token again finds the same device, also after
 * the device refreshed its token (an alias item maps each token's key to the device).
 */
export async function registerDevice(deps: DeviceDeps, bucketId: string, registration: DeviceRegistration): Promise<RegisteredDevice> {
  const now = (deps.now?.() ?? new Date()).toISOString();
  const environment = registration.platform === 'ios' ? (registration.environment ?? 'production') : undefined;
  const tokenKey = deviceIdFor(registration);
  const knownId = await findDeviceByToken(deps.store, bucketId, tokenKey);
  const existing = knownId ? await getDevice(deps.store, bucketId, knownId) : undefined;
  const key = platformKeyOf({ platform: registration.platform, environment });
  const applicationArn = deps.platformApplications[key];
  const endpointArn = applicationArn
    ? await deps.gateway.ensureEndpoint(applicationArn, registration.token, existing?.endpointArn)
    : undefined;
  const device: Device = {
    bucketId,
    id: existing?.id ?? tokenKey,
    platform: registration.platform,
    environment,
    name: registration.name ?? existing?.name,
    endpointArn,
    tokenKey,
    enabled: true,
    createdAt: existing?.createdAt ?? now,
    updatedAt: now,
  };
  await putDevice(deps.store, device);
  return {
    device,
    created: !existing,
    warning: applicationArn ? undefined : notConfigured(key),
  };
}

function notConfigured(key: PlatformKey): string {
  return `the ${key} platform is not configured in this deployment; the device is stored but gets no pushes until it is`;
}

/**
 * A device's push token changed (APNs and FCM rotate them): point its endpoint at the new token,
 * re-enable it, and keep the device's id.
 */
export async function refreshDevice(deps: DeviceDeps, bucketId: string, deviceId: string, token: string): Promise<Device> {
  const existing = await getDevice(deps.store, bucketId, deviceId);
  if (!existing) throw new HeraldError('not_found', `no device ${deviceId.slice(0, 64)} in this bucket`);
  const tokenKey = deviceIdFor({ platform: existing.platform, environment: existing.environment, token });
  const applicationArn = deps.platformApplications[platformKeyOf(existing)];
  const endpointArn = applicationArn ? await deps.gateway.ensureEndpoint(applicationArn, token, existing.endpointArn) : undefined;
  const { disabledReason: _reason, ...rest } = existing;
  const device: Device = { ...rest, endpointArn, tokenKey, enabled: true, updatedAt: (deps.now?.() ?? new Date()).toISOString() };
  await putDevice(deps.store, device, existing.tokenKey);
  return device;
}

/** Removes a device and its SNS endpoint. */
export async function unregisterDevice(deps: DeviceDeps, bucketId: string, deviceId: string): Promise<void> {
  const existing = await getDevice(deps.store, bucketId, deviceId);
  if (!existing) throw new HeraldError('not_found', `no device ${deviceId.slice(0, 64)} in this bucket`);
  if (existing.endpointArn) await deps.gateway.deleteEndpoint(existing.endpointArn);
  await deleteDevice(deps.store, existing);
}

export const deviceTokenSchema = z.strictObject({ token: z.string().trim().min(8).max(4096) });

/** The device as the API shows it: no endpoint ARN, never the token. */
export function publicDevice(device: Device): Record<string, unknown> {
  const { endpointArn: _endpoint, bucketId: _bucket, tokenKey: _token, ...shown } = device;
  return shown;
}
