import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { USER_SUPPLIED_SECRET } from '../core/auth/secrets';
import { registerDevice } from '../core/devices';
import { parseQueuedJob } from '../core/queue';
import { LocalNotificationScheduler } from './local-scheduler';
import { addCredential, createBucket, findBucket, findCredential, type Bucket } from '../core/store/buckets';
import { listDevices } from '../core/store/devices';
import { createStore, type Store } from '../core/store/table';
import { FileVault } from '../core/sources/vault';
import type { AdminEvent } from '../admin';
import { Inbox, type DeviceInfo } from './inbox';
import { toApiGatewayEvent } from './http-event';
import { LOCAL_CREDENTIALS, LOCAL_IAM_AUTHORIZER, verifyLocalSignature } from './sigv4';
import { lambdaContext } from './lambda-context';
import { LOCAL_PLATFORM_APPLICATIONS, LocalPushGateway } from './local-push';
import { LocalMessageMover } from './message-mover';
import { SqsEventSource, type SqsHandler } from './sqs-event-source';
import { ensureQueues, ensureTable, startStandIns, useStandIns, type StandIns } from './stand-ins';

export interface LocalHeraldOptions {
  /** @default 8787 (or PORT) */
  readonly port?: number;
  /** @default '127.0.0.1': nothing is exposed beyond this machine unless asked */
  readonly host?: string;
  /** Directory for buckets, devices and the inbox; in memory when absent. */
  readonly dataDir?: string;
  /** Fixed demo credentials (16–128 URL-safe characters); random when absent. */
  readonly demoToken?: string;
  readonly demoMagicCode?: string;
  /** @default 2 (seconds before a failed delivery is retried) */
  readonly visibilityTimeoutSeconds?: number;
  /** @default 5, as in the stack */
  readonly maxReceiveCount?: number;
  /** Stand-ins already running (tests share one pair); started here when absent. */
  readonly standIns?: Pick<StandIns, 'dynamodbEndpoint' | 'sqsEndpoint'>;
  /** @default 'herald-local' (table) and 'herald-notifications' (queue) */
  readonly tableName?: string;
  readonly queueName?: string;
  /** Wraps the delivery handler, for fault-injection tests. */
  readonly wrapDeliveryHandler?: (handler: SqsHandler) => SqsHandler;
  /** Wraps the admin handler, for tests that watch what reaches it. */
  readonly wrapAdminHandler?: (handler: AdminHandler) => AdminHandler;
}

export interface DemoBucket {
  readonly bucket: Bucket;
  readonly token: string;
  readonly magicCode: string;
}

export interface LocalHerald {
  readonly url: string;
  /** Where sources' signing keys are kept in this run. */
  readonly vault: FileVault;
  readonly demo: DemoBucket;
  readonly inbox: Inbox;
  readonly push: LocalPushGateway;
  readonly store: Store;
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly deadLetterQueueUrl: string;
  /** EventBridge Scheduler's stand-in (notifications due more than 15 minutes ahead). */
  readonly scheduler: LocalNotificationScheduler;
  /** Stops accepting requests, drains the queue, then stops the stand-ins. */
  stop(): Promise<void>;
}

export { LOCAL_CREDENTIALS };

/** The start banner's admin API line: where it is, and the credentials to sign with. */
export function describeAdminApi(url: string): string {
  return `${url}/admin (SigV4 with access key "${LOCAL_CREDENTIALS.accessKeyId}", secret "${LOCAL_CREDENTIALS.secretAccessKey}", region us-east-1, service execute-api)`;
}

