import { HeraldError } from '../errors';
import { bearerToken, type HttpRequest } from '../http';
import { findBucket, findCredential, type TokenScope } from '../store/buckets';
import type { Store } from '../store/table';

export interface Caller {
  readonly bucketId: string;
  /** `source`: a webhook proven by its signature or secret header (send only). */
  readonly via: 'token' | 'magicCode' | 'source';
  readonly scopes: readonly TokenScope[];
}

const INVALID = 'invalid credentials for this bucket';

/**
 * Resolves the caller's bucket from `Authorization: Bearer`, `?token=` (Zentik also reads
 * `?access_token=`) or `?magicCode=`. `?bucketId=` (id or name) must then name the same bucket.
 * An unknown credential and a credential for another bucket get the same 401, so a caller cannot
 * tell which half was wrong.
 */
/** One GetItem on the secret's hash; a revoked or expired credential is refused by name. */
export async function authenticate(
  store: Store,
  request: HttpRequest,
  /** `bucketId` / `magicCode` from the body, where a route accepts them there; the query wins. */
  bodyAddress: { bucketId?: string; magicCode?: string } = {},
): Promise<Caller> {
  const token = bearerToken(request.headers) ?? request.query.token ?? request.query.access_token;
  const magicCode = request.query.magicCode ?? bodyAddress.magicCode;
  if (!token && !magicCode) {
    throw new HeraldError(
      'unauthorized',
      'no credentials: send "Authorization: Bearer <token>", ?token=<token>, or ?magicCode=<code>',
    );
  }
  const record = token ? await findCredential(store, 'token', token) : await findCredential(store, 'magicCode', magicCode!);
  if (!record) throw new HeraldError('unauthorized', INVALID);
  const what = record.kind === 'token' ? 'token' : 'magic code';
  if (record.revokedAt) throw new HeraldError('token_revoked', `this ${what} was revoked at ${record.revokedAt}`);
  if (record.validUntil && Date.parse(record.validUntil) <= Date.now()) {
    throw new HeraldError('token_expired', `this ${what} expired at ${record.validUntil}`);
  }
  const bucketRef = request.query.bucketId ?? bodyAddress.bucketId;
  if (bucketRef !== undefined) {
    const bucket = await findBucket(store, bucketRef);
    if (!bucket || bucket.id !== record.bucketId) throw new HeraldError('unauthorized', INVALID);
  }
  return { bucketId: record.bucketId, via: record.kind, scopes: record.scopes };
}

export function requireScope(caller: Caller, scope: TokenScope): void {
  if (caller.scopes.includes(scope)) return;
  const why = caller.via === 'magicCode' ? 'a magic code may only send notifications to its bucket' : `this token lacks the "${scope}" scope`;
  throw new HeraldError('forbidden', `${why}; use a token with the "${scope}" scope`);
}
