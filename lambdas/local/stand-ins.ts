import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { CreateTableCommand, DynamoDBClient, ResourceInUseException } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { createTableInput } from '../core/store/table';
import { resolveLocalhostSubdomains } from './localhost-dns';

/**
 * Real local stand-ins for DynamoDB (dynalite, pure Node) and SQS (fauxqs), both on loopback, so the
 * handlers run unchanged against them through the SDK's standard `AWS_ENDPOINT_URL_*` variables.
 */
export interface StandIns {
  readonly dynamodbEndpoint: string;
  readonly sqsEndpoint: string;
  stop(): Promise<void>;
}

export interface StandInOptions {
  /** LevelDB directory for dynalite; in memory when absent. */
  readonly dynamodbPath?: string;
  /** @default '127.0.0.1' */
  readonly host?: string;
}

export async function startStandIns(options: StandInOptions = {}): Promise<StandIns> {
  const host = options.host ?? '127.0.0.1';
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const dynalite = require('dynalite') as (opts: Record<string, unknown>) => Server;
  const dynamo = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, ...(options.dynamodbPath ? { path: options.dynamodbPath } : {}) });
  await new Promise<void>((resolve, reject) => {
    dynamo.once('error', reject);
    dynamo.listen(0, host, () => resolve());
  });
  // fauxqs is ESM-only (see fauxqs-app.mjs). Its startFauxqs() binds 0.0.0.0, so build the app
  // and listen on loopback ourselves. Its queue URLs name `sqs.<region>.localhost` (see localhost-dns.ts).
  const { buildApp } = await loadFauxqs();
  const sqs = buildApp({ logger: false });
  await sqs.listen({ port: 0, host });
  const sqsPort = (sqs.server.address() as AddressInfo).port;
  const dynamoPort = (dynamo.address() as AddressInfo).port;
  return {
    dynamodbEndpoint: `http://${host}:${dynamoPort}`,
    // The host fauxqs writes into queue URLs: the SQS client then sees no endpoint mismatch.
    sqsEndpoint: `http://sqs.us-east-1.localhost:${sqsPort}`,
    async stop() {
      await sqs.close();
      await new Promise<void>((resolve) => dynamo.close(() => resolve()));
    },
  };
}

/**
 * fauxqs exports only an ES module. Where `import()` stays native (tsx, plain Node) it loads
 * directly; code compiled to CommonJS (jest's global setup) turns `import()` into `require()`,
 * which Node (>= 20.19) allows for an ES module file but not for an import-only package export.
 */
async function loadFauxqs(): Promise<typeof import('fauxqs')> {
  try {
    return await import('fauxqs');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ERR_PACKAGE_PATH_NOT_EXPORTED') throw error;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('./fauxqs-app.mjs') as typeof import('fauxqs');
  }
}

/** Points this process's AWS SDK clients at the stand-ins, with dummy credentials. */
export function useStandIns(standIns: Pick<StandIns, 'dynamodbEndpoint' | 'sqsEndpoint'>, region = 'us-east-1'): void {
  resolveLocalhostSubdomains();
  process.env.AWS_ENDPOINT_URL_DYNAMODB = standIns.dynamodbEndpoint;
  process.env.AWS_ENDPOINT_URL_SQS = standIns.sqsEndpoint;
  process.env.AWS_REGION = region;
  process.env.AWS_ACCESS_KEY_ID = 'local';
  process.env.AWS_SECRET_ACCESS_KEY = 'local';
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
}

export async function ensureTable(dynamodb: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await dynamodb.send(new CreateTableCommand(createTableInput(tableName)));
  } catch (error) {
    if (!(error instanceof ResourceInUseException) && (error as Error).name !== 'ResourceInUseException') throw error;
  }
}

export interface LocalQueues {
  readonly queueUrl: string;
  readonly deadLetterQueueUrl: string;
}

/** The notification queue and its DLQ, with the same redrive policy as the stack. */
export async function ensureQueues(
  sqs: SQSClient,
  name: string,
  options: { visibilityTimeoutSeconds: number; maxReceiveCount: number },
): Promise<LocalQueues> {
  const dlq = await sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }));
  const dlqArn = (
    await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl!, AttributeNames: ['QueueArn'] }))
  ).Attributes!.QueueArn!;
  const queue = await sqs.send(
    new CreateQueueCommand({
      QueueName: name,
      Attributes: {
        VisibilityTimeout: String(options.visibilityTimeoutSeconds),
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: options.maxReceiveCount }),
      },
    }),
  );
  return { queueUrl: queue.QueueUrl!, deadLetterQueueUrl: dlq.QueueUrl! };
}
