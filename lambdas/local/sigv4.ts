import { createHash, timingSafeEqual } from 'node:crypto';
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import type { APIGatewayEventRequestContextIAMAuthorizer } from 'aws-lambda';

/**
 * Local mode's stand-in for API Gateway's IAM authorizer on `/admin/…`: a request must carry an
 * AWS Signature Version 4 (`Authorization: AWS4-HMAC-SHA256 …`) for service `execute-api` in
 * `us-east-1`, made with local mode's credentials. The signature is recomputed over what was
 * received, so a changed path, query, signed header or body is refused, as in the cloud.
 */

/** The dummy credentials local mode runs with (also its AWS SDK clients'; see stand-ins.ts). */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;
export const LOCAL_REGION = 'us-east-1';
export const LOCAL_SIGNING_SERVICE = 'execute-api';

/** `requestContext.authorizer` as API Gateway sets it for a caller verified with these credentials. */
export const LOCAL_IAM_AUTHORIZER: APIGatewayEventRequestContextIAMAuthorizer = {
  iam: {
    accessKey: LOCAL_CREDENTIALS.accessKeyId,
    accountId: '000000000000',
    callerId: 'local',
    cognitoIdentity: null,
    principalOrgId: '',
    userArn: 'arn:aws:iam::000000000000:user/local',
    userId: 'local',
  },
};

/** API Gateway refuses a signature more than 5 minutes away from its clock. */
const MAX_SKEW_MS = 5 * 60 * 1000;
const EMPTY_BODY_SHA256 = createHash('sha256').digest('hex');

