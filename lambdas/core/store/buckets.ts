import { randomUUID } from 'node:crypto';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { HeraldError } from '../errors';
import { generateAccessToken, generateMagicCode, hashSecret } from '../auth/secrets';
import { isConditionalCheckFailed, type Store } from './table';

export const TOKEN_SCOPES = ['send', 'devices', 'read'] as const;
export type TokenScope = (typeof TOKEN_SCOPES)[number];

export interface Bucket {
  readonly id: string;
  readonly name: string;
  readonly displayName?: string;
  /** Sources whose routine events (see `ParsedNotification.routine`) this bucket wants pushed. */
  readonly routineSources?: readonly string[];
  readonly createdAt: string;
}

/** What a token or magic code resolves to: one GetItem on its hash. */
export interface CredentialRecord {
  readonly bucketId: string;
  readonly kind: 'token' | 'magicCode';
  readonly credentialId: string;
  readonly scopes: readonly TokenScope[];
  readonly name?: string;
  readonly createdAt: string;
}

/**
 * Bucket names double as ntfy topics (`POST /<name>`) and as `?bucketId=` values, so they are
 * URL-safe and may not shadow one of Herald's own routes.
 */
export const BUCKET_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;
export const RESERVED_BUCKET_NAMES = new Set([
  'admin', 'api', 'devices', 'docs', 'health', 'local', 'message', 'messages', 'notifications',
  'openapi.json', 'publish', 'template', 'transform', 'webhooks', 'favicon.ico', 'v1',
]);

export function validateBucketName(name: string): string {
  const normalized = name.trim().toLowerCase();
  if (!BUCKET_NAME.test(normalized)) {
    throw new HeraldError(
      'validation_failed',
      `name: must be 1–64 characters of a-z, 0-9, "_" and "-", starting with a letter or digit (given "${name.slice(0, 80)}")`,
    );
  }
  if (RESERVED_BUCKET_NAMES.has(normalized)) {
    throw new HeraldError('validation_failed', `name: "${normalized}" is one of Herald's routes; choose another name`);
  }
  return normalized;
}

const bucketKey = (id: string) => ({ pk: `BUCKET#${id}`, sk: 'META' });
const bucketNameKey = (name: string) => ({ pk: `BUCKETNAME#${name}`, sk: 'META' });
const tokenKey = (hash: string) => ({ pk: `TOKEN#${hash}`, sk: 'META' });
const magicKey = (hash: string) => ({ pk: `MAGIC#${hash}`, sk: 'META' });

export interface CreatedBucket {
  readonly bucket: Bucket;
  /** Shown once; only its hash is stored. */
  readonly token: string;
  /** Shown once; only its hash is stored. */
  readonly magicCode: string;
}

export interface CreateBucketOptions {
  readonly name: string;
  readonly displayName?: string;
  readonly routineSources?: readonly string[];
  /** Fixed credentials (local mode's demo bucket); random when absent. */
  readonly token?: string;
  readonly magicCode?: string;
  readonly now?: Date;
}

/**
 * Creates a bucket with its first token (every scope) and a magic code (send only). The name is
 * claimed first with a conditional put, so two creations of one name cannot both succeed.
 */
export async function createBucket(store: Store, options: CreateBucketOptions): Promise<CreatedBucket> {
  const name = validateBucketName(options.name);
  const now = (options.now ?? new Date()).toISOString();
  const bucket: Bucket = {
    id: randomUUID(),
    name,
    displayName: options.displayName,
    ...(options.routineSources?.length ? { routineSources: [...options.routineSources] } : {}),
    createdAt: now,
  };
  try {
    await store.doc.send(
      new PutCommand({
        TableName: store.tableName,
        Item: { ...bucketNameKey(name), kind: 'bucketName', bucketId: bucket.id },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  } catch (error) {
    if (isConditionalCheckFailed(error)) {
      throw new HeraldError('validation_failed', `name: a bucket named "${name}" already exists`);
    }
    throw error;
  }
  await putNew(store, { ...bucketKey(bucket.id), kind: 'bucket', ...bucket });
  const token = options.token ?? generateAccessToken();
  const magicCode = options.magicCode ?? generateMagicCode();
  await addCredential(store, { bucketId: bucket.id, kind: 'token', secret: token, name: 'first token', now: options.now });
  await addCredential(store, { bucketId: bucket.id, kind: 'magicCode', secret: magicCode, now: options.now });
  return { bucket, token, magicCode };
}

export interface NewCredential {
  readonly bucketId: string;
  readonly kind: CredentialRecord['kind'];
  /** Stored as its SHA-256 hash only. */
  readonly secret: string;
  /** @default every scope for a token; `send` for a magic code (it may only send to its bucket) */
  readonly scopes?: readonly TokenScope[];
  readonly name?: string;
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
    name: credential.name,
    createdAt: (credential.now ?? new Date()).toISOString(),
  };
  await putNew(store, { ...(record.kind === 'token' ? tokenKey(hash) : magicKey(hash)), ...record });
  return record;
}

async function putNew(store: Store, item: Record<string, unknown>): Promise<void> {
  await store.doc.send(
    new PutCommand({ TableName: store.tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' }),
  );
}

export async function getBucket(store: Store, id: string): Promise<Bucket | undefined> {
  const { Item } = await store.doc.send(new GetCommand({ TableName: store.tableName, Key: bucketKey(id) }));
  return Item ? toBucket(Item) : undefined;
}

/** `bucketId` may be the bucket's id or its name (as in Zentik). */
export async function findBucket(store: Store, idOrName: string): Promise<Bucket | undefined> {
  const byId = await getBucket(store, idOrName);
  if (byId) return byId;
  const name = idOrName.trim().toLowerCase();
  if (!BUCKET_NAME.test(name)) return undefined;
  const { Item } = await store.doc.send(new GetCommand({ TableName: store.tableName, Key: bucketNameKey(name) }));
  return Item ? getBucket(store, Item.bucketId as string) : undefined;
}

export async function findCredential(
  store: Store,
  kind: CredentialRecord['kind'],
  secret: string,
): Promise<CredentialRecord | undefined> {
  const hash = hashSecret(secret);
  const { Item } = await store.doc.send(
    new GetCommand({ TableName: store.tableName, Key: kind === 'token' ? tokenKey(hash) : magicKey(hash) }),
  );
  if (!Item) return undefined;
  return {
    bucketId: Item.bucketId,
    kind: Item.kind,
    credentialId: Item.credentialId,
    scopes: Item.scopes ?? [],
    name: Item.name,
    createdAt: Item.createdAt,
  };
}

function toBucket(item: Record<string, unknown>): Bucket {
  return {
    id: item.id as string,
    name: item.name as string,
    displayName: item.displayName as string | undefined,
    routineSources: item.routineSources as string[] | undefined,
    createdAt: item.createdAt as string,
  };
}
