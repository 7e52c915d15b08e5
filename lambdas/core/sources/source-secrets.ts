import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { hashSecret } from '../auth/secrets';
import { HeraldError } from '../errors';
import type { Parser } from '../parsers/types';
import type { Store } from '../store/table';
import { signingKeyName, type SigningKeyVault } from './vault';

/**
 * A bucket's secret for one source. The DynamoDB item says which kind is configured (one GetItem):
 * a static header value is kept only as its SHA-256 hash there; a signing key lives in the vault.
 */
export type SourceSecret =
  | { readonly kind: 'signature'; readonly signingKey: string }
  | { readonly kind: 'header'; readonly secretHash: string };

const sourceKey = (bucketId: string, source: string) => ({ pk: `BUCKET#${bucketId}`, sk: `SOURCE#${source}` });

export interface SourceSecretDeps {
  readonly store: Store;
  readonly vault: SigningKeyVault;
}

export async function getSourceSecret(deps: SourceSecretDeps, bucketId: string, source: string): Promise<SourceSecret | undefined> {
  const { Item } = await deps.store.doc.send(new GetCommand({ TableName: deps.store.tableName, Key: sourceKey(bucketId, source) }));
  if (!Item) return undefined;
  if (Item.secretKind === 'header') return { kind: 'header', secretHash: Item.secretHash as string };
  const signingKey = await deps.vault.get(signingKeyName(bucketId, source));
  return signingKey === undefined ? undefined : { kind: 'signature', signingKey };
}

/** Configures the secret a source authenticates with, replacing any earlier one. */
export async function setSourceSecret(deps: SourceSecretDeps, bucketId: string, parser: Parser, value: string, now = new Date()): Promise<void> {
  if (!parser.auth) {
    throw new HeraldError('validation_failed', `source: ${parser.name} cannot authenticate itself; use the bucket's magic code or a token`);
  }
  if (value.length < 8 || value.length > 4096) {
    throw new HeraldError('validation_failed', 'secret: must be 8–4096 characters');
  }
  const item: Record<string, unknown> = { ...sourceKey(bucketId, parser.name), kind: 'sourceSecret', source: parser.name, updatedAt: now.toISOString() };
  if (parser.auth.kind === 'header') {
    item.secretKind = 'header';
    item.secretHash = hashSecret(value);
  } else {
    item.secretKind = 'signature';
    await deps.vault.put(signingKeyName(bucketId, parser.name), value);
  }
  await deps.store.doc.send(new PutCommand({ TableName: deps.store.tableName, Item: item }));
}

export async function removeSourceSecret(deps: SourceSecretDeps, bucketId: string, source: string): Promise<void> {
  await deps.store.doc.send(new DeleteCommand({ TableName: deps.store.tableName, Key: sourceKey(bucketId, source) }));
  await deps.vault.delete(signingKeyName(bucketId, source));
}