/** The admin Lambda's handler as local mode invokes it. */
export type AdminHandler = (event: AdminEvent, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

export class PortInUseError extends Error {
  constructor(readonly host: string, readonly port: number) {
    super(`port ${port} on ${host} is already in use: stop the other process or choose another port with PORT=<port>`);
    this.name = 'PortInUseError';
  }
}

const TABLE_NAME = 'herald-local';
const QUEUE_NAME = 'herald-notifications';
/** API Gateway's own payload limit; Herald's routes enforce their smaller ones. */
const MAX_REQUEST_BYTES = 10 * 1024 * 1024;

/** Named routes of the HTTP API (the rest reaches `$default`), to fill `routeKey` as API Gateway does. */
const ROUTE_KEYS = new Set([
  'POST /transform', 'POST /api/v1/messages/transform', 'POST /message', 'GET /message',
  'POST /api/v1/messages', 'GET /api/v1/messages', 'POST /template', 'POST /api/v1/messages/template', 'POST /devices', 'GET /health', 'GET /openapi.json',
  'POST /webhooks/{source}', 'GET /webhooks/{source}',
]);

/** The admin API's one route, as in the stack (lib/admin.ts): IAM-authorized, to the admin Lambda. */
const ADMIN_ROUTE_KEY = 'ANY /admin/{proxy+}';
const ADMIN_PATH = /^\/admin\/(.+)$/;

/**
 * Runs the whole pipeline on this machine: the real ingest and delivery handlers, dynalite as
 * DynamoDB, fauxqs as SQS (with its visibility timeout, receive counts and dead-letter queue), and a
 * recording push transport feeding the device inbox page.
 */
export async function startLocalHerald(options: LocalHeraldOptions = {}): Promise<LocalHerald> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 8787;
  for (const [name, value] of [['demo token', options.demoToken], ['demo magic code', options.demoMagicCode]] as const) {
    if (value !== undefined && !USER_SUPPLIED_SECRET.test(value)) {
      throw new Error(`the ${name} must be 16–128 characters of A-Z, a-z, 0-9, "_" and "-"`);
    }
  }
  const server = createServer();
  await listen(server, host, port);

  const dataDir = options.dataDir;
  if (dataDir) mkdirSync(path.join(dataDir, 'dynamodb'), { recursive: true });
  const tableName = options.tableName ?? TABLE_NAME;
  let standIns: StandIns | undefined;
  try {
    if (options.standIns) {
      useStandIns(options.standIns);
    } else {
      standIns = await startStandIns({ dynamodbPath: dataDir ? path.join(dataDir, 'dynamodb') : undefined });
      useStandIns(standIns);
    }
    process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
    process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
    // One process on one machine: a new snooze or quiet window shows on the next notification.
    process.env.QUIET_SETTINGS_CACHE_SECONDS ??= '0';
    const dynamodb = new DynamoDBClient({});
    const sqs = new SQSClient({});
    await ensureTable(dynamodb, tableName);
    const queues = await ensureQueues(sqs, options.queueName ?? QUEUE_NAME, {
      visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? 2,
      maxReceiveCount: options.maxReceiveCount ?? 5,
    });
    process.env.TABLE_NAME = tableName;
    process.env.QUEUE_URL = queues.queueUrl;

    // Loaded after the environment is set, as Lambda loads them into a configured runtime.
    const { createIngestHandler } = await import('../ingest');
    const { createDeliveryHandler } = await import('../delivery');
    const { createAdminHandler } = await import('../admin');
    const store = createStore(tableName, dynamodb);
    const push = new LocalPushGateway();
    // Sources' signing keys: Secrets Manager's stand-in is a file in the data directory.
    const vault = new FileVault(dataDir ? path.join(dataDir, 'source-keys.json') : undefined);
    // EventBridge Scheduler's stand-in: timers, re-armed from the table's pending records on start.
    const scheduler = new LocalNotificationScheduler(sqs, queues.queueUrl);
    await scheduler.rearm(store);
    const ingest = createIngestHandler({ gateway: push, platformApplications: LOCAL_PLATFORM_APPLICATIONS, vault, scheduler });
    // fauxqs has no message move tasks: local mode's redrive moves the dead letters itself.
    const redrive = new LocalMessageMover(sqs, queues.deadLetterQueueUrl, queues.queueUrl);
    const adminHandler: AdminHandler = createAdminHandler({
      gateway: push,
      platformApplications: LOCAL_PLATFORM_APPLICATIONS,
      vault,
      deadLetters: { sqs, deadLetterQueueUrl: queues.deadLetterQueueUrl, redrive },
      scheduler,
    });
    const admin = options.wrapAdminHandler ? options.wrapAdminHandler(adminHandler) : adminHandler;
    // A claim left by a killed attempt is taken over once SQS could have redelivered the message.
    const delivery: SqsHandler = createDeliveryHandler({ gateway: push, claimTimeoutMs: (options.visibilityTimeoutSeconds ?? 2) * 1000 });
    const inbox = new Inbox(dataDir ? path.join(dataDir, 'inbox.jsonl') : undefined);
    const devices = new DeviceDirectory(store);
    push.onPush((recorded) => {
      void devices.lookup(recorded).then((device) => inbox.addPush(recorded, device));
    });

    const demo = await ensureDemoBucket(store, dataDir, options);
    const eventSource = new SqsEventSource({
      sqs,
      queueUrl: queues.queueUrl,
      handler: options.wrapDeliveryHandler ? options.wrapDeliveryHandler(delivery) : delivery,
      // Concurrent batches, as the event source mapping scales them (the stack caps it at 20).
      concurrency: 4,
      waitTimeSeconds: 1,
    });
    eventSource.start();
    const deadLetters = watchDeadLetters(sqs, queues.deadLetterQueueUrl, inbox);

    const page = readFileSync(path.join(__dirname, 'inbox.html'));
    const streams = new Set<ServerResponse>();
    server.on('request', (request: IncomingMessage, response: ServerResponse) => {
      void route(request, response).catch((error: unknown) => {
        if (!response.headersSent) response.writeHead(500, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ error: 'local_error', message: (error as Error).message }));
      });
    });
    const route = async (request: IncomingMessage, response: ServerResponse) => {
      const pathname = new URL(request.url ?? '/', 'http://localhost').pathname;
      if (request.method === 'GET' && (pathname === '/local/inbox' || pathname === '/local/inbox/' || pathname === '/')) {
        if (pathname === '/') {
          response.writeHead(302, { location: '/local/inbox' }).end();
          return;
        }
        response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(page);
        return;
      }
      if (request.method === 'GET' && pathname === '/local/inbox.json') {
        response.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        response.end(JSON.stringify({ notifications: inbox.list() }));
        return;
      }
      if (request.method === 'GET' && pathname === '/local/inbox/events') {
        response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
        response.write(': connected\n\n');
        streams.add(response);
        const unsubscribe = inbox.subscribe((event) => response.write(`event: ${event.type}\ndata: ${JSON.stringify(event.entry)}\n\n`));
        request.on('close', () => {
          unsubscribe();
          streams.delete(response);
        });
        return;
      }
      const body = await readBody(request);
      if (body === undefined) {
        response.writeHead(413, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ error: 'payload_too_large', message: `body is over ${MAX_REQUEST_BYTES} bytes` }));
        return;
      }
      const adminPath = ADMIN_PATH.exec(pathname);
      const result = adminPath
        ? await adminRequest(request, body, adminPath[1]!)
        : await ingest(toApiGatewayEvent(request, body, ROUTE_KEYS), lambdaContext('herald-ingest', 10_000));
      response.writeHead(result.statusCode ?? 200, result.headers as Record<string, string>);
      response.end(result.body ?? '');
    };

    /**
     * `ANY /admin/{proxy+}`: verified as API Gateway's IAM authorizer would (SigV4 with local
     * mode's credentials) before the admin handler runs; a request that fails never reaches it.
     */
    const adminRequest = async (request: IncomingMessage, body: Buffer, proxy: string) => {
      const event = toApiGatewayEvent(request, body, ROUTE_KEYS);
      // The path and query exactly as received: the client signed those, not a normalized URL.
      const [rawPath = '/', rawQuery = ''] = (request.url ?? '/').split(/\?(.*)/s);
      const verdict = await verifyLocalSignature({
        method: event.requestContext.http.method,
        path: rawPath,
        rawQuery,
        headers: event.headers as Record<string, string>,
        body,
      });
      if (!verdict.valid) {
        return { statusCode: 403, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ error: 'forbidden', message: verdict.reason }) };
      }
      return admin(
        {
          ...event,
          routeKey: ADMIN_ROUTE_KEY,
          pathParameters: { proxy },
          requestContext: { ...event.requestContext, routeKey: ADMIN_ROUTE_KEY, authorizer: LOCAL_IAM_AUTHORIZER },
        },
        lambdaContext('herald-admin', 10_000),
      );
    };

    const url = `http://${host.includes(':') ? `[${host}]` : host}:${(server.address() as AddressInfo).port}`;
    let stopping: Promise<void> | undefined;
    return {
      url,
      vault,
      demo,
      inbox,
      push,
      store,
      sqs,
      queueUrl: queues.queueUrl,
      deadLetterQueueUrl: queues.deadLetterQueueUrl,
      scheduler,
      stop() {
        stopping ??= (async () => {
          const closed = new Promise<void>((resolve) => server.close(() => resolve()));
          for (const stream of streams) stream.end();
          server.closeIdleConnections();
          scheduler.stop();
          await redrive.idle();
          await eventSource.drain(30_000);
          await deadLetters.stop();
          await closed;
          await standIns?.stop();
        })();
        return stopping;
      },
    };
  } catch (error) {
    server.close();
    await standIns?.stop();
    throw error;
  }
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(error.code === 'EADDRINUSE' ? new PortInUseError(host, port) : error);
    });
    server.listen(port, host, () => resolve());
  });
}

