import { randomUUID } from 'node:crypto';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { hashSecret } from '../auth/secrets';
import { HeraldError } from '../errors';
import { epochSeconds, isConditionalCheckFailed, type Store } from './table';

export const TOKEN_SCOPES = ['send', 'devices', 'read'] as const;
export type TokenScope = (typeof TOKEN_SCOPES)[number];
export type CredentialKind = 'token' | 'magicCode';

/** A token or magic code as stored: never the secret, only its hash's key. */
export interface CredentialRecord {
  readonly bucketId: string;
  readonly kind: CredentialKind;
  readonly credentialId: string;
  readonly scopes: readonly TokenScope[];
  readonly name?: string;
  readonly createdAt: string;
  /** ISO time after which the credential no longer works (`expiresAt` is the table's TTL attribute). */
  readonly validUntil?: string;
  readonly revokedAt?: string;
}

/** Revoked credentials stay findable (to answer `token_revoked`) this long, then TTL removes them. */
const REVOKED_RETENTION_SECONDS = 90 * 24 * 60 * 60;

/**
 * Two items per credential: the hash item that ingest reads with one GetItem, and an index item in
 * the bucket's partition that lists, names and revokes it without the secret.
 */
const hashKey = (kind: CredentialKind, hash: string) => ({ pk: `${kind === 'token' ? 'TOKEN' : 'MAGIC'}#${hash}`, sk: 'META' });
const indexKey = (bucketId: string, credentialId: string) => ({ pk: `BUCKET#${bucketId}`, sk: `CRED#${credentialId}` });

export interface NewCredential {
  readonly bucketId: string;
  readonly kind: CredentialKind;
  /** Stored as its SHA-256 hash only. */
  readonly secret: string;
  /** @default every scope for a token; `send` for a magic code (it may only send to its bucket) */
  readonly scopes?: readonly TokenScope[];
  readonly name?: string;
  readonly validUntil?: Date;
  readonly now?: Date;
}

/** Stores a token or magic code (as its hash) for a bucket; fails if that secret already exists. */
export async function addCredential(store: Store, credential: NewCredential): Promise<CredentialRecord> {
  const hash = hashSecret(credential.secret);
  const record: CredentialRecord = {
    bucketId: credential.bucketId,
    kind: credential.kind,
    credentialId: randomUUID(),
    scopes: credential.scopes ?? (credential.kind === 'token' ? [...TOKEN_SCOPES] : ['send']),
    ...(credential.name ? { name: credential.name } : {}),
    createdAt: (credential.now ?? new Date()).toISOString(),
    ...(credential.validUntil ? { validUntil: credential.validUntil.toISOString() } : {}),
  };
  await store.doc.send(
    new PutCommand({
      TableName: store.tableName,
      Item: { ...hashKey(record.kind, hash), itemType: 'credential', ...record },
      ConditionExpression: 'attribute_not_exists(pk)',
    }),
  );
  await store.doc.send(
    new PutCommand({ TableName: store.tableName, Item: { ...indexKey(record.bucketId, record.credentialId), itemType: 'credentialIndex', hash, ...record } }),
  );
  return record;
}

/** The credential a secret resolves to (revoked and expired ones included: the caller says which). */
export async function findCredential(store: Store, kind: CredentialKind, secret: string): Promise<CredentialRecord | undefined> {
  const { Item } = await store.doc.send(new GetCommand({ TableName: store.tableName, Key: hashKey(kind, hashSecret(secret)) }));
  return Item ? toRecord(Item) : undefined;
}

/** A bucket's tokens or magic codes, without secrets. */
export async function listCredentials(store: Store, bucketId: string, kind?: CredentialKind): Promise<CredentialRecord[]> {
  const records: CredentialRecord[] = [];
  let cursor: Record<string, unknown> | undefined;
  do {
    const page = await store.doc.send(
      new QueryCommand({
        TableName: store.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :cred)',
        ExpressionAttributeValues: { ':pk': `BUCKET#${bucketId}`, ':cred': 'CRED#' },
        ExclusiveStartKey: cursor,
      }),
    );
    for (const item of page.Items ?? []) if (!kind || item.kind === kind) records.push(toRecord(item));
    cursor = page.LastEvaluatedKey;
  } while (cursor);
  return records.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
}

/**
 * Revokes a credential: both items are marked, so the very next request with it is refused with
 * `token_revoked`. Unknown ids (or another bucket's) are a 404.
 */
export async function revokeCredential(store: Store, bucketId: string, credentialId: string, now = new Date()): Promise<CredentialRecord> {
  const { Item } = await store.doc.send(new GetCommand({ TableName: store.tableName, Key: indexKey(bucketId, credentialId) }));
  if (!Item) throw new HeraldError('not_found', `no credential ${credentialId.slice(0, 64)} in this bucket`);
  const revokedAt = Item.revokedAt ?? now.toISOString();
  // The TTL attribute removes revoked credentials once nobody needs to be told they were revoked.
  const update = {
    UpdateExpression: 'SET revokedAt = if_not_exists(revokedAt, :at), expiresAt = :ttl',
    ExpressionAttributeValues: { ':at': revokedAt, ':ttl': epochSeconds(now) + REVOKED_RETENTION_SECONDS },
  };
  try {
    await store.doc.send(new UpdateCommand({ TableName: store.tableName, Key: hashKey(Item.kind, Item.hash), ConditionExpression: 'attribute_exists(pk)', ...update }));
  } catch (error) {
    if (!isConditionalCheckFailed(error)) throw error;
  }
  await store.doc.send(new UpdateCommand({ TableName: store.tableName, Key: indexKey(bucketId, credentialId), ...update }));
  return { ...toRecord(Item), revokedAt };
}

/** The keys of a bucket's credential items, for deleting the bucket. */
export function credentialItemKeys(indexItem: Record<string, unknown>): Record<string, string>[] {
  return [hashKey(indexItem.kind as CredentialKind, indexItem.hash as string)];
}

function toRecord(item: Record<string, unknown>): CredentialRecord {
  return {
    bucketId: item.bucketId as string,
    kind: item.kind as CredentialKind,
    credentialId: item.credentialId as string,
    scopes: (item.scopes as TokenScope[] | undefined) ?? [],
    ...(item.name ? { name: item.name as string } : {}),
    createdAt: item.createdAt as string,
    ...(item.validUntil ? { validUntil: item.validUntil as string } : {}),
    ...(item.revokedAt ? { revokedAt: item.revokedAt as string } : {}),
  };
}
