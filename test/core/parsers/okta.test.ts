import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as fc from 'fast-check';
import { LIMITS, validateNotification } from '../../../lambdas/core/notification';
import { oktaParser } from '../../../lambdas/core/parsers/okta';
import type { ReplyContext, WebhookRequest } from '../../../lambdas/core/parsers/types';
import { expectResultOrHeraldError, fixtures, malformedRequest, notificationsOf, parserHelpers, request as plainRequest, sha256 } from './helpers';

const EVENT_FIXTURES = ['event-user-session-start-failure', 'event-user-auth-via-mfa'] as const;

const HOOK_SECRET = 'okta-hook-Secr3t-91c2';
const JANE = 'jane.doe@acme-corp.example';

type MethodRequest = WebhookRequest & { readonly method: string };

const okta = fixtures('okta');
const { fixtureBody, fixtureMeta } = okta;
const { parseOne, parseError, presentedSecret } = parserHelpers(oktaParser);

/** The request a fixture's meta describes, header names lower-cased as HTTP API delivers them. */
function fixtureRequest(name: string): MethodRequest {
  const meta = fixtureMeta(name);
  const body = meta.bodyFile ? fixtureBody(name) : Buffer.alloc(0);
  return { ...okta.fixtureRequest(name, body), method: meta.request.method as string };
}

function request(body: string | Buffer, headers: Record<string, string> = {}, method = 'POST'): MethodRequest {
  return { ...plainRequest(body, headers), method };
}

/** A LogEvent like the fixtures'; fields override a successful sign-in. */
function logEvent(fields: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    uuid: '5b0c7c3e-0000-4000-8000-000000000001',
    published: '2025-10-31T12:00:00.000Z',
    eventType: 'user.session.start',
    version: '0',
    displayMessage: 'User login to Okta',
    severity: 'INFO',
    client: {
      userAgent: { rawUserAgent: 'Mozilla/5.0', os: 'Mac OS X', browser: 'CHROME' },
      zone: 'null',
      device: 'Computer',
      ipAddress: '203.0.113.77',
      geographicalContext: { city: 'Amsterdam', state: 'North Holland', country: 'Netherlands' },
    },
    actor: { id: '00ub0oNGTSWTBKOLGLNR', type: 'User', alternateId: JANE, displayName: 'Jane Doe' },
    outcome: { result: 'SUCCESS', reason: null },
    target: null,
    ...fields,
  };
}

function delivery(events: unknown[]): MethodRequest {
  return request(
    JSON.stringify({ eventType: 'com.okta.event_hook', eventTypeVersion: '1.0', eventId: 'e-1', data: { events } }),
    { authorization: HOOK_SECRET },
  );
}

function handshake(req: MethodRequest) {
  if (!oktaParser.handshake) throw new Error('okta answers a verification handshake');
  return oktaParser.handshake(req);
}

describe('okta fixtures', () => {
  test.each(EVENT_FIXTURES)('%s is a byte-exact copy', (name) => {
    expect(sha256(fixtureBody(name))).toBe(fixtureMeta(name).bodySha256);
  });
});

