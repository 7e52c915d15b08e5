import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import { LOCAL_CREDENTIALS, verifyLocalSignature, type SignedRequest } from '../../lambdas/local/sigv4';

const NOW = new Date('2025-06-01T12:00:00.000Z');
const HOST = '127.0.0.1:8787';

interface Draft {
  method?: string;
  path?: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: string;
}

/** Signs a request as an AWS SDK client would, and returns it as local mode receives it. */
async function signed(draft: Draft = {}, signer: { credentials?: { accessKeyId: string; secretAccessKey: string }; region?: string; service?: string; at?: Date } = {}): Promise<SignedRequest> {
  const method = draft.method ?? 'POST';
  const path = draft.path ?? '/admin/buckets';
  const body = draft.body ?? (method === 'GET' ? undefined : '{"name":"alerts"}');
  const sigv4 = new SignatureV4({
    credentials: signer.credentials ?? LOCAL_CREDENTIALS,
    region: signer.region ?? 'us-east-1',
    service: signer.service ?? 'execute-api',
    sha256: Sha256,
  });
  const request = await sigv4.sign(
    {
      method,
      protocol: 'http:',
      hostname: '127.0.0.1',
      port: 8787,
      path,
      query: draft.query ?? {},
      headers: { host: HOST, ...(body ? { 'content-type': 'application/json' } : {}), ...draft.headers },
      body,
    },
    { signingDate: signer.at ?? NOW },
  );
  const headers = Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name.toLowerCase(), value]));
  const rawQuery = new URLSearchParams(draft.query ?? {}).toString();
  return { method, path, rawQuery, headers, body: Buffer.from(body ?? '') };
}

describe('verifyLocalSignature', () => {
  test('accepts a request signed with local mode\'s credentials for execute-api in us-east-1', async () => {
    await expect(verifyLocalSignature(await signed(), NOW)).resolves.toEqual({ valid: true });
  });

  test('accepts a GET with a query string (spaces sent as +, as URLSearchParams writes them)', async () => {
    const request = await signed({ method: 'GET', path: '/admin/buckets/alerts/devices', query: { limit: '5', cursor: 'a b+c/=' } });

    await expect(verifyLocalSignature(request, NOW)).resolves.toEqual({ valid: true });
  });

  test('accepts a signature made up to 5 minutes before or after the server\'s clock', async () => {
    const request = await signed({}, { at: new Date(NOW.getTime() - 4 * 60_000) });

    await expect(verifyLocalSignature(request, NOW)).resolves.toEqual({ valid: true });
    await expect(verifyLocalSignature(request, new Date(NOW.getTime() - 8 * 60_000))).resolves.toEqual({ valid: true });
  });

  test.each([
    ['no Authorization header', async () => { const { authorization: _a, ...headers } = (await signed()).headers; return { ...(await signed()), headers }; }, /missing authentication/],
    ['another scheme', async () => { const request = await signed(); return { ...request, headers: { ...request.headers, authorization: 'Bearer abc' } }; }, /not an AWS4-HMAC-SHA256 signature/],
    ['a wrong secret', () => signed({}, { credentials: { accessKeyId: 'local', secretAccessKey: 'wrong' } }), /signature .* does not match/],
    ['another access key id', () => signed({}, { credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'local' } }), /access key id "AKIAEXAMPLE" is not local mode's/],
    ['another region', () => signed({}, { region: 'eu-west-1' }), /region "eu-west-1"/],
    ['another service', () => signed({}, { service: 'lambda' }), /service "lambda"/],
    ['a date over 5 minutes old', () => signed({}, { at: new Date(NOW.getTime() - 6 * 60_000) }), /signature expired: x-amz-date 20250601T115400Z/],
    ['a date over 5 minutes ahead', () => signed({}, { at: new Date(NOW.getTime() + 6 * 60_000) }), /signature expired/],
  ])('refuses %s', async (_what, make, reason) => {
    const verdict = await verifyLocalSignature(await make(), NOW);

    expect(verdict.valid).toBe(false);
    expect(verdict).toEqual({ valid: false, reason: expect.stringMatching(reason) });
  });

  test.each<[string, (request: SignedRequest) => SignedRequest, RegExp]>([
    ['the body', (request) => ({ ...request, body: Buffer.from('{"name":"other"}') }), /body does not match/],
    ['the path', (request) => ({ ...request, path: '/admin/buckets/other' }), /does not match/],
    ['the method', (request) => ({ ...request, method: 'PUT' }), /does not match/],
    ['the query', (request) => ({ ...request, rawQuery: 'limit=6' }), /does not match/],
    ['a signed header', (request) => ({ ...request, headers: { ...request.headers, 'content-type': 'text/plain' } }), /does not match/],
    ['the host', (request) => ({ ...request, headers: { ...request.headers, host: 'evil.example:8787' } }), /does not match/],
    ['the signed header list', (request) => ({ ...request, headers: { ...request.headers, authorization: request.headers.authorization!.replace('SignedHeaders=', 'SignedHeaders=accept;') } }), /signed header "accept" is missing/],
  ])('refuses a request changed after signing: %s', async (_what, tamper, reason) => {
    const request = await signed({ method: 'POST', query: { limit: '5' } });

    await expect(verifyLocalSignature(tamper(request), NOW)).resolves.toEqual({ valid: false, reason: expect.stringMatching(reason) });
  });

  test('refuses a body changed after signing when the client did not send x-amz-content-sha256', async () => {
    // GIVEN a client that hashes the body into the signature without the header (as curl --aws-sigv4 does)
    const sigv4 = new SignatureV4({ credentials: LOCAL_CREDENTIALS, region: 'us-east-1', service: 'execute-api', sha256: Sha256, applyChecksum: false });
    const request = await sigv4.sign(
      { method: 'POST', protocol: 'http:', hostname: '127.0.0.1', path: '/admin/buckets', query: {}, headers: { host: HOST }, body: '{"name":"a"}' },
      { signingDate: NOW },
    );
    const received = { method: 'POST', path: '/admin/buckets', rawQuery: '', headers: request.headers, body: Buffer.from('{"name":"a"}') };
    await expect(verifyLocalSignature(received, NOW)).resolves.toEqual({ valid: true });

    // THEN the same signature over another body is refused
    await expect(verifyLocalSignature({ ...received, body: Buffer.from('{"name":"b"}') }, NOW)).resolves.toMatchObject({ valid: false });
  });

  test('requires host and x-amz-date to be signed', async () => {
    const request = await signed();
    const withoutHost = request.headers.authorization!.replace(/SignedHeaders=[^,]+/, 'SignedHeaders=content-type;x-amz-content-sha256;x-amz-date');

    await expect(verifyLocalSignature({ ...request, headers: { ...request.headers, authorization: withoutHost } }, NOW)).resolves.toEqual({
      valid: false,
      reason: 'the host header must be signed',
    });
  });
});
