import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ReceiveMessageCommand, DeleteMessageCommand } from '@aws-sdk/client-sqs';
import { handleApiRequest, type ApiDeps } from '../../lambdas/core/api';
import type { HttpRequest } from '../../lambdas/core/http';
import { findParser } from '../../lambdas/core/parsers/registry';
import type { PushGateway } from '../../lambdas/core/push/gateway';
import { SqsNotificationQueue } from '../../lambdas/core/queue';
import { setSourceSecret } from '../../lambdas/core/sources/source-secrets';
import { FileVault } from '../../lambdas/core/sources/vault';
import { createBucket, type CreatedBucket } from '../../lambdas/core/store/buckets';
import { createHarness, type Harness } from './harness';

/**
 * Sources that authenticate themselves (signature, secret header) through the real router, store,
 * queue and vault: the secret configured for the bucket replaces a token, and replays are dropped.
 */
interface Meta {
  request: { method: string; headers: Record<string, string> };
  signing?: { secret: string; verifyAt?: number } | null;
  auth?: { expected: string };
}
const FIXTURES = path.join(__dirname, '..', 'fixtures');
const body = (source: string, name: string) => readFileSync(path.join(FIXTURES, source, `${name}.json`));
const meta = (source: string, name: string) => JSON.parse(readFileSync(path.join(FIXTURES, source, `${name}.meta.json`), 'utf8')) as Meta;
const lower = (headers: Record<string, string>) => Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));

const noGateway: PushGateway = { ensureEndpoint: () => Promise.reject(new Error('unused')), publish: () => Promise.reject(new Error('unused')), deleteEndpoint: () => Promise.reject(new Error('unused')) };

let harness: Harness;
let bucket: CreatedBucket;
let unconfigured: CreatedBucket;
let now = new Date();
let deps: ApiDeps;

beforeAll(async () => {
  harness = await createHarness();
  deps = { store: harness.store, queue: new SqsNotificationQueue(harness.queues.queueUrl, harness.sqs), gateway: noGateway, platformApplications: {}, vault: new FileVault(), now: () => now };
  bucket = await createBucket(harness.store, { name: 'idp-events' });
  unconfigured = await createBucket(harness.store, { name: 'no-secrets' });
  await setSourceSecret(deps, bucket.bucket.id, findParser('zitadel'), meta('zitadel', 'event-user-locked').signing!.secret);
  await setSourceSecret(deps, bucket.bucket.id, findParser('okta'), meta('okta', 'event-user-session-start-failure').auth!.expected);
});

function request(method: string, route: string, query: Record<string, string>, headers: Record<string, string>, payload: Buffer): HttpRequest {
  return { method, path: route, query, headers, body: payload };
}

