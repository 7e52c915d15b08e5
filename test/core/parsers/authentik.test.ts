import * as fc from 'fast-check';
import { LIMITS, validateNotification } from '../../../lambdas/core/notification';
import { authentikParser } from '../../../lambdas/core/parsers/authentik';
import type { WebhookRequest } from '../../../lambdas/core/parsers/types';
import { expectResultOrHeraldError, fixtures, malformedRequest, parserHelpers, request, sha256 } from './helpers';

const FIXTURE_NAMES = [
  'webhook-login',
  'webhook-login-failed',
  'webhook-test-button',
  'webhook-update-available',
  'mapping-login-failed',
  'slack-login-failed',
] as const;

const IPHONE_SAFARI =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.5 Mobile/15E148 Safari/604.1';

const { fixtureBody, fixtureMeta, fixtureRequest } = fixtures('authentik');
const { parseOne, parseError } = parserHelpers(authentikParser);

/** A generic-webhook body as authentik's `json.dumps` writes it. */
function webhookBody(fields: Record<string, unknown>): WebhookRequest {
  return request(JSON.stringify(fields, null, 0).replace(/","/g, '", "').replace(/":"/g, '": "'));
}

const RECIPIENT = { user_email: 'secops@acme-corp.example', user_username: 'secops' };
const EVENT_USER = { event_user_email: 'jane.doe@acme-corp.example', event_user_username: 'jdoe' };

/**
 * A failed login for a username that does not exist: guardian's AnonymousUser is the event user
 * (idp-formats.md §1, `on_login_failed`). Built like webhook-login-failed.json; the real fixture
 * (webhook-login-failed-unknown-user.json) is held back.
 */
const UNKNOWN_USER_LOGIN_FAILED =
  `{"body": "login_failed: {'username': 'mallory', 'password': '********************', 'stage': {'app': 'authentik_stages_password', 'model_name': 'passwordstage', 'pk': '5b1e7c2a9f3d4e6b8a0c1d2e3f4a5b6c', 'name': 'default-authentication-password'}, ` +
  `'http_request': {'path': '/api/v3/flows/executor/default-authentication-flow/', 'method': 'POST', 'args': {'next': '/if/user/'}, 'user_agent': 'curl/8.7.1', 'request_id': '9a0b1c2d3e4f40518293a4b5c6d7e8f9'}, ` +
  `'geo': {'continent': 'EU', 'country': 'NL', 'lat': 52.3759, 'long': 4.8975, 'city': 'Amsterdam'}, 'asn': {'asn': 14061, 'as_org': 'DIGITALOCEAN-ASN', 'network': '146.190.0.0/16'}}", ` +
  `"severity": "alert", "user_email": "secops@acme-corp.example", "user_username": "secops", "event_user_email": "", "event_user_username": "AnonymousUser"}`;

describe('authentik fixtures', () => {
  test.each(FIXTURE_NAMES)('%s is a byte-exact copy', (name) => {
    const meta = fixtureMeta(name);
    expect(sha256(fixtureBody(name))).toBe(meta.bodySha256);
  });
});

