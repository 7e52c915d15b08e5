import { HeraldError } from '../errors';
import { bearerToken, type HttpRequest } from '../http';
import type { Parser } from '../parsers/types';
import { getSourceSecret, type SourceSecretDeps } from '../sources/source-secrets';
import { findBucket } from '../store/buckets';
import { authenticate, type Caller } from './authenticate';
import { constantTimeEqual, hashSecret } from './secrets';

/**
 * Authenticates a webhook. A bucket token or magic code works for every source; a source that
 * signs (or sends a static secret header) may instead name its bucket with `?bucketId=` and prove
 * itself with the secret configured for that bucket. When such a secret is configured, it is
 * checked even alongside a magic code, so a leaked webhook URL alone cannot forge events.
 */
export async function authenticateWebhook(
  deps: SourceSecretDeps,
  request: HttpRequest,
  parser: Parser,
  now: Date,
): Promise<Caller> {
  // A source with a static secret header (Okta, Auth0) sends it as `Authorization`, often as
  // `Bearer <secret>`: that header is the source's, not a bucket token.
  const bucketRequest = parser.auth?.kind === 'header' ? withoutAuthorization(request) : request;
  const credential = bearerToken(bucketRequest.headers) ?? request.query.token ?? request.query.access_token ?? request.query.magicCode;
  const caller = credential ? await authenticate(deps.store, bucketRequest) : undefined;
  if (!parser.auth) {
    if (caller) return caller;
    throw new HeraldError(
      'unauthorized',
      `no credentials: ${parser.name} cannot sign its requests, so send ?magicCode=<code>, ?token=<token> or "Authorization: Bearer <token>"`,
    );
  }
  let bucketId = caller?.bucketId;
  if (!bucketId) {
    const bucketRef = request.query.bucketId;
    if (!bucketRef) {
      throw new HeraldError('unauthorized', `no credentials: send ?bucketId=<bucket> with ${parser.name}'s ${describeAuth(parser)}, or ?magicCode=<code>`);
    }
    const bucket = await findBucket(deps.store, bucketRef);
    if (!bucket) throw new HeraldError('unauthorized', 'invalid credentials for this bucket');
    bucketId = bucket.id;
  }
  const secret = await getSourceSecret(deps, bucketId, parser.name);
  if (!secret) {
    if (caller) return caller;
    throw new HeraldError(
      'source_secret_missing',
      `no ${parser.name} secret is configured for this bucket: set it with "herald secret set --bucket <bucket> --source ${parser.name}", or use the magic code`,
    );
  }
  const webhook = { body: request.body, headers: request.headers, query: request.query };
  if (secret.kind === 'signature' && parser.auth.kind === 'signature') {
    parser.auth.verify(webhook, secret.signingKey, now);
  } else if (secret.kind === 'header' && parser.auth.kind === 'header') {
    const presented = parser.auth.presentedSecret(webhook);
    if (!presented || !constantTimeEqual(hashSecret(presented), secret.secretHash)) {
      throw new HeraldError('invalid_signature', `the ${parser.name} secret header is missing or does not match the one configured for this bucket`);
    }
  } else {
    throw new HeraldError('source_secret_missing', `the ${parser.name} secret configured for this bucket is of another kind; set it again`);
  }
  return caller ?? { bucketId, via: 'source', scopes: ['send'] };
}

function withoutAuthorization(request: HttpRequest): HttpRequest {
  const { authorization: _authorization, ...headers } = request.headers;
  return { ...request, headers };
}

function describeAuth(parser: Parser): string {
  return parser.auth?.kind === 'header' ? 'secret header' : 'signature';
}
