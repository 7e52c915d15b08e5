import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AdminEvent } from '../../lambdas/admin';
import { signingKeyName } from '../../lambdas/core/sources/vault';
import { getDevice } from '../../lambdas/core/store/devices';
import { LOCAL_CREDENTIALS, startLocalHerald, type LocalHerald } from '../../lambdas/local/server';
import { waitFor } from './helpers';

/**
 * The admin API through local mode, end to end: SigV4-signed requests (as the herald CLI and any AWS
 * SDK make them) checked as API Gateway's IAM authorizer would, the real admin handler, and the
 * token-scoped device and history routes of the public handler, on the shared stand-ins.
 */

interface Reply<T = Record<string, any>> {
  readonly status: number;
  readonly json: T;
  readonly text: string;
}

let herald: LocalHerald;
/** Every event that reached the admin handler. */
const adminEvents: AdminEvent[] = [];

beforeAll(async () => {
  const suffix = randomUUID().slice(0, 8);
  herald = await startLocalHerald({
    port: 0,
    standIns: { dynamodbEndpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB!, sqsEndpoint: process.env.AWS_ENDPOINT_URL_SQS! },
    tableName: `herald-admin-${suffix}`,
    queueName: `herald-admin-${suffix}`,
    wrapAdminHandler: (handler) => async (event, context) => {
      adminEvents.push(event);
      return handler(event, context);
    },
  });
});

afterAll(async () => {
  await herald?.stop();
});

async function reply<T = Record<string, any>>(response: Response): Promise<Reply<T>> {
  const text = await response.text();
  return { status: response.status, text, json: (text ? JSON.parse(text) : undefined) as T };
}

interface SignOptions {
  readonly secretAccessKey?: string;
  /** Sent instead of the body that was signed. */
  readonly sentBody?: string;
  readonly query?: Record<string, string>;
}

/** A request to the admin API signed with SigV4 (execute-api, us-east-1) with local mode's credentials. */
async function admin<T = Record<string, any>>(method: string, route: string, body?: unknown, options: SignOptions = {}): Promise<Reply<T>> {
  const url = new URL(herald.url + route);
  for (const [name, value] of Object.entries(options.query ?? {})) url.searchParams.set(name, value);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const signer = new SignatureV4({
    credentials: { accessKeyId: LOCAL_CREDENTIALS.accessKeyId, secretAccessKey: options.secretAccessKey ?? LOCAL_CREDENTIALS.secretAccessKey },
    region: 'us-east-1',
    service: 'execute-api',
    sha256: Sha256,
  });
  const signed = await signer.sign({
    method,
    protocol: url.protocol,
    hostname: url.hostname,
    port: Number(url.port),
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    headers: { host: url.host, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) },
    body: payload,
  });
  const { host: _host, ...headers } = signed.headers;
  return reply<T>(await fetch(url, { method, headers, body: options.sentBody ?? payload }));
}

/** A request to the public API with a bucket token. */
async function call<T = Record<string, any>>(method: string, route: string, token: string, body?: unknown): Promise<Reply<T>> {
  return reply<T>(
    await fetch(herald.url + route, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    }),
  );
}

const send = (token: string, title = 'Hello') => call('POST', '/message', token, { title });

interface CreatedBucket {
  bucket: { id: string; name: string; displayName?: string };
  token: string;
  magicCode: string;
}

async function createBucket(prefix: string): Promise<CreatedBucket> {
  const created = await admin<CreatedBucket>('POST', '/admin/buckets', { name: `${prefix}-${randomUUID().slice(0, 6)}`, displayName: prefix });
  expect(created.status).toBe(201);
  return created.json;
}

async function registerDevice(token: string, platform: 'ios' | 'android', name: string): Promise<string> {
  const registered = await call<{ device: { id: string } }>('POST', '/devices', token, { platform, token: `${name}-${randomUUID()}`, name });
  expect(registered.status).toBe(201);
  return registered.json.device.id;
}

