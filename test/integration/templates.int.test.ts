import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateQueueCommand, DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { handleManagementRequest, type ManagementDeps } from '../../lambdas/core/admin/router';
import { handleApiRequest, type ApiDeps } from '../../lambdas/core/api';
import { isHeraldError } from '../../lambdas/core/errors';
import type { HttpRequest } from '../../lambdas/core/http';
import type { PublishInput, PushGateway } from '../../lambdas/core/push/gateway';
import { SqsNotificationQueue, type DeliveryJob } from '../../lambdas/core/queue';
import { FileVault } from '../../lambdas/core/sources/vault';
import { createBucket, type CreatedBucket } from '../../lambdas/core/store/buckets';
import { listTemplates, putTemplate } from '../../lambdas/core/store/templates';
import { createHarness, type Harness } from './harness';

/** Templates on the real stand-ins: the admin routes that manage them and the public routes that use them. */
const NOW = new Date('2026-12-05T10:00:00.000Z');
const APPS = { APNS: 'arn:aws:sns:us-east-1:123456789012:app/APNS/herald-apns', GCM: 'arn:aws:sns:us-east-1:123456789012:app/GCM/herald-fcm' };
const ROOT = join(__dirname, '..', '..');
const sample = (name: string) => JSON.parse(readFileSync(join(ROOT, 'docs', 'templates', `${name}.json`), 'utf8')) as { description: string; fields: Record<string, string> };
const fixture = (name: string) => readFileSync(join(ROOT, 'test', 'fixtures', 'templates', `${name}.json`));

class NoPushGateway implements PushGateway {
  async ensureEndpoint(): Promise<string> {
    throw new Error('templates register no devices');
  }
  async publish(_input: PublishInput): Promise<string> {
    throw new Error('templates publish nothing themselves');
  }
  async deleteEndpoint(): Promise<void> {}
}

let harness: Harness;
let bucketA: CreatedBucket;
let bucketB: CreatedBucket;

beforeAll(async () => {
  harness = await createHarness();
  bucketA = await createBucket(harness.store, { name: `tpl-${randomUUID().slice(0, 8)}` });
  bucketB = await createBucket(harness.store, { name: `tpl-${randomUUID().slice(0, 8)}` });
  for (const name of ['github', 'grafana']) await putTemplate(harness.store, bucketA.bucket.id, name, sample(name), NOW);
  await putTemplate(harness.store, bucketA.bucket.id, 'greeting', { fields: { title: '"Hello " & user', body: 'detail' } }, NOW);
  await putTemplate(harness.store, bucketA.bucket.id, 'loop', { fields: { title: '( $f := function($x){ $f($x) }; $f(1) )' } }, NOW);
});

async function freshQueue(): Promise<{ queueUrl: string; queue: SqsNotificationQueue }> {
  const { QueueUrl } = await harness.sqs.send(new CreateQueueCommand({ QueueName: `herald-tpl-${randomUUID().slice(0, 8)}` }));
  return { queueUrl: QueueUrl!, queue: new SqsNotificationQueue(QueueUrl!) };
}

async function takeAllJobs(queueUrl: string): Promise<DeliveryJob[]> {
  const jobs: DeliveryJob[] = [];
  for (;;) {
    const { Messages = [] } = await harness.sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 30 }));
    if (Messages.length === 0) return jobs;
    for (const message of Messages) {
      jobs.push(JSON.parse(message.Body!) as DeliveryJob);
      await harness.sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle! }));
    }
  }
}

function apiDeps(queue: SqsNotificationQueue): ApiDeps {
  return { store: harness.store, queue, gateway: new NoPushGateway(), platformApplications: APPS, vault: new FileVault(), now: () => NOW };
}

function request(path: string, query: Record<string, string>, body: Buffer | string, headers: Record<string, string> = {}): HttpRequest {
  return { method: 'POST', path, query, headers: { 'content-type': 'application/json', ...headers }, body: Buffer.isBuffer(body) ? body : Buffer.from(body) };
}

const bearer = (bucket: CreatedBucket) => ({ authorization: `Bearer ${bucket.token}` });
const json = (body: string) => JSON.parse(body) as Record<string, unknown>;

