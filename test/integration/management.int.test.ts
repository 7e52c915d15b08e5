import { handleManagementRequest, type ManagementDeps } from '../../lambdas/core/admin/router';
import { registerDevice } from '../../lambdas/core/devices';
import { deliverNotification } from '../../lambdas/core/delivery';
import { isHeraldError } from '../../lambdas/core/errors';
import type { HttpRequest, HttpResponse } from '../../lambdas/core/http';
import { stampNotification, validateNotification } from '../../lambdas/core/notification';
import { findParser } from '../../lambdas/core/parsers/registry';
import type { PublishInput, PushGateway } from '../../lambdas/core/push/gateway';
import { setSourceSecret } from '../../lambdas/core/sources/source-secrets';
import { FileVault, signingKeyName } from '../../lambdas/core/sources/vault';
import { authenticate } from '../../lambdas/core/auth/authenticate';
import { createBucket } from '../../lambdas/core/store/buckets';
import { createHarness, type Harness } from './harness';

/** The management router on the real store: what the admin Lambda and the device API run. */
class RecordingGateway implements PushGateway {
  readonly published: PublishInput[] = [];
  readonly deleted: string[] = [];
  async ensureEndpoint(app: string, token: string, known?: string): Promise<string> {
    return known ?? `${app.replace(':app/', ':endpoint/')}/${token.slice(-8)}`;
  }
  async publish(input: PublishInput): Promise<string> {
    this.published.push(input);
    return `m-${this.published.length}`;
  }
  async deleteEndpoint(arn: string): Promise<void> {
    this.deleted.push(arn);
  }
}

const APPS = { APNS: 'arn:aws:sns:us-east-1:123456789012:app/APNS/herald-apns', GCM: 'arn:aws:sns:us-east-1:123456789012:app/GCM/herald-fcm' };
let harness: Harness;
let deps: ManagementDeps & { gateway: RecordingGateway; vault: FileVault };

beforeAll(async () => {
  harness = await createHarness();
});

beforeEach(() => {
  deps = { store: harness.store, gateway: new RecordingGateway(), vault: new FileVault(), platformApplications: APPS };
});

async function admin(method: string, path: string, body?: unknown, query: Record<string, string> = {}): Promise<{ status: number; json: Record<string, unknown> }> {
  const request: HttpRequest = { method, path, query, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: Buffer.from(body === undefined ? '' : JSON.stringify(body)) };
  let response: HttpResponse | undefined;
  try {
    response = await handleManagementRequest(request, deps, true);
  } catch (error) {
    if (!isHeraldError(error)) throw error;
    return { status: error.status, json: error.toJSON() };
  }
  return { status: response!.status, json: response!.body ? (JSON.parse(response!.body) as Record<string, unknown>) : {} };
}

const requestWith = (token: string): HttpRequest => ({ method: 'POST', path: '/message', query: {}, headers: { authorization: `Bearer ${token}` }, body: Buffer.alloc(0) });

