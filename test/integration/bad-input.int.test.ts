import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { handleApiRequest, type ApiDeps } from '../../lambdas/core/api';
import { ERROR_STATUS } from '../../lambdas/core/errors';
import type { HttpRequest, HttpResponse } from '../../lambdas/core/http';
import { findParser } from '../../lambdas/core/parsers/registry';
import type { PushGateway } from '../../lambdas/core/push/gateway';
import { SqsNotificationQueue, type DeliveryJob } from '../../lambdas/core/queue';
import { setSourceSecret } from '../../lambdas/core/sources/source-secrets';
import { FileVault } from '../../lambdas/core/sources/vault';
import { createBucket, type CreatedBucket } from '../../lambdas/core/store/buckets';
import { addCredential, revokeCredential } from '../../lambdas/core/store/credentials';
import { createHarness, type Harness } from './harness';

/**
 * The named bad-input table (issue 7): hostile and malformed requests through `handleApiRequest`
 * with the real store and queue, each answered with its exact status and error code, and none of
 * them queueing anything it should not.
 */
const FIXTURES = path.join(__dirname, '..', 'fixtures');
const ZITADEL_BODY = readFileSync(path.join(FIXTURES, 'zitadel', 'event-user-locked.json'));
const ZITADEL = JSON.parse(readFileSync(path.join(FIXTURES, 'zitadel', 'event-user-locked.meta.json'), 'utf8')) as {
  request: { headers: Record<string, string> };
  signing: { secret: string; timestamp: number; verifyAt: number };
};
const AUTHENTIK_BODY = readFileSync(path.join(FIXTURES, 'authentik', 'webhook-login-failed.json'));
const OKTA_BODY = readFileSync(path.join(FIXTURES, 'okta', 'event-user-session-start-failure.json'));
const OKTA_SECRET = 'okta-hook-Secr3t-91c2';
/** The ZITADEL fixture is signed at `timestamp`; requests are handled 10 s later. */
const NOW = new Date(ZITADEL.signing.verifyAt * 1000);
const EXPIRED_TOKEN = 'hrld_bad-input-expired-token-000000000000000';
const REVOKED_TOKEN = 'hrld_bad-input-revoked-token-000000000000000';
const READ_ONLY_TOKEN = 'hrld_bad-input-read-only-token-0000000000000';

const noPush: PushGateway = {
  ensureEndpoint: async (app, token) => `${app.replace(':app/', ':endpoint/')}/${token.length}`,
  publish: () => Promise.reject(new Error('unused')),
  deleteEndpoint: async () => undefined,
};

let harness: Harness;
let deps: ApiDeps;
let alpha: CreatedBucket;
let beta: CreatedBucket;
/** Each request comes from its own address, so the failed-authentication limit never mixes cases. */
let nextIp = 1;

beforeAll(async () => {
  harness = await createHarness();
  deps = {
    store: harness.store,
    queue: new SqsNotificationQueue(harness.queues.queueUrl, harness.sqs),
    gateway: noPush,
    platformApplications: { APNS: 'arn:aws:sns:us-east-1:123456789012:app/APNS/herald-apns' },
    vault: new FileVault(),
    now: () => NOW,
  };
  alpha = await createBucket(harness.store, { name: 'bad-input-alpha' });
  beta = await createBucket(harness.store, { name: 'bad-input-beta' });
  await setSourceSecret(deps, alpha.bucket.id, findParser('zitadel'), ZITADEL.signing.secret);
  await setSourceSecret(deps, alpha.bucket.id, findParser('okta'), OKTA_SECRET);
  await addCredential(harness.store, { bucketId: alpha.bucket.id, kind: 'token', secret: EXPIRED_TOKEN, validUntil: new Date(Date.now() - 60_000) });
  const revoked = await addCredential(harness.store, { bucketId: alpha.bucket.id, kind: 'token', secret: REVOKED_TOKEN });
  await revokeCredential(harness.store, alpha.bucket.id, revoked.credentialId);
  await addCredential(harness.store, { bucketId: alpha.bucket.id, kind: 'token', secret: READ_ONLY_TOKEN, scopes: ['read'] });
});

