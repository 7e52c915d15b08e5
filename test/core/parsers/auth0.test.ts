import * as fc from 'fast-check';
import { LIMITS, validateNotification } from '../../../lambdas/core/notification';
import { auth0Parser } from '../../../lambdas/core/parsers/auth0';
import type { WebhookRequest } from '../../../lambdas/core/parsers/types';
import { expectResultOrHeraldError, fixtures, malformedRequest, notificationsOf, parserHelpers, request, sha256 } from './helpers';

const FIXTURE_NAMES = ['jsonarray-batch', 'jsonobject-scp', 'jsonobject-gd-auth-failed'] as const;

const STREAM_SECRET = 'Bearer a0-stream-7b1e4c9d2f6a';
const MOBILE_SAFARI = 'Mobile Safari 18.5.0 / iOS 18.5.0';
const CHROME_WINDOWS = 'Chrome 141.0.0 / Windows 10.0.0';
const JANE = 'jane.doe@acme-corp.example';

const { fixtureBody, fixtureMeta, fixtureRequest } = fixtures('auth0');
const { parseAll, parseOne, parseError, presentedSecret } = parserHelpers(auth0Parser);

/** JSONLINES as Auth0 writes it: the array fixture's items, one compact JSON object per line. */
function jsonLinesFromArray(separator = '\n', trailer = ''): Buffer {
  const items = JSON.parse(fixtureBody('jsonarray-batch').toString('utf8')) as unknown[];
  return Buffer.from(items.map((item) => JSON.stringify(item)).join(separator) + trailer, 'utf8');
}

/** One log stream item; `data` fields override a plausible failed login. */
function item(data: Record<string, unknown>, logId = '90020251031120000000000000000000000000000000000000000099'): Record<string, unknown> {
  return {
    log_id: logId,
    data: {
      date: '2025-10-31T12:00:00.000Z',
      type: 'fp',
      client_name: 'ACME Mobile',
      ip: '203.0.113.77',
      user_name: JANE,
      log_id: logId,
      ...data,
    },
  };
}

describe('auth0 fixtures', () => {
  test.each(FIXTURE_NAMES)('%s is a byte-exact copy', (name) => {
    expect(sha256(fixtureBody(name))).toBe(fixtureMeta(name).bodySha256);
  });
});

