import { fork } from 'node:child_process';
import * as path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { SNSClient } from '@aws-sdk/client-sns';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { createIngestHandler } from '../../lambdas/ingest';
import { registerDevice } from '../../lambdas/core/devices';
import type { PlatformApplications, PushGateway } from '../../lambdas/core/push/gateway';
import { SnsPushGateway } from '../../lambdas/core/push/sns-gateway';
import { SqsNotificationQueue, type DeliveryJob } from '../../lambdas/core/queue';
import { FileVault } from '../../lambdas/core/sources/vault';
import { createBucket } from '../../lambdas/core/store/buckets';
import { createStore } from '../../lambdas/core/store/table';
import { lambdaContext } from '../../lambdas/local/lambda-context';
import { createHarness, type Harness } from '../integration/harness';
import type { DeliveryConfig, DeliveryResult } from './chaos-delivery';
import { addCounts, describeFaults, dynamoIdentity, faultCounts, Ledger, stableNames, titleIndex } from './chaos-ledger';
import { callScope, fastRetries, FaultPlan, injectFaults } from './faults';
import { forEachConcurrently, httpEvent, seconds, table, takeAll } from './support';

/**
 * Chaos: NOTIFICATIONS notifications to a bucket of DEVICES devices through the real ingest and
 * delivery handlers on the stand-ins (dynalite, fauxqs), with FAULT_RATE of the DynamoDB, SQS and
 * SNS calls failing (throttled, 5xx, or the reply lost after the request completed), injected at
 * the SDK boundary. Nothing may be lost; a (notification, device) may be pushed twice only where
 * an earlier attempt's outcome was unknown.
 *
 * Faults are injected per try on the wire, inside the SDK's standard retries (3 tries, as the
 * handlers' default clients have; CHAOS_SDK_ATTEMPTS=1 turns them off so that every fault reaches
 * Herald's code). SNS cannot run here: Publish is mocked at the SDK boundary
 * (aws-sdk-client-mock), which also replaces the SDK's retries, so every SNS fault reaches Herald.
 */
const SEED = Number(process.env.CHAOS_SEED ?? 20_251_124);
const NOTIFICATIONS = Number(process.env.CHAOS_NOTIFICATIONS ?? 10_000);
const DEVICES = 20;
const FAULT_RATE = Number(process.env.CHAOS_FAULT_RATE ?? 0.1);
const SDK_ATTEMPTS = Number(process.env.CHAOS_SDK_ATTEMPTS ?? 3);
const VISIBILITY_TIMEOUT_SECONDS = Number(process.env.CHAOS_VISIBILITY_SECONDS ?? 1);
const MAX_RECEIVE_COUNT = 10;
/** Just under the visibility timeout: a redelivered message finds the dead attempt's claims stale. */
const CLAIM_TIMEOUT_MS = 900;
const SENDERS = Number(process.env.CHAOS_SENDERS ?? 4);
const POLLERS = Number(process.env.CHAOS_POLLERS ?? 3);
const POLLER_BATCH = Number(process.env.CHAOS_BATCH ?? 2);
/** The delivery must have drained the queue this long after the suite started. */
const DRAIN_DEADLINE_MINUTES = Number(process.env.CHAOS_DEADLINE_MINUTES ?? 13);
const suiteStarted = Date.now();
const SENDER_TRIES = 50;
/** Processes running the delivery side (each with POLLERS concurrent invocations). */
const DELIVERY_PROCESSES = Number(process.env.CHAOS_DELIVERY_PROCESSES ?? 2);
const TOKEN = 'hrld_chaos-token-0123456789abcdefghijklmnopqrstuvwxyz';
const APNS_APP = 'arn:aws:sns:us-east-1:123456789012:app/APNS/herald-apns';
const FCM_APP = 'arn:aws:sns:us-east-1:123456789012:app/GCM/herald-fcm';
const PLATFORM_APPLICATIONS: PlatformApplications = { APNS: APNS_APP, GCM: FCM_APP };

jest.setTimeout(15 * 60_000);

/** Request numbers and notification ids, as the ingest side saw them reach the queue. */
class Queued {
  /** Request number → notification ids that reached the queue (the reply may have been lost). */
  readonly ids = new Map<number, Set<string>>();
  /** Request numbers whose SendMessageBatch reply was lost after the job was queued. */
  readonly replyLost = new Set<number>();
}