interface Request {
  method?: string;
  path?: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  /** Sent as application/json unless headers say otherwise. */
  json?: unknown;
  body?: Buffer | string;
}

function request(options: Request): HttpRequest {
  const body = options.json !== undefined ? JSON.stringify(options.json) : (options.body ?? '');
  return {
    method: options.method ?? 'POST',
    path: options.path ?? '/message',
    query: options.query ?? {},
    headers: { ...(options.json !== undefined ? { 'content-type': 'application/json' } : {}), ...options.headers },
    body: Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8'),
    sourceIp: `198.51.100.${nextIp++ % 250}`,
  };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

function zitadelSigned(at: number, key = ZITADEL.signing.secret, body = ZITADEL_BODY): Request {
  const signature = createHmac('sha256', key).update(`${at}.`).update(body).digest('hex');
  return {
    path: '/webhooks/zitadel',
    query: { bucketId: alpha.bucket.name },
    headers: { 'content-type': 'application/json', 'zitadel-signature': `t=${at},v1=${signature}` },
    body,
  };
}

/** Every job queued since the last call (received and deleted). */
async function takeQueued(): Promise<DeliveryJob[]> {
  const jobs: DeliveryJob[] = [];
  for (;;) {
    const { Messages = [] } = await harness.sqs.send(new ReceiveMessageCommand({ QueueUrl: harness.queues.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 30 }));
    if (Messages.length === 0) return jobs;
    for (const message of Messages) {
      jobs.push(JSON.parse(message.Body!) as DeliveryJob);
      await harness.sqs.send(new DeleteMessageCommand({ QueueUrl: harness.queues.queueUrl, ReceiptHandle: message.ReceiptHandle! }));
    }
  }
}

async function send(options: Request): Promise<{ response: HttpResponse; body: Record<string, unknown>; queued: DeliveryJob[] }> {
  await takeQueued();
  const { response } = await handleApiRequest(request(options), deps);
  const body = response.body ? (JSON.parse(response.body) as Record<string, unknown>) : {};
  return { response, body, queued: await takeQueued() };
}

/** No response header name or value carries a line break (a header split). */
function expectNoHeaderInjection(response: HttpResponse): void {
  for (const [name, value] of Object.entries(response.headers)) {
    expect(`${name}: ${value}`).not.toMatch(/[\r\n]/);
    expect(name.toLowerCase()).not.toBe('x-injected');
  }
}

interface Case {
  readonly name: string;
  readonly request: () => Request;
  readonly status: number;
  readonly error: keyof typeof ERROR_STATUS;
  readonly message?: RegExp;
}

const deep = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

const CASES: readonly Case[] = [
  // Bodies
  { name: 'malformed JSON', request: () => ({ headers: { ...bearer(alpha.token), 'content-type': 'application/json' }, body: '{"title": "x",' }), status: 400, error: 'invalid_body', message: /not valid JSON/ },
  { name: 'JSON that is not an object', request: () => ({ headers: bearer(alpha.token), json: ['title'] }), status: 400, error: 'invalid_body', message: /must be a JSON object/ },
  { name: 'wrong content type (text/plain on /message)', request: () => ({ headers: { ...bearer(alpha.token), 'content-type': 'text/plain' }, body: 'title=x' }), status: 415, error: 'unsupported_media_type' },
  { name: 'wrong content type (application/xml on /devices)', request: () => ({ path: '/devices', headers: { ...bearer(alpha.token), 'content-type': 'application/xml' }, body: '<device/>' }), status: 415, error: 'unsupported_media_type' },
  { name: 'oversized webhook body (> 256 KB)', request: () => ({ path: '/transform', query: { parser: 'authentik', magicCode: alpha.magicCode }, headers: { 'content-type': 'application/json' }, body: Buffer.alloc(256 * 1024 + 1, 0x20) }), status: 413, error: 'payload_too_large' },
  { name: 'oversized message body (> 64 KB)', request: () => ({ headers: bearer(alpha.token), json: { title: 'x', body: 'y'.repeat(64 * 1024) } }), status: 413, error: 'payload_too_large' },
  { name: 'deep nesting in a message (30,000 levels)', request: () => ({ headers: { ...bearer(alpha.token), 'content-type': 'application/json' }, body: deep(30_000) }), status: 400, error: 'invalid_body' },
  { name: 'deep nesting in a webhook (100,000 levels)', request: () => ({ path: '/transform', query: { parser: 'authentik', magicCode: alpha.magicCode }, headers: { 'content-type': 'application/json' }, body: `{"a":${deep(100_000)}}` }), status: 400, error: 'invalid_body' },
  { name: 'invalid UTF-8', request: () => ({ headers: { ...bearer(alpha.token), 'content-type': 'application/json' }, body: Buffer.from([0x7b, 0x22, 0x74, 0x69, 0x74, 0x6c, 0x65, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d]) }), status: 400, error: 'invalid_body', message: /UTF-8/ },
  { name: 'invalid UTF-8 in an ntfy body', request: () => ({ path: `/${alpha.bucket.name}`, headers: bearer(alpha.token), body: Buffer.from([0xff, 0xfe, 0xfd]) }), status: 400, error: 'invalid_body', message: /UTF-8/ },
  { name: 'missing title', request: () => ({ headers: bearer(alpha.token), json: { body: 'no title' } }), status: 400, error: 'validation_failed', message: /^title: is required$/ },
  { name: 'blank title', request: () => ({ headers: bearer(alpha.token), json: { title: '   ' } }), status: 400, error: 'validation_failed', message: /title/ },
  { name: 'unknown field', request: () => ({ headers: bearer(alpha.token), json: { title: 'x', colour: 'red' } }), status: 400, error: 'validation_failed', message: /colour: unknown field/ },
  { name: 'unknown delivery type', request: () => ({ headers: bearer(alpha.token), json: { title: 'x', deliveryType: 'LOUD' } }), status: 400, error: 'validation_failed', message: /deliveryType/ },
  { name: 'title over 256 characters', request: () => ({ headers: bearer(alpha.token), json: { title: 'x'.repeat(257) } }), status: 400, error: 'validation_failed', message: /title/ },
  { name: 'javascript: tap URL', request: () => ({ headers: bearer(alpha.token), json: { title: 'x', tapUrl: 'javascript:alert(1)' } }), status: 400, error: 'validation_failed', message: /tapUrl/ },
  { name: 'ntfy priority out of range', request: () => ({ path: `/${alpha.bucket.name}`, headers: { ...bearer(alpha.token), 'x-priority': '9' }, body: 'text' }), status: 400, error: 'validation_failed', message: /priority/ },
  // Credentials
  { name: 'no credentials', request: () => ({ json: { title: 'x' } }), status: 401, error: 'unauthorized', message: /no credentials/ },
  { name: 'bad token', request: () => ({ headers: bearer(`hrld_${randomBytes(32).toString('base64url')}`), json: { title: 'x' } }), status: 401, error: 'unauthorized', message: /^invalid credentials for this bucket$/ },
  { name: 'expired token', request: () => ({ headers: bearer(EXPIRED_TOKEN), json: { title: 'x' } }), status: 401, error: 'token_expired', message: /expired at/ },
  { name: 'revoked token', request: () => ({ headers: bearer(REVOKED_TOKEN), json: { title: 'x' } }), status: 401, error: 'token_revoked', message: /revoked at/ },
  { name: 'wrong bucket (a valid token, another bucket named)', request: () => ({ query: { bucketId: beta.bucket.name }, headers: bearer(alpha.token), json: { title: 'x' } }), status: 401, error: 'unauthorized', message: /^invalid credentials for this bucket$/ },
  { name: 'wrong bucket (an ntfy topic of another bucket)', request: () => ({ path: `/${beta.bucket.name}`, headers: bearer(alpha.token), body: 'text' }), status: 401, error: 'unauthorized', message: /^invalid credentials for this bucket$/ },
  { name: 'a token without the send scope', request: () => ({ headers: bearer(READ_ONLY_TOKEN), json: { title: 'x' } }), status: 403, error: 'forbidden', message: /send/ },
  { name: 'a magic code registering a device', request: () => ({ path: '/devices', query: { magicCode: alpha.magicCode }, json: { platform: 'ios', token: 'a'.repeat(64) } }), status: 403, error: 'forbidden' },
  { name: 'an admin route without IAM', request: () => ({ method: 'GET', path: '/admin/buckets', headers: bearer(alpha.token) }), status: 403, error: 'forbidden', message: /IAM/ },
  // Sources' signatures and secrets
  { name: 'bad ZITADEL signature (wrong key)', request: () => zitadelSigned(ZITADEL.signing.timestamp, 'not-the-signing-key'), status: 401, error: 'invalid_signature' },
  { name: 'ZITADEL signature over other bytes (one byte changed)', request: () => ({ ...zitadelSigned(ZITADEL.signing.timestamp), body: Buffer.concat([ZITADEL_BODY.subarray(0, -1), Buffer.from(' ')]) }), status: 401, error: 'invalid_signature' },
  { name: 'garbled ZITADEL signature header', request: () => ({ ...zitadelSigned(ZITADEL.signing.timestamp), headers: { 'content-type': 'application/json', 'zitadel-signature': 't=,v1=zz,,' } }), status: 401, error: 'invalid_signature' },
  { name: 'stale ZITADEL signature (signed an hour ago)', request: () => zitadelSigned(ZITADEL.signing.verifyAt - 3600), status: 401, error: 'signature_expired' },
  { name: 'ZITADEL signature from the future (an hour ahead)', request: () => zitadelSigned(ZITADEL.signing.verifyAt + 3600), status: 401, error: 'signature_expired' },
  { name: 'no ZITADEL signature and no token', request: () => ({ ...zitadelSigned(ZITADEL.signing.timestamp), headers: { 'content-type': 'application/json' } }), status: 401, error: 'invalid_signature' },
  { name: 'a signed source to a bucket without its secret', request: () => ({ ...zitadelSigned(ZITADEL.signing.timestamp), query: { bucketId: beta.bucket.name } }), status: 401, error: 'source_secret_missing' },
  { name: 'wrong Okta secret header', request: () => ({ path: '/webhooks/okta', query: { bucketId: alpha.bucket.name }, headers: { 'content-type': 'application/json', authorization: 'okta-hook-guess' }, body: OKTA_BODY }), status: 401, error: 'invalid_signature' },
  // Routing
  { name: 'unknown parser', request: () => ({ path: '/transform', query: { parser: 'no-such-idp', magicCode: alpha.magicCode }, body: AUTHENTIK_BODY }), status: 400, error: 'unknown_parser', message: /unknown parser "no-such-idp"/ },
  { name: 'unknown source in /webhooks', request: () => ({ path: '/webhooks/no-such-idp', query: { magicCode: alpha.magicCode }, body: AUTHENTIK_BODY }), status: 400, error: 'unknown_parser' },
  { name: 'malformed percent-escape in the path', request: () => ({ path: '/webhooks/%E0%A4%A', query: { magicCode: alpha.magicCode }, body: AUTHENTIK_BODY }), status: 404, error: 'not_found' },
  { name: 'method not allowed', request: () => ({ method: 'DELETE', headers: bearer(alpha.token) }), status: 405, error: 'method_not_allowed' },
  { name: 'unknown route', request: () => ({ method: 'GET', path: '/wp-login.php' }), status: 404, error: 'not_found' },
];

describe('the named bad-input table', () => {
  test('has at least 30 cases, with unique names', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(30);
    expect(new Set(CASES.map((c) => c.name)).size).toBe(CASES.length);
  });

  test.each(CASES.map((c) => [c.name, c] as const))('%s → exact status and error code, nothing queued', async (_name, testCase) => {
    const { response, body, queued } = await send(testCase.request());
    expect({ status: response.status, error: body.error }).toEqual({ status: testCase.status, error: testCase.error });
    expect(Object.keys(body).sort()).toEqual(['error', 'message']);
    if (testCase.message) expect(body.message).toMatch(testCase.message);
    expect(queued).toEqual([]);
    expectNoHeaderInjection(response);
  });
});

