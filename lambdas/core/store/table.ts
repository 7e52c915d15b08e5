import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * Herald keeps everything in one table, keyed so that every read is a GetItem or a Query (never a
 * Scan) and every write is a conditional put or an update, with no transactions (the pure-Node
 * stand-in lacks them):
 *
 * | pk                         | sk                       | item                                        |
 * |----------------------------|--------------------------|---------------------------------------------|
 * | BUCKET#<id>                | META                     | bucket and its settings                     |
 * | BUCKET#<id>                | DEVICE#<deviceId>        | device → SNS endpoint (Query lists them)    |
 * | BUCKET#<id>                | DEVTOKEN#<tokenKey>      | push-token key → device (idempotent register)|
 * | BUCKET#<id>                | CRED#<credentialId>      | token / magic code index (list, revoke)     |
 * | BUCKET#<id>                | SOURCE#<source>          | which kind of source secret is configured   |
 * | BUCKET#<id>                | NOTIF#<uuidv7>           | history entry with outcome counts (TTL); a  |
 * |                            |                          | bare `clearedAt` is a pending clear (TTL 31 d)|
 * | BUCKET#<id>                | TEMPLATE#<name>          | named template (JSONata per field)          |
 * | BUCKET#<id>                | SCHEDULED#<uuidv7>       | scheduled notification: due time, status    |
 * |                            |                          | (pending/sent/cancelled) (TTL due + 7 d)    |
 * | BUCKETS                    | NAME#<name>              | bucket name → id (Query lists buckets)      |
 * | TOKEN#<sha256> / MAGIC#<…> | META                     | credential hash → bucket, scopes, revocation|
 * | DEDUPE#<bucketId>#<key>    | META                     | dedupe key seen (TTL 24 h)                  |
 * | NOTIF#<id>                 | DEVICE#<deviceId>        | per-device claim, then outcome (TTL)        |
 * | NOTIF#<id>#clear           | DEVICE#<deviceId>        | the same for the notification's clear push  |
 * | NOTIF#<id>                 | FAILURE                  | why delivery last failed (TTL 14 d)         |
 * | AUTHFAIL#<ip|bucket>#<key> | W#<window>               | failed authentications per window (TTL)     |
 * | ENDPOINT#<arn>             | DEVICE#<bucket>#<device> | endpoint → device, for SNS feedback events  |
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
