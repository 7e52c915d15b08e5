import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

/**
 * No token, magic code, signing key or device token in anything the handlers print: every flow
 * that carries a secret runs through local mode (the real ingest and delivery handlers) with the
 * handlers' logger at DEBUG, and all output of the run is searched for the secrets.
 */
describe('redaction', () => {
  const captured: string[] = [];
  const originalStdout = process.stdout.write.bind(process.stdout);
  const originalStderr = process.stderr.write.bind(process.stderr);

  beforeAll(() => {
    process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
    const capture = (original: typeof process.stdout.write) =>
      ((chunk: string | Uint8Array, ...rest: unknown[]) => {
        captured.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
        return (original as (...args: unknown[]) => boolean)(chunk, ...rest);
      }) as typeof process.stdout.write;
    process.stdout.write = capture(originalStdout);
    process.stderr.write = capture(originalStderr);
  });

  afterAll(() => {
    process.stdout.write = originalStdout;
    process.stderr.write = originalStderr;
  });

  test('nothing logged during every secret-carrying flow contains a secret', async () => {
    const { startLocalHerald } = await import('../../lambdas/local/server');
    const suffix = randomUUID().slice(0, 8);
    const herald = await startLocalHerald({
      port: 0,
      standIns: { dynamodbEndpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB!, sqsEndpoint: process.env.AWS_ENDPOINT_URL_SQS! },
      tableName: `herald-redaction-${suffix}`,
      queueName: `herald-redaction-${suffix}`,
    });
    const { token, magicCode } = herald.demo;
    const deviceToken = 'f'.repeat(64);
    const signingKey = 'zitadel-signing-key-redaction-0001';
    const secrets = [token, magicCode, deviceToken, signingKey];
    try {
      const post = (url: string, init: RequestInit) => fetch(`${herald.url}${url}`, { method: 'POST', ...init });
      const json = { 'content-type': 'application/json' };
      await post('/devices', { headers: { ...json, authorization: `Bearer ${token}` }, body: JSON.stringify({ platform: 'ios', token: deviceToken, name: 'redaction phone' }) });
      await post('/message', { headers: { ...json, authorization: `Bearer ${token}` }, body: JSON.stringify({ title: 'bearer' }) });
      await fetch(`${herald.url}/message?title=query&token=${token}`);
      await post(`/transform?parser=authentik&magicCode=${magicCode}`, { headers: json, body: readFileSync(path.join(__dirname, '..', 'fixtures', 'authentik', 'webhook-login-failed.json')) });
      await post('/demo', { headers: { authorization: `Basic ${Buffer.from(`x:${token}`).toString('base64')}` }, body: 'ntfy basic' });
      await post(`/demo?auth=${Buffer.from(`Bearer ${token}`).toString('base64url')}`, { body: 'ntfy auth param' });
      // Wrong secrets, close to the right ones, are refused and must not be echoed either.
      await post('/message', { headers: { ...json, authorization: `Bearer ${token}x` }, body: '{"title":"bad"}' });
      await post(`/transform?parser=authentik&magicCode=${magicCode}x`, { headers: json, body: '{}' });
      // A signed source.
      const { setSourceSecret } = await import('../../lambdas/core/sources/source-secrets');
      const { findParser } = await import('../../lambdas/core/parsers/registry');
      await setSourceSecret({ store: herald.store, vault: herald.vault }, herald.demo.bucket.id, findParser('zitadel'), signingKey);
      const body = readFileSync(path.join(__dirname, '..', 'fixtures', 'zitadel', 'event-user-locked.json'));
      const t = Math.floor(Date.now() / 1000);
      const v1 = createHmac('sha256', signingKey).update(`${t}.`).update(body).digest('hex');
      await post('/webhooks/zitadel?bucketId=demo', { headers: { ...json, 'zitadel-signature': `t=${t},v1=${v1}` }, body });
      await post('/webhooks/zitadel?bucketId=demo', { headers: { ...json, 'zitadel-signature': `t=${t},v1=${'0'.repeat(64)}` }, body });
      // Let delivery run and log.
      const deadline = Date.now() + 15_000;
      while (herald.push.publishCount < 8 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      expect(herald.push.publishCount).toBeGreaterThanOrEqual(8);
    } finally {
      await herald.stop();
    }
    const output = captured.join('');
    // The handlers did log every request and delivery (so the search covers something).
    expect(output).toContain('request handled');
    expect(output).toContain('request refused');
    expect(output).toContain('notification delivered');
    for (const secret of secrets) expect(output).not.toContain(secret);
  });
});