describe('bad input that needs more than one request', () => {
  test('a replayed signed ZITADEL delivery answers 2xx and queues nothing new', async () => {
    const first = await send(zitadelSigned(ZITADEL.signing.timestamp));
    const replay = await send(zitadelSigned(ZITADEL.signing.timestamp));
    expect(first.response.status).toBe(200);
    expect(first.queued).toHaveLength(1);
    expect(replay.response.status).toBe(200);
    expect(replay.queued).toEqual([]);
  });

  test('magic-code guessing: 40 random codes all get the same 401, word for word', async () => {
    const answers = new Set<string>();
    for (let i = 0; i < 40; i += 1) {
      const { response } = await send({ path: '/transform', query: { parser: 'authentik', magicCode: randomBytes(16).toString('base64url') }, headers: { 'content-type': 'application/json' }, body: AUTHENTIK_BODY });
      answers.add(`${response.status} ${response.body}`);
    }
    // The same answer as a code that exists for another bucket than the one named.
    const otherBucket = await send({ path: '/transform', query: { parser: 'authentik', magicCode: beta.magicCode, bucketId: alpha.bucket.name }, headers: { 'content-type': 'application/json' }, body: AUTHENTIK_BODY });
    answers.add(`${otherBucket.response.status} ${otherBucket.response.body}`);
    expect([...answers]).toEqual(['401 {"error":"unauthorized","message":"invalid credentials for this bucket"}']);
  });

  test('a title with CRLF in an ntfy Title header is stored as data and splits no response header', async () => {
    const { response, body, queued } = await send({ path: `/${alpha.bucket.name}`, headers: { ...bearer(alpha.token), title: 'Disk full\r\nX-Injected: yes' }, body: 'on /var' });
    expect(response.status).toBe(200);
    expectNoHeaderInjection(response);
    expect(body.title).toBe('Disk full\r\nX-Injected: yes');
    expect(queued.map((job) => job.notification.title)).toEqual(['Disk full\r\nX-Injected: yes']);
  });

  test('a title with CRLF in JSON is stored as data and splits no response header', async () => {
    const { response, queued } = await send({ headers: bearer(alpha.token), json: { title: 'Login failed\r\nSet-Cookie: session=stolen', body: 'x' } });
    expect(response.status).toBe(201);
    expectNoHeaderInjection(response);
    expect(queued.map((job) => job.notification.title)).toEqual(['Login failed\r\nSet-Cookie: session=stolen']);
  });
});

/**
 * Characters SQS (and fauxqs, the local SQS) refuse in a message body: the job is queued as ASCII
 * JSON (lambdas/core/queue.ts `messageBody`), so they are accepted, never a 503 a sender would
 * retry forever.
 */
describe('characters SQS refuses', () => {
  test('an emoji in the title is accepted (201) and queued as sent', async () => {
    const { response, queued } = await send({ headers: bearer(alpha.token), json: { title: '🚀 deployed' } });
    expect(response.status).toBe(201);
    expect(queued.map((job) => job.notification.title)).toEqual(['🚀 deployed']);
  });

  test('U+FFFF in the title is never a 5xx', async () => {
    const { response } = await send({ headers: bearer(alpha.token), json: { title: 'disk \uffff full' } });
    expect(response.status).toBeLessThan(500);
  });
});