describe('admin API authorization (SigV4, as API Gateway\'s IAM authorizer)', () => {
  test('a signed request reaches the admin handler with the IAM caller API Gateway would set', async () => {
    const before = adminEvents.length;

    const listed = await admin('GET', '/admin/buckets');

    expect(listed.status).toBe(200);
    const event = adminEvents[before]!;
    expect(event.routeKey).toBe('ANY /admin/{proxy+}');
    expect(event.pathParameters).toEqual({ proxy: 'buckets' });
    expect(event.requestContext.authorizer?.iam).toMatchObject({ accessKey: 'local', accountId: '000000000000', userArn: 'arn:aws:iam::000000000000:user/local' });
  });

  test('an unsigned request is refused with 403 and never reaches the handler', async () => {
    const name = `unsigned-${randomUUID().slice(0, 6)}`;
    const before = adminEvents.length;

    const refused = await reply(await fetch(`${herald.url}/admin/buckets`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name }) }));

    expect(refused.status).toBe(403);
    expect(refused.json).toEqual({ error: 'forbidden', message: expect.stringContaining('SigV4') });
    expect(adminEvents.length).toBe(before);
    expect((await admin('GET', `/admin/buckets/${name}`)).status).toBe(404);
  });

  test('a request signed with a wrong secret is refused with 403', async () => {
    const before = adminEvents.length;

    const refused = await admin('GET', '/admin/buckets', undefined, { secretAccessKey: 'not-local' });

    expect(refused.status).toBe(403);
    expect(refused.json).toEqual({ error: 'forbidden', message: expect.stringContaining('signature') });
    expect(adminEvents.length).toBe(before);
  });

  test('a body changed after signing is refused with 403', async () => {
    const name = `tampered-${randomUUID().slice(0, 6)}`;

    const refused = await admin('POST', '/admin/buckets', { name: 'signed-name' }, { sentBody: JSON.stringify({ name }) });

    expect(refused.status).toBe(403);
    expect(refused.json.error).toBe('forbidden');
    expect((await admin('GET', `/admin/buckets/${name}`)).status).toBe(404);
  });

  test('a bearer token does not open the admin API', async () => {
    const refused = await call('GET', '/admin/buckets', herald.demo.token);

    expect(refused.status).toBe(403);
  });

  test('a signed request for a path that is no admin route gets 404, and a wrong method 405', async () => {
    const missing = await admin('GET', '/admin/nothing-here');
    const wrongMethod = await admin('PUT', '/admin/buckets', {});

    expect(missing.status).toBe(404);
    expect(missing.json.error).toBe('not_found');
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.json.error).toBe('method_not_allowed');
  });
});