async function drain(): Promise<string[]> {
  const titles: string[] = [];
  for (;;) {
    const { Messages = [] } = await harness.sqs.send(new ReceiveMessageCommand({ QueueUrl: harness.queues.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    if (Messages.length === 0) return titles;
    for (const message of Messages) {
      titles.push((JSON.parse(message.Body!) as { notification: { title: string } }).notification.title);
      await harness.sqs.send(new DeleteMessageCommand({ QueueUrl: harness.queues.queueUrl, ReceiptHandle: message.ReceiptHandle! }));
    }
  }
}

describe('a signed source (ZITADEL)', () => {
  const zitadel = meta('zitadel', 'event-user-locked');
  const signed = () => request('POST', '/webhooks/zitadel', { bucketId: 'idp-events' }, lower(zitadel.request.headers), body('zitadel', 'event-user-locked'));

  beforeEach(async () => {
    now = new Date(zitadel.signing!.verifyAt! * 1000);
    await drain();
  });

  test('its signature authenticates the call in place of a token, and the reply is what ZITADEL expects', async () => {
    const { response } = await handleApiRequest(signed(), deps);
    expect(response.status).toBe(200);
    expect(response.body).not.toContain('forwardedStatusCode');
    expect(await drain()).toHaveLength(1);
  });

  test('a replayed delivery answers 2xx and queues nothing', async () => {
    const { response } = await handleApiRequest(signed(), deps);
    expect(response.status).toBe(200);
    expect(await drain()).toEqual([]);
  });

  test('one changed byte is refused', async () => {
    const tampered = signed();
    const changed = Buffer.from(tampered.body);
    changed[changed.length - 2] ^= 1;
    const { response } = await handleApiRequest({ ...tampered, body: changed }, deps);
    expect(response.status).toBe(401);
    expect(JSON.parse(response.body).error).toBe('invalid_signature');
  });

  test('a signature older than 300 s is refused', async () => {
    now = new Date((zitadel.signing!.verifyAt! + 400) * 1000);
    const { response } = await handleApiRequest(signed(), deps);
    expect(response.status).toBe(401);
    expect(JSON.parse(response.body).error).toBe('signature_expired');
  });

  test('a bucket without the source secret says so', async () => {
    const { response } = await handleApiRequest({ ...signed(), query: { bucketId: 'no-secrets' } }, deps);
    expect(response.status).toBe(401);
    expect(JSON.parse(response.body).error).toBe('source_secret_missing');
  });

  test('with a secret configured, a magic code does not excuse a bad signature', async () => {
    const { response } = await handleApiRequest({ ...signed(), query: { magicCode: bucket.magicCode }, headers: { 'content-type': 'application/json', 'zitadel-signature': 't=1,v1=00' } }, deps);
    expect(response.status).toBe(401);
  });

  test('without a secret configured, the magic code alone is enough', async () => {
    const { response } = await handleApiRequest(
      request('POST', '/transform', { parser: 'zitadel', magicCode: unconfigured.magicCode }, { 'content-type': 'application/json' }, body('zitadel', 'event-user-locked')),
      deps,
    );
    expect(response.status).toBe(200);
  });

  test('/transform recognises ZITADEL without ?parser=', async () => {
    const { response } = await handleApiRequest({ ...signed(), path: '/transform', query: { bucketId: 'idp-events' } }, deps);
    expect(response.status).toBe(200);
  });
});

describe('a source with a static secret header (Okta)', () => {
  const okta = meta('okta', 'event-user-session-start-failure');
  const post = (headers: Record<string, string>) =>
    request('POST', '/webhooks/okta', { bucketId: 'idp-events' }, headers, body('okta', 'event-user-session-start-failure'));

  beforeEach(() => drain());

  test('the header secret authenticates; Okta gets 200 with an empty body', async () => {
    const { response } = await handleApiRequest(post(lower(okta.request.headers)), deps);
    expect(response.status).toBe(200);
    expect(response.body).toBe('');
    expect((await drain()).length).toBeGreaterThan(0);
  });

  test('a wrong header secret is refused', async () => {
    const { response } = await handleApiRequest(post({ ...lower(okta.request.headers), authorization: 'okta-hook-guess' }), deps);
    expect(response.status).toBe(401);
    expect(JSON.parse(response.body).error).toBe('invalid_signature');
  });

  test('the one-time verification GET is answered with the challenge', async () => {
    const verification = meta('okta', 'verification-request');
    const headers = { ...lower(verification.request.headers), authorization: okta.auth!.expected };
    const { response } = await handleApiRequest(request('GET', '/webhooks/okta', { bucketId: 'idp-events' }, headers, Buffer.alloc(0)), deps);
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toEqual(JSON.parse(readFileSync(path.join(FIXTURES, 'okta', 'verification-response.json'), 'utf8')));
  });

  test('the verification GET without the secret header gets no challenge back', async () => {
    const verification = meta('okta', 'verification-request');
    const { response } = await handleApiRequest(request('GET', '/webhooks/okta', { bucketId: 'idp-events' }, { ...lower(verification.request.headers), authorization: 'wrong' }, Buffer.alloc(0)), deps);
    expect(response.status).toBe(401);
    expect(response.body).not.toContain('verification');
  });
});

describe('a source whose secret header is a Bearer value (Auth0)', () => {
  const auth0 = meta('auth0', 'jsonarray-batch');

  beforeAll(async () => {
    await setSourceSecret(deps, bucket.bucket.id, findParser('auth0'), auth0.auth!.expected);
  });

  beforeEach(() => drain());

  test('its Authorization header is the source secret, not a bucket token', async () => {
    expect(auth0.auth!.expected).toMatch(/^Bearer /);
    const { response } = await handleApiRequest(
      request('POST', '/webhooks/auth0', { bucketId: 'idp-events' }, lower(auth0.request.headers), body('auth0', 'jsonarray-batch')),
      deps,
    );
    expect(response.status).toBe(201);
    expect((await drain()).length).toBeGreaterThan(0);
  });

  test('with the magic code too, the header is still checked', async () => {
    const { response } = await handleApiRequest(
      request('POST', '/webhooks/auth0', { magicCode: bucket.magicCode }, { ...lower(auth0.request.headers), authorization: 'Bearer wrong' }, body('auth0', 'jsonarray-batch')),
      deps,
    );
    expect(response.status).toBe(401);
    expect(JSON.parse(response.body).error).toBe('invalid_signature');
  });
});
