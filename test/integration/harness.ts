import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { ensureQueues, ensureTable, type LocalQueues } from '../../lambdas/local/stand-ins';
import { createStore, type Store } from '../../lambdas/core/store/table';

export interface Harness {
  readonly store: Store;
  readonly sqs: SQSClient;
  readonly queues: LocalQueues;
  readonly tableName: string;
}

/**
 * A fresh table and queue pair on the shared stand-ins, for one test file, and the environment the
 * handlers read (TABLE_NAME, QUEUE_URL) pointing at them.
 */
export async function createHarness(options: { visibilityTimeoutSeconds?: number; maxReceiveCount?: number } = {}): Promise<Harness> {
  const suffix = randomUUID().slice(0, 8);
  const tableName = `herald-test-${suffix}`;
  const dynamodb = new DynamoDBClient({});
  await ensureTable(dynamodb, tableName);
  const sqs = new SQSClient({});
  const queues = await ensureQueues(sqs, `herald-test-${suffix}`, {
    visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? 1,
    maxReceiveCount: options.maxReceiveCount ?? 5,
  });
  process.env.TABLE_NAME = tableName;
  process.env.QUEUE_URL = queues.queueUrl;
  return { store: createStore(tableName, dynamodb), sqs, queues, tableName };
}