describe('POST /template?template=NAME (Zentik\'s shape)', () => {
  test('renders the data with the bucket\'s template and answers like /message: 201 and exactly that notification queued', async () => {
    const { queueUrl, queue } = await freshQueue();

    const result = await handleApiRequest(request('/template', { template: 'github' }, fixture('github-push'), bearer(bucketA)), apiDeps(queue));

    expect(result.response.status).toBe(201);
    const body = json(result.response.body);
    expect(body).toEqual({
      message: {
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        bucketId: bucketA.bucket.id,
        source: 'template:github',
        createdAt: NOW.toISOString(),
        title: 'octo-org/herald: 2 commits to main',
        subtitle: 'pushed by monalisa',
        body: '• Templates: JSONata renderer with limits\n• Docs: sample templates',
        deliveryType: 'NORMAL',
        tapUrl: 'https://github.com/octo-org/herald/compare/6113728f27ae...0d1a26e67d8f',
        groupId: 'github:octo-org/herald',
        tags: ['github', 'push'],
      },
      notificationsCount: 1,
    });
    expect(result.accepted).toEqual({ source: 'template', count: 1 });
    expect(await takeAllJobs(queueUrl)).toEqual([{ notification: body.message }]);
  });

  test('the /api/v1/messages/template route and a magic code with the bucket name work the same', async () => {
    const { queueUrl, queue } = await freshQueue();
    const result = await handleApiRequest(
      request('/api/v1/messages/template', { template: 'GitHub', magicCode: bucketA.magicCode, bucketId: bucketA.bucket.name }, fixture('github-pull-request')),
      apiDeps(queue),
    );
    expect(result.response.status).toBe(201);
    expect(json(result.response.body).message).toMatchObject({ title: 'octo-org/herald PR #42 opened', source: 'template:github' });
    expect(await takeAllJobs(queueUrl)).toHaveLength(1);
  });

  test('template-* query parameters and headers are merged into the data (headers last)', async () => {
    const { queue } = await freshQueue();
    const result = await handleApiRequest(
      request('/template', { template: 'greeting', 'template-user': 'from-query', 'template-detail': 'query detail' }, JSON.stringify({ user: 'from-body' }), {
        ...bearer(bucketA),
        'template-user': 'from-header',
      }),
      apiDeps(queue),
    );
    expect(result.response.status).toBe(201);
    expect(json(result.response.body).message).toMatchObject({ title: 'Hello from-header', body: 'query detail' });
  });

  test('an Idempotency-Key replay answers 200 duplicate and queues nothing more', async () => {
    const { queueUrl, queue } = await freshQueue();
    const same = request('/template', { template: 'greeting' }, '{"user":"x"}', { ...bearer(bucketA), 'idempotency-key': `k-${randomUUID()}` });
    const first = await handleApiRequest(same, apiDeps(queue));
    const replay = await handleApiRequest(same, apiDeps(queue));
    expect(first.response.status).toBe(201);
    expect(replay.response.status).toBe(200);
    expect(json(replay.response.body)).toEqual({ message: { id: (json(first.response.body).message as { id: string }).id }, notificationsCount: 0, duplicate: true });
    const otherKey = request('/template', { template: 'greeting' }, '{"user":"x"}', { ...bearer(bucketA), 'idempotency-key': `k-${randomUUID()}` });
    expect((await handleApiRequest(otherKey, apiDeps(queue))).response.status).toBe(201);
    expect(await takeAllJobs(queueUrl)).toHaveLength(2);
  });

  test.each([
    ['an unknown template', { template: 'nope' }, () => bearer(bucketA), 404, 'template_not_found'],
    ["another bucket's template (bucket B's token, bucket A's template)", { template: 'github' }, () => bearer(bucketB), 404, 'template_not_found'],
    ['no ?template=', {}, () => bearer(bucketA), 400, 'validation_failed'],
    ['a template name that cannot exist', { template: '../github' }, () => bearer(bucketA), 400, 'validation_failed'],
    ['no credentials', { template: 'github' }, () => ({}), 401, 'unauthorized'],
    ['a template that loops', { template: 'loop' }, () => bearer(bucketA), 400, 'template_limit'],
  ])('%s: typed error, nothing queued', async (_what, query, headers, status, error) => {
    const { queueUrl, queue } = await freshQueue();
    const result = await handleApiRequest(request('/template', query as Record<string, string>, fixture('github-push'), headers()), apiDeps(queue));
    expect(result.response.status).toBe(status);
    expect(json(result.response.body)).toMatchObject({ error });
    expect(await takeAllJobs(queueUrl)).toEqual([]);
  });

  test('a body that is not JSON is a 400 invalid_body', async () => {
    const { queue } = await freshQueue();
    const result = await handleApiRequest(request('/template', { template: 'github' }, '{nope', bearer(bucketA)), apiDeps(queue));
    expect(result.response.status).toBe(400);
    expect(json(result.response.body)).toMatchObject({ error: 'invalid_body' });
  });
});

