import { execFile } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { startLocalHerald, type LocalHerald } from '../../lambdas/local/server';
import { waitFor } from './helpers';

const run = promisify(execFile);
const HERALD = path.join(__dirname, '..', '..', 'bin', 'herald.mjs');
const ZITADEL_BODY = readFileSync(path.join(__dirname, '..', 'fixtures', 'zitadel', 'event-user-locked.json'));
const SIGNING_KEY = 'local-zitadel-signing-key-0001';

/** A signed source in local mode: `herald secret set --local`, then ZITADEL's signed webhook. */
describe('herald secret set --local', () => {
  let herald: LocalHerald;

  beforeAll(async () => {
    const suffix = randomUUID().slice(0, 8);
    herald = await startLocalHerald({
      port: 0,
      standIns: { dynamodbEndpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB!, sqsEndpoint: process.env.AWS_ENDPOINT_URL_SQS! },
      tableName: `herald-secrets-${suffix}`,
      queueName: `herald-secrets-${suffix}`,
    });
  });

  afterAll(() => herald?.stop());

  function signedNow(): Record<string, string> {
    const t = Math.floor(Date.now() / 1000);
    const v1 = createHmac('sha256', SIGNING_KEY).update(`${t}.`).update(ZITADEL_BODY).digest('hex');
    return { 'content-type': 'application/json', 'zitadel-signature': `t=${t},v1=${v1}` };
  }

  test('before a secret is set, a signed webhook is refused as source_secret_missing', async () => {
    const response = await fetch(`${herald.url}/webhooks/zitadel?bucketId=demo`, { method: 'POST', headers: signedNow(), body: ZITADEL_BODY });
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: string }).error).toBe('source_secret_missing');
  });

  test('after it is set, the signed webhook reaches the devices', async () => {
    const { stdout } = await run('node', [HERALD, 'secret', 'set', '--local', herald.url, '--bucket', 'demo', '--source', 'zitadel', '--value', SIGNING_KEY]);
    expect(stdout).toContain('zitadel secret of demo');
    const response = await fetch(`${herald.url}/webhooks/zitadel?bucketId=demo`, { method: 'POST', headers: signedNow(), body: ZITADEL_BODY });
    expect(response.status).toBe(200);
    const entry = await waitFor('the push', () => herald.inbox.list().find((item) => item.card?.title === 'User locked' && item.deliveries.length === 2));
    expect(entry.card?.deliveryType).toBe('CRITICAL');
  });

  test('the key is kept in the vault, never in the table', async () => {
    const dump = JSON.stringify(await herald.store.doc.send(new (await import('@aws-sdk/lib-dynamodb')).ScanCommand({ TableName: herald.store.tableName })));
    expect(dump).not.toContain(SIGNING_KEY);
    expect(await herald.vault.get(`herald/source/${herald.demo.bucket.id}/zitadel`)).toBe(SIGNING_KEY);
  });
});
