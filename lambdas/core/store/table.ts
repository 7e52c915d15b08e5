import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * Herald keeps everything in one table, keyed so that every read is a GetItem or a Query (never a
 * Scan) and every write is a conditional put, with no transactions (the pure-Node stand-in lacks them):
 *
 * | pk                       | sk                  | item                                   |
 * |--------------------------|---------------------|----------------------------------------|
 * | BUCKET#<id>              | META                | bucket                                 |
 * | BUCKET#<id>              | DEVICE#<deviceId>   | device → SNS endpoint (Query lists them)|
 * | BUCKETNAME#<name>        | META                | bucket name → bucket id                |
 * | TOKEN#<sha256>           | META                | access-token hash → bucket             |
 * | MAGIC#<sha256>           | META                | magic-code hash → bucket               |
 * | DEDUPE#<bucketId>#<key>  | META                | dedupe key seen (TTL)                  |
 * | NOTIF#<id>               | META                | notification history (TTL)             |
 * | NOTIF#<id>               | DEVICE#<deviceId>   | per-device delivery outcome (TTL)      |
 */
export const TABLE_KEYS = { partitionKey: 'pk', sortKey: 'sk', timeToLive: 'expiresAt' } as const;

export interface Store {
  readonly doc: DynamoDBDocumentClient;
  readonly tableName: string;
}

/** The table as CDK declares it, for the local stand-ins and the integration tests. */
export function createTableInput(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: TABLE_KEYS.partitionKey, AttributeType: 'S' },
      { AttributeName: TABLE_KEYS.sortKey, AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: TABLE_KEYS.partitionKey, KeyType: 'HASH' },
      { AttributeName: TABLE_KEYS.sortKey, KeyType: 'RANGE' },
    ],
  };
}

/** One client per process, created at module scope by the handlers (reused across invocations). */
export function createStore(tableName: string, client: DynamoDBClient = new DynamoDBClient({})): Store {
  return {
    doc: DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }),
    tableName,
  };
}

export function epochSeconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}

export function isConditionalCheckFailed(error: unknown): boolean {
  return (error as { name?: string } | undefined)?.name === 'ConditionalCheckFailedException';
}