/** The body, or undefined when it exceeds API Gateway's 10 MB limit. */
async function readBody(request: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_REQUEST_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Finds which device of a bucket an endpoint belongs to, for the inbox's per-device view. */
class DeviceDirectory {
  private readonly byEndpoint = new Map<string, DeviceInfo>();

  constructor(private readonly store: Store) {}

  async lookup(push: { endpointArn: string; payload: Record<string, unknown>; key: string }): Promise<DeviceInfo | undefined> {
    const known = this.byEndpoint.get(push.endpointArn);
    if (known) return known;
    const bucketId = push.key === 'GCM'
      ? ((push.payload.fcmV1Message as { message?: { data?: Record<string, string> } })?.message?.data?.bucket_id)
      : ((push.payload.herald as Record<string, string> | undefined)?.bucketId);
    if (!bucketId) return undefined;
    let cursor: string | undefined;
    do {
      const page = await listDevices(this.store, bucketId, cursor);
      for (const device of page.devices) {
        if (device.endpointArn) this.byEndpoint.set(device.endpointArn, { id: device.id, name: device.name, platform: device.platform });
      }
      cursor = page.cursor;
    } while (cursor);
    return this.byEndpoint.get(push.endpointArn);
  }
}

/**
 * Lists dead letters on the inbox page as failed. Messages stay in the DLQ (for redrive); each is
 * shown once per run. It looks only when the DLQ's size changed, and with VisibilityTimeout 0, a
 * look that hides nothing: `herald dlq list` and redrive must see every message at any time, and
 * each look adds to a message's receive count.
 */
function watchDeadLetters(sqs: SQSClient, queueUrl: string, inbox: Inbox): { stop(): Promise<void> } {
  const seen = new Set<string>();
  let running = true;
  let lookedAtDepth = 0;
  const loop = (async () => {
    while (running) {
      try {
        const { Attributes = {} } = await sqs.send(
          new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
        );
        const depth = Number(Attributes.ApproximateNumberOfMessages ?? 0) + Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0);
        if (depth !== lookedAtDepth) {
          for (let page = 0; page < Math.ceil(depth / 10); page += 1) {
            const { Messages = [] } = await sqs.send(
              new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 0 }),
            );
            for (const message of Messages) {
              if (seen.has(message.MessageId!)) continue;
              seen.add(message.MessageId!);
              recordDeadLetter(inbox, message.MessageId!, message.Body ?? '');
            }
          }
          lookedAtDepth = depth;
        }
      } catch {
        // The stand-in is stopping, or busy: look again on the next round.
      }
      if (running) await new Promise((resolve) => setTimeout(resolve, 500));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
    },
  };
}