export interface SignedRequest {
  readonly method: string;
  /** The path as received, still percent-encoded. */
  readonly path: string;
  /** The query string as received, without `?`. */
  readonly rawQuery: string;
  /** Lower-case names; repeated headers joined with commas. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

export type Verdict = { readonly valid: true } | { readonly valid: false; readonly reason: string };

const refuse = (reason: string): Verdict => ({ valid: false, reason });

/** `AWS4-HMAC-SHA256 Credential=<key>/<date>/<region>/<service>/aws4_request, SignedHeaders=a;b, Signature=<hex>` */
function parseAuthorization(header: string): { credential: string; signedHeaders: string; signature: string } | undefined {
  const match = /^AWS4-HMAC-SHA256\s+(.+)$/.exec(header.trim());
  if (!match) return undefined;
  const fields: Record<string, string> = {};
  for (const part of match[1]!.split(',')) {
    const separator = part.indexOf('=');
    if (separator > 0) fields[part.slice(0, separator).trim()] = part.slice(separator + 1).trim();
  }
  const { Credential: credential, SignedHeaders: signedHeaders, Signature: signature } = fields;
  return credential && signedHeaders && signature ? { credential, signedHeaders, signature } : undefined;
}

/** `20250601T120000Z` → the Date, or undefined. */
function parseAmzDate(value: string): Date | undefined {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!match) return undefined;
  const [, year, month, day, hour, minute, second] = match.map(Number) as number[];
  const date = new Date(Date.UTC(year!, month! - 1, day!, hour!, minute!, second!));
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** The query as SigV4 canonicalizes it: decoded names and values, repeated names as lists. */
function parseQuery(rawQuery: string): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  // As URLSearchParams (and so API Gateway's event) reads it: `+` is a space.
  const decode = (text: string) => {
    try {
      return decodeURIComponent(text.replace(/\+/g, ' '));
    } catch {
      return text;
    }
  };
  for (const pair of rawQuery.split('&')) {
    if (pair === '') continue;
    const separator = pair.indexOf('=');
    const name = decode(separator < 0 ? pair : pair.slice(0, separator));
    const value = separator < 0 ? '' : decode(pair.slice(separator + 1));
    const existing = query[name];
    query[name] = existing === undefined ? value : [...[existing].flat(), value];
  }
  return query;
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * Verifies a request's SigV4 signature the way API Gateway does for an IAM-authorized route: the
 * access key must be local mode's, the scope `<date>/us-east-1/execute-api/aws4_request`, `host`
 * and `x-amz-date` signed, the date within 5 minutes, and the signature the one recomputed over the
 * received method, path, query, signed headers and body (compared in constant time).
 */
export async function verifyLocalSignature(request: SignedRequest, now: Date = new Date()): Promise<Verdict> {
  const authorization = request.headers.authorization;
  if (!authorization) return refuse('missing authentication: sign the request with AWS SigV4 (service execute-api) using local mode\'s credentials');
  const parsed = parseAuthorization(authorization);
  if (!parsed) return refuse('the Authorization header is not an AWS4-HMAC-SHA256 signature (Credential=…, SignedHeaders=…, Signature=…)');

  const [accessKeyId, scopeDate, region, service, terminator, ...extra] = parsed.credential.split('/');
  if (extra.length > 0 || terminator !== 'aws4_request') return refuse(`malformed credential scope "${parsed.credential.slice(0, 200)}"`);
  if (accessKeyId !== LOCAL_CREDENTIALS.accessKeyId) {
    return refuse(`the access key id "${accessKeyId!.slice(0, 64)}" is not local mode's: sign with access key "${LOCAL_CREDENTIALS.accessKeyId}", secret "${LOCAL_CREDENTIALS.secretAccessKey}"`);
  }
  if (region !== LOCAL_REGION) return refuse(`the signature is for region "${region!.slice(0, 64)}"; local mode is ${LOCAL_REGION}`);
  if (service !== LOCAL_SIGNING_SERVICE) return refuse(`the signature is for service "${service!.slice(0, 64)}"; the API is ${LOCAL_SIGNING_SERVICE}`);

  const signedHeaders = parsed.signedHeaders.split(';');
  if (!signedHeaders.includes('host')) return refuse('the host header must be signed');
  if (!signedHeaders.includes('x-amz-date')) return refuse('the x-amz-date header must be signed');
  const headers: Record<string, string> = {};
  for (const name of signedHeaders) {
    const value = request.headers[name];
    if (value === undefined) return refuse(`the signed header "${name.slice(0, 64)}" is missing from the request`);
    headers[name] = value;
  }
  const amzDate = headers['x-amz-date']!;
  const signingDate = parseAmzDate(amzDate);
  if (!signingDate) return refuse(`x-amz-date "${amzDate.slice(0, 64)}" is not a basic ISO 8601 time (YYYYMMDDTHHMMSSZ)`);
  if (scopeDate !== amzDate.slice(0, 8)) return refuse(`the credential scope's date ${scopeDate!.slice(0, 16)} is not the day of x-amz-date ${amzDate}`);
  if (Math.abs(now.getTime() - signingDate.getTime()) > MAX_SKEW_MS) {
    return refuse(`signature expired: x-amz-date ${amzDate} is more than 5 minutes away from the server's time ${now.toISOString()}`);
  }

  // The signer trusts x-amz-content-sha256 as the body's hash; check it against the body received.
  const bodyHash = request.body.length === 0 ? EMPTY_BODY_SHA256 : createHash('sha256').update(request.body).digest('hex');
  const declaredHash = headers['x-amz-content-sha256'];
  if (declaredHash !== undefined && declaredHash !== bodyHash) return refuse('the body does not match the signed x-amz-content-sha256');

  const signer = new SignatureV4({
    credentials: LOCAL_CREDENTIALS,
    region: LOCAL_REGION,
    service: LOCAL_SIGNING_SERVICE,
    sha256: Sha256,
    // Add no header of its own: exactly the headers the client signed are signed again.
    applyChecksum: false,
  });
  const recomputed = await signer.sign(
    {
      method: request.method.toUpperCase(),
      protocol: 'http:',
      hostname: headers.host!,
      path: request.path,
      query: parseQuery(request.rawQuery),
      headers,
      body: request.body.length === 0 ? undefined : request.body,
    },
    { signingDate, signableHeaders: new Set(signedHeaders) },
  );
  const expected = parseAuthorization(recomputed.headers.authorization!)!;
  const signatureMatches = sameText(expected.signature, parsed.signature.toLowerCase());
  if (!sameText(expected.signedHeaders, parsed.signedHeaders) || !signatureMatches) {
    return refuse('the request signature we calculated does not match the signature you provided: check the secret access key and signing method');
  }
  return { valid: true };
}
