import { createHmac } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { PurgeQueueCommand } from '@aws-sdk/client-sqs';
import fc from 'fast-check';
import { handleApiRequest, type ApiDeps } from '../../lambdas/core/api';
import { ERROR_STATUS } from '../../lambdas/core/errors';
import type { HttpRequest, HttpResponse } from '../../lambdas/core/http';
import { findParser, parserNames } from '../../lambdas/core/parsers/registry';
import type { PushGateway } from '../../lambdas/core/push/gateway';
import { SqsNotificationQueue } from '../../lambdas/core/queue';
import { setSourceSecret } from '../../lambdas/core/sources/source-secrets';
import { FileVault } from '../../lambdas/core/sources/vault';
import { createBucket, type CreatedBucket } from '../../lambdas/core/store/buckets';
import { addCredential, revokeCredential } from '../../lambdas/core/store/credentials';
import { createHarness, type Harness } from '../integration/harness';
import { forEachConcurrently, seconds, table } from './support';

/**
 * Fuzz: REQUESTS generated requests (fast-check, seeded) across every public route and parser,
 * through `handleApiRequest` with the real store and queue on the stand-ins. Whatever comes in:
 * no exception escapes, no 5xx (the stand-ins are healthy), every 4xx is exactly a typed
 * `{error, message}` with the status of its code, no response header carries a line break, and a
 * 2xx needs a valid credential (or is the health check or the OpenAPI document).
 */
const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 100_000);
const SEED = Number(process.env.FUZZ_SEED ?? 20_251_124);
const CHUNK = 5_000;
const IN_FLIGHT = 8;

jest.setTimeout(15 * 60_000);

const FIXTURES = path.join(__dirname, '..', 'fixtures');
const ZITADEL_META = JSON.parse(readFileSync(path.join(FIXTURES, 'zitadel', 'event-user-locked.meta.json'), 'utf8')) as { signing: { secret: string; verifyAt: number } };
const OKTA_SECRET = 'okta-hook-Secr3t-91c2';
const NOW = new Date(ZITADEL_META.signing.verifyAt * 1000);
/** Every fixture body, as bytes. */
const FIXTURE_BODIES: Buffer[] = readdirSync(FIXTURES).flatMap((source) =>
  readdirSync(path.join(FIXTURES, source))
    .filter((name) => name.endsWith('.json') && !name.endsWith('.meta.json'))
    .map((name) => readFileSync(path.join(FIXTURES, source, name))));
const OVERSIZED = Buffer.alloc(256 * 1024 + 1, 'a');
const KNOWN_CODES = new Set(Object.keys(ERROR_STATUS));
const KNOWN_PARSERS = new Set(parserNames().map((name) => name.toLowerCase()));

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

interface Secrets {
  /** Credentials that authenticate (for the 2xx oracle). */
  readonly valid: string[];
  readonly tokenA: string;
  readonly tokenB: string;
  readonly magicA: string;
  readonly magicB: string;
  readonly readOnly: string;
  readonly expired: string;
  readonly revoked: string;
}

/** A generated request before its signature is computed (it depends on the final body). */
interface Draft {
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, string>;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
  readonly signature: 'none' | 'valid' | 'stale' | 'forged' | 'garbage';
  readonly sourceIp: string;
}