describe('authentikParser', () => {
  test('is named authentik with Zentik’s alias', () => {
    expect(authentikParser.name).toBe('authentik');
    expect(authentikParser.aliases).toEqual(['ZENTIK_AUTHENTIK', 'authentik']);
  });

  describe('generic webhook body', () => {
    test('titles a login with the event user and lists its context', () => {
      const { content } = parseOne(fixtureRequest('webhook-login'));
      expect(content).toEqual({
        title: 'Login: jdoe',
        subtitle: 'jane.doe@acme-corp.example',
        body: [
          'jdoe',
          `User agent: ${IPHONE_SAFARI}`,
          'Authentication method: password',
          'ASN: 3320 (Deutsche Telekom AG)',
          'Location: Berlin, DE',
        ].join('\n'),
        deliveryType: 'NORMAL',
        tags: ['authentik', 'login'],
      });
    });

    test('makes a failed login critical', () => {
      const { content } = parseOne(fixtureRequest('webhook-login-failed'));
      expect(content).toEqual({
        title: 'Login_failed: jdoe',
        subtitle: 'jane.doe@acme-corp.example',
        body: ['jdoe', `User agent: ${IPHONE_SAFARI}`, 'ASN: 3320 (Deutsche Telekom AG)', 'Location: Berlin, DE'].join('\n'),
        deliveryType: 'CRITICAL',
        tags: ['authentik', 'login_failed'],
      });
    });

    test('keys a login by everything but the recipient', () => {
      const payload = JSON.parse(fixtureBody('webhook-login').toString('utf8'));
      const expected = sha256(JSON.stringify([payload.body, 'notice', 'jdoe', 'jane.doe@acme-corp.example']));
      expect(parseOne(fixtureRequest('webhook-login')).dedupeKey).toBe(`authentik:${expected}`);
    });

    test('keys a failed login by everything but the recipient', () => {
      const payload = JSON.parse(fixtureBody('webhook-login-failed').toString('utf8'));
      const expected = sha256(JSON.stringify([payload.body, 'alert', 'jdoe', 'jane.doe@acme-corp.example']));
      expect(parseOne(fixtureRequest('webhook-login-failed')).dedupeKey).toBe(`authentik:${expected}`);
    });

    test('gives every recipient’s copy of one event the same dedupe key', () => {
      const payload = JSON.parse(fixtureBody('webhook-login-failed').toString('utf8'));
      const forAnother = { ...payload, user_email: 'oncall@acme-corp.example', user_username: 'oncall' };
      expect(parseOne(webhookBody(forAnother)).dedupeKey).toBe(parseOne(fixtureRequest('webhook-login-failed')).dedupeKey);
    });

    test('answers the Test button with a normal notification and no dedupe key', () => {
      const parsed = parseOne(fixtureRequest('webhook-test-button'));
      expect(parsed.content).toEqual({
        title: 'authentik: test notification',
        body: 'Test Notification from transport mobile-push-relay',
        deliveryType: 'NORMAL',
        tags: ['authentik', 'notification_test'],
      });
      expect(parsed.dedupeKey).toBeUndefined();
    });

    test('titles update_available as Zentik does, critical for an alert rule', () => {
      const parsed = parseOne(fixtureRequest('webhook-update-available'));
      expect(parsed.content).toEqual({
        title: 'Update Available',
        subtitle: 'secops@acme-corp.example',
        body: 'New version 2025.10.2 available!',
        deliveryType: 'CRITICAL',
        tags: ['authentik', 'update_available'],
      });
      const expected = sha256(JSON.stringify(['New version 2025.10.2 available!', 'alert', null, null]));
      expect(parsed.dedupeKey).toBe(`authentik:${expected}`);
    });

    test('names the tried username when the event user is AnonymousUser', () => {
      const { content } = parseOne(request(UNKNOWN_USER_LOGIN_FAILED));
      expect(content.title).toBe('Login_failed: mallory (unknown user)');
    });

    test('leaves the subtitle empty for AnonymousUser', () => {
      expect(parseOne(request(UNKNOWN_USER_LOGIN_FAILED)).content.subtitle).toBeUndefined();
    });

    test('lists the context of a failed login by an unknown user', () => {
      const { content } = parseOne(request(UNKNOWN_USER_LOGIN_FAILED));
      expect(content.body).toBe(
        ['mallory (unknown user)', 'User agent: curl/8.7.1', 'ASN: 14061 (DIGITALOCEAN-ASN)', 'Location: Amsterdam, NL'].join('\n'),
      );
      expect(content.deliveryType).toBe('CRITICAL');
    });

    test('titles a logout', () => {
      const req = webhookBody({ body: "logout: {'http_request': {'path': '/flows/-/default/invalidation/'}}", severity: 'notice', ...RECIPIENT, ...EVENT_USER });
      expect(parseOne(req).content).toMatchObject({ title: 'Logout: jdoe', body: 'jdoe', deliveryType: 'NORMAL' });
    });

    test('reads values holding an apostrophe, which repr double-quotes', () => {
      const repr = `login: {'auth_method': 'password', 'geo': {'city': "L'Aquila", 'country': 'IT'}, 'asn': {'asn': 3269, 'as_org': "Telecom Italia's AS"}}`;
      const req = webhookBody({ body: repr, severity: 'notice', ...RECIPIENT, event_user_email: 'sean@example.com', event_user_username: "o'brien" });
      const { content } = parseOne(req);
      expect(content.title).toBe("Login: o'brien");
      expect(content.body).toBe(["o'brien", 'Authentication method: password', "ASN: 3269 (Telecom Italia's AS)", "Location: L'Aquila, IT"].join('\n'));
    });

    test('names the app from the redirect_uri in next', () => {
      const next = '/application/o/authorize/?client_id=grafana&redirect_uri=https%3A%2F%2Fgrafana.acme-corp.example%2Flogin%2Fgeneric_oauth&state=x';
      const req = webhookBody({ body: `login: {'auth_method': 'password', 'http_request': {'args': {'next': '${next}'}}}`, severity: 'notice', ...RECIPIENT, ...EVENT_USER });
      expect(parseOne(req).content.body).toBe('jdoe\nApp: https://grafana.acme-corp.example\nAuthentication method: password');
    });

    test('reads Zentik’s prose login with a JSON context', () => {
      // The example of Zentik's authentik.parser.spec.ts (peers.md §2.6).
      const text =
        'User testuser logged in successfully: {"userAgent": "Mozilla/5.0...", "authMethod": "password", "asn": {"asn": 16509, "as_org": "AMAZON-02"}, "geo": {"city": "Frankfurt am Main", "country": "DE"}}';
      const req = webhookBody({ body: text, severity: 'notice', user_email: 'test@example.com', user_username: 'testuser' });
      expect(parseOne(req).content).toMatchObject({
        title: 'Login: testuser',
        subtitle: 'test@example.com',
        body: 'testuser\nUser agent: Mozilla/5.0...\nAuthentication method: password\nASN: 16509 (AMAZON-02)\nLocation: Frankfurt am Main, DE',
      });
    });

    test('titles any other action as an unmapped event, first letter upper-cased', () => {
      const repr = "model_created: {'model': {'app': 'authentik_core', 'model_name': 'user', 'pk': 12, 'name': 'bob'}}";
      const { content } = parseOne(webhookBody({ body: repr, severity: 'notice', ...RECIPIENT, ...EVENT_USER }));
      expect(content).toMatchObject({ title: 'Model_created - Unmapped event', tags: ['authentik', 'model_created'] });
    });

    test('renders an unmapped event’s nested context as lines', () => {
      const repr =
        "model_updated: {'model': {'app': 'authentik_core', 'model_name': 'user', 'pk': 12, 'name': 'bob'}, 'http_request': {'path': '/api/v3/core/users/12/', 'method': 'PATCH', 'args': {}}, 'roles': ['admin', 'ops']}";
      const { content } = parseOne(webhookBody({ body: repr, severity: 'notice', ...RECIPIENT, ...EVENT_USER }));
      expect(content.body).toBe(
        [
          'model: bob (authentik_core.user, pk 12)',
          'http_request.path: /api/v3/core/users/12/',
          'http_request.method: PATCH',
          'http_request.args: {}',
          'roles: admin, ops',
        ].join('\n'),
      );
    });

    test('renders True, False and None as Python prints them', () => {
      const repr = "password_set: {'is_active': True, 'is_superuser': False, 'expires': None}";
      const { content } = parseOne(webhookBody({ body: repr, severity: 'notice', ...RECIPIENT, ...EVENT_USER }));
      expect(content.body).toBe('is_active: True\nis_superuser: False\nexpires: None');
    });

    test('shows a repr it cannot parse as it came', () => {
      const text = "login_failed: {'username': 'jdoe', 'stage': {'name': <PasswordStage: default>}}";
      const { content } = parseOne(webhookBody({ body: text, severity: 'notice', ...RECIPIENT, ...EVENT_USER }));
      expect(content).toMatchObject({ title: 'Login_failed: jdoe', body: text, deliveryType: 'CRITICAL' });
    });

    test('titles a message it cannot place as Zentik does', () => {
      const req = webhookBody({ body: 'Revoked refresh token was used', severity: 'warning', ...RECIPIENT, ...EVENT_USER });
      expect(parseOne(req).content).toMatchObject({
        title: 'Unknown - Unmapped event',
        body: 'Revoked refresh token was used',
        deliveryType: 'NORMAL',
        tags: ['authentik'],
      });
    });

    test('makes any event critical when the rule’s severity is alert', () => {
      const req = webhookBody({ body: "model_deleted: {'model': {'name': 'x'}}", severity: 'alert', ...RECIPIENT, ...EVENT_USER });
      expect(parseOne(req).content.deliveryType).toBe('CRITICAL');
    });

    test('falls back to the recipient without an event user', () => {
      const req = webhookBody({ body: "login: {'auth_method': 'password'}", severity: 'notice', ...RECIPIENT });
      expect(parseOne(req).content).toMatchObject({ title: 'Login: secops', subtitle: 'secops@acme-corp.example' });
    });

    test('caps every string to the notification limits', () => {
      const longName = 'n'.repeat(1000);
      const req = webhookBody({ body: `custom_audit: ${'x'.repeat(20_000)}`, severity: 'notice', user_email: `${'e'.repeat(500)}@x`, user_username: longName, event_user_username: longName });
      const { content } = parseOne(req);
      expect(content.subtitle).toHaveLength(LIMITS.subtitle);
      expect(content.body).toHaveLength(LIMITS.body);
      expect(content.body?.endsWith('…')).toBe(true);
      expect(() => validateNotification(content)).not.toThrow();
    });

    test('caps a title without splitting a surrogate pair', () => {
      const req = webhookBody({ body: "login: {}", severity: 'notice', ...RECIPIENT, event_user_username: '😀'.repeat(300) });
      const title = parseOne(req).content.title;
      expect(title.length).toBeLessThanOrEqual(LIMITS.title);
      expect(title).toMatch(/^Login: (?:😀)+…$/u);
    });
  });

  describe('webhook mapping body', () => {
    test('titles the event from action and event_user', () => {
      expect(parseOne(fixtureRequest('mapping-login-failed')).content).toEqual({
        title: 'Login_failed: jdoe',
        subtitle: 'jane.doe@acme-corp.example',
        body: 'jdoe\nClient IP: 91.64.23.17',
        deliveryType: 'CRITICAL',
        tags: ['authentik', 'login_failed'],
      });
    });

    test('keys the notification by event_uuid', () => {
      expect(parseOne(fixtureRequest('mapping-login-failed')).dedupeKey).toBe('authentik:0d4c6a1e9b7f4e2a8c3d5f6a7b8c9d0e');
    });

    test('reads a JSON context the mapping returns', () => {
      const mapping = {
        event_uuid: 'a1b2c3d4e5f60718293a4b5c6d7e8f90',
        action: 'login',
        severity: 'notice',
        event_user: { username: 'jdoe', email: 'jane.doe@acme-corp.example', pk: 7 },
        context: { auth_method: 'password', geo: { city: 'Berlin', country: 'DE' } },
      };
      expect(parseOne(request(JSON.stringify(mapping))).content).toMatchObject({
        title: 'Login: jdoe',
        body: 'jdoe\nAuthentication method: password\nLocation: Berlin, DE',
        deliveryType: 'NORMAL',
      });
    });

    test('renders a hostile, deeply nested context without failing', () => {
      const deep = `${'{"a": '.repeat(10_000)}1${'}'.repeat(10_000)}`;
      const body = `{"event_uuid": "e1", "action": "model_created", "severity": "notice", "context": ${deep}}`;
      const { content } = parseOne(request(body));
      expect(content.title).toBe('Model_created - Unmapped event');
      expect(content.body).toMatch(/^a\.a\.a.*: …$/);
    });
  });

  describe('Slack body', () => {
    test('titles the event from the attachment title and the Event user field', () => {
      expect(parseOne(fixtureRequest('slack-login-failed')).content).toEqual({
        title: 'Login_failed: jdoe',
        body: ['jdoe', 'Severity: alert', 'Dispatched for user: secops', 'username: jdoe', 'password: ********************'].join('\n'),
        deliveryType: 'CRITICAL',
        tags: ['authentik', 'login_failed'],
      });
    });

    test('sets no dedupe key, having no event id', () => {
      expect(parseOne(fixtureRequest('slack-login-failed')).dedupeKey).toBeUndefined();
    });
  });

  describe('validation', () => {
    test.each(FIXTURE_NAMES)('%s gives a valid notification', (name) => {
      expect(() => validateNotification(parseOne(fixtureRequest(name)).content)).not.toThrow();
    });

    test('the AnonymousUser case gives a valid notification', () => {
      expect(() => validateNotification(parseOne(request(UNKNOWN_USER_LOGIN_FAILED)).content)).not.toThrow();
    });
  });

  describe('invalid body', () => {
    test.each([
      ['invalid JSON', '{"body": '],
      ['empty bytes', ''],
      ['a JSON array', '[{"body": "x"}]'],
      ['a JSON string', '"login: {}"'],
      ['an object of another shape', '{"event": "user.login"}'],
    ])('throws invalid_body for %s', (_, body) => {
      const error = parseError(request(body));
      expect(error.code).toBe('invalid_body');
      expect(error.message).toMatch(/^authentik: /);
    });
  });

  describe('detect', () => {
    test.each(FIXTURE_NAMES)('recognises %s by its body alone', (name) => {
      expect(authentikParser.detect(request(fixtureBody(name)))).toBe(true);
    });

    test('recognises authentik’s user agent', () => {
      expect(authentikParser.detect(request('{}', { 'user-agent': 'authentik@2025.10.1' }))).toBe(true);
    });

    test.each([
      ['another source’s JSON', '{"eventType": "user.human.added", "severity": "notice"}'],
      ['a body with an unknown severity', '{"body": "x", "severity": "info", "user_username": "a"}'],
      ['invalid JSON', '{"body"'],
      ['binary bytes', Buffer.from([0xff, 0xfe, 0x00, 0x7b])],
    ])('rejects %s', (_, body) => {
      expect(authentikParser.detect(request(body))).toBe(false);
    });

    test('never throws on a malformed request', () => {
      const broken = malformedRequest();
      expect(authentikParser.detect(broken)).toBe(false);
    });
  });

  describe('properties', () => {
    const genericBody = fc.record({
      body: fc.oneof(fc.string({ unit: 'binary' }), fc.jsonValue().map((value) => `login_failed: ${JSON.stringify(value)}`)),
      severity: fc.constantFrom('notice', 'warning', 'alert'),
      user_email: fc.string(),
      user_username: fc.string(),
      event_user_email: fc.option(fc.string(), { nil: undefined }),
      event_user_username: fc.option(fc.oneof(fc.string(), fc.constant('AnonymousUser')), { nil: undefined }),
    });

    test('answers any bytes with notifications or a HeraldError', () => {
      const bytes = fc.oneof(
        fc.string({ unit: 'binary' }).map((text) => Buffer.from(text, 'utf8')),
        fc.uint8Array({ maxLength: 300 }).map((array) => Buffer.from(array)),
        fc.jsonValue().map((value) => Buffer.from(JSON.stringify(value), 'utf8')),
        genericBody.map((value) => Buffer.from(JSON.stringify(value), 'utf8')),
      );
      fc.assert(
        fc.property(bytes, (body) => {
          expectResultOrHeraldError(authentikParser, request(body));
          expect(typeof authentikParser.detect(request(body))).toBe('boolean');
        }),
        { numRuns: 10_000 },
      );
    });

    test('parses every generic body into a valid notification', () => {
      fc.assert(
        fc.property(genericBody, (payload) => {
          const parsed = parseOne(request(JSON.stringify(payload)));
          expect(() => validateNotification(parsed.content)).not.toThrow();
        }),
        { numRuns: 10_000 },
      );
    });
  });
});