describe('management API', () => {
  test('without IAM, admin routes are refused with 403', async () => {
    const request: HttpRequest = { method: 'GET', path: '/admin/buckets', query: {}, headers: {}, body: Buffer.alloc(0) };
    await expect(handleManagementRequest(request, deps, false)).rejects.toMatchObject({ code: 'forbidden' });
  });

  test('a revoked token fails on the next request with token_revoked', async () => {
    await admin('POST', '/admin/buckets', { name: 'mgmt-revoke' });
    const created = await admin('POST', '/admin/buckets/mgmt-revoke/tokens', { name: 'ci', scopes: ['send'] });
    expect(created.status).toBe(201);
    const { secret, credential } = created.json as { secret: string; credential: { id: string } };
    expect((await authenticate(harness.store, requestWith(secret))).scopes).toEqual(['send']);
    const listed = await admin('GET', '/admin/buckets/mgmt-revoke/tokens');
    expect(JSON.stringify(listed.json)).not.toContain(secret);
    expect((await admin('DELETE', `/admin/buckets/mgmt-revoke/tokens/${credential.id}`)).status).toBe(204);
    await expect(authenticate(harness.store, requestWith(secret))).rejects.toMatchObject({ code: 'token_revoked', status: 401 });
  });

  test('an expired token fails with token_expired', async () => {
    const { bucket } = await createBucket(harness.store, { name: 'mgmt-expiry' });
    const { addCredential } = await import('../../lambdas/core/store/credentials');
    await addCredential(harness.store, { bucketId: bucket.id, kind: 'token', secret: 'hrld_expired-token-for-the-test-000000', validUntil: new Date(Date.now() - 1000) });
    await expect(authenticate(harness.store, requestWith('hrld_expired-token-for-the-test-000000'))).rejects.toMatchObject({ code: 'token_expired' });
  });

  test('a rotated magic code makes the old one fail', async () => {
    await admin('POST', '/admin/buckets', { name: 'mgmt-rotate' });
    const codes = (await admin('GET', '/admin/buckets/mgmt-rotate/magic-codes')).json.magicCodes as { id: string }[];
    const created = (await admin('POST', '/admin/buckets/mgmt-rotate/magic-codes', { name: 'authentik' })).json as { secret: string; credential: { id: string } };
    const rotated = (await admin('POST', `/admin/buckets/mgmt-rotate/magic-codes/${created.credential.id}/rotate`)).json as { secret: string };
    const viaCode = (code: string): HttpRequest => ({ method: 'POST', path: '/transform', query: { magicCode: code }, headers: {}, body: Buffer.alloc(0) });
    await expect(authenticate(harness.store, viaCode(created.secret))).rejects.toMatchObject({ code: 'token_revoked' });
    expect((await authenticate(harness.store, viaCode(rotated.secret))).via).toBe('magicCode');
    expect(codes).toHaveLength(1);
  });

  test('history lists a delivered notification with its per-device outcomes', async () => {
    const { bucket } = await createBucket(harness.store, { name: 'mgmt-history' });
    await registerDevice(deps, bucket.id, { platform: 'ios', token: 'a'.repeat(64) });
    await registerDevice(deps, bucket.id, { platform: 'android', token: 'fcm-token-history-0001' });
    const notification = stampNotification(validateNotification({ title: 'Backup done' }), bucket.id, 'native');
    await deliverNotification(deps, notification);
    const list = await admin('GET', '/admin/buckets/mgmt-history/notifications');
    expect((list.json.notifications as { notification: { id: string }; outcomes: Record<string, number> }[])[0]).toMatchObject({ notification: { id: notification.id }, outcomes: { sent: 2 } });
    const detail = await admin('GET', `/admin/buckets/mgmt-history/notifications/${notification.id}`);
    expect((detail.json.devices as { status: string }[]).map((device) => device.status)).toEqual(['sent', 'sent']);
  });

  test('deleting a bucket deletes its endpoints and all its items', async () => {
    // GIVEN a bucket with devices, a source secret and a delivered notification
    const created = await admin('POST', '/admin/buckets', { name: 'mgmt-delete' });
    const { bucket, token } = created.json as { bucket: { id: string }; token: string };
    await registerDevice(deps, bucket.id, { platform: 'ios', token: 'b'.repeat(64) });
    await registerDevice(deps, bucket.id, { platform: 'android', token: 'fcm-token-delete-0001' });
    await setSourceSecret(deps, bucket.id, findParser('zitadel'), 'zitadel-signing-key-0001');
    await deliverNotification(deps, stampNotification(validateNotification({ title: 'x' }), bucket.id, 'native'));
    // WHEN
    expect((await admin('DELETE', '/admin/buckets/mgmt-delete')).status).toBe(204);
    // THEN
    expect(deps.gateway.deleted).toHaveLength(2);
    expect((await admin('GET', '/admin/buckets/mgmt-delete')).status).toBe(404);
    expect((await admin('DELETE', '/admin/buckets/mgmt-delete')).status).toBe(404);
    await expect(authenticate(harness.store, requestWith(token))).rejects.toMatchObject({ code: 'unauthorized' });
    expect(await deps.vault.get(signingKeyName(bucket.id, 'zitadel'))).toBeUndefined();
    const { ScanCommand } = await import('@aws-sdk/lib-dynamodb');
    const left = (await harness.store.doc.send(new ScanCommand({ TableName: harness.tableName }))).Items ?? [];
    expect(left.filter((item) => JSON.stringify(item).includes(bucket.id))).toEqual([]);
  });

  test('a device token refresh keeps the device and re-enables it', async () => {
    const created = (await admin('POST', '/admin/buckets', { name: 'mgmt-refresh' })).json as { bucket: { id: string }; token: string };
    const { device } = await registerDevice(deps, created.bucket.id, { platform: 'android', token: 'fcm-token-old-0001' });
    await admin('POST', `/admin/buckets/mgmt-refresh/devices/${device.id}/disable`);
    const request: HttpRequest = { method: 'PUT', path: `/devices/${device.id}/token`, query: {}, headers: { authorization: `Bearer ${created.token}`, 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify({ token: 'fcm-token-new-0002' })) };
    const response = await handleManagementRequest(request, deps, false);
    expect(response!.status).toBe(200);
    expect(JSON.parse(response!.body).device).toMatchObject({ id: device.id, enabled: true });
    // Registering the new token again finds the same device.
    expect((await registerDevice(deps, created.bucket.id, { platform: 'android', token: 'fcm-token-new-0002' })).created).toBe(false);
  });

  test('validation errors name the field', async () => {
    const result = await admin('POST', '/admin/buckets/x/tokens', { scopes: ['everything'] });
    expect(result.status).toBe(404);
    await admin('POST', '/admin/buckets', { name: 'mgmt-validation' });
    const bad = await admin('POST', '/admin/buckets/mgmt-validation/tokens', { scopes: ['everything'] });
    expect(bad.status).toBe(400);
    expect(bad.json.message).toMatch(/name|scopes/);
  });
});