describe('POST /transform?parser=template:NAME', () => {
  test('a Grafana alert with the magic code renders through the bucket\'s template', async () => {
    const { queueUrl, queue } = await freshQueue();
    const result = await handleApiRequest(request('/transform', { parser: 'template:grafana', magicCode: bucketA.magicCode }, fixture('grafana-alert')), apiDeps(queue));
    expect(result.response.status).toBe(201);
    const message = json(result.response.body).message;
    expect(message).toMatchObject({ source: 'template:grafana', title: 'Firing: HighCPU', deliveryType: 'CRITICAL', collapseId: 'grafana--severity-critical-alertname-HighCPU-' });
    expect(await takeAllJobs(queueUrl)).toEqual([{ notification: message }]);
  });

  test('a payload that is a JSON array is the template\'s input as it is', async () => {
    const { queue } = await freshQueue();
    await putTemplate(harness.store, bucketB.bucket.id, 'list', { fields: { title: '$count($) & " events"' } }, NOW);
    const result = await handleApiRequest(request('/api/v1/messages/transform', { parser: 'template:list' }, '[{"a":1},{"a":2}]', bearer(bucketB)), apiDeps(queue));
    expect(result.response.status).toBe(201);
    expect(json(result.response.body).message).toMatchObject({ title: '2 events' });
  });

  test("another bucket's template is not reachable", async () => {
    const { queueUrl, queue } = await freshQueue();
    const result = await handleApiRequest(request('/transform', { parser: 'template:grafana', magicCode: bucketB.magicCode }, fixture('grafana-alert')), apiDeps(queue));
    expect(result.response.status).toBe(404);
    expect(json(result.response.body)).toEqual({ error: 'template_not_found', message: 'this bucket has no template "grafana"' });
    expect(await takeAllJobs(queueUrl)).toEqual([]);
  });

  test('built-in parsers are still found by name', async () => {
    const { queue } = await freshQueue();
    const result = await handleApiRequest(request('/transform', { parser: 'templates', magicCode: bucketA.magicCode }, '{}'), apiDeps(queue));
    expect(json(result.response.body)).toMatchObject({ error: 'unknown_parser' });
  });
});