function recordDeadLetter(inbox: Inbox, messageId: string, body: string): void {
  const reason = 'delivery failed on every attempt; the message is in the dead-letter queue';
  try {
    const job = parseQueuedJob(body);
    if (job.kind === 'scheduled') {
      // Scheduler's job names the stored notification only; its card is in the inbox if it was seen.
      const { id, bucketId } = job.notification;
      inbox.addFailure(id, `${reason} (a scheduled notification)`, inbox.get(id)?.card ?? { title: `Scheduled notification ${id}`, deliveryType: 'NORMAL' }, bucketId);
      return;
    }
    const { kind, notification } = job;
    if (kind === 'clear') {
      // The notification itself was delivered: only its clear is dead, listed on its own.
      inbox.addFailure(`${notification.id}#clear`, `${reason} (the clear of this notification)`, { title: `Clear: ${notification.title}`, deliveryType: 'SILENT' }, notification.bucketId);
      return;
    }
    const existing = inbox.get(notification.id);
    inbox.addFailure(
      notification.id,
      reason,
      existing?.card ?? {
        title: notification.title,
        subtitle: notification.subtitle,
        body: notification.body,
        deliveryType: notification.deliveryType,
        groupId: notification.groupId,
        collapseId: notification.collapseId,
      },
      notification.bucketId,
    );
  } catch {
    inbox.addFailure(messageId, `${reason} (not a Herald notification: ${body.slice(0, 120)})`);
  }
}