describe('management API, renaming and deletion at the SNS boundary', () => {
  test('a renamed bucket answers to its new name, and the old one is free again', async () => {
    await admin('POST', '/admin/buckets', { name: 'mgmt-old-name' });
    const renamed = await admin('PATCH', '/admin/buckets/mgmt-old-name', { name: 'mgmt-new-name', displayName: 'New' });
    expect(renamed.json.bucket).toMatchObject({ name: 'mgmt-new-name', displayName: 'New' });
    expect((await admin('GET', '/admin/buckets/mgmt-new-name')).status).toBe(200);
    expect((await admin('GET', '/admin/buckets/mgmt-old-name')).status).toBe(404);
    expect((await admin('POST', '/admin/buckets', { name: 'mgmt-old-name' })).status).toBe(201);
    expect((await admin('PATCH', '/admin/buckets/mgmt-new-name', { name: 'mgmt-old-name' })).status).toBe(400);
  });

  test('deleting a bucket deletes each device endpoint with SNS DeleteEndpoint', async () => {
    const { mockClient } = await import('aws-sdk-client-mock');
    const { SNSClient, DeleteEndpointCommand, CreatePlatformEndpointCommand, GetEndpointAttributesCommand } = await import('@aws-sdk/client-sns');
    const { SnsPushGateway } = await import('../../lambdas/core/push/sns-gateway');
    const sns = mockClient(SNSClient);
    try {
      sns.on(CreatePlatformEndpointCommand).callsFake((input: { Token: string }) => ({ EndpointArn: `arn:aws:sns:us-east-1:123456789012:endpoint/GCM/herald-fcm/${input.Token.slice(-4)}` }));
      sns.on(GetEndpointAttributesCommand).callsFake((input: { EndpointArn: string }) => ({ Attributes: { Enabled: 'true', Token: `fcm-token-sns-${input.EndpointArn.slice(-4)}` } }));
      sns.on(DeleteEndpointCommand).resolves({});
      const snsDeps = { ...deps, gateway: new SnsPushGateway(new SNSClient({ region: 'us-east-1' })) };
      const { bucket } = await createBucket(harness.store, { name: 'mgmt-sns-delete' });
      await registerDevice(snsDeps, bucket.id, { platform: 'android', token: 'fcm-token-sns-0001' });
      await registerDevice(snsDeps, bucket.id, { platform: 'android', token: 'fcm-token-sns-0002' });
      const request: HttpRequest = { method: 'DELETE', path: '/admin/buckets/mgmt-sns-delete', query: {}, headers: {}, body: Buffer.alloc(0) };
      expect((await handleManagementRequest(request, snsDeps, true))!.status).toBe(204);
      expect(sns.commandCalls(DeleteEndpointCommand).map((call) => call.args[0].input.EndpointArn).sort()).toEqual([
        'arn:aws:sns:us-east-1:123456789012:endpoint/GCM/herald-fcm/0001',
        'arn:aws:sns:us-east-1:123456789012:endpoint/GCM/herald-fcm/0002',
      ]);
    } finally {
      sns.restore();
    }
  });
});
