import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { HeraldError } from '../errors';
import type { Store } from '../store/table';

/**
 * Failed-authentication counting. API Gateway's HTTP API throttles per stage and route only, so
 * Herald counts failures per source IP and per bucket named in a fixed 5-minute window, and past a
 * threshold answers 429 with `Retry-After` instead of 401. Only failures are counted: a successful
 * request costs nothing extra. With 128-bit magic codes and 256-bit tokens guessing is hopeless
 * anyway; the limit keeps a misbehaving sender from burning the table's capacity and the logs.
 */
export const AUTH_FAILURE_WINDOW_SECONDS = 300;
export const AUTH_FAILURE_LIMITS = { ip: 50, bucket: 200 } as const;

/** Error codes that are a failed attempt to authenticate. */
export const AUTH_FAILURES = new Set(['unauthorized', 'token_revoked', 'token_expired', 'invalid_signature', 'signature_expired', 'source_secret_missing']);

export interface FailureKeys {
  readonly ip?: string;
  /** The bucket the request named (`bucketId`, a topic), whether or not it exists. */
  readonly bucket?: string;
}

/**
 * Counts one failure for each key; throws `rate_limited` (429) when a key is past its limit in the
 * current window, else returns so the caller answers its own 401.
 */
export async function countAuthFailure(store: Store, keys: FailureKeys, now = new Date()): Promise<void> {
  const epoch = Math.floor(now.getTime() / 1000);
  const window = Math.floor(epoch / AUTH_FAILURE_WINDOW_SECONDS);
  const retryAfter = (window + 1) * AUTH_FAILURE_WINDOW_SECONDS - epoch;
  const counts = await Promise.all(
    (Object.entries(keys) as [keyof FailureKeys, string | undefined][])
      .filter((entry): entry is [keyof FailureKeys, string] => entry[1] !== undefined && entry[1] !== '')
      .map(async ([kind, value]) => {
        const { Attributes } = await store.doc.send(
          new UpdateCommand({
            TableName: store.tableName,
            Key: { pk: `AUTHFAIL#${kind}#${value.slice(0, 128)}`, sk: `W#${window}` },
            UpdateExpression: 'ADD failures :one SET expiresAt = :ttl',
            ExpressionAttributeValues: { ':one': 1, ':ttl': (window + 2) * AUTH_FAILURE_WINDOW_SECONDS },
            ReturnValues: 'UPDATED_NEW',
          }),
        );
        return { kind, failures: Attributes?.failures as number };
      }),
  );
  const over = counts.find(({ kind, failures }) => failures > AUTH_FAILURE_LIMITS[kind]);
  if (over) {
    throw new HeraldError(
      'rate_limited',
      `too many failed authentications from this ${over.kind === 'ip' ? 'address' : 'bucket'}; retry after ${retryAfter} s`,
      { 'retry-after': String(retryAfter) },
    );
  }
}