describe('buckets', () => {
  test('a created bucket\'s token and magic code work on POST /message', async () => {
    const created = await createBucket('alerts');

    expect(created.bucket).toMatchObject({ id: expect.any(String), displayName: 'alerts' });
    expect((await send(created.token)).status).toBe(201);
    expect((await reply(await fetch(`${herald.url}/message?magicCode=${created.magicCode}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"title":"hi"}' }))).status).toBe(201);
  });

  test('are listed, and found by name or id', async () => {
    const created = await createBucket('listed');

    const listed = await admin<{ buckets: { id: string }[] }>('GET', '/admin/buckets');
    const byName = await admin('GET', `/admin/buckets/${created.bucket.name}`);
    const byId = await admin('GET', `/admin/buckets/${created.bucket.id}`);

    expect(listed.json.buckets.map((bucket) => bucket.id)).toContain(created.bucket.id);
    expect(byName.json.bucket).toEqual(created.bucket);
    expect(byId.json.bucket).toEqual(created.bucket);
  });

  test('update changes the settings given and names a bad field', async () => {
    const created = await createBucket('updated');

    const updated = await admin('PATCH', `/admin/buckets/${created.bucket.name}`, { displayName: 'Renamed', routineSources: ['authentik'] });
    const invalid = await admin('PATCH', `/admin/buckets/${created.bucket.name}`, { displayName: 42 });

    expect(updated.status).toBe(200);
    expect(updated.json.bucket).toMatchObject({ id: created.bucket.id, displayName: 'Renamed', routineSources: ['authentik'] });
    expect((await admin('GET', `/admin/buckets/${created.bucket.id}`)).json.bucket.displayName).toBe('Renamed');
    expect(invalid.status).toBe(400);
    expect(invalid.json.message).toContain('displayName');
  });

  test('delete removes the bucket, its devices\' endpoints and its credentials', async () => {
    // GIVEN a bucket with two devices
    const created = await createBucket('doomed');
    const deviceIds = [await registerDevice(created.token, 'ios', 'phone'), await registerDevice(created.token, 'android', 'tablet')];
    const endpoints = await Promise.all(deviceIds.map(async (id) => (await getDevice(herald.store, created.bucket.id, id))!.endpointArn!));

    // WHEN it is deleted
    const deleted = await admin('DELETE', `/admin/buckets/${created.bucket.name}`);

    // THEN it is gone, with its devices' SNS endpoints, and its token no longer works
    expect(deleted.status).toBe(204);
    expect(deleted.text).toBe('');
    expect((await admin('GET', `/admin/buckets/${created.bucket.id}`)).status).toBe(404);
    expect((await admin('DELETE', `/admin/buckets/${created.bucket.name}`)).status).toBe(404);
    expect(herald.push.deletedEndpoints).toEqual(expect.arrayContaining(endpoints));
    expect((await send(created.token)).status).toBe(401);
  });
});

describe('tokens', () => {
  test('a token with only the read scope cannot send: 403 naming the scope; it reads history', async () => {
    const created = await createBucket('scoped');

    const token = await admin('POST', `/admin/buckets/${created.bucket.name}/tokens`, { name: 'dashboard', scopes: ['read'] });
    const sent = await send(token.json.secret);
    const read = await call('GET', '/notifications', token.json.secret);

    expect(token.status).toBe(201);
    expect(token.json.credential).toMatchObject({ kind: 'token', name: 'dashboard', scopes: ['read'] });
    expect(sent.status).toBe(403);
    expect(sent.json.message).toContain('"send" scope');
    expect(read.status).toBe(200);
  });

  test('an expiry in the past is refused with 400 naming expiresAt', async () => {
    const created = await createBucket('expiry');

    const refused = await admin('POST', `/admin/buckets/${created.bucket.name}/tokens`, { name: 'late', expiresAt: '2020-01-01T00:00:00Z' });

    expect(refused.status).toBe(400);
    expect(refused.json).toEqual({ error: 'validation_failed', message: expect.stringContaining('expiresAt') });
  });

  test('are listed without their secrets', async () => {
    const created = await createBucket('listing');
    const token = await admin('POST', `/admin/buckets/${created.bucket.name}/tokens`, { name: 'ci' });

    const listed = await admin<{ tokens: { id: string; name?: string }[] }>('GET', `/admin/buckets/${created.bucket.name}/tokens`);

    expect(listed.status).toBe(200);
    expect(listed.json.tokens.map((entry) => entry.name).sort()).toEqual(['ci', 'first token']);
    expect(listed.text).not.toContain(token.json.secret);
    expect(listed.text).not.toContain(created.token);
    expect(listed.text).not.toMatch(/"(hash|secret)"/);
  });

  test('a revoked token gets 401 token_revoked on the next request', async () => {
    const created = await createBucket('revoked');
    const token = await admin('POST', `/admin/buckets/${created.bucket.name}/tokens`, { name: 'leaked' });
    expect((await send(token.json.secret)).status).toBe(201);

    const revoked = await admin('DELETE', `/admin/buckets/${created.bucket.name}/tokens/${token.json.credential.id}`);
    const after = await send(token.json.secret);

    expect(revoked.status).toBe(204);
    expect(after.status).toBe(401);
    expect(after.json.error).toBe('token_revoked');
    expect((await send(created.token)).status).toBe(201);
  });
});

describe('magic codes', () => {
  const sendWithCode = async (code: string) =>
    reply(await fetch(`${herald.url}/message?magicCode=${code}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"title":"hi"}' }));

  test('a created magic code sends', async () => {
    const created = await createBucket('codes');

    const code = await admin('POST', `/admin/buckets/${created.bucket.name}/magic-codes`, { name: 'authentik' });

    expect(code.status).toBe(201);
    expect(code.json.credential).toMatchObject({ kind: 'magicCode', name: 'authentik', scopes: ['send'] });
    expect((await sendWithCode(code.json.secret)).status).toBe(201);
  });

  test('rotation: the old code gets 401 token_revoked, the new one works', async () => {
    const created = await createBucket('rotated');
    const codes = await admin<{ magicCodes: { id: string }[] }>('GET', `/admin/buckets/${created.bucket.name}/magic-codes`);
    const [original] = codes.json.magicCodes;

    const rotated = await admin('POST', `/admin/buckets/${created.bucket.name}/magic-codes/${original!.id}/rotate`);
    const old = await sendWithCode(created.magicCode);

    expect(rotated.status).toBe(201);
    expect(old.status).toBe(401);
    expect(old.json.error).toBe('token_revoked');
    expect((await sendWithCode(rotated.json.secret)).status).toBe(201);
  });
});

describe('source secrets', () => {
  const FIXTURES = path.join(__dirname, '..', 'fixtures', 'okta');
  const oktaMeta = JSON.parse(readFileSync(path.join(FIXTURES, 'event-user-session-start-failure.meta.json'), 'utf8')) as { request: { headers: Record<string, string> }; auth: { expected: string } };
  const oktaBody = readFileSync(path.join(FIXTURES, 'event-user-session-start-failure.json'));
  const postOkta = (bucket: string) =>
    fetch(`${herald.url}/webhooks/okta?bucketId=${bucket}`, { method: 'POST', headers: oktaMeta.request.headers, body: oktaBody });

  test('a secret header set for a source authenticates its webhooks until it is removed', async () => {
    const created = await createBucket('okta');

    const set = await admin('PUT', `/admin/buckets/${created.bucket.name}/sources/okta/secret`, { secret: oktaMeta.auth.expected });
    const accepted = await postOkta(created.bucket.name);
    const removed = await admin('DELETE', `/admin/buckets/${created.bucket.name}/sources/okta/secret`);
    const refused = await postOkta(created.bucket.name);

    expect(set.status).toBe(204);
    expect(accepted.status).toBe(200);
    expect(removed.status).toBe(204);
    expect(refused.status).toBe(401);
  });

  test('a signing key is kept in the vault (Secrets Manager\'s stand-in) and removed from it', async () => {
    const created = await createBucket('zitadel');
    const keyName = signingKeyName(created.bucket.id, 'zitadel');

    expect((await admin('PUT', `/admin/buckets/${created.bucket.name}/sources/zitadel/secret`, { secret: 'zitadel-signing-key-1' })).status).toBe(204);
    expect(await herald.vault.get(keyName)).toBe('zitadel-signing-key-1');
    expect((await admin('DELETE', `/admin/buckets/${created.bucket.name}/sources/zitadel/secret`)).status).toBe(204);
    expect(await herald.vault.get(keyName)).toBeUndefined();
  });

  test('a secret for an unknown source is refused naming it', async () => {
    const created = await createBucket('unknown');

    const refused = await admin('PUT', `/admin/buckets/${created.bucket.name}/sources/nope/secret`, { secret: 'long-enough-secret' });

    expect(refused.status).toBe(400);
    expect(refused.json.message).toContain('nope');
  });
});

describe('devices', () => {
  test('are listed without tokens or endpoint ARNs', async () => {
    const created = await createBucket('devices');
    const deviceId = await registerDevice(created.token, 'ios', 'listed-phone');

    const listed = await admin<{ devices: { id: string; name: string; enabled: boolean }[] }>('GET', `/admin/buckets/${created.bucket.name}/devices`, undefined, { query: { limit: '10' } });

    expect(listed.status).toBe(200);
    expect(listed.json.devices).toEqual([expect.objectContaining({ id: deviceId, name: 'listed-phone', platform: 'ios', enabled: true })]);
    expect(listed.text).not.toContain('arn:aws:sns');
    expect(listed.text).not.toContain('listed-phone-');
  });

  test('disable stops a device; the device refreshing its token (PUT /devices/{id}/token) re-enables it', async () => {
    const created = await createBucket('refresh');
    const deviceId = await registerDevice(created.token, 'android', 'pixel');

    const disabled = await admin('POST', `/admin/buckets/${created.bucket.name}/devices/${deviceId}/disable`);
    const refreshed = await call('PUT', `/devices/${deviceId}/token`, created.token, { token: `rotated-${randomUUID()}` });

    expect(disabled.status).toBe(200);
    expect(disabled.json.device).toMatchObject({ id: deviceId, enabled: false, disabledReason: expect.any(String) });
    expect(refreshed.status).toBe(200);
    expect(refreshed.json.device).toMatchObject({ id: deviceId, enabled: true });
    expect(refreshed.json.device.disabledReason).toBeUndefined();
  });

  test('delete removes the device and its SNS endpoint', async () => {
    const created = await createBucket('removed');
    const deviceId = await registerDevice(created.token, 'ios', 'old-phone');
    const { endpointArn } = (await getDevice(herald.store, created.bucket.id, deviceId))!;

    const deleted = await admin('DELETE', `/admin/buckets/${created.bucket.name}/devices/${deviceId}`);

    expect(deleted.status).toBe(204);
    expect(herald.push.deletedEndpoints).toContain(endpointArn);
    expect(await getDevice(herald.store, created.bucket.id, deviceId)).toBeUndefined();
    expect((await admin('DELETE', `/admin/buckets/${created.bucket.name}/devices/${deviceId}`)).status).toBe(404);
  });

  test('the phone app unregisters itself (DELETE /devices/{id}) with a devices token, which deletes its endpoint', async () => {
    const created = await createBucket('unregister');
    const deviceId = await registerDevice(created.token, 'android', 'leaving');
    const { endpointArn } = (await getDevice(herald.store, created.bucket.id, deviceId))!;
    const sendOnly = await admin('POST', `/admin/buckets/${created.bucket.name}/tokens`, { name: 'sender', scopes: ['send'] });

    const refused = await call('DELETE', `/devices/${deviceId}`, sendOnly.json.secret);
    const unregistered = await call('DELETE', `/devices/${deviceId}`, created.token);

    expect(refused.status).toBe(403);
    expect(refused.json.message).toContain('"devices" scope');
    expect(unregistered.status).toBe(204);
    expect(herald.push.deletedEndpoints).toContain(endpointArn);
  });
});

describe('history', () => {
  test('lists a delivered notification and gets it with its per-device outcomes, through the admin API and a read token', async () => {
    // GIVEN a bucket with two devices and a notification sent to it
    const created = await createBucket('history');
    const deviceIds = [await registerDevice(created.token, 'ios', 'h-phone'), await registerDevice(created.token, 'android', 'h-pixel')];
    const sent = await send(created.token, 'Delivered');
    expect(sent.status).toBe(201);
    const notificationId = sent.json.message.id as string;

    // WHEN it has been delivered
    const listed = await waitFor('the notification in the bucket\'s history', async () => {
      const page = await admin<{ notifications: { notification: { id: string }; outcomes: Record<string, number> }[] }>('GET', `/admin/buckets/${created.bucket.name}/notifications`);
      return page.json.notifications.find((entry) => entry.notification.id === notificationId) ? page : undefined;
    });

    // THEN the list counts its outcomes and the detail names each device's
    expect(listed.json.notifications[0]).toMatchObject({ notification: { id: notificationId, title: 'Delivered' }, outcomes: { sent: 2 } });
    const detail = await admin('GET', `/admin/buckets/${created.bucket.name}/notifications/${notificationId}`);
    expect(detail.status).toBe(200);
    expect(detail.json.devices.map((outcome: { deviceId: string; status: string }) => [outcome.deviceId, outcome.status]).sort()).toEqual(
      deviceIds.map((id) => [id, 'sent']).sort(),
    );
    const reader = await admin('POST', `/admin/buckets/${created.bucket.name}/tokens`, { name: 'reader', scopes: ['read'] });
    const own = await call('GET', '/notifications', reader.json.secret);
    const ownDetail = await call('GET', `/notifications/${notificationId}`, reader.json.secret);
    expect(own.json.notifications.map((entry: { notification: { id: string } }) => entry.notification.id)).toEqual([notificationId]);
    expect(ownDetail.json.devices).toHaveLength(2);
    expect((await admin('GET', `/admin/buckets/${created.bucket.name}/notifications/not-a-notification`)).status).toBe(404);
  });

  test('a token without the read scope cannot read history', async () => {
    const created = await createBucket('no-read');
    const sender = await admin('POST', `/admin/buckets/${created.bucket.name}/tokens`, { name: 'sender', scopes: ['send'] });

    const refused = await call('GET', '/notifications', sender.json.secret);

    expect(refused.status).toBe(403);
    expect(refused.json.message).toContain('"read" scope');
  });
});

describe('quiet hours and snooze, end to end in local mode', () => {
  /** The pushes each demo-style device got for a notification, once both arrived. */
  async function pushesOf(id: string) {
    const entry = await waitFor(`both pushes of ${id}`, () => {
      const found = herald.inbox.get(id);
      return found && found.deliveries.length === 2 ? found : undefined;
    });
    const apns = entry.deliveries.find((delivery) => delivery.key === 'APNS')!;
    const fcm = entry.deliveries.find((delivery) => delivery.key === 'GCM')!;
    return { entry, aps: apns.payload.aps as Record<string, unknown>, apnsAttributes: apns.attributes, android: ((fcm.payload.fcmV1Message as any).message.android) as Record<string, any> };
  }

  async function historyOf(bucket: string, id: string) {
    return waitFor(`history of ${id}`, async () => {
      const detail = await admin('GET', `/admin/buckets/${bucket}/notifications/${id}`);
      return detail.status === 200 ? detail.json : undefined;
    });
  }

  test('quiet hours covering now: NORMAL arrives passive, CRITICAL alerts, history says how', async () => {
    // GIVEN a bucket with an iPhone and a Pixel, in quiet hours from an hour ago to an hour from now (UTC wall clock)
    const created = await createBucket('quiet');
    await registerDevice(created.token, 'ios', 'q-phone');
    await registerDevice(created.token, 'android', 'q-pixel');
    const wall = (offsetMs: number) => new Date(Date.now() + offsetMs).toISOString().slice(11, 16);
    const patched = await admin('PATCH', `/admin/buckets/${created.bucket.name}`, {
      timeZone: 'UTC',
      quietHours: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], start: wall(-3_600_000), end: wall(3_600_000) }],
    });
    expect(patched.status).toBe(200);

    // WHEN a NORMAL and a CRITICAL notification are sent
    const normal = await call('POST', '/message', created.token, { title: 'Nightly backup done', sound: 'chime.caf' });
    const critical = await call('POST', '/message', created.token, { title: 'Disk failing', deliveryType: 'CRITICAL' });

    // THEN the NORMAL one reached both devices passive: no sound, quiet channel
    const quiet = await pushesOf(normal.json.message.id);
    expect(quiet.aps['interruption-level']).toBe('passive');
    expect(quiet.aps).not.toHaveProperty('sound');
    expect(quiet.apnsAttributes['AWS.SNS.MOBILE.APNS.PRIORITY']).toBe('5');
    expect(quiet.android).toMatchObject({ priority: 'normal', notification: { channel_id: 'herald_quiet', notification_priority: 'PRIORITY_LOW' } });
    expect(quiet.android.notification).not.toHaveProperty('sound');
    expect(quiet.entry.card).toMatchObject({ passive: true });
    // AND the CRITICAL one alerts as ever
    const loud = await pushesOf(critical.json.message.id);
    expect(loud.aps).toMatchObject({ 'interruption-level': 'time-sensitive', sound: 'default' });
    expect(loud.android).toMatchObject({ priority: 'high', notification: { channel_id: 'herald_critical' } });
    expect(loud.entry.card).not.toHaveProperty('passive');
    // AND history records how each was delivered
    expect(await historyOf(created.bucket.name, normal.json.message.id)).toMatchObject({ deliveredAs: 'passive', quietReason: 'quiet_hours', outcomes: { sent: 2 } });
    expect(await historyOf(created.bucket.name, critical.json.message.id)).toMatchObject({ deliveredAs: 'alert', outcomes: { sent: 2 } });
  });

  test('a snooze makes NORMAL passive until it is cleared', async () => {
    const created = await createBucket('snoozed');
    await registerDevice(created.token, 'ios', 's-phone');
    await registerDevice(created.token, 'android', 's-pixel');
    await admin('PATCH', `/admin/buckets/${created.bucket.name}`, { snoozeUntil: new Date(Date.now() + 3_600_000).toISOString() });

    const during = await send(created.token, 'During the snooze');
    const quiet = await pushesOf(during.json.message.id);
    await admin('PATCH', `/admin/buckets/${created.bucket.name}`, { snoozeUntil: null });
    const after = await send(created.token, 'After the snooze');
    const loud = await pushesOf(after.json.message.id);

    expect(quiet.aps['interruption-level']).toBe('passive');
    expect(await historyOf(created.bucket.name, during.json.message.id)).toMatchObject({ deliveredAs: 'passive', quietReason: 'snoozed' });
    expect(loud.aps).toMatchObject({ 'interruption-level': 'active', sound: 'default' });
    expect(loud.android.notification.channel_id).toBe('herald_default');
    expect(await historyOf(created.bucket.name, after.json.message.id)).toMatchObject({ deliveredAs: 'alert' });
  });
});
