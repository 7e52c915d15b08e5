import { createHmac } from 'node:crypto';
import * as fc from 'fast-check';
import type { HeraldError } from '../../../lambdas/core/errors';
import { LIMITS, validateNotification } from '../../../lambdas/core/notification';
import { svixParser } from '../../../lambdas/core/parsers/svix';
import type { WebhookRequest } from '../../../lambdas/core/parsers/types';
import {
  expectResultOrHeraldError,
  fixtures,
  malformedRequest,
  notificationsOf,
  parserHelpers,
  passesOrHeraldError,
  request,
  sha256,
} from './helpers';

const clerk = fixtures('clerk');
const FIXTURE = 'session-created';

const META = clerk.fixtureMeta(FIXTURE);
const SECRET: string = META.signing.secret;
/** The fixture's `svix-timestamp`, and the moment its meta says to verify at (10 s later). */
const SIGNED_AT = Number(META.request.headers['svix-timestamp']);
const VERIFY_AT = new Date(META.signing.verifyAt * 1000);
const MESSAGE_ID = 'msg_2pQ9bCdEfGhIjKlMnOpQrStUvW';
const IPHONE_SAFARI =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.5 Mobile/15E148 Safari/604.1';

/** The exact body bytes Svix sent, as the receiver gets them. */
function fixtureBody(): Buffer {
  return clerk.fixtureBody(FIXTURE);
}

function fixtureRequest(): WebhookRequest {
  return clerk.fixtureRequest(FIXTURE);
}

/** Signs as Svix does, independently of the parser: base64 HMAC-SHA256 of `id.timestamp.body`. */
function svixSignature(secret: string, id: string, timestamp: string | number, body: Buffer): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  return createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest('base64');
}

function signedRequest(body: string | Buffer, timestamp: number = SIGNED_AT, id = MESSAGE_ID, secret = SECRET): WebhookRequest {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
  return request(bytes, {
    'svix-id': id,
    'svix-timestamp': String(timestamp),
    'svix-signature': `v1,${svixSignature(secret, id, timestamp, bytes)}`,
  });
}

/** A Clerk event as Svix delivers it. */
function clerkEvent(type: string, data: Record<string, unknown>, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    data,
    event_attributes: { http_request: { client_ip: '203.0.113.77', user_agent: 'curl/8.7.1' } },
    instance_id: 'ins_2pQ7aBcDeFgHiJkLmNoPqRsTuV',
    object: 'event',
    timestamp: 1761905523104,
    type,
    ...extra,
  });
}

const helpers = parserHelpers(svixParser);
const { parseOne, parseError } = helpers;

function verify(req: WebhookRequest, key: string = SECRET, now: Date = VERIFY_AT): void {
  helpers.verify(req, key, now);
}

function verifyError(req: WebhookRequest, key: string = SECRET, now: Date = VERIFY_AT): HeraldError {
  return helpers.verifyError(req, key, now);
}

describe('clerk fixtures', () => {
  test('session-created is a byte-exact copy', () => {
    expect(sha256(fixtureBody())).toBe(META.bodySha256);
  });

  test('the meta’s signature is Svix’s over id, timestamp and the raw body', () => {
    expect(`v1,${svixSignature(SECRET, MESSAGE_ID, SIGNED_AT, fixtureBody())}`).toBe(META.signing.expected);
  });
});