describe('the admin template routes (IAM)', () => {
  let deps: ManagementDeps;
  beforeEach(() => {
    deps = { store: harness.store, gateway: new NoPushGateway(), vault: new FileVault(), platformApplications: APPS, now: () => NOW };
  });

  async function admin(method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> | undefined }> {
    const httpRequest: HttpRequest = { method, path, query: {}, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: Buffer.from(body === undefined ? '' : JSON.stringify(body)) };
    try {
      const response = await handleManagementRequest(httpRequest, deps, true);
      return { status: response!.status, json: response!.body ? json(response!.body) : undefined };
    } catch (error) {
      if (!isHeraldError(error)) throw error;
      return { status: error.status, json: error.toJSON() };
    }
  }

  test('put, get, list, test, replace and delete a template', async () => {
    const bucket = await createBucket(harness.store, { name: `tpl-${randomUUID().slice(0, 8)}` });
    const base = `/admin/buckets/${bucket.bucket.name}/templates`;

    const put = await admin('PUT', `${base}/grafana`, sample('grafana'));
    expect(put).toEqual({ status: 200, json: { template: { name: 'grafana', description: 'Grafana alerting contact point (webhook)', fields: sample('grafana').fields, createdAt: NOW.toISOString(), updatedAt: NOW.toISOString() } } });
    expect(await admin('GET', `${base}/grafana`)).toEqual(put);
    await admin('PUT', `${base}/github`, sample('github'));
    expect(((await admin('GET', base)).json!.templates as { name: string }[]).map((template) => template.name)).toEqual(['github', 'grafana']);

    const tested = await admin('POST', `${base}/grafana/test`, { payload: JSON.parse(fixture('grafana-alert').toString()) });
    expect(tested.status).toBe(200);
    expect(tested.json).toMatchObject({
      notification: { bucketId: bucket.bucket.id, source: 'template:grafana', title: 'Firing: HighCPU', deliveryType: 'CRITICAL' },
      apns: { payload: { aps: expect.objectContaining({ 'interruption-level': 'time-sensitive' }) }, attributes: expect.objectContaining({ 'AWS.SNS.MOBILE.APNS.COLLAPSE_ID': 'grafana--severity-critical-alertname-HighCPU-' }) },
      fcm: { payload: expect.anything() },
    });

    const replaced = await admin('PUT', `${base}/grafana`, { fields: { title: '"replaced"' } });
    expect(replaced.json!.template).toEqual({ name: 'grafana', fields: { title: '"replaced"' }, createdAt: NOW.toISOString(), updatedAt: NOW.toISOString() });

    expect(await admin('DELETE', `${base}/grafana`)).toEqual({ status: 204, json: undefined });
    expect(await admin('GET', `${base}/grafana`)).toEqual({ status: 404, json: { error: 'template_not_found', message: 'this bucket has no template "grafana"' } });
    expect((await admin('DELETE', `${base}/grafana`)).status).toBe(404);
  });

  test('a syntax error is refused when the template is set, with JSONata\'s position', async () => {
    const result = await admin('PUT', `/admin/buckets/${bucketB.bucket.name}/templates/broken`, { fields: { title: '"a" &' } });
    expect(result).toEqual({ status: 400, json: { error: 'invalid_template', message: expect.stringMatching(/^title: .*\(JSONata S0\d{3} at position \d+\)$/) } });
    expect(await admin('GET', `/admin/buckets/${bucketB.bucket.name}/templates/broken`)).toMatchObject({ status: 404 });
  });

  test.each([
    ['an unknown field', { fields: { title: '"t"', sound: '"x"' } }, 'validation_failed'],
    ['no title', { fields: { body: '"t"' } }, 'validation_failed'],
    ['no fields', { description: 'x' }, 'validation_failed'],
  ])('%s is a 400', async (_what, body, error) => {
    expect((await admin('PUT', `/admin/buckets/${bucketB.bucket.name}/templates/x`, body)).json).toMatchObject({ error });
  });

  test('a template name like a bucket name only', async () => {
    expect((await admin('PUT', `/admin/buckets/${bucketB.bucket.name}/templates/${encodeURIComponent('Bad Name!')}`, { fields: { title: '"t"' } })).json).toMatchObject({ error: 'validation_failed', message: expect.stringMatching(/^template: must be 1–64 characters/) });
  });

  test('the test route reports a failing payload as the typed error', async () => {
    const result = await admin('POST', `/admin/buckets/${bucketA.bucket.name}/templates/loop/test`, { payload: {} });
    expect(result).toMatchObject({ status: 400, json: { error: 'template_limit' } });
  });

  test('deleting a bucket deletes its templates', async () => {
    const bucket = await createBucket(harness.store, { name: `tpl-${randomUUID().slice(0, 8)}` });
    await putTemplate(harness.store, bucket.bucket.id, 'one', { fields: { title: '"1"' } }, NOW);
    await putTemplate(harness.store, bucket.bucket.id, 'two', { fields: { title: '"2"' } }, NOW);
    expect(await listTemplates(harness.store, bucket.bucket.id)).toHaveLength(2);
    expect((await admin('DELETE', `/admin/buckets/${bucket.bucket.name}`)).status).toBe(204);
    expect(await listTemplates(harness.store, bucket.bucket.id)).toEqual([]);
  });
});