/** Forks a delivery process (delivery-process.ts, run by tsx) and starts it. */
async function startDeliveryProcess(config: DeliveryConfig): Promise<{ stop(): Promise<DeliveryResult> }> {
  const child = fork(path.join(__dirname, 'delivery-process.ts'), [], {
    execArgv: ['--import', 'tsx'],
    // The test's process.env (jest's copy holds TABLE_NAME, QUEUE_URL and the stand-ins' endpoints),
    // with the delivery Lambda's own quiet-settings cache (the unit tests turn it off), as deployed.
    env: { ...process.env, QUIET_SETTINGS_CACHE_SECONDS: '30' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = <T>(type: string) =>
    new Promise<T>((resolve, reject) => {
      const onMessage = (message: { type: string; result?: T }) => {
        if (message.type !== type) return;
        child.off('exit', onExit);
        resolve(message.result as T);
      };
      const onExit = (code: number | null) => reject(new Error(`the delivery process exited (${code}) before "${type}"`));
      child.once('exit', onExit);
      child.on('message', onMessage);
    });
  const started = next('started');
  child.send({ type: 'start', config });
  await started;
  return {
    async stop() {
      const result = next<DeliveryResult>('result');
      child.send({ type: 'stop' });
      return result;
    },
  };
}

describe('chaos: 10% of DynamoDB, SQS and SNS calls fail', () => {
  let harness: Harness;
  let bucketId: string;
  const epoch = Date.now();
  const ledger = new Ledger(epoch);
  const queued = new Queued();
  const plan = new FaultPlan(SEED, FAULT_RATE);
  const endpointDevice = new Map<string, string>();
  let stable: (text: string) => string = (text) => text;

  // The ingest side's clients, faulty; the harness's own clients stay clean for set-up and accounting.
  const dynamo = new DynamoDBClient({ retryStrategy: fastRetries(SDK_ATTEMPTS) });
  const sqs = new SQSClient({ retryStrategy: fastRetries(SDK_ATTEMPTS) });

  beforeAll(async () => {
    harness = await createHarness({ visibilityTimeoutSeconds: VISIBILITY_TIMEOUT_SECONDS, maxReceiveCount: MAX_RECEIVE_COUNT });
    const created = await createBucket(harness.store, { name: 'chaos', token: TOKEN, magicCode: 'chaos-magic-code-0123456789' });
    bucketId = created.bucket.id;
    stable = stableNames(ledger, bucketId);
    // 20 devices, half iOS, half Android, registered with the real store and a stand-in for SNS's
    // endpoint calls (the delivery under test only needs their endpoints).
    const endpoints: PushGateway = {
      ensureEndpoint: async (app, token) => `${app.replace(':app/', ':endpoint/')}/${token.slice(-12)}`,
      publish: () => Promise.reject(new Error('unused')),
      deleteEndpoint: () => Promise.reject(new Error('unused')),
    };
    for (let i = 0; i < DEVICES; i += 1) {
      const registration = i % 2 === 0
        ? { platform: 'ios' as const, token: `${'a'.repeat(52)}${String(i).padStart(12, '0')}` }
        : { platform: 'android' as const, token: `fcm-registration-token-${String(i).padStart(12, '0')}` };
      const { device } = await registerDevice({ store: harness.store, gateway: endpoints, platformApplications: PLATFORM_APPLICATIONS }, bucketId, registration);
      endpointDevice.set(device.endpointArn!, device.id);
    }

    injectFaults(dynamo, 'dynamodb', plan, dynamoIdentity((text: string) => stable(text)));
    injectFaults(sqs, 'sqs', plan, (command, input) => {
      if (command !== 'SendMessageBatch') return command;
      const indexes = (input.Entries as { MessageBody: string }[]).map((entry) => ledger.learn(JSON.parse(entry.MessageBody) as DeliveryJob));
      return `send ${indexes.join(',')}`;
    }, {
      onSent(command, input, fault, error) {
        if (command !== 'SendMessageBatch' || error) return;
        for (const entry of input.Entries as { MessageBody: string }[]) {
          const job = JSON.parse(entry.MessageBody) as DeliveryJob;
          const index = titleIndex(job.notification.title);
          queued.ids.set(index, new Set([...(queued.ids.get(index) ?? []), job.notification.id]));
          if (fault) queued.replyLost.add(index);
        }
      },
    });
  });

  /** What the run found, asserted one property per test below. */
  const found = {
    gaveUp: [] as number[],
    unexpectedStatuses: [] as string[],
    accepted: 0,
    depthAfterDrain: -1,
    lost: [] as { index: number; reason: string }[],
    unjustified: [] as string[],
    keyDuplicates: [] as { index: number; deviceId: string; ids: number }[],
  };

  // The run: senders and the delivery event source, then the accounting.
  beforeAll(async () => {
    const started = performance.now();
    const store = createStore(harness.tableName, dynamo);
    const queue = new SqsNotificationQueue(harness.queues.queueUrl, sqs);
    const ingest = createIngestHandler({ store, queue, gateway: new SnsPushGateway(new SNSClient({})), vault: new FileVault(), platformApplications: PLATFORM_APPLICATIONS });

    // The delivery side runs in child processes (tsx), so that the run uses both cores.
    const config: DeliveryConfig = {
      seed: SEED, faultRate: FAULT_RATE, sdkAttempts: SDK_ATTEMPTS, claimTimeoutMs: CLAIM_TIMEOUT_MS, pollers: POLLERS, batchSize: POLLER_BATCH,
      tableName: harness.tableName, queueUrl: harness.queues.queueUrl, bucketId, endpointDevice: [...endpointDevice], epoch,
    };
    const deliveries = await Promise.all(Array.from({ length: DELIVERY_PROCESSES }, () => startDeliveryProcess(config)));

    // WHEN a well-behaved sender posts each notification, retrying a 503 with the same key
    const statusCounts = new Map<number, number>();
    const tries: number[] = [];
    const acceptedIds = new Map<number, string>();
    const gaveUp: number[] = [];
    const answers = new Map<number, string[]>();
    await forEachConcurrently(NOTIFICATIONS, SENDERS, async (index) => {
      const event = httpEvent('POST', '/message', {
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}`, 'idempotency-key': `chaos-${index}` },
        body: JSON.stringify({ title: `chaos #${index}`, body: `notification ${index} of ${NOTIFICATIONS}`, deliveryType: 'NORMAL' }),
      });
      for (let attempt = 0; attempt < SENDER_TRIES; attempt += 1) {
        const result = (await callScope.run(`send ${index} try ${attempt}:`, () => ingest(event, lambdaContext('herald-ingest', 10_000)))) as APIGatewayProxyStructuredResultV2;
        const status = result.statusCode!;
        statusCounts.set(status, (statusCounts.get(status) ?? 0) + 1);
        answers.set(index, [...(answers.get(index) ?? []), `${status}${status === 503 ? '' : ` ${stable((JSON.parse(result.body as string) as { message: { id: string } }).message.id)}`}`]);
        if (status === 503) continue;
        tries.push(attempt + 1);
        if (status !== 200 && status !== 201) found.unexpectedStatuses.push(`chaos #${index}: ${status} ${result.body}`);
        acceptedIds.set(index, (JSON.parse(result.body as string) as { message: { id: string } }).message.id);
        return;
      }
      gaveUp.push(index);
    });
    const ingestDone = performance.now();

    // ... and the delivery handler runs until the queue is drained
    const depth = async () => {
      const { Attributes = {} } = await harness.sqs.send(new GetQueueAttributesCommand({
        QueueUrl: harness.queues.queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }));
      return Number(Attributes.ApproximateNumberOfMessages ?? 0) + Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0);
    };
    const deadline = suiteStarted + DRAIN_DEADLINE_MINUTES * 60_000;
    for (let empty = 0; empty < 3 && Date.now() < deadline;) {
      empty = (await depth()) === 0 ? empty + 1 : 0;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const results = await Promise.all(deliveries.map((delivery) => delivery.stop()));
    const faults = new Map<string, number>(faultCounts(plan));
    const invocationMs: number[] = [];
    let pollerErrors = 0;
    for (const result of results) {
      ledger.merge(result.ledger);
      addCounts(faults, result.faults);
      invocationMs.push(...result.invocationMs);
      pollerErrors += result.pollerErrors;
    }
    const deliveryDone = performance.now();
    plan.disable();
    found.depthAfterDrain = await depth();

    /** The per-device state a notification's delivery left in the table. */
    const deviceStates = async (notificationId: string): Promise<string> => {
      const { Items = [] } = await harness.store.doc.send(new QueryCommand({
        TableName: harness.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :device)',
        ExpressionAttributeValues: { ':pk': `NOTIF#${notificationId}`, ':device': 'DEVICE#' },
      }));
      const states = new Map<string, number>();
      for (const item of Items) states.set(String(item.status), (states.get(String(item.status)) ?? 0) + 1);
      states.set('unclaimed', DEVICES - Items.length);
      return [...states].filter(([, n]) => n > 0).map(([status, n]) => `${status} ${n}`).join(', ');
    };

    // THEN: the dead letters, each with why (the per-device state its delivery left)
    const deadLetters = await takeAll(harness.sqs, harness.queues.deadLetterQueueUrl);
    const deadIds = new Map<string, { receives: string; devices: string }>();
    for (const message of deadLetters) {
      const { notification } = JSON.parse(message.Body!) as DeliveryJob;
      deadIds.set(notification.id, { receives: message.Attributes?.ApproximateReceiveCount ?? '?', devices: await deviceStates(notification.id) });
    }

    // Lost: accepted, yet some device never got it under any id queued for it, and not in the DLQ.
    const deviceIds = [...endpointDevice.values()];
    const lost: { index: number; reason: string }[] = [];
    const keyDuplicates: { index: number; deviceId: string; ids: number }[] = [];
    for (const [index, acceptedId] of acceptedIds) {
      const ids = new Set([...(queued.ids.get(index) ?? [])]);
      if (!ids.has(acceptedId)) {
        lost.push({ index, reason: `answered ${acceptedId} as accepted, but that id never reached the queue (queued: ${[...ids].join(', ') || 'none'})` });
      }
      const inDlq = [...ids].some((id) => deadIds.has(id));
      const missing = deviceIds.filter((deviceId) => ![...ids].some((id) => ledger.publishes.has(Ledger.pair(id, deviceId))));
      if (missing.length > 0 && !inDlq && ids.has(acceptedId)) {
        const states = await Promise.all([...ids].map(async (id) => `${stable(id)}: ${await deviceStates(id)}`));
        lost.push({ index, reason: `${missing.length} device(s) never published; table: ${states.join('; ')}` });
      }
      for (const deviceId of deviceIds) {
        const reached = [...ids].filter((id) => ledger.publishes.has(Ledger.pair(id, deviceId))).length;
        if (reached > 1) keyDuplicates.push({ index, deviceId, ids: reached });
      }
    }
    /** The faults injected into a sender's requests, to say what a lost notification went through. */
    const senderFaults = (index: number): string =>
      plan.injected
        .filter((fault) => fault.identity.startsWith(`send ${index} try `))
        .map((fault) => `${fault.identity.replace(/:.*$/, '')}: ${fault.command} ${fault.identity.replace(/^[^:]*:/, '').trim()} ${fault.kind}`)
        .join('; ') || 'none';
    for (const entry of lost) {
      entry.reason += ` | ingest faults: ${senderFaults(entry.index)} | answers: ${answers.get(entry.index)?.join(', ')}`;
    }

    // Duplicates of one (notification, device): each repeats a publish whose success Herald did
    // not know (its reply lost) or could not record; a publish Herald recorded is never repeated.
    let pairDuplicates = 0;
    const unjustified: string[] = [];
    const duplicateCauses = new Map<string, number>();
    for (const [pair, count] of ledger.publishes) {
      if (count <= 1) continue;
      pairDuplicates += count - 1;
      const unknown = ledger.unknownPublishes.get(pair) ?? 0;
      const causes = [...(ledger.causes.get(pair) ?? [])].sort().join(' + ') || 'none';
      if (count - 1 > unknown) {
        unjustified.push(`${stable(pair)}: ${count} publishes, ${unknown} of unknown outcome, ${ledger.takeovers.get(pair) ?? 0} stale claim(s) taken over; causes: ${causes}; timeline: ${ledger.timeline.get(pair)?.join(', ')}`);
      }
      duplicateCauses.set(causes, (duplicateCauses.get(causes) ?? 0) + count - 1);
    }
    const unknownRetried = [...ledger.takeovers.values()].reduce((sum, n) => sum + n, 0);
    const totalPublishes = [...ledger.publishes.values()].reduce((sum, n) => sum + n, 0);
    const sortedInvocations = [...invocationMs].sort((a, b) => a - b);

    const faultRows = ['dynamodb', 'sqs', 'sqs-poller', 'sns'].map((service) => [service, describeFaults(faults, service)] as const);
    console.log([
      table(`chaos: ${NOTIFICATIONS} notifications × ${DEVICES} devices, fault rate ${FAULT_RATE}, seed ${SEED}`, [
        ['accepted (2xx)', acceptedIds.size],
        ['sender gave up', gaveUp.length],
        ['ingest answers by status', [...statusCounts].sort().map(([status, n]) => `${status}: ${n}`).join(', ')],
        ['mean tries per notification', (tries.reduce((a, b) => a + b, 0) / Math.max(1, tries.length)).toFixed(2)],
        ['publishes that reached SNS', totalPublishes],
        ['(notification, device) pairs published', ledger.publishes.size],
        ['duplicates from unknown outcomes', pairDuplicates],
        ...[...duplicateCauses].map(([why, n]) => [`  of which: ${why}`, n] as const),
        ['stale claims retried (unknownRetried)', unknownRetried],
        ['unjustified duplicates', unjustified.length],
        ['SQS replies lost at ingest (re-queued under the same id)', queued.replyLost.size],
        ['(key, device) pushed under two notification ids', keyDuplicates.length],
        ['dead-lettered notifications', deadLetters.length],
        ['lost', lost.length],
      ]),
      table('injected faults', faultRows),
      table('run', [
        ['ingest phase', seconds(ingestDone - started)],
        ['delivery drained after', seconds(deliveryDone - started)],
        ['delivery processes × pollers × batch', `${DELIVERY_PROCESSES} × ${POLLERS} × ${POLLER_BATCH}`],
        ['delivery invocations', invocationMs.length],
        ['invocation p50 / p99 / max', `${sortedInvocations[Math.floor(sortedInvocations.length / 2)]?.toFixed(0)} / ${sortedInvocations[Math.floor(sortedInvocations.length * 0.99)]?.toFixed(0)} / ${sortedInvocations.at(-1)?.toFixed(0)} ms`],
        ['poller errors (lost receives/deletes)', pollerErrors],
      ]),
      ...(deadIds.size > 0 ? [table('dead letters (notification: receives; per-device state)', [...deadIds].slice(0, 50).map(([id, info]) => [stable(id), `${info.receives} receives; ${info.devices}`] as const))] : []),
      ...(lost.length > 0 ? [table('LOST', lost.slice(0, 50).map(({ index, reason }) => [`chaos #${index}`, reason] as const))] : []),
      ...(unjustified.length > 0 ? [table('UNJUSTIFIED DUPLICATES', unjustified.slice(0, 50).map((line) => [line, ''] as const))] : []),
    ].join('\n'));

    Object.assign(found, { gaveUp, accepted: acceptedIds.size, lost, unjustified, keyDuplicates });
  });

  test('a sender retrying 503s gets every notification accepted', () => {
    expect(found.unexpectedStatuses.slice(0, 5)).toEqual([]);
    expect(found.gaveUp).toEqual([]);
    expect(found.accepted).toBe(NOTIFICATIONS);
  });

  test('the delivery drains the queue', () => {
    expect(found.depthAfterDrain).toBe(0);
  });

  test('nothing is lost: every accepted notification reached every device, or is in the DLQ with its state', () => {
    expect(found.lost.slice(0, 5)).toEqual([]);
  });

  test('a (notification, device) is pushed again only after a publish whose outcome Herald did not know', () => {
    expect(found.unjustified.slice(0, 5)).toEqual([]);
  });

  test('a sender\'s Idempotency-Key reaches each device under one notification id, even after SQS lost the reply', () => {
    expect(found.keyDuplicates.slice(0, 5)).toEqual([]);
  });
});