describe('svixParser', () => {
  test('is named clerk with the Svix aliases', () => {
    expect(svixParser.name).toBe('clerk');
    expect(svixParser.aliases).toEqual(['svix', 'clerk-svix']);
  });

  describe('signature', () => {
    test('accepts the fixture at the meta’s time', () => {
      expect(() => verify(fixtureRequest())).not.toThrow();
    });

    test('accepts the secret without its whsec_ prefix', () => {
      expect(() => verify(fixtureRequest(), SECRET.slice('whsec_'.length))).not.toThrow();
    });

    test('refuses every body with one byte changed', () => {
      const original = fixtureBody();
      for (let index = 0; index < original.length; index += 1) {
        const tampered = Buffer.from(original);
        tampered[index] ^= 0x01;
        const error = verifyError({ ...fixtureRequest(), body: tampered });
        expect(error.code).toBe('invalid_signature');
      }
    });

    test('refuses a body with a byte added', () => {
      const error = verifyError({ ...fixtureRequest(), body: Buffer.concat([fixtureBody(), Buffer.from('\n')]) });
      expect(error.code).toBe('invalid_signature');
    });

    test('refuses a changed svix-id or svix-timestamp (both are signed)', () => {
      const req = fixtureRequest();
      expect(verifyError({ ...req, headers: { ...req.headers, 'svix-id': 'msg_other' } }).code).toBe('invalid_signature');
      expect(verifyError({ ...req, headers: { ...req.headers, 'svix-timestamp': String(SIGNED_AT + 1) } }).code).toBe('invalid_signature');
    });

    test('refuses another secret', () => {
      expect(verifyError(fixtureRequest(), 'whsec_b3RoZXItc2VjcmV0LTAwMDE=').code).toBe('invalid_signature');
    });

    test.each([
      ['an empty secret', ''],
      ['an empty secret after the prefix', 'whsec_'],
      ['a secret that is not base64', 'whsec_not base64!'],
    ])('refuses %s rather than sign with no key', (_, key) => {
      const error = verifyError(fixtureRequest(), key);
      expect(error.code).toBe('invalid_signature');
      expect(error.message).toMatch(/signing key/);
    });

    test.each([300, -300])('accepts a timestamp %i s from now', (offset) => {
      expect(() => verify(fixtureRequest(), SECRET, new Date((SIGNED_AT + offset) * 1000))).not.toThrow();
    });

    test.each([301, -301, 86_400])('refuses the fixture %i s after it was signed as expired', (offset) => {
      const error = verifyError(fixtureRequest(), SECRET, new Date((SIGNED_AT + offset) * 1000));
      expect(error.code).toBe('signature_expired');
    });

    test('refuses a message signed long ago as expired', () => {
      const error = verifyError(signedRequest(fixtureBody(), SIGNED_AT - 3600));
      expect(error.code).toBe('signature_expired');
      expect(error.message).toMatch(/^Svix signature timestamp is \d+ s old; the tolerance is 300 s$/);
    });

    test('refuses a message signed in the future as expired', () => {
      expect(verifyError(signedRequest(fixtureBody(), SIGNED_AT + 3600)).code).toBe('signature_expired');
    });

    test('refuses a signed timestamp that is not unix seconds', () => {
      const body = fixtureBody();
      const timestamp = '2025-10-31T10:12:03Z';
      const req = request(body, { 'svix-id': MESSAGE_ID, 'svix-timestamp': timestamp, 'svix-signature': `v1,${svixSignature(SECRET, MESSAGE_ID, timestamp, body)}` });
      expect(verifyError(req).code).toBe('invalid_signature');
    });

    test.each(['svix-id', 'svix-timestamp', 'svix-signature'])('refuses a request without %s', (name) => {
      const req = fixtureRequest();
      const headers = { ...req.headers };
      delete headers[name];
      const error = verifyError({ ...req, headers });
      expect(error.code).toBe('invalid_signature');
      expect(error.message).toBe('Svix: the svix-id, svix-timestamp and svix-signature headers are required');
    });

    test('accepts when any of several v1 signatures matches', () => {
      const req = fixtureRequest();
      const signature = `v1,${Buffer.alloc(32, 7).toString('base64')} v1,not-base64 ${META.signing.expected}`;
      expect(() => verify({ ...req, headers: { ...req.headers, 'svix-signature': signature } })).not.toThrow();
    });

    test('ignores entries of other versions', () => {
      const req = fixtureRequest();
      const real = META.signing.expected.slice('v1,'.length);
      const error = verifyError({ ...req, headers: { ...req.headers, 'svix-signature': `v2,${real} v1a,${real} ${real}` } });
      expect(error.code).toBe('invalid_signature');
    });

    test('refuses a signature header with no v1 entry that matches', () => {
      const req = fixtureRequest();
      expect(verifyError({ ...req, headers: { ...req.headers, 'svix-signature': 'v1,' } }).code).toBe('invalid_signature');
    });

    test('accepts the unbranded webhook-* headers', () => {
      const signed = signedRequest(fixtureBody());
      const headers = Object.fromEntries(Object.entries(signed.headers).map(([key, value]) => [key.replace(/^svix-/, 'webhook-'), value]));
      expect(() => verify({ ...signed, headers })).not.toThrow();
    });

    test('finds the headers whatever their spelling', () => {
      const headers = Object.fromEntries(Object.entries(META.request.headers as Record<string, string>));
      expect(() => verify(request(fixtureBody(), headers))).not.toThrow();
    });

    test('refuses a malformed request with a HeraldError', () => {
      const broken = malformedRequest();
      expect(verifyError(broken).code).toBe('invalid_signature');
      expect(verifyError({ ...fixtureRequest(), body: undefined } as unknown as WebhookRequest).code).toBe('invalid_signature');
    });
  });

  describe('Clerk events', () => {
    test('titles the fixture’s session.created as a sign-in by its user id', () => {
      const parsed = parseOne(fixtureRequest());
      expect(parsed.content).toEqual({
        title: 'Sign-in: user_2pQ8zNoP6xD9eF1hI3jL5mU7wX',
        body: ['IP: 91.64.23.17', `User agent: ${IPHONE_SAFARI}`].join('\n'),
        deliveryType: 'NORMAL',
        tags: ['clerk', 'session.created'],
      });
      expect(parsed.dedupeKey).toBe(`svix:${MESSAGE_ID}`);
    });

    test('gives the fixture a valid notification', () => {
      expect(() => validateNotification(parseOne(fixtureRequest()).content)).not.toThrow();
    });

    test('keys a request without svix-id by a hash of its body', () => {
      expect(parseOne(request(fixtureBody())).dedupeKey).toBe(`svix:${sha256(fixtureBody())}`);
    });

    test('names the session’s user by public user data and lists its activity', () => {
      const data = {
        id: 'sess_1',
        user_id: 'user_1',
        public_user_data: { identifier: 'jane.doe@acme-corp.example', first_name: 'Jane' },
        latest_activity: { browser_name: 'Safari', device_type: 'iPhone', city: 'Berlin', country: 'DE' },
      };
      expect(parseOne(request(clerkEvent('session.created', data))).content).toMatchObject({
        title: 'Sign-in: jane.doe@acme-corp.example',
        body: ['User ID: user_1', 'Browser: Safari on iPhone', 'Location: Berlin, DE', 'IP: 203.0.113.77', 'User agent: curl/8.7.1'].join('\n'),
      });
    });

    test('titles a revoked session', () => {
      expect(parseOne(request(clerkEvent('session.revoked', { id: 'sess_1', user_id: 'user_1' }))).content.title).toBe('Session revoked: user_1');
    });

    test.each([
      ['session.ended', 'Session ended: user_1'],
      ['session.removed', 'Session removed: user_1'],
      ['session.pending', 'Sign-in pending: user_1'],
    ])('gives the routine %s as a routine notification titled "%s"', (type, title) => {
      const parsed = parseOne(signedRequest(clerkEvent(type, { id: 'sess_1', user_id: 'user_1' })));
      expect(parsed).toEqual({
        content: { title, body: ['IP: 203.0.113.77', 'User agent: curl/8.7.1'].join('\n'), deliveryType: 'NORMAL', tags: ['clerk', type] },
        dedupeKey: `svix:${MESSAGE_ID}`,
        routine: true,
      });
    });

    test('names the user of a routine session event by public user data and lists its activity', () => {
      const data = { id: 'sess_1', user_id: 'user_1', public_user_data: { identifier: 'jane.doe@acme-corp.example' }, latest_activity: { browser_name: 'Safari', city: 'Berlin' } };
      const parsed = parseOne(request(clerkEvent('session.ended', data)));
      expect(parsed.content).toMatchObject({
        title: 'Session ended: jane.doe@acme-corp.example',
        body: ['User ID: user_1', 'Browser: Safari', 'Location: Berlin', 'IP: 203.0.113.77', 'User agent: curl/8.7.1'].join('\n'),
      });
      expect(parsed.routine).toBe(true);
    });

    test.each(['session.created', 'session.revoked', 'user.created', 'email.created', 'organization.created'])('does not flag %s routine', (type) => {
      expect('routine' in parseOne(request(clerkEvent(type, { id: 'x_1', user_id: 'user_1' })))).toBe(false);
    });

    test('titles user.created by the primary email and names the user', () => {
      const user = {
        id: 'user_1',
        first_name: 'Jane',
        last_name: 'Doe',
        primary_email_address_id: 'idn_2',
        email_addresses: [
          { id: 'idn_1', email_address: 'old@acme-corp.example' },
          { id: 'idn_2', email_address: 'jane.doe@acme-corp.example' },
        ],
      };
      expect(parseOne(request(clerkEvent('user.created', user))).content).toEqual({
        title: 'User created: jane.doe@acme-corp.example',
        body: ['Name: Jane Doe', 'User ID: user_1', 'IP: 203.0.113.77', 'User agent: curl/8.7.1'].join('\n'),
        deliveryType: 'NORMAL',
        tags: ['clerk', 'user.created'],
      });
    });

    test('titles user.created without an email by username', () => {
      expect(parseOne(request(clerkEvent('user.created', { id: 'user_1', username: 'jdoe', email_addresses: [] }))).content.title).toBe(
        'User created: jdoe',
      );
    });

    test('titles user.updated', () => {
      expect(parseOne(request(clerkEvent('user.updated', { id: 'user_1' }))).content.title).toBe('User updated: user_1');
    });

    test('titles user.deleted by the id it carries', () => {
      expect(parseOne(request(clerkEvent('user.deleted', { deleted: true, id: 'user_1', object: 'user' }))).content.title).toBe('User deleted: user_1');
    });

    test('never shows an email’s subject or body, which carry codes', () => {
      const email = { to_email_address: 'jane.doe@acme-corp.example', subject: '123456 is your code', body: 'Your code is 123456', slug: 'verification_code' };
      const { content } = parseOne(request(clerkEvent('email.created', email)));
      expect(content).toMatchObject({ title: 'Email sent: jane.doe@acme-corp.example' });
      expect(JSON.stringify(content)).not.toContain('123456');
      expect(content.body).toBe('Template: verification_code\nIP: 203.0.113.77\nUser agent: curl/8.7.1');
    });

    test('never shows an SMS’s message', () => {
      const sms = { to_phone_number: '+15555550100', message: 'Your code is 123456', slug: 'verification_code' };
      const { content } = parseOne(request(clerkEvent('sms.created', sms)));
      expect(content.title).toBe('SMS sent: +15555550100');
      expect(JSON.stringify(content)).not.toContain('123456');
    });

    test('titles any other event by its type', () => {
      expect(parseOne(request(clerkEvent('organization.created', { id: 'org_1', name: 'ACME' }))).content).toMatchObject({
        title: 'Clerk: organization.created',
        body: 'ID: org_1\nIP: 203.0.113.77\nUser agent: curl/8.7.1',
        tags: ['clerk', 'organization.created'],
      });
    });

    test('caps every string to the notification limits', () => {
      const long = 'x'.repeat(20_000);
      const { content } = parseOne(request(clerkEvent('user.created', { id: long, username: long }, { event_attributes: { http_request: { user_agent: long } } })));
      expect(content.title).toHaveLength(LIMITS.title);
      expect(content.body).toHaveLength(LIMITS.body);
      expect(() => validateNotification(content)).not.toThrow();
    });

    test('hashes an svix-id that is not plain', () => {
      const req = request(fixtureBody(), { 'svix-id': 'msg 1/2' });
      expect(parseOne(req).dedupeKey).toBe(`svix:${sha256('msg 1/2')}`);
    });
  });

  describe('hostile input', () => {
    test('reads an event whose data is deeply nested JSON', () => {
      const deep = `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`;
      const body = `{"object":"event","type":"user.created","data":{"id":"user_1","unsafe_metadata":${deep}}}`;
      expect(parseOne(request(body, { 'svix-id': MESSAGE_ID }))).toEqual({
        content: { title: 'User created: user_1', deliveryType: 'NORMAL', tags: ['clerk', 'user.created'] },
        dedupeKey: `svix:${MESSAGE_ID}`,
      });
    });
  });

  describe('invalid body', () => {
    test.each([
      ['empty bytes', ''],
      ['invalid JSON', '{"type": '],
      ['a JSON array', '[]'],
      ['an object without type', '{"object": "event", "data": {}}'],
      ['an object without data', '{"object": "event", "type": "user.created"}'],
      ['another object', '{"object": "list", "type": "user.created", "data": {}}'],
    ])('throws invalid_body for %s', (_, body) => {
      const error = parseError(request(body));
      expect(error.code).toBe('invalid_body');
      expect(error.message).toMatch(/^clerk: /);
    });
  });

  describe('detect', () => {
    test('recognises the fixture by its body alone', () => {
      expect(svixParser.detect(request(fixtureBody()))).toBe(true);
    });

    test('recognises the svix-id header', () => {
      expect(svixParser.detect(request('', { 'svix-id': MESSAGE_ID }))).toBe(true);
    });

    test.each([
      ['an Okta delivery', '{"eventType": "com.okta.event_hook", "data": {"events": []}}'],
      ['an Auth0 item', '{"log_id": "1", "data": {"type": "s"}}'],
      ['an event without object', '{"type": "user.created", "data": {}}'],
      ['invalid JSON', '{"object"'],
      ['binary bytes', Buffer.from([0xff, 0xfe, 0x00, 0x7b])],
    ])('rejects %s', (_, body) => {
      expect(svixParser.detect(request(body))).toBe(false);
    });

    test('never throws on a malformed request', () => {
      const broken = malformedRequest();
      expect(svixParser.detect(broken)).toBe(false);
    });
  });

  describe('properties', () => {
    const RUNS = 10_000;
    const NOW = new Date(SIGNED_AT * 1000);

    /** detect, verify and parse: booleans, valid notifications or a HeraldError, never anything else. */
    function checkRequest(req: WebhookRequest, key: string): void {
      expect(typeof svixParser.detect(req)).toBe('boolean');
      const error = passesOrHeraldError(() => verify(req, key, NOW));
      if (error) expect(['invalid_signature', 'signature_expired']).toContain(error.code);
      expectResultOrHeraldError(svixParser, req, (notification) => {
        expect(notification.dedupeKey).toMatch(/^svix:/);
        expect(notification.routine === undefined || notification.routine === true).toBe(true);
      });
    }

    const key = fc.oneof(fc.constant(SECRET), fc.string(), fc.base64String().map((value) => `whsec_${value}`));
    const headers = fc.record(
      {
        'svix-id': fc.oneof(fc.constant(MESSAGE_ID), fc.string()),
        'svix-timestamp': fc.oneof(fc.constant(String(SIGNED_AT)), fc.integer().map(String), fc.string()),
        'svix-signature': fc.oneof(
          fc.constant(META.signing.expected as string),
          fc.base64String().map((value) => `v1,${value}`),
          fc.array(fc.string(), { maxLength: 4 }).map((parts) => parts.join(' ')),
        ),
      },
      { requiredKeys: [] },
    );
    const field = fc.oneof(fc.string(), fc.jsonValue({ maxDepth: 2 }));
    const TYPES = ['session.created', 'session.revoked', 'session.ended', 'session.removed', 'session.pending', 'user.created', 'user.updated', 'user.deleted', 'email.created', 'sms.created', 'organization.created'];
    /** A Clerk `data` object: the fields the event readers look at, each of any JSON type. */
    const clerkData = fc.record(
      {
        id: field,
        user_id: field,
        username: field,
        first_name: field,
        last_name: field,
        primary_email_address_id: field,
        email_addresses: fc.oneof(fc.array(fc.record({ id: field, email_address: field }), { maxLength: 3 }), field),
        phone_numbers: fc.oneof(fc.array(fc.record({ phone_number: field }), { maxLength: 2 }), field),
        public_user_data: fc.oneof(fc.record({ identifier: field, first_name: field }), field),
        latest_activity: fc.oneof(fc.record({ browser_name: field, device_type: field, city: field, country: field }), field),
        to_email_address: field,
        to_phone_number: field,
        slug: field,
      },
      { requiredKeys: [] },
    );
    /** Mostly a real envelope, so most runs reach the event readers; now and then a broken one. */
    const clerkShaped = fc.record(
      {
        object: fc.oneof({ arbitrary: fc.constant('event'), weight: 9 }, { arbitrary: field, weight: 1 }),
        type: fc.oneof({ arbitrary: fc.constantFrom(...TYPES), weight: 9 }, { arbitrary: field, weight: 1 }),
        data: fc.oneof({ arbitrary: clerkData, weight: 9 }, { arbitrary: fc.jsonValue(), weight: 1 }),
        event_attributes: fc.oneof(fc.record({ http_request: fc.oneof(fc.record({ client_ip: field, user_agent: field }), field) }), field),
      },
      { requiredKeys: ['type', 'data'] },
    );

    test('answers arbitrary bytes with notifications, a skip or a HeraldError', () => {
      const bytes = fc.oneof(
        fc.uint8Array({ maxLength: 300 }).map((array) => Buffer.from(array)),
        fc.string({ unit: 'binary' }).map((value) => Buffer.from(value, 'utf8')),
      );
      fc.assert(
        fc.property(bytes, headers, key, (body, hdrs, signingKey) => checkRequest(request(body, hdrs), signingKey)),
        { numRuns: RUNS },
      );
    });

    test('answers arbitrary JSON with notifications, a skip or a HeraldError', () => {
      fc.assert(
        fc.property(fc.jsonValue(), headers, key, (value, hdrs, signingKey) => checkRequest(request(JSON.stringify(value), hdrs), signingKey)),
        { numRuns: RUNS },
      );
    });

    test('answers Clerk-shaped events with valid notifications, a skip or a HeraldError', () => {
      fc.assert(
        fc.property(clerkShaped, headers, key, (payload, hdrs, signingKey) => checkRequest(request(JSON.stringify(payload), hdrs), signingKey)),
        { numRuns: RUNS },
      );
    });

    test('flags exactly the session ends, removals and pending sign-ins routine', () => {
      const routineTypes = ['session.ended', 'session.removed', 'session.pending'];
      fc.assert(
        fc.property(fc.constantFrom(...TYPES), clerkData, (type, data) => {
          const [notification] = notificationsOf(svixParser.parse(request(clerkEvent(type, data))));
          expect(notification.routine).toBe(routineTypes.includes(type) ? true : undefined);
        }),
        { numRuns: 2_000 },
      );
    });

    test('accepts any body Svix signed, within the tolerance, and refuses it once a byte changes', () => {
      fc.assert(
        fc.property(
          fc.uint8Array({ minLength: 1, maxLength: 200 }).map((array) => Buffer.from(array)),
          fc.integer({ min: -300, max: 300 }),
          fc.nat(),
          (body, offset, position) => {
            const req = signedRequest(body, SIGNED_AT + offset);
            expect(() => verify(req, SECRET, NOW)).not.toThrow();
            const tampered = Buffer.from(body);
            tampered[position % body.length] ^= 0x80;
            expect(verifyError({ ...req, body: tampered }, SECRET, NOW).code).toBe('invalid_signature');
          },
        ),
        { numRuns: 2_000 },
      );
    });
  });
});
