import { randomUUID } from 'node:crypto';
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { HeraldError } from '../errors';
import type { QuietSettings, QuietWindow } from '../quiet-hours';
import { generateAccessToken, generateMagicCode } from '../auth/secrets';
import { addCredential } from './credentials';
import { isConditionalCheckFailed, type Store } from './table';

export { TOKEN_SCOPES, addCredential, findCredential, type CredentialRecord, type TokenScope } from './credentials';

export interface Bucket extends QuietSettings {
  readonly id: string;
  readonly name: string;
  readonly displayName?: string;
  /** An icon URL or SF Symbol name apps may show for the bucket. */
  readonly icon?: string;
  /** Sources whose routine events (see `ParsedNotification.routine`) this bucket wants pushed. */
  readonly routineSources?: readonly string[];
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
/** Name items share one partition, so listing buckets is a Query (in name order). */
const bucketNameKey = (name: string) => ({ pk: 'BUCKETS', sk: `NAME#${name}` });

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
  readonly icon?: string;
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
    icon: options.icon,
    ...(options.routineSources?.length ? { routineSources: [...options.routineSources] } : {}),
    createdAt: now,
  };
  await claimBucketName(store, name, bucket.id);
  await putNew(store, { ...bucketKey(bucket.id), kind: 'bucket', ...bucket });
  const token = options.token ?? generateAccessToken();
  const magicCode = options.magicCode ?? generateMagicCode();
  await addCredential(store, { bucketId: bucket.id, kind: 'token', secret: token, name: 'first token', now: options.now });
  await addCredential(store, { bucketId: bucket.id, kind: 'magicCode', secret: magicCode, now: options.now });
  return { bucket, token, magicCode };
}

/** Claims a name with a conditional put, so two buckets can never hold one name. */
async function claimBucketName(store: Store, name: string, bucketId: string): Promise<void> {
  try {
    await store.doc.send(
      new PutCommand({
        TableName: store.tableName,
        Item: { ...bucketNameKey(name), kind: 'bucketName', bucketId },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  } catch (error) {
    if (isConditionalCheckFailed(error)) throw new HeraldError('validation_failed', `name: a bucket named "${name}" already exists`);
    throw error;
  }
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

function toBucket(item: Record<string, unknown>): Bucket {
  return {
    id: item.id as string,
    name: item.name as string,
    displayName: item.displayName as string | undefined,
    routineSources: item.routineSources as string[] | undefined,
    icon: item.icon as string | undefined,
    createdAt: item.createdAt as string,
    timeZone: item.timeZone as string | undefined,
    quietHours: item.quietHours as QuietWindow[] | undefined,
    snoozeUntil: item.snoozeUntil as string | undefined,
  };
}

/** Every bucket, in name order (a Query on the name partition, then one GetItem per page's buckets). */
export async function listBuckets(store: Store): Promise<Bucket[]> {
  const buckets: Bucket[] = [];
  let cursor: Record<string, unknown> | undefined;
  do {
    const page = await store.doc.send(
      new QueryCommand({ TableName: store.tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': 'BUCKETS' }, ExclusiveStartKey: cursor }),
    );
    const found = await Promise.all((page.Items ?? []).map((item) => getBucket(store, item.bucketId as string)));
    buckets.push(...found.filter((bucket): bucket is Bucket => bucket !== undefined));
    cursor = page.LastEvaluatedKey;
  } while (cursor);
  return buckets;
}

export interface BucketSettings {
  readonly displayName?: string | null;
  readonly icon?: string | null;
  readonly routineSources?: readonly string[];
  /** IANA zone of `quietHours` (validated by the caller). */
  readonly timeZone?: string | null;
  readonly quietHours?: readonly QuietWindow[] | null;
  readonly snoozeUntil?: string | null;
}

/** Updates a bucket's settings (null clears a field); 404 when it does not exist. */
export async function updateBucket(store: Store, id: string, settings: BucketSettings, now = new Date()): Promise<Bucket> {
  const set: string[] = ['updatedAt = :now'];
  const remove: string[] = [];
  const values: Record<string, unknown> = { ':now': now.toISOString() };
  // Named through placeholders: some fields (timeZone) are DynamoDB reserved words.
  const names: Record<string, string> = {};
  for (const [field, value] of Object.entries(settings)) {
    if (value === undefined) continue;
    names[`#${field}`] = field;
    if (value === null || (Array.isArray(value) && value.length === 0)) remove.push(`#${field}`);
    else {
      set.push(`#${field} = :${field}`);
      values[`:${field}`] = value;
    }
  }
  try {
    const { Attributes } = await store.doc.send(
      new UpdateCommand({
        TableName: store.tableName,
        Key: bucketKey(id),
        UpdateExpression: `SET ${set.join(', ')}${remove.length ? ` REMOVE ${remove.join(', ')}` : ''}`,
        ConditionExpression: 'attribute_exists(pk)',
        ...(Object.keys(names).length ? { ExpressionAttributeNames: names } : {}),
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_NEW',
      }),
    );
    return toBucket(Attributes!);
  } catch (error) {
    if (isConditionalCheckFailed(error)) throw new HeraldError('not_found', `no bucket ${id}`);
    throw error;
  }
}

/** The name item's key, for deleting a bucket. */
export function bucketItemKeys(bucket: Bucket): Record<string, string>[] {
  return [bucketKey(bucket.id), bucketNameKey(bucket.name)];
}

/**
 * Renames a bucket: the new name is claimed first (conditional put, so it cannot collide), then
 * the bucket takes it and the old name is released.
 */
export async function renameBucket(store: Store, bucket: Bucket, newName: string, now = new Date()): Promise<Bucket> {
  const name = validateBucketName(newName);
  if (name === bucket.name) return bucket;
  await claimBucketName(store, name, bucket.id);
  const { Attributes } = await store.doc.send(
    new UpdateCommand({
      TableName: store.tableName,
      Key: bucketKey(bucket.id),
      UpdateExpression: 'SET #name = :name, updatedAt = :now',
      ExpressionAttributeNames: { '#name': 'name' },
      ExpressionAttributeValues: { ':name': name, ':now': now.toISOString() },
      ReturnValues: 'ALL_NEW',
    }),
  );
  await store.doc.send(new DeleteCommand({ TableName: store.tableName, Key: bucketNameKey(bucket.name) }));
  return toBucket(Attributes!);
}