describe('auth0Parser', () => {
  test('is named auth0 with the log streams alias', () => {
    expect(auth0Parser.name).toBe('auth0');
    expect(auth0Parser.aliases).toEqual(['auth0-log-streams']);
  });

  describe('auth', () => {
    test.each(FIXTURE_NAMES)('%s presents the stream’s httpAuthorization verbatim', (name) => {
      expect(presentedSecret(fixtureRequest(name))).toBe(fixtureMeta(name).auth.expected);
    });

    test('finds the header whatever its spelling', () => {
      expect(presentedSecret(request('{}', { Authorization: STREAM_SECRET }))).toBe(STREAM_SECRET);
    });

    test('presents nothing without an Authorization header', () => {
      expect(presentedSecret(request('{}', { 'x-acme-stream': 'auth0-prod' }))).toBeUndefined();
    });

    test('presents nothing for an empty header', () => {
      expect(presentedSecret(request('{}', { authorization: '' }))).toBeUndefined();
    });

    test('never throws on a malformed request', () => {
      const broken = malformedRequest();
      expect(presentedSecret(broken)).toBeUndefined();
    });
  });

  describe('JSONARRAY', () => {
    test('gives one notification per meaningful item, in order', () => {
      const titles = parseAll(fixtureRequest('jsonarray-batch')).map((n) => n.content.title);
      expect(titles).toEqual([`Login: ${JANE}`, `Login failed: ${JANE}`, `Account blocked: ${JANE}`]);
    });

    test('titles a successful login as normal, with its client, connection, IP, agent and host', () => {
      expect(parseAll(fixtureRequest('jsonarray-batch'))[0].content).toEqual({
        title: `Login: ${JANE}`,
        body: [
          'App: ACME Mobile',
          'Connection: Username-Password-Authentication',
          'IP: 91.64.23.17',
          `User agent: ${MOBILE_SAFARI}`,
          'Host: acme.eu.auth0.com',
        ].join('\n'),
        deliveryType: 'NORMAL',
        tags: ['auth0', 's'],
      });
    });

    test('makes a wrong password (fp) critical, description first', () => {
      expect(parseAll(fixtureRequest('jsonarray-batch'))[1].content).toEqual({
        title: `Login failed: ${JANE}`,
        body: [
          'Wrong email or password.',
          'App: ACME Mobile',
          'Connection: Username-Password-Authentication',
          'IP: 203.0.113.77',
          `User agent: ${CHROME_WINDOWS}`,
        ].join('\n'),
        deliveryType: 'CRITICAL',
        tags: ['auth0', 'fp'],
      });
    });

    test('makes a blocked account (limit_wc) critical', () => {
      expect(parseAll(fixtureRequest('jsonarray-batch'))[2].content).toEqual({
        title: `Account blocked: ${JANE}`,
        body: [
          'Blocked account: too many failed login attempts from this IP address',
          'App: ACME Mobile',
          'Connection: Username-Password-Authentication',
          'IP: 203.0.113.77',
          `User agent: ${CHROME_WINDOWS}`,
        ].join('\n'),
        deliveryType: 'CRITICAL',
        tags: ['auth0', 'limit_wc'],
      });
    });

    test('flags none of the fixture’s events routine', () => {
      for (const notification of parseAll(fixtureRequest('jsonarray-batch'))) expect('routine' in notification).toBe(false);
    });

    test('keys each notification by its log_id', () => {
      expect(parseAll(fixtureRequest('jsonarray-batch')).map((n) => n.dedupeKey)).toEqual([
        'auth0:90020251031101203512000000000000000000000000000000000001',
        'auth0:90020251031101158004000000000000000000000000000000000002',
        'auth0:90020251031101202119000000000000000000000000000000000003',
      ]);
    });

    test('names the item that is not a log event', () => {
      const error = parseError(request(JSON.stringify([item({}), { log_id: 'x' }])));
      expect(error.code).toBe('invalid_body');
      expect(error.message).toBe('auth0: item [1] is not a log event {log_id, data: {type, …}}');
    });

    test('skips an empty batch', () => {
      expect(auth0Parser.parse(request('[]'))).toEqual({ kind: 'skip', reason: 'auth0: the batch holds no log events' });
    });
  });

  describe('JSONOBJECT', () => {
    test('titles a password change (scp) as normal', () => {
      const parsed = parseOne(fixtureRequest('jsonobject-scp'));
      expect(parsed.content).toEqual({
        title: `Password changed: ${JANE}`,
        body: [
          'Password changed',
          'App: ACME Mobile',
          'Connection: Username-Password-Authentication',
          'IP: 91.64.23.17',
          `User agent: ${MOBILE_SAFARI}`,
        ].join('\n'),
        deliveryType: 'NORMAL',
        tags: ['auth0', 'scp'],
      });
      expect(parsed.dedupeKey).toBe('auth0:90020251031101411777000000000000000000000000000000000004');
    });

    test('makes a failed MFA (gd_auth_failed) critical, without connection fields', () => {
      const parsed = parseOne(fixtureRequest('jsonobject-gd-auth-failed'));
      expect(parsed.content).toEqual({
        title: `MFA failed: ${JANE}`,
        body: ['Wrong OTP.', 'App: ACME Mobile', 'IP: 91.64.23.17', `User agent: ${MOBILE_SAFARI}`].join('\n'),
        deliveryType: 'CRITICAL',
        tags: ['auth0', 'gd_auth_failed'],
      });
      expect(parsed.dedupeKey).toBe('auth0:90020251031101530250000000000000000000000000000000000005');
    });
  });

  describe('JSONLINES', () => {
    test('parses the array fixture’s items, one per line, exactly as the array', () => {
      expect(auth0Parser.parse(request(jsonLinesFromArray()))).toEqual(auth0Parser.parse(fixtureRequest('jsonarray-batch')));
    });

    test('accepts \\r\\n, blank lines and a trailing newline', () => {
      const lines = request(`\r\n${jsonLinesFromArray('\r\n\r\n', '\r\n').toString('utf8')}`);
      expect(auth0Parser.parse(lines)).toEqual(auth0Parser.parse(fixtureRequest('jsonarray-batch')));
    });

    test('reads a single line as one item', () => {
      const line = `${JSON.stringify(item({ type: 'fu', user_name: 'mallory' }))}\n`;
      expect(parseOne(request(line)).content.title).toBe('Login failed: mallory (unknown username)');
    });

    test('names the line that is not JSON', () => {
      const [first, second] = jsonLinesFromArray().toString('utf8').split('\n');
      const error = parseError(request(`${first}\n\n${second}\n{"log_id": "9002", "data": {`));
      expect(error.code).toBe('invalid_body');
      expect(error.message).toMatch(/^auth0: line 4 is not JSON \(/);
    });

    test('names the line that is JSON but not a log event', () => {
      const [first] = jsonLinesFromArray().toString('utf8').split('\n');
      const error = parseError(request(`${first}\r\n{"event": "login"}`));
      expect(error.message).toBe('auth0: line 2 is not a log event {log_id, data: {type, …}}');
    });
  });

  describe('event codes', () => {
    test.each([
      ['f', `Login failed: ${JANE}`, 'CRITICAL'],
      ['fp', `Login failed: ${JANE}`, 'CRITICAL'],
      ['fu', `Login failed: ${JANE} (unknown username)`, 'CRITICAL'],
      ['limit_wc', `Account blocked: ${JANE}`, 'CRITICAL'],
      ['limit_mu', 'IP blocked: 203.0.113.77', 'CRITICAL'],
      ['pwd_leak', `Breached password: ${JANE}`, 'CRITICAL'],
      ['gd_auth_failed', `MFA failed: ${JANE}`, 'CRITICAL'],
      ['s', `Login: ${JANE}`, 'NORMAL'],
      ['scp', `Password changed: ${JANE}`, 'NORMAL'],
      ['fcp', `Password change failed: ${JANE}`, 'NORMAL'],
      ['ss', `Signup: ${JANE}`, 'NORMAL'],
      ['fs', `Signup failed: ${JANE}`, 'NORMAL'],
    ])('%s is titled "%s", %s', (type, title, deliveryType) => {
      const parsed = parseOne(request(JSON.stringify(item({ type }))));
      expect(parsed.content).toMatchObject({ title, deliveryType, tags: ['auth0', type] });
      expect(parsed.routine).toBeUndefined();
    });

    test('names the user of an IP block in the body', () => {
      const { content } = parseOne(request(JSON.stringify(item({ type: 'limit_mu', description: 'Blocked IP address.' }))));
      expect(content.body).toBe(['Blocked IP address.', `User: ${JANE}`, 'App: ACME Mobile', 'IP: 203.0.113.77'].join('\n'));
    });

    test('falls back to the user id, then to "unknown user"', () => {
      const byId = item({ type: 'f', user_name: undefined, user_id: 'auth0|abc' });
      const nobody = item({ type: 'f', user_name: undefined });
      expect(parseOne(request(JSON.stringify(byId))).content.title).toBe('Login failed: auth0|abc');
      expect(parseOne(request(JSON.stringify(nobody))).content.title).toBe('Login failed: unknown user');
    });

    test('uses the error message when there is no description', () => {
      const event = item({ type: 'limit_wc', details: { error: { message: 'Your account has been blocked.' } } });
      expect(parseOne(request(JSON.stringify(event))).content.body?.split('\n')[0]).toBe('Your account has been blocked.');
    });

    test('titles a code without a rule from its description', () => {
      const event = item({ type: 'fapi', description: 'Update a user.', user_name: undefined });
      expect(parseOne(request(JSON.stringify(event))).content).toMatchObject({ title: 'Update a user', deliveryType: 'NORMAL', tags: ['auth0', 'fapi'] });
    });

    test('titles a code without a rule or description by its code', () => {
      const event = item({ type: 'sce' });
      expect(parseOne(request(JSON.stringify(event))).content.title).toBe(`Auth0 event sce: ${JANE}`);
    });

    test.each([
      ['slo', `Logout: ${JANE}`],
      ['ssa', `Silent authentication: ${JANE}`],
      ['fsa', `Silent authentication failed: ${JANE}`],
      ['seacft', `Token exchange: ${JANE} (authorization code)`],
      ['seccft', `Token exchange: ${JANE} (client credentials)`],
      ['sertft', `Token exchange: ${JANE} (refresh token)`],
      ['sepft', `Token exchange: ${JANE} (password)`],
      ['sedoesnotexistft', `Token exchange: ${JANE}`],
      ['sapi', `Management API call: ${JANE}`],
      ['srrt', `Refresh token revoked: ${JANE}`],
      ['scpr', `Password reset email sent: ${JANE}`],
      ['gd_send_sms', `MFA code sent by SMS: ${JANE}`],
      ['gd_auth_succeed', `MFA passed: ${JANE}`],
    ])('gives the routine %s as a routine notification titled "%s"', (type, title) => {
      const parsed = parseOne(request(JSON.stringify(item({ type }))));
      expect(parsed.routine).toBe(true);
      expect(parsed.content).toEqual({
        title,
        body: ['App: ACME Mobile', 'IP: 203.0.113.77'].join('\n'),
        deliveryType: 'NORMAL',
        tags: ['auth0', type],
      });
      expect(parsed.dedupeKey).toBe('auth0:90020251031120000000000000000000000000000000000000000099');
    });

    test('titles a routine event of no user by its app', () => {
      const event = item({ type: 'seccft', user_name: undefined, client_name: 'Billing Batch' });
      expect(parseOne(request(JSON.stringify(event))).content.title).toBe('Token exchange: Billing Batch (client credentials)');
    });

    test('titles a Management API call by what it did, and names the user in the body', () => {
      const parsed = parseOne(request(JSON.stringify(item({ type: 'sapi', description: 'Update a user.', client_name: 'ACME Admin' }))));
      expect(parsed).toEqual({
        content: {
          title: 'Management API call: Update a user',
          body: [`User: ${JANE}`, 'App: ACME Admin', 'IP: 203.0.113.77'].join('\n'),
          deliveryType: 'NORMAL',
          tags: ['auth0', 'sapi'],
        },
        dedupeKey: 'auth0:90020251031120000000000000000000000000000000000000000099',
        routine: true,
      });
    });

    test('gives a batch of routine events only as routine notifications, each keyed by its log_id', () => {
      const batch = [item({ type: 'slo' }, '1'), item({ type: 'seacft' }, '2'), item({ type: 'slo' }, '3')];
      const notifications = parseAll(request(JSON.stringify(batch)));
      expect(notifications.map((n) => [n.content.title, n.dedupeKey, n.routine])).toEqual([
        [`Logout: ${JANE}`, 'auth0:1', true],
        [`Token exchange: ${JANE} (authorization code)`, 'auth0:2', true],
        [`Logout: ${JANE}`, 'auth0:3', true],
      ]);
    });

    test('flags only the routine events of a mixed batch', () => {
      const batch = [item({ type: 'slo' }, '0'), item({ type: 'fp' }, '1'), item({ type: 'sertft' }, '3'), item({ type: 'pwd_leak' }, '2')];
      const notifications = parseAll(request(JSON.stringify(batch)));
      expect(notifications.map((n) => [n.content.title, n.content.deliveryType, n.dedupeKey, n.routine])).toEqual([
        [`Logout: ${JANE}`, 'NORMAL', 'auth0:0', true],
        [`Login failed: ${JANE}`, 'CRITICAL', 'auth0:1', undefined],
        [`Token exchange: ${JANE} (refresh token)`, 'NORMAL', 'auth0:3', true],
        [`Breached password: ${JANE}`, 'CRITICAL', 'auth0:2', undefined],
      ]);
      expect('routine' in notifications[1]).toBe(false);
      expect('routine' in notifications[3]).toBe(false);
    });

    test.each(['constructor', '__proto__', 'toString'])('gives the code %s, a name on every object, a generic notification', (type) => {
      const parsed = parseOne(request(JSON.stringify(item({ type }))));
      expect(parsed.content).toMatchObject({ title: `Auth0 event ${type}: ${JANE}`, deliveryType: 'NORMAL' });
      expect('routine' in parsed).toBe(false);
    });
  });

  describe('dedupe key', () => {
    test('takes log_id from data when the item lacks it', () => {
      const event = item({ type: 'f', log_id: 'from-data' });
      delete event.log_id;
      expect(parseOne(request(JSON.stringify(event))).dedupeKey).toBe('auth0:from-data');
    });

    test('hashes a log_id that is not plain', () => {
      const logId = 'a b/c';
      const expected = sha256(logId);
      expect(parseOne(request(JSON.stringify(item({ type: 'f' }, logId)))).dedupeKey).toBe(`auth0:${expected}`);
    });

    test('hashes what identifies the event when there is no log_id at all', () => {
      const event = { data: { type: 'f', date: '2025-10-31T12:00:00.000Z', user_name: 'x', ip: '203.0.113.77' } };
      const identity = ['f', '2025-10-31T12:00:00.000Z', null, 'x', null, '203.0.113.77', null];
      const expected = sha256(JSON.stringify(identity));
      expect(parseOne(request(JSON.stringify(event))).dedupeKey).toBe(`auth0:${expected}`);
    });

    test('keys an event without log_id whose details are hostile, deeply nested JSON', () => {
      const deep = `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`;
      const parsed = parseOne(request(`{"data":{"type":"f","user_name":"x","details":${deep}}}`));
      expect(parsed.content.title).toBe('Login failed: x');
      expect(parsed.dedupeKey).toMatch(/^auth0:[0-9a-f]{64}$/);
    });
  });

  describe('limits', () => {
    test('caps every string to the notification limits', () => {
      const long = 'x'.repeat(20_000);
      const { content } = parseOne(request(JSON.stringify(item({ type: 'f', user_name: long, description: long, user_agent: long }))));
      expect(content.title).toHaveLength(LIMITS.title);
      expect(content.body).toHaveLength(LIMITS.body);
      expect(() => validateNotification(content)).not.toThrow();
    });

    test('keeps titles on one line', () => {
      const { content } = parseOne(request(JSON.stringify(item({ type: 'f', user_name: 'mal\nlory\t ' }))));
      expect(content.title).toBe('Login failed: mal lory');
    });
  });

  describe('invalid body', () => {
    test.each([
      ['empty bytes', ''],
      ['only blank lines', '\r\n\n  \n'],
      ['a JSON string', '"s"'],
      ['a JSON number', '42'],
      ['an array of numbers', '[1, 2]'],
      ['an object of another shape', '{"eventType": "com.okta.event_hook"}'],
      ['a log event without a type', '{"log_id": "1", "data": {"type": ""}}'],
    ])('throws invalid_body for %s', (_, body) => {
      const error = parseError(request(body));
      expect(error.code).toBe('invalid_body');
      expect(error.message).toMatch(/^auth0: /);
    });
  });

  describe('validation', () => {
    test.each(FIXTURE_NAMES)('%s gives valid notifications', (name) => {
      for (const notification of parseAll(fixtureRequest(name))) {
        expect(() => validateNotification(notification.content)).not.toThrow();
      }
    });
  });

  describe('detect', () => {
    test.each(FIXTURE_NAMES)('recognises %s by its body alone', (name) => {
      expect(auth0Parser.detect(request(fixtureBody(name)))).toBe(true);
    });

    test('recognises JSON lines', () => {
      expect(auth0Parser.detect(request(jsonLinesFromArray()))).toBe(true);
    });

    test.each([
      ['an Okta delivery', '{"eventType": "com.okta.event_hook", "data": {"events": []}}'],
      ['a Clerk event', '{"object": "event", "type": "session.created", "data": {}}'],
      ['an item without log_id', '{"data": {"type": "s"}}'],
      ['an empty array', '[]'],
      ['invalid JSON', '{"log_id"'],
      ['binary bytes', Buffer.from([0xff, 0xfe, 0x00, 0x7b])],
    ])('rejects %s', (_, body) => {
      expect(auth0Parser.detect(request(body))).toBe(false);
    });

    test('never throws on a malformed request', () => {
      const broken = malformedRequest();
      expect(auth0Parser.detect(broken)).toBe(false);
    });
  });

  describe('properties', () => {
    const RUNS = 10_000;

    /** detect, parse and the presented secret: booleans, valid notifications or a HeraldError, nothing else. */
    function checkRequest(req: WebhookRequest): void {
      expect(typeof auth0Parser.detect(req)).toBe('boolean');
      const secret = presentedSecret(req);
      expect(secret === undefined || typeof secret === 'string').toBe(true);
      const result = expectResultOrHeraldError(auth0Parser, req, (notification) => {
        expect(notification.dedupeKey).toMatch(/^auth0:/);
        expect(notification.routine === undefined || notification.routine === true).toBe(true);
      });
      if (result?.kind === 'notifications') expect(result.notifications.length).toBeGreaterThan(0);
    }

    const headers = fc.dictionary(fc.constantFrom('authorization', 'Authorization', 'content-type', 'x-other'), fc.string(), { maxKeys: 3 });
    const CODES = ['s', 'f', 'fp', 'fu', 'limit_wc', 'limit_mu', 'pwd_leak', 'gd_auth_failed', 'scp', 'fcp', 'ss', 'fs', 'slo', 'seacft', 'sapi', 'fapi'];
    const field = fc.oneof(fc.string(), fc.jsonValue({ maxDepth: 2 }));
    const logEvent = fc.record(
      {
        log_id: fc.oneof(fc.stringMatching(/^[0-9]{1,56}$/), field),
        data: fc.record(
          {
            type: fc.oneof(fc.constantFrom(...CODES), fc.string()),
            description: field,
            user_name: field,
            user_id: field,
            client_name: field,
            connection: field,
            ip: field,
            user_agent: field,
            hostname: field,
            details: fc.oneof(fc.jsonValue(), fc.record({ error: fc.record({ message: field }) })),
          },
          { requiredKeys: ['type'] },
        ),
      },
      { requiredKeys: ['data'] },
    );
    const auth0Body = fc.oneof(
      logEvent.map((event) => JSON.stringify(event)),
      fc.array(logEvent, { maxLength: 5 }).map((events) => JSON.stringify(events)),
      fc
        .tuple(fc.array(fc.oneof(logEvent.map((event) => JSON.stringify(event)), fc.constant(''), fc.string()), { maxLength: 5 }), fc.constantFrom('\n', '\r\n'))
        .map(([lines, separator]) => lines.join(separator)),
    );

    test('answers arbitrary bytes with notifications, a skip or a HeraldError', () => {
      const bytes = fc.oneof(
        fc.uint8Array({ maxLength: 300 }).map((array) => Buffer.from(array)),
        fc.string({ unit: 'binary' }).map((value) => Buffer.from(value, 'utf8')),
      );
      fc.assert(
        fc.property(bytes, headers, (body, hdrs) => checkRequest(request(body, hdrs))),
        { numRuns: RUNS },
      );
    });

    test('answers arbitrary JSON with notifications, a skip or a HeraldError', () => {
      fc.assert(
        fc.property(fc.jsonValue(), headers, (value, hdrs) => checkRequest(request(JSON.stringify(value) ?? 'null', hdrs))),
        { numRuns: RUNS },
      );
    });

    test('answers Auth0-shaped bodies (object, array, lines) with valid notifications, a skip or a HeraldError', () => {
      fc.assert(
        fc.property(auth0Body, headers, (body, hdrs) => checkRequest(request(body, hdrs))),
        { numRuns: RUNS },
      );
    });

    test('parses every well-formed log event into a valid notification, flagged routine for the routine codes', () => {
      const wellFormed = fc.record({
        log_id: fc.stringMatching(/^[0-9]{1,56}$/),
        data: fc.record({ type: fc.constantFrom(...CODES), user_name: fc.string(), description: fc.string(), ip: fc.string() }),
      });
      fc.assert(
        fc.property(fc.array(wellFormed, { minLength: 1, maxLength: 5 }), (events) => {
          const result = auth0Parser.parse(request(events.map((event) => JSON.stringify(event)).join('\n')));
          const notifications = notificationsOf(result);
          expect(notifications.map((n) => n.dedupeKey)).toEqual(events.map((event) => `auth0:${event.log_id}`));
          expect(notifications.map((n) => n.routine)).toEqual(events.map((event) => (['slo', 'seacft', 'sapi'].includes(event.data.type) ? true : undefined)));
          for (const notification of notifications) validateNotification(notification.content);
        }),
        { numRuns: 2_000 },
      );
    });
  });
});