describe('oktaParser', () => {
  test('is named okta with the event hooks alias', () => {
    expect(oktaParser.name).toBe('okta');
    expect(oktaParser.aliases).toEqual(['okta-event-hooks']);
  });

  describe('auth', () => {
    test.each([...EVENT_FIXTURES, 'verification-request'])('%s presents the registered secret', (name) => {
      expect(presentedSecret(fixtureRequest(name))).toBe(fixtureMeta(name).auth?.expected ?? HOOK_SECRET);
    });

    test('presents nothing without an Authorization header', () => {
      expect(presentedSecret(request('{}', { accept: 'application/json' }))).toBeUndefined();
    });

    test('never throws on a malformed request', () => {
      const broken = malformedRequest();
      expect(presentedSecret(broken)).toBeUndefined();
    });
  });

  describe('handshake', () => {
    test('answers the verification GET exactly as the fixture response', () => {
      const meta = fixtureMeta('verification-request');
      const reply = handshake(fixtureRequest('verification-request'));
      expect(reply).toEqual({
        status: meta.expectedResponse.status,
        headers: { 'content-type': 'application/json' },
        body: readFileSync(join(okta.dir, meta.expectedResponse.bodyFile), 'utf8'),
      });
    });

    test('accepts the method in any case and the header in any spelling', () => {
      const reply = handshake(request('', { 'X-Okta-Verification-Challenge': 'abc' }, 'get'));
      expect(reply?.body).toBe('{"verification":"abc"}');
    });

    test('escapes the challenge as JSON', () => {
      expect(handshake(request('', { 'x-okta-verification-challenge': 'a"b\\c' }, 'GET'))?.body).toBe('{"verification":"a\\"b\\\\c"}');
    });

    test.each([
      ['an event delivery', () => fixtureRequest('event-user-session-start-failure')],
      ['a GET without the challenge', () => request('', { authorization: HOOK_SECRET }, 'GET')],
      ['a POST carrying the challenge', () => request('', { 'x-okta-verification-challenge': 'abc' }, 'POST')],
      ['an empty challenge', () => request('', { 'x-okta-verification-challenge': '' }, 'GET')],
    ])('ignores %s', (_, build) => {
      expect(handshake(build())).toBeUndefined();
    });

    test('never throws on a malformed request', () => {
      const broken = { body: undefined, headers: undefined, query: undefined, method: undefined } as unknown as MethodRequest;
      expect(handshake(broken)).toBeUndefined();
    });
  });

  describe('reply', () => {
    test('is 200 with an empty body, as Okta asks', () => {
      const req = fixtureRequest('event-user-session-start-failure');
      const context: ReplyContext = { request: req, result: oktaParser.parse(req), notificationIds: ['n-1'] };
      expect(oktaParser.reply?.(context)).toEqual({ status: 200, body: '' });
    });

    test('is the same for a skipped delivery', () => {
      const req = delivery([]);
      expect(oktaParser.reply?.({ request: req, result: oktaParser.parse(req), notificationIds: [] })).toEqual({ status: 200, body: '' });
    });
  });

  describe('fixtures', () => {
    test('makes a failed sign-in critical, with reason, IP, place and browser', () => {
      const parsed = parseOne(fixtureRequest('event-user-session-start-failure'));
      expect(parsed.content).toEqual({
        title: `Sign-in failed: ${JANE}`,
        body: ['User login to Okta', 'Reason: INVALID_CREDENTIALS', 'IP: 91.64.23.17', 'Location: Berlin, Germany', 'Browser: SAFARI on iOS'].join('\n'),
        deliveryType: 'CRITICAL',
        tags: ['okta', 'user.session.start'],
      });
      expect(parsed.dedupeKey).toBe('okta:f790999f-fe87-467a-9880-6982a583986c');
    });

    test('titles a passed MFA as normal', () => {
      const parsed = parseOne(fixtureRequest('event-user-auth-via-mfa'));
      expect(parsed.content).toEqual({
        title: `MFA passed: ${JANE}`,
        body: ['Authentication of user via MFA', 'IP: 91.64.23.17', 'Location: Berlin, Germany', 'Browser: SAFARI on iOS'].join('\n'),
        deliveryType: 'NORMAL',
        tags: ['okta', 'user.authentication.auth_via_mfa'],
      });
      expect(parsed.dedupeKey).toBe('okta:0a8c1f3e-2b4d-4f6a-8c9e-1a2b3c4d5e6f');
    });

    test.each(EVENT_FIXTURES)('%s gives valid notifications', (name) => {
      for (const notification of notificationsOf(oktaParser.parse(fixtureRequest(name)))) {
        expect(() => validateNotification(notification.content)).not.toThrow();
      }
    });
  });

  describe('event types', () => {
    const admin = { id: '00uadmin', type: 'User', alternateId: 'admin@acme-corp.example', displayName: 'Admin' };
    const janeTarget = [{ id: '00ub0oNGTSWTBKOLGLNR', type: 'User', alternateId: JANE, displayName: 'Jane Doe' }];

    test.each([
      ['a successful sign-in', {}, `Sign-in: ${JANE}`, 'NORMAL'],
      ['a denied sign-in', { outcome: { result: 'DENY', reason: 'Sign-on policy' } }, `Sign-in failed: ${JANE}`, 'CRITICAL'],
      ['a challenged sign-in', { outcome: { result: 'CHALLENGE' } }, `Sign-in (CHALLENGE): ${JANE}`, 'NORMAL'],
      ['a failed MFA', { eventType: 'user.authentication.auth_via_mfa', outcome: { result: 'FAILURE', reason: 'INVALID_CREDENTIALS' } }, `MFA failed: ${JANE}`, 'CRITICAL'],
      ['a locked account', { eventType: 'user.account.lock', displayMessage: 'Max sign in attempts exceeded' }, `Account locked: ${JANE}`, 'CRITICAL'],
      ['a threat', { eventType: 'security.threat.detected', displayMessage: 'Request from suspicious actor' }, 'Threat detected: 203.0.113.77', 'CRITICAL'],
      ['a password change', { eventType: 'user.account.update_password' }, `Password changed: ${JANE}`, 'NORMAL'],
      ['an MFA factor added', { eventType: 'user.mfa.factor.activate' }, `MFA factor added: ${JANE}`, 'NORMAL'],
      ['an MFA factor removed', { eventType: 'user.mfa.factor.deactivate' }, `MFA factor removed: ${JANE}`, 'NORMAL'],
      ['a user deactivated', { eventType: 'user.lifecycle.deactivate', actor: admin, target: janeTarget }, `User deactivated: ${JANE}`, 'NORMAL'],
      ['an unnamed lifecycle step', { eventType: 'user.lifecycle.password_mode.update' }, `User lifecycle (password_mode.update): ${JANE}`, 'NORMAL'],
      ['another event', { eventType: 'user.session.end', displayMessage: 'User logout from Okta' }, `User logout from Okta: ${JANE}`, 'NORMAL'],
      ['another event of severity ERROR', { eventType: 'system.org.rate_limit.violation', displayMessage: 'Rate limit violation', severity: 'ERROR', actor: null }, 'Rate limit violation', 'CRITICAL'],
      ['an event without displayMessage', { eventType: 'app.oauth2.as.token.grant', displayMessage: null }, `app.oauth2.as.token.grant: ${JANE}`, 'NORMAL'],
    ])('titles %s', (_, fields, title, deliveryType) => {
      expect(parseOne(delivery([logEvent(fields)])).content).toMatchObject({ title, deliveryType });
    });

    test('titles an admin’s reset by the account and names the admin', () => {
      const event = logEvent({ eventType: 'user.account.reset_password', displayMessage: 'Fired when the user’s Okta password is reset', actor: admin, target: janeTarget, outcome: { result: 'SUCCESS' } });
      expect(parseOne(delivery([event])).content).toMatchObject({
        title: `Password reset: ${JANE}`,
        body: ['Fired when the user’s Okta password is reset', 'By: admin@acme-corp.example', 'IP: 203.0.113.77', 'Location: Amsterdam, Netherlands', 'Browser: CHROME on Mac OS X'].join('\n'),
      });
    });

    test('titles a user created by an admin', () => {
      const event = logEvent({ eventType: 'user.lifecycle.create', displayMessage: 'Create okta user', actor: admin, target: janeTarget });
      expect(parseOne(delivery([event])).content).toMatchObject({ title: `User created: ${JANE}`, tags: ['okta', 'user.lifecycle.create'] });
    });

    test('names the user of a threat in the body', () => {
      const event = logEvent({ eventType: 'security.threat.detected', displayMessage: 'Request from suspicious actor', outcome: { result: 'DENY', reason: 'Password Spray' } });
      expect(parseOne(delivery([event])).content.body).toBe(
        ['Request from suspicious actor', `User: ${JANE}`, 'Reason: Password Spray', 'IP: 203.0.113.77', 'Location: Amsterdam, Netherlands', 'Browser: CHROME on Mac OS X'].join('\n'),
      );
    });

    test('leaves out what Okta does not know', () => {
      const event = logEvent({ client: { userAgent: { os: 'Unknown', browser: 'UNKNOWN' }, ipAddress: null, geographicalContext: null }, actor: null });
      expect(parseOne(delivery([event])).content).toEqual({
        title: 'Sign-in: unknown user',
        body: 'User login to Okta',
        deliveryType: 'NORMAL',
        tags: ['okta', 'user.session.start'],
      });
    });
  });

  describe('batches', () => {
    test('gives one notification per event, each keyed by its uuid', () => {
      const events = [
        logEvent({ uuid: 'u-1', outcome: { result: 'FAILURE', reason: 'INVALID_CREDENTIALS' } }),
        logEvent({ uuid: 'u-2', eventType: 'user.account.lock' }),
        logEvent({ uuid: 'u-3' }),
      ];
      const notifications = notificationsOf(oktaParser.parse(delivery(events)));
      expect(notifications.map((n) => [n.content.title, n.content.deliveryType, n.dedupeKey])).toEqual([
        [`Sign-in failed: ${JANE}`, 'CRITICAL', 'okta:u-1'],
        [`Account locked: ${JANE}`, 'CRITICAL', 'okta:u-2'],
        [`Sign-in: ${JANE}`, 'NORMAL', 'okta:u-3'],
      ]);
    });

    test('skips a delivery without events', () => {
      expect(oktaParser.parse(delivery([]))).toEqual({ kind: 'skip', reason: 'okta: the delivery holds no events' });
    });

    test('keys an event without uuid by what identifies it', () => {
      const event = logEvent({ uuid: undefined, transaction: { id: 't-1' } });
      const expected = sha256(JSON.stringify(['user.session.start', '2025-10-31T12:00:00.000Z', 't-1', '00ub0oNGTSWTBKOLGLNR', 'User login to Okta']));
      expect(parseOne(delivery([event])).dedupeKey).toBe(`okta:${expected}`);
    });

    test('hashes a uuid that is not plain', () => {
      const uuid = 'not a uuid';
      expect(parseOne(delivery([logEvent({ uuid })])).dedupeKey).toBe(`okta:${sha256(uuid)}`);
    });
  });

  describe('limits', () => {
    test('caps every string to the notification limits', () => {
      const long = 'x'.repeat(20_000);
      const event = logEvent({ displayMessage: long, outcome: { result: 'FAILURE', reason: long }, actor: { alternateId: long } });
      const { content } = parseOne(delivery([event]));
      expect(content.title).toHaveLength(LIMITS.title);
      expect(content.body).toHaveLength(LIMITS.body);
      expect(() => validateNotification(content)).not.toThrow();
    });
  });

  describe('hostile input', () => {
    test('reads an event whose debugContext is deeply nested JSON', () => {
      const deep = `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`;
      const body = `{"eventType":"com.okta.event_hook","data":{"events":[{"uuid":"u-1","eventType":"user.account.lock","actor":{"alternateId":"x"},"debugContext":${deep}}]}}`;
      expect(parseOne(request(body))).toEqual({
        content: { title: 'Account locked: x', deliveryType: 'CRITICAL', tags: ['okta', 'user.account.lock'] },
        dedupeKey: 'okta:u-1',
      });
    });
  });

  describe('invalid body', () => {
    test.each([
      ['empty bytes (the verification GET)', ''],
      ['invalid JSON', '{"eventType": '],
      ['a JSON array', '[]'],
      ['an inline hook', '{"eventType": "com.okta.import.transform", "data": {"events": []}}'],
      ['an envelope without events', '{"eventType": "com.okta.event_hook", "data": {}}'],
      ['an event that is not an object', '{"eventType": "com.okta.event_hook", "data": {"events": [1]}}'],
      ['an event without eventType', '{"eventType": "com.okta.event_hook", "data": {"events": [{"uuid": "u"}]}}'],
    ])('throws invalid_body for %s', (_, body) => {
      const error = parseError(request(body));
      expect(error.code).toBe('invalid_body');
      expect(error.message).toMatch(/^okta: /);
    });

    test('names the event that is not a LogEvent', () => {
      expect(parseError(delivery([logEvent(), { uuid: 'u' }])).message).toBe('okta: data.events[1] is not a LogEvent (no eventType)');
    });
  });

  describe('detect', () => {
    test.each(EVENT_FIXTURES)('recognises %s by its body alone', (name) => {
      expect(oktaParser.detect(request(fixtureBody(name)))).toBe(true);
    });

    test('recognises the verification request by its header', () => {
      expect(oktaParser.detect(fixtureRequest('verification-request'))).toBe(true);
    });

    test.each([
      ['an Auth0 item', '{"log_id": "1", "data": {"type": "s"}}'],
      ['a Clerk event', '{"object": "event", "type": "session.created", "data": {}}'],
      ['another eventType', '{"eventType": "user.session.start"}'],
      ['invalid JSON', '{"eventType"'],
      ['binary bytes', Buffer.from([0xff, 0xfe, 0x00, 0x7b])],
    ])('rejects %s', (_, body) => {
      expect(oktaParser.detect(request(body))).toBe(false);
    });

    test('never throws on a malformed request', () => {
      const broken = malformedRequest();
      expect(oktaParser.detect(broken)).toBe(false);
    });
  });

  describe('properties', () => {
    const RUNS = 10_000;

    /** detect, handshake, the presented secret and parse: never anything but a HeraldError thrown. */
    function checkRequest(req: MethodRequest): void {
      expect(typeof oktaParser.detect(req)).toBe('boolean');
      const secret = presentedSecret(req);
      expect(secret === undefined || typeof secret === 'string').toBe(true);
      const reply = handshake(req);
      if (reply !== undefined) {
        expect(reply.status).toBe(200);
        expect(Object.keys(JSON.parse(reply.body))).toEqual(['verification']);
      }
      expectResultOrHeraldError(oktaParser, req, (notification) => {
        expect(notification.dedupeKey).toMatch(/^okta:/);
      });
    }

    const headers = fc.dictionary(
      fc.constantFrom('authorization', 'x-okta-verification-challenge', 'X-Okta-Verification-Challenge', 'content-type'),
      fc.string(),
      { maxKeys: 3 },
    );
    const method = fc.constantFrom('GET', 'POST', 'get', 'PUT');
    const field = fc.oneof(fc.string(), fc.jsonValue({ maxDepth: 2 }));
    const EVENT_TYPES = [
      'user.session.start',
      'user.authentication.auth_via_mfa',
      'user.account.lock',
      'security.threat.detected',
      'user.account.update_password',
      'user.account.reset_password',
      'user.mfa.factor.activate',
      'user.lifecycle.create',
      'user.lifecycle.',
      'user.session.end',
    ];
    const shapedEvent = fc.record(
      {
        uuid: field,
        eventType: fc.oneof({ arbitrary: fc.constantFrom(...EVENT_TYPES), weight: 9 }, { arbitrary: field, weight: 1 }),
        displayMessage: field,
        severity: fc.oneof(fc.constantFrom('DEBUG', 'INFO', 'WARN', 'ERROR'), field),
        outcome: fc.oneof(fc.record({ result: fc.oneof(fc.constantFrom('SUCCESS', 'FAILURE', 'DENY', 'CHALLENGE'), field), reason: field }), field),
        actor: fc.oneof(fc.record({ alternateId: field, displayName: field, type: fc.constant('User') }), field),
        target: fc.oneof(fc.array(fc.record({ type: fc.constantFrom('User', 'AppInstance'), alternateId: field })), field),
        client: fc.oneof(
          fc.record({
            ipAddress: field,
            userAgent: fc.oneof(fc.record({ browser: field, os: field }), field),
            geographicalContext: fc.oneof(fc.record({ city: field, country: field }), field),
          }),
          field,
        ),
      },
      { requiredKeys: ['eventType'] },
    );
    /** Mostly the real envelope, so most runs reach the LogEvent reader; now and then a broken one. */
    const shapedDelivery = fc.record(
      {
        eventType: fc.oneof({ arbitrary: fc.constant('com.okta.event_hook'), weight: 9 }, { arbitrary: field, weight: 1 }),
        data: fc.oneof(
          { arbitrary: fc.record({ events: fc.oneof({ arbitrary: fc.array(shapedEvent, { maxLength: 4 }), weight: 9 }, { arbitrary: field, weight: 1 }) }), weight: 9 },
          { arbitrary: field, weight: 1 },
        ),
      },
      { requiredKeys: ['data'] },
    );

    test('answers arbitrary bytes with notifications, a skip or a HeraldError', () => {
      const bytes = fc.oneof(
        fc.uint8Array({ maxLength: 300 }).map((array) => Buffer.from(array)),
        fc.string({ unit: 'binary' }).map((value) => Buffer.from(value, 'utf8')),
      );
      fc.assert(
        fc.property(bytes, headers, method, (body, hdrs, verb) => checkRequest(request(body, hdrs, verb))),
        { numRuns: RUNS },
      );
    });

    test('answers arbitrary JSON with notifications, a skip or a HeraldError', () => {
      fc.assert(
        fc.property(fc.jsonValue(), headers, method, (value, hdrs, verb) => checkRequest(request(JSON.stringify(value), hdrs, verb))),
        { numRuns: RUNS },
      );
    });

    test('answers Okta-shaped deliveries with valid notifications, a skip or a HeraldError', () => {
      fc.assert(
        fc.property(shapedDelivery, headers, method, (payload, hdrs, verb) => checkRequest(request(JSON.stringify(payload), hdrs, verb))),
        { numRuns: RUNS },
      );
    });

    test('echoes any challenge in a verification GET', () => {
      fc.assert(
        fc.property(fc.string({ minLength: 1, unit: 'binary' }), (challenge) => {
          const reply = handshake(request('', { 'x-okta-verification-challenge': challenge }, 'GET'));
          expect(JSON.parse(reply?.body ?? '')).toEqual({ verification: challenge });
        }),
        { numRuns: 1_000 },
      );
    });
  });
});