function arbitraries(secrets: Secrets, buckets: readonly CreatedBucket[]) {
  const bucketRefs = [...buckets.flatMap((b) => [b.bucket.id, b.bucket.name, b.bucket.name.toUpperCase()]), 'no-such-bucket', '', ' ', '../admin'];
  const tokens = [secrets.tokenA, secrets.tokenB, secrets.readOnly, secrets.expired, secrets.revoked, 'hrld_forged', secrets.magicA];
  const anyText = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 40 }));
  const token = fc.oneof(fc.constantFrom(...tokens), anyText);
  const magicCode = fc.oneof(fc.constantFrom(secrets.magicA, secrets.magicB, secrets.tokenA), fc.base64String({ maxLength: 24 }), anyText);
  const parserName = fc.oneof(fc.constantFrom(...parserNames(), 'ZENTIK_AUTHENTIK', 'ntfy', 'native', ''), anyText);
  const segment = fc.oneof(
    fc.constantFrom('a', 'x'.repeat(300), '%', '%zz', '%E0%A4%A', '%C0%AF', '..', '.', '%2F', '%00', 'é', '\u0000', 'id%20x'),
    fc.webSegment(),
    anyText,
  );

  const routePath = fc.oneof(
    fc.constantFrom('/message', '/api/v1/messages', '/transform', '/api/v1/messages/transform', '/devices', '/health', '/', '/notifications', '/message/', '//message', '/MESSAGE', '/openapi.json', '/docs', ''),
    fc.tuple(fc.oneof(parserName, segment), fc.boolean()).map(([source, encode]) => `/webhooks/${encode ? encodeURIComponent(source) : source}`),
    fc.tuple(fc.oneof(fc.constantFrom(...buckets.map((b) => b.bucket.name), 'admin', 'api', 'v1'), segment), fc.constantFrom('', '/publish', '/send', '/trigger', '/json', '/x/y'))
      .map(([topic, suffix]) => `/${topic}${suffix}`),
    fc.tuple(fc.oneof(fc.constantFrom(...bucketRefs), segment), fc.constantFrom('', '/tokens', '/magic-codes', '/devices', '/notifications', '/sources/zitadel/secret', '/sources/okta/secret', '/tokens/x', '/magic-codes/x/rotate', '/devices/x/disable'))
      .map(([bucket, rest]) => `/admin/buckets${bucket === '' ? '' : `/${bucket}`}${rest}`),
    fc.tuple(segment, fc.constantFrom('/devices/{}/token', '/devices/{}', '/notifications/{}')).map(([id, pattern]) => pattern.replace('{}', id)),
    fc.webPath(),
    fc.array(segment, { maxLength: 4 }).map((segments) => `/${segments.join('/')}`),
  );

  const method = fc.oneof(fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'post', 'Get'), anyText);

  const query = fc.record(
    {
      token,
      access_token: token,
      magicCode,
      bucketId: fc.oneof(fc.constantFrom(...bucketRefs), anyText),
      parser: parserName,
      title: fc.oneof(anyText, fc.constant('line one\r\nX-Injected: yes')),
      message: anyText,
      priority: fc.oneof(fc.constantFrom('1', '3', '5', 'high', 'urgent', '9', ''), anyText),
      deliveryType: fc.oneof(fc.constantFrom('critical', 'SILENT', 'NO_PUSH', 'loud'), anyText),
      tags: anyText,
      actions: fc.oneof(fc.constantFrom('view, Open, https://example.com', 'http, Go, https://x, method=GET', '[{]', 'broadcast, x'), anyText),
      auth: fc.oneof(fc.constantFrom(...tokens).map((t) => Buffer.from(`Bearer ${t}`).toString('base64url')), anyText),
      limit: fc.oneof(fc.constantFrom('1', '0', '-1', '1000000', 'NaN'), anyText),
      cursor: anyText,
    },
    { requiredKeys: [] },
  ).chain((known) => fc.dictionary(anyText, anyText, { maxKeys: 3 }).map((extra) => ({ ...extra, ...known })));

  const contentType = fc.oneof(
    fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/json', 'application/x-www-form-urlencoded', 'text/plain', 'multipart/form-data; boundary=x', 'application/xml', 'APPLICATION/JSON', 'application/vnd.api+json', ''),
    anyText,
  );
  const authorization = fc.oneof(
    fc.constantFrom(...tokens).map((t) => `Bearer ${t}`),
    fc.constantFrom(...tokens).map((t) => `Basic ${Buffer.from(`user:${t}`).toString('base64')}`),
    fc.constantFrom(OKTA_SECRET, `Bearer ${OKTA_SECRET}`, 'Bearer', 'Bearer  ', 'bearer x y'),
    anyText,
  );
  const headers = fc.record(
    {
      'content-type': contentType,
      authorization,
      'idempotency-key': fc.oneof(fc.constantFrom('k1', 'k2', 'x'.repeat(500)), anyText),
      'x-title': fc.oneof(anyText, fc.constant('Title\r\nX-Injected: yes')),
      title: fc.oneof(anyText, fc.constant('Title\nSet-Cookie: a=b')),
      'x-priority': fc.oneof(fc.constantFrom('5', 'max', 'min', '0'), anyText),
      'x-tags': anyText,
      'x-click': fc.oneof(fc.constantFrom('https://example.com', 'javascript:alert(1)'), anyText),
      'x-okta-verification-challenge': anyText,
      'user-agent': fc.oneof(fc.constantFrom('authentik@2025.10.1', 'Go-http-client/2.0', 'Svix-Webhooks/1.0'), anyText),
      'svix-id': anyText,
      'svix-timestamp': anyText,
      'svix-signature': anyText,
      'logto-signature-sha-256': anyText,
      'x-keycloak-signature': anyText,
    },
    { requiredKeys: [] },
  ).chain((known) => fc.dictionary(anyText.map((name) => name.toLowerCase()), anyText, { maxKeys: 3 }).map((extra) => ({ ...extra, ...known })));

  const nativeMessage = fc.record(
    {
      title: fc.oneof(anyText, fc.constant('Backup finished'), fc.constant('line\r\nX-Injected: yes'), fc.constant('x'.repeat(300))),
      subtitle: anyText,
      body: anyText,
      deliveryType: fc.oneof(fc.constantFrom('NORMAL', 'critical', 'SILENT', 'NO_PUSH'), anyText, fc.integer()),
      tags: fc.oneof(fc.array(anyText, { maxLength: 25 }), anyText),
      actions: fc.oneof(fc.array(fc.record({ type: fc.constantFrom('NAVIGATE', 'WEBHOOK', 'BOGUS'), value: anyText, title: anyText }), { maxLength: 12 }), anyText),
      tapUrl: fc.oneof(fc.webUrl(), anyText),
      imageUrl: fc.oneof(fc.webUrl(), anyText),
      collapseId: anyText,
      bucketId: fc.constantFrom(...bucketRefs),
      magicCode,
      topic: fc.oneof(fc.constantFrom(...buckets.map((b) => b.bucket.name)), anyText),
      message: anyText,
      priority: fc.oneof(fc.integer({ min: -1, max: 6 }), anyText),
    },
    { requiredKeys: [] },
  ).chain((known) => fc.dictionary(anyText, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 2 }).map((extra) => ({ ...extra, ...known })));

  const mutatedFixture = fc.tuple(fc.constantFrom(...FIXTURE_BODIES), fc.nat(), fc.integer({ min: 0, max: 5 }), fc.uint8Array({ minLength: 1, maxLength: 8 })).map(
    ([fixture, at, how, bytes]) => {
      const position = fixture.length === 0 ? 0 : at % fixture.length;
      switch (how) {
        case 0: return fixture;
        case 1: return fixture.subarray(0, position);
        case 2: return Buffer.concat([fixture.subarray(0, position), Buffer.from(bytes), fixture.subarray(position)]);
        case 3: { const copy = Buffer.from(fixture); copy[position] = (copy[position] ?? 0) ^ (bytes[0] || 1); return copy; }
        case 4: return Buffer.from(fixture.toString('utf8').replace(/"[^"]{3,}"/, JSON.stringify(Buffer.from(bytes).toString('latin1'))));
        default: return Buffer.concat([fixture, Buffer.from([0xff, 0xfe])]);
      }
    },
  );

  const body = fc.oneof(
    { arbitrary: fc.constant(Buffer.alloc(0)), weight: 2 },
    { arbitrary: fc.uint8Array({ maxLength: 512 }).map((bytes) => Buffer.from(bytes)), weight: 2 },
    { arbitrary: fc.constantFrom(Buffer.from([0xc3, 0x28]), Buffer.from([0xff, 0xfe, 0xfd]), Buffer.from('{"title":"\ud800"}'), Buffer.from([0x7b, 0x22, 0x74, 0x22, 0x3a, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x7d])), weight: 1 },
    { arbitrary: fc.json({ maxDepth: 4 }).map((text) => Buffer.from(text)), weight: 2 },
    { arbitrary: nativeMessage.map((message) => Buffer.from(JSON.stringify(message))), weight: 5 },
    { arbitrary: nativeMessage.map((message) => Buffer.from(new URLSearchParams(Object.entries(message).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v) ?? ''])).toString())), weight: 1 },
    { arbitrary: fc.tuple(fc.integer({ min: 1, max: 200_000 }), fc.boolean()).map(([depth, array]) => Buffer.from(array ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`)), weight: 1 },
    { arbitrary: mutatedFixture, weight: 5 },
    { arbitrary: fc.constant(OVERSIZED), weight: 1 },
  );

  const broad: fc.Arbitrary<Draft> = fc.record({
    method,
    path: routePath,
    query,
    headers,
    body,
    signature: fc.constantFrom('none', 'none', 'valid', 'stale', 'forged', 'garbage'),
    sourceIp: fc.oneof(fc.ipV4(), fc.constant('203.0.113.9')),
  });

  // Past authentication and routing, into the parsers and validation: a real route, a credential
  // that works, and a body that is nearly right.
  const alpha = buckets[0]!.bucket.name;
  const focusedRoute = fc.constantFrom(
    '/message', '/api/v1/messages', '/transform', '/api/v1/messages/transform', '/devices', '/', `/${alpha}`, `/${alpha}/publish`, `/${alpha}/send`,
    '/notifications', '/devices/0123456789abcdef/token', ...parserNames().map((name) => `/webhooks/${name}`),
  );
  const credential = fc.constantFrom<[string, string, 'none' | 'valid']>(
    ['header', `Bearer ${secrets.tokenA}`, 'none'], ['header', `Bearer ${secrets.tokenB}`, 'none'], ['magicCode', secrets.magicA, 'none'],
    ['token', secrets.tokenA, 'none'], ['signature', '', 'valid'], ['okta', OKTA_SECRET, 'none'], ['basic', `Basic ${Buffer.from(`u:${secrets.tokenA}`).toString('base64')}`, 'none'],
  );
  const focused: fc.Arbitrary<Draft> = fc.record({
    method: fc.constantFrom('POST', 'POST', 'PUT', 'GET'),
    path: focusedRoute,
    query: fc.record({ parser: parserName, bucketId: fc.constantFrom(alpha, buckets[0]!.bucket.id), title: anyText, priority: fc.constantFrom('1', '5', 'high') }, { requiredKeys: [] }),
    headers: fc.record({ 'content-type': fc.constantFrom('application/json', 'application/x-www-form-urlencoded', 'text/plain'), 'idempotency-key': anyText, 'x-title': anyText }, { requiredKeys: [] }),
    body: fc.oneof(nativeMessage.map((message) => Buffer.from(JSON.stringify(message))), mutatedFixture, fc.json({ maxDepth: 3 }).map((text) => Buffer.from(text)), anyText.map((text) => Buffer.from(text))),
    credential,
    sourceIp: fc.ipV4(),
  }).map(({ credential: [kind, value, signature], ...rest }): Draft => {
    const headers: Record<string, string> = { ...rest.headers };
    const query: Record<string, string> = { ...rest.query };
    if (kind === 'header' || kind === 'okta' || kind === 'basic') headers.authorization = value;
    if (kind === 'magicCode') query.magicCode = value;
    if (kind === 'token') query.token = value;
    return { ...rest, headers, query, signature };
  });
  return fc.oneof({ arbitrary: broad, weight: 3 }, { arbitrary: focused, weight: 2 });
}

/** Signs a draft as ZITADEL would (or forges, or staleness), now that its body is final. */
function finish(draft: Draft): { request: HttpRequest; signed: boolean } {
  const headers = { ...draft.headers };
  const sign = (t: number, key: string) => `t=${t},v1=${createHmac('sha256', key).update(`${t}.`).update(draft.body).digest('hex')}`;
  const now = Math.floor(NOW.getTime() / 1000);
  if (draft.signature === 'valid') headers['zitadel-signature'] = sign(now, ZITADEL_META.signing.secret);
  if (draft.signature === 'stale') headers['zitadel-signature'] = sign(now - 3600, ZITADEL_META.signing.secret);
  if (draft.signature === 'forged') headers['zitadel-signature'] = sign(now, 'not-the-key');
  if (draft.signature === 'garbage') headers['zitadel-signature'] = 't=abc,v1=zz,v2';
  return {
    request: { method: draft.method, path: draft.path, query: draft.query, headers, body: draft.body, sourceIp: draft.sourceIp },
    signed: draft.signature === 'valid',
  };
}

describe(`fuzz: ${REQUESTS.toLocaleString('en-US')} generated requests through handleApiRequest`, () => {
  let harness: Harness;
  let deps: ApiDeps;
  let secrets: Secrets;
  let buckets: CreatedBucket[];

  beforeAll(async () => {
    harness = await createHarness();
    const gateway: PushGateway = {
      ensureEndpoint: async (app, token) => `${app.replace(':app/', ':endpoint/')}/${token.length}`,
      publish: async () => 'unused',
      deleteEndpoint: async () => undefined,
    };
    deps = {
      store: harness.store,
      queue: new SqsNotificationQueue(harness.queues.queueUrl, harness.sqs),
      gateway,
      platformApplications: { APNS: 'arn:aws:sns:us-east-1:123456789012:app/APNS/herald-apns', GCM: 'arn:aws:sns:us-east-1:123456789012:app/GCM/herald-fcm' },
      vault: new FileVault(),
      now: () => NOW,
    };
    const alpha = await createBucket(harness.store, { name: 'fuzz-alpha' });
    const beta = await createBucket(harness.store, { name: 'fuzz-beta' });
    buckets = [alpha, beta];
    await setSourceSecret(deps, alpha.bucket.id, findParser('zitadel'), ZITADEL_META.signing.secret);
    await setSourceSecret(deps, alpha.bucket.id, findParser('okta'), OKTA_SECRET);
    const readOnly = 'hrld_fuzz-read-only-token-0123456789abcdef';
    const expired = 'hrld_fuzz-expired-token-0123456789abcdef';
    const revoked = 'hrld_fuzz-revoked-token-0123456789abcdef';
    await addCredential(harness.store, { bucketId: alpha.bucket.id, kind: 'token', secret: readOnly, scopes: ['read'] });
    await addCredential(harness.store, { bucketId: alpha.bucket.id, kind: 'token', secret: expired, validUntil: new Date(Date.now() - 60_000) });
    const toRevoke = await addCredential(harness.store, { bucketId: alpha.bucket.id, kind: 'token', secret: revoked });
    await revokeCredential(harness.store, alpha.bucket.id, toRevoke.credentialId);
    secrets = {
      valid: [alpha.token, beta.token, alpha.magicCode, beta.magicCode, readOnly, OKTA_SECRET],
      tokenA: alpha.token, tokenB: beta.token, magicA: alpha.magicCode, magicB: beta.magicCode, readOnly, expired, revoked,
    };
  });

  const violations: { rule: string; request: string; response: string }[] = [];
  const ruleCounts = new Map<string, number>();
  let answered = 0;

  /** The rule's violations, the first few with their exact input, or nothing. */
  const broken = (...rules: string[]) => rules.flatMap((rule) => (ruleCounts.has(rule) ? [{ rule, count: ruleCounts.get(rule), first: violations.filter((v) => v.rule === rule) }] : []));

  // The run; each rule is asserted by a test below.
  beforeAll(async () => {
    const draft = arbitraries(secrets, buckets);
    const byStatus = new Map<number, number>();
    const byError = new Map<string, number>();
    const accepted = new Map<string, number>();
    const started = performance.now();

    const describeRequest = (request: HttpRequest): string => JSON.stringify({
      method: request.method,
      path: request.path,
      query: request.query,
      headers: request.headers,
      body: request.body.length > 300 ? `${request.body.length} bytes: ${request.body.subarray(0, 120).toString('base64')}…` : request.body.toString('base64'),
    });
    const violate = (rule: string, request: HttpRequest, response?: HttpResponse | string) => {
      // The first few of each rule, with the exact input.
      if (violations.filter((v) => v.rule === rule).length < 5) violations.push({ rule, request: describeRequest(request), response: JSON.stringify(response).slice(0, 400) });
      ruleCounts.set(rule, (ruleCounts.get(rule) ?? 0) + 1);
    };

    for (let chunk = 0; chunk * CHUNK < REQUESTS; chunk += 1) {
      const drafts = fc.sample(draft, { seed: SEED + chunk, numRuns: Math.min(CHUNK, REQUESTS - chunk * CHUNK) });
      await forEachConcurrently(drafts.length, IN_FLIGHT, async (index) => {
        const { request, signed } = finish(drafts[index]!);
        let response: HttpResponse;
        let cause: unknown;
        try {
          const result = await handleApiRequest(request, deps);
          response = result.response;
          cause = result.error?.cause;
        } catch (error) {
          violate('threw', request, `${(error as Error).name}: ${(error as Error).message}`);
          return;
        }
        byStatus.set(response.status, (byStatus.get(response.status) ?? 0) + 1);
        if (response.status < 300) {
          // Which routes and parsers the accepted requests reached.
          const known = (name: string | undefined) => (name === undefined ? 'detected' : KNOWN_PARSERS.has(name.trim().toLowerCase()) ? name.trim().toLowerCase() : 'other');
          const route = request.path.startsWith('/webhooks/')
            ? `/webhooks/${known(decodeURIComponentSafe(request.path.slice('/webhooks/'.length)))}`
            : /^\/(api\/v1\/messages\/)?transform\/*$/.test(request.path)
              ? `/transform?parser=${known(request.query.parser)}`
              : request.path.split('/').length > 2 ? request.path.replace(/\/[^/]+$/, '/…') : request.path;
          accepted.set(route, (accepted.get(route) ?? 0) + 1);
        }
        for (const [name, value] of Object.entries(response.headers)) {
          if (/[\r\n]/.test(name) || /[\r\n]/.test(String(value))) violate('line break in a response header', request, response);
        }
        if (response.status >= 500) {
          // Named by the underlying failure, which the response rightly does not tell.
          const why = cause instanceof Error ? `${cause.name}: ${cause.message.replace(/[0-9a-f-]{36}/g, '…').slice(0, 160)}` : 'unknown cause';
          const text = JSON.stringify([request.query, request.headers]) + request.body.toString('utf8');
          // SQS refuses U+FFFE, U+FFFF (and fauxqs, unlike SQS, every character past U+FFFF).
          const chars = /InvalidMessageContents/.test(why) ? (/[\uFFFE\uFFFF]/.test(text) ? '; the request has U+FFFE/U+FFFF' : /[\u{10000}-\u{10FFFF}]/u.test(text) ? '; the request has characters past U+FFFF' : '') : '';
          violate(`${response.status} (${why.replace(/ Valid unicode.*$/, '')}${chars})`, request, response);
          return;
        }
        if (response.status >= 400) {
          let parsed: unknown;
          try {
            parsed = JSON.parse(response.body);
          } catch {
            violate('4xx body is not JSON', request, response);
            return;
          }
          const { error, message } = parsed as { error?: unknown; message?: unknown };
          const keys = Object.keys(parsed as object).sort().join(',');
          if (keys !== 'error,message' || typeof error !== 'string' || typeof message !== 'string' || message === '') {
            violate('4xx body is not exactly {error, message}', request, response);
          } else if (!KNOWN_CODES.has(error)) {
            violate('4xx with an unknown error code', request, response);
          } else if (ERROR_STATUS[error as keyof typeof ERROR_STATUS] !== response.status) {
            violate('status does not match the error code', request, response);
          } else {
            byError.set(error, (byError.get(error) ?? 0) + 1);
          }
          return;
        }
        // 2xx (or 3xx): only the public documents answer without a valid credential.
        const health = request.method.toUpperCase() === 'GET' && /^\/(health|openapi\.json)\/*$/.test(request.path);
        const decoded = [request.headers.authorization?.replace(/^basic\s+/i, ''), request.query.auth]
          .map((value) => (value ? Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8') : ''));
        const carried = JSON.stringify([request.query, request.headers, decoded]) + request.body.toString('utf8');
        const authenticated = signed || secrets.valid.some((secret) => carried.includes(secret));
        if (!health && !authenticated) violate('2xx without a valid credential', request, response);
      });
      // Accepted notifications pile up in the queue; nothing reads them.
      if (chunk % 5 === 4) await harness.sqs.send(new PurgeQueueCommand({ QueueUrl: harness.queues.queueUrl })).catch(() => undefined);
    }
    const elapsed = performance.now() - started;

    console.log([
      table(`fuzz: ${REQUESTS.toLocaleString('en-US')} requests, seed ${SEED}, ${seconds(elapsed)} (${Math.round(REQUESTS / (elapsed / 1000))}/s)`, [
        ...[...byStatus].sort(([a], [b]) => a - b).map(([status, n]) => [`status ${status}`, n] as const),
      ]),
      table('4xx by error code', [...byError].sort(([, a], [, b]) => b - a).map(([code, n]) => [code, n] as const)),
      table('2xx by route (top 25)', [...accepted].sort(([, a], [, b]) => b - a).slice(0, 25).map(([route, n]) => [route, n] as const)),
      table('violations', ruleCounts.size === 0 ? [['none', 0]] : [...ruleCounts].map(([rule, n]) => [rule, n] as const)),
      ...(violations.length > 0 ? ['\nfirst violations:', ...violations.map((v) => `  [${v.rule}] request ${v.request}\n    → ${v.response}`)] : []),
    ].join('\n'));

    answered = [...byStatus.values()].reduce((a, b) => a + b, 0);
  });

  test('every request is answered: no exception escapes handleApiRequest', () => {
    expect(broken('threw')).toEqual([]);
    expect(answered).toBe(REQUESTS);
  });

  test('no 5xx while the stand-ins are healthy', () => {
    expect(broken(...[...ruleCounts.keys()].filter((rule) => /^5\d\d /.test(rule)))).toEqual([]);
  });

  test('every 4xx is exactly {error, message}, with a known code and that code\'s status', () => {
    expect(broken('4xx body is not JSON', '4xx body is not exactly {error, message}', '4xx with an unknown error code', 'status does not match the error code')).toEqual([]);
  });

  test('no response header carries a line break', () => {
    expect(broken('line break in a response header')).toEqual([]);
  });

  test('a 2xx only with a valid credential (or for a public document)', () => {
    expect(broken('2xx without a valid credential')).toEqual([]);
  });
});
