import type { HttpRequest } from '../../lambdas/core/http';
import { readNativeMessage } from '../../lambdas/core/messages';

function request(overrides: Partial<HttpRequest> & { json?: unknown } = {}): HttpRequest {
  const { json, ...rest } = overrides;
  return {
    method: 'POST',
    path: '/message',
    query: {},
    headers: json === undefined ? {} : { 'content-type': 'application/json' },
    body: json === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(json)),
    ...rest,
  };
}

describe('readNativeMessage, fields', () => {
  test('reads the JSON body as the notification content', () => {
    const native = readNativeMessage(request({ json: { title: 'Login', body: 'from Berlin' } }));

    expect(native.parsed.content).toEqual({ title: 'Login', body: 'from Berlin' });
  });

  test('reads a GET request from the query string', () => {
    const native = readNativeMessage(request({ method: 'GET', query: { title: 'Login', deliveryType: 'critical' } }));

    expect(native.parsed.content).toEqual({ title: 'Login', deliveryType: 'critical' });
  });

  test('ignores the body of a GET request', () => {
    const native = readNativeMessage(request({ method: 'GET', query: { title: 'from query' }, json: { body: 'from body' } }));

    expect(native.parsed.content).toEqual({ title: 'from query' });
  });

  test('the query string overrides the body, field by field', () => {
    const native = readNativeMessage(request({ json: { title: 'from body', body: 'kept' }, query: { title: 'from query' } }));

    expect(native.parsed.content).toEqual({ title: 'from query', body: 'kept' });
  });
});

describe('readNativeMessage, request parameters', () => {
  test('removes the query parameters that address or authenticate the request', () => {
    const native = readNativeMessage(
      request({
        json: { title: 'Login' },
        query: { token: 't', access_token: 'a', magicCode: 'm', bucketId: 'b', parser: 'p' },
      }),
    );

    expect(native.parsed.content).toEqual({ title: 'Login' });
  });

  test('removes request parameters given in the body', () => {
    const native = readNativeMessage(request({ json: { title: 'Login', token: 't', parser: 'p', bucketId: 'b', magicCode: 'm' } }));

    expect(native.parsed.content).toEqual({ title: 'Login' });
  });

  test('takes bucketId and magicCode from the body as the address', () => {
    const native = readNativeMessage(request({ json: { title: 'Login', bucketId: 'ops', magicCode: 'code-from-body' } }));

    expect(native.address).toEqual({ bucketId: 'ops', magicCode: 'code-from-body' });
  });

  test('does not take the address from the query (authentication reads it there itself)', () => {
    const native = readNativeMessage(request({ json: { title: 'Login' }, query: { bucketId: 'ops', magicCode: 'm' } }));

    expect(native.address).toEqual({ bucketId: undefined, magicCode: undefined });
  });

  test('ignores a body address that is not a string', () => {
    const native = readNativeMessage(request({ json: { title: 'Login', bucketId: 7 } }));

    expect(native.address.bucketId).toBeUndefined();
    expect(native.parsed.content).toEqual({ title: 'Login' });
  });
});

describe('readNativeMessage, ignored Zentik fields', () => {
  test('lists and drops the Zentik fields Herald does not support', () => {
    const native = readNativeMessage(
      request({ json: { title: 'Login', attachments: [], userIds: ['u1'], locale: 'de' }, query: { ephemeral: 'true' } }),
    );

    expect(native.parsed.content).toEqual({ title: 'Login' });
    expect(native.ignoredFields.sort()).toEqual(['attachments', 'ephemeral', 'locale', 'userIds']);
  });

  test('lists nothing when no such field is sent', () => {
    expect(readNativeMessage(request({ json: { title: 'Login' } })).ignoredFields).toEqual([]);
  });

  test('leaves unknown fields for validation to refuse', () => {
    expect(readNativeMessage(request({ json: { title: 'Login', priority: 'high' } })).parsed.content).toEqual({
      title: 'Login',
      priority: 'high',
    });
  });
});

describe('readNativeMessage, dedupe', () => {
  test('has no dedupe key without an Idempotency-Key', () => {
    expect(readNativeMessage(request({ json: { title: 'Login' } })).parsed.dedupeKey).toBeUndefined();
  });

  test('turns the Idempotency-Key header into the dedupe key', () => {
    const native = readNativeMessage(request({ json: { title: 'Login' }, headers: { 'content-type': 'application/json', 'idempotency-key': ' order-42 ' } }));

    expect(native.parsed.dedupeKey).toBe('idempotency:order-42');
  });

  test('ignores a blank Idempotency-Key', () => {
    const native = readNativeMessage(request({ json: { title: 'Login' }, headers: { 'content-type': 'application/json', 'idempotency-key': '  ' } }));

    expect(native.parsed.dedupeKey).toBeUndefined();
  });

  test('keeps at most 200 characters of the key', () => {
    const native = readNativeMessage(request({ method: 'GET', query: { title: 't' }, headers: { 'idempotency-key': 'k'.repeat(500) } }));

    expect(native.parsed.dedupeKey).toBe(`idempotency:${'k'.repeat(200)}`);
  });
});