const DEMO_BUCKET = 'demo';
const DEMO_DEVICES = [
  { platform: 'ios' as const, token: 'local-demo-ios-device-token-0001', name: 'Demo iPhone' },
  { platform: 'android' as const, token: 'local-demo-android-registration-token-0001', name: 'Demo Pixel' },
];

/**
 * The demo bucket with one simulated iPhone and one simulated Android phone. Its credentials are
 * fixed by options, or random and kept in the data directory so a restart prints the same ones.
 */
async function ensureDemoBucket(store: Store, dataDir: string | undefined, options: LocalHeraldOptions): Promise<DemoBucket> {
  const file = dataDir ? path.join(dataDir, 'demo-credentials.json') : undefined;
  const saved = file && existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { token: string; magicCode: string }) : undefined;
  let bucket = await findBucket(store, DEMO_BUCKET);
  let token = options.demoToken ?? saved?.token;
  let magicCode = options.demoMagicCode ?? saved?.magicCode;
  if (!bucket) {
    const created = await createBucket(store, { name: DEMO_BUCKET, displayName: 'Demo', token, magicCode });
    ({ bucket, token, magicCode } = created);
  } else {
    const demoBucket = bucket;
    const ensure = async (kind: 'token' | 'magicCode', secret: string | undefined): Promise<string> => {
      if (secret && (await findCredential(store, kind, secret))?.bucketId === demoBucket.id) return secret;
      const fresh = secret ?? (await import('../core/auth/secrets'))[kind === 'token' ? 'generateAccessToken' : 'generateMagicCode']();
      await addCredential(store, { bucketId: demoBucket.id, kind, secret: fresh, name: 'local demo' });
      return fresh;
    };
    token = await ensure('token', token);
    magicCode = await ensure('magicCode', magicCode);
  }
  if (file) writeFileSync(file, JSON.stringify({ token, magicCode }), { mode: 0o600 });
  for (const device of DEMO_DEVICES) {
    await registerDevice({ store, gateway: new LocalPushGateway(), platformApplications: LOCAL_PLATFORM_APPLICATIONS }, bucket.id, device);
  }
  return { bucket, token: token!, magicCode: magicCode! };
}

