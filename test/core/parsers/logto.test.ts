import { createHmac } from 'node:crypto';
import * as fc from 'fast-check';
import { LIMITS, validateNotification } from '../../../lambdas/core/notification';
import { logtoParser } from '../../../lambdas/core/parsers/logto';
import type { WebhookRequest } from '../../../lambdas/core/parsers/types';
import {
  expectResultOrHeraldError,
  fixtures,
  malformedRequest,
  parserHelpers,
  passesOrHeraldError,
  request,
  sha256,
  thrown,
  withChangedByte,
  withHeader,
} from './helpers';

const FIXTURE_NAMES = ['post-sign-in', 'user-created'] as const;

const NOW = new Date('2025-10-31T10:12:05Z');
/** The hook's signing key the fixtures were signed with (their meta.json). */
const SIGNING_KEY = 'v8Yq3Lm1Rz6Tn0Pw4Sx9Kb2Hd7Gf5Jc';
const IPHONE_SAFARI =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.5 Mobile/15E148 Safari/604.1';

interface FixtureMeta {
  request: { headers: Record<string, string> };
  bodySha256: string;
  signing: { secret: string; expected: string };
}

const { fixtureBody, fixtureMeta, fixtureRequest } = fixtures<FixtureMeta>('logto');
const helpers = parserHelpers(logtoParser);
const { parseOne } = helpers;

function fixturePayload(name: string): Record<string, unknown> {
  return JSON.parse(fixtureBody(name).toString('utf8')) as Record<string, unknown>;
}

/** A payload as `sendWebhookRequest` sends it: `JSON.stringify` is both the body and what is signed. */
function hookRequest(payload: object, key = SIGNING_KEY): WebhookRequest {
  const body = Buffer.from(JSON.stringify(payload), 'utf8');
  return request(body, {
    'content-type': 'application/json',
    'user-agent': 'Logto (https://logto.io/)',
    'logto-signature-sha-256': createHmac('sha256', key).update(body).digest('hex'),
  });
}

function verify(req: WebhookRequest, key = SIGNING_KEY): void {
  helpers.verify(req, key, NOW);
}

const JDOE = {
  id: 'k2x9q4w7m1zv',
  username: 'jdoe',
  primaryEmail: 'jane.doe@acme-corp.example',
  primaryPhone: null,
  name: 'Jane Doe',
  avatar: null,
  customData: {},
  identities: {},
  lastSignInAt: 1761905523400,
  createdAt: 1761900012455,
  updatedAt: 1761905523400,
  profile: {},
  applicationId: 'r7t2y9u4i1o6',
  cimdClientId: null,
  isSuspended: false,
};
const ACME_MOBILE = { id: 'r7t2y9u4i1o6', type: 'Native', name: 'ACME Mobile', description: null };

/** An interaction hook, built like post-sign-in.json (`triggerInteractionHooks`). */
function interactionPayload(event: string, interactionEvent: string, fields: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...fixturePayload('post-sign-in'), event, interactionEvent, ...fields };
}

/** A data hook, built like user-created.json (`triggerDataHooks`, management API). */
function dataPayload(event: string, fields: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...fixturePayload('user-created'), event, ...fields };
}

/** An exception hook from the experience API: `{event, createdAt, …metadata, application, …context, hookId}`. */
function exceptionPayload(event: string, context: Record<string, unknown>): Record<string, unknown> {
  return {
    event,
    createdAt: '2025-10-31T10:12:03.512Z',
    userAgent: IPHONE_SAFARI,
    ip: '203.0.113.9',
    interactionEvent: 'SignIn',
    sessionId: 'Xq8LmN2vB5cD7fG9hJ1kP',
    applicationId: ACME_MOBILE.id,
    application: ACME_MOBILE,
    ...context,
    hookId: 'hk5c2v8b1n4m',
  };
}

describe('logto fixtures', () => {
  test.each(FIXTURE_NAMES)('%s is a byte-exact copy', (name) => {
    expect(sha256(fixtureBody(name))).toBe(fixtureMeta(name).bodySha256);
  });
});

describe('logtoParser', () => {
  test('is named logto', () => {
    expect(logtoParser.name).toBe('logto');
  });

  describe('signature', () => {
    test.each(FIXTURE_NAMES)('%s verifies with its signing key', (name) => {
      const meta = fixtureMeta(name);
      expect(meta.signing.secret).toBe(SIGNING_KEY);
      expect(fixtureRequest(name).headers['logto-signature-sha-256']).toBe(meta.signing.expected);
      expect(() => verify(fixtureRequest(name))).not.toThrow();
    });

    test.each(FIXTURE_NAMES)('%s with one changed body byte is refused', (name) => {
      expect(thrown(() => verify(fixtureRequest(name, withChangedByte(fixtureBody(name))))).code).toBe('invalid_signature');
    });

    test('refuses a change to any single byte of the body', () => {
      const body = fixtureBody('post-sign-in');
      fc.assert(
        fc.property(fc.nat({ max: body.length - 1 }), fc.integer({ min: 1, max: 255 }), (index, flip) => {
          const changed = Buffer.from(body);
          changed[index] ^= flip;
          expect(thrown(() => verify(fixtureRequest('post-sign-in', changed))).code).toBe('invalid_signature');
        }),
        { numRuns: 300 },
      );
    });

    test.each(FIXTURE_NAMES)('%s is refused under another key', (name) => {
      expect(thrown(() => verify(fixtureRequest(name), 'another-key')).code).toBe('invalid_signature');
    });

    test('matches the upstream test vector of sign.ts', () => {
      // logto-io/logto packages/core/src/utils/sign.test.ts: key "foo", payload {bar: 'bar', foo: 'foo'}.
      const body = Buffer.from(JSON.stringify({ bar: 'bar', foo: 'foo' }), 'utf8');
      expect(body.toString('utf8')).toBe('{"bar":"bar","foo":"foo"}');
      const signature = createHmac('sha256', 'foo').update(body).digest('hex');
      expect(signature.startsWith('436958f1')).toBe(true);
      expect(signature.endsWith('0eee')).toBe(true);
      expect(() => verify(request(body, { 'logto-signature-sha-256': signature }), 'foo')).not.toThrow();
      expect(thrown(() => verify(request(body, { 'logto-signature-sha-256': signature }), 'bar')).code).toBe('invalid_signature');
    });

    test.each(['sha256=', 'SHA256='])('accepts a %s prefix, as one variant of sign.ts writes it', (prefix) => {
      const req = fixtureRequest('post-sign-in');
      expect(() => verify(withHeader(req, 'logto-signature-sha-256', `${prefix}${req.headers['logto-signature-sha-256']}`))).not.toThrow();
    });

    test('refuses a sha256=-prefixed signature over a changed body', () => {
      const req = fixtureRequest('user-created', withChangedByte(fixtureBody('user-created')));
      const prefixed = withHeader(req, 'logto-signature-sha-256', `sha256=${req.headers['logto-signature-sha-256']}`);
      expect(thrown(() => verify(prefixed)).code).toBe('invalid_signature');
    });

    test('refuses a request without the header', () => {
      const error = thrown(() => verify(request(fixtureBody('post-sign-in'), { 'user-agent': 'Logto (https://logto.io/)' })));
      expect(error.code).toBe('invalid_signature');
      expect(error.message).toMatch(/logto-signature-sha-256/);
    });

    test.each([
      ['a truncated digest', (hex: string) => hex.slice(0, 62)],
      ['non-hex digits', (hex: string) => `${hex.slice(0, 62)}zz`],
      ['a bare prefix', () => 'sha256='],
      ['an HMAC-SHA1 length digest', (hex: string) => hex.slice(0, 40)],
    ])('refuses %s', (_, mangle) => {
      const req = fixtureRequest('post-sign-in');
      expect(thrown(() => verify(withHeader(req, 'logto-signature-sha-256', mangle(req.headers['logto-signature-sha-256'])))).code).toBe(
        'invalid_signature',
      );
    });

    test('finds the header whatever the case of its name', () => {
      const signature = fixtureMeta('post-sign-in').signing.expected;
      expect(() => verify(request(fixtureBody('post-sign-in'), { 'Logto-Signature-Sha-256': signature }))).not.toThrow();
    });

    test('answers a malformed request with invalid_signature', () => {
      const broken = malformedRequest();
      expect(thrown(() => verify(broken)).code).toBe('invalid_signature');
    });
  });

  describe('fixtures', () => {
    test('post-sign-in names the user and the application', () => {
      expect(parseOne(fixtureRequest('post-sign-in')).content).toEqual({
        title: 'Sign-in: jdoe (ACME Mobile)',
        subtitle: 'jane.doe@acme-corp.example',
        body: ['Name: Jane Doe', 'User ID: k2x9q4w7m1zv', 'Application: ACME Mobile (Native)', 'IP: 91.64.23.17', `User agent: ${IPHONE_SAFARI}`].join('\n'),
        deliveryType: 'NORMAL',
        tags: ['logto', 'PostSignIn'],
      });
    });

    test('user-created names the user and the management API request', () => {
      expect(parseOne(fixtureRequest('user-created')).content).toEqual({
        title: 'User created: jdoe',
        subtitle: 'jane.doe@acme-corp.example',
        body: ['Name: Jane Doe', 'User ID: k2x9q4w7m1zv', 'Request: POST /api/users (200)', 'IP: 10.20.0.15', 'User agent: node'].join('\n'),
        deliveryType: 'NORMAL',
        tags: ['logto', 'User.Created'],
      });
    });

    test.each(FIXTURE_NAMES)('%s is keyed by the hash of its bytes', (name) => {
      expect(parseOne(fixtureRequest(name)).dedupeKey).toBe(`logto:${fixtureMeta(name).bodySha256}`);
    });

    test.each(FIXTURE_NAMES)('%s gives a valid notification', (name) => {
      expect(() => validateNotification(parseOne(fixtureRequest(name)).content)).not.toThrow();
    });
  });

  describe('interaction hooks', () => {
    test.each([
      ['PostRegister', 'Register', 'User registered: jdoe (ACME Mobile)'],
      ['PostResetPassword', 'ForgotPassword', 'Password reset: jdoe (ACME Mobile)'],
    ])('titles %s', (event, interactionEvent, title) => {
      const { content } = parseOne(hookRequest(interactionPayload(event, interactionEvent)));
      expect(content).toMatchObject({ title, deliveryType: 'NORMAL', tags: ['logto', event] });
    });

    test('makes an adaptive MFA challenge critical and names the rules that fired', () => {
      const payload = interactionPayload('PostSignInAdaptiveMfaTriggered', 'SignIn', {
        adaptiveMfaResult: {
          requiresMfa: true,
          triggeredRules: [
            { rule: 'untrusted_ip', details: { signals: { botScore: 10 }, matchedSignals: ['botScore'] } },
            { rule: 'new_country', details: { country: 'JP' } },
          ],
        },
      });
      const { content } = parseOne(hookRequest(payload));
      expect(content).toMatchObject({ title: 'Adaptive MFA triggered: jdoe (ACME Mobile)', deliveryType: 'CRITICAL' });
      expect(content.body).toMatch(/^Triggered by: untrusted_ip, new_country$/m);
    });

    test('reads the IP from userIp', () => {
      const { content } = parseOne(hookRequest(interactionPayload('PostSignIn', 'SignIn', { userIp: '198.51.100.7' })));
      expect(content.body).toMatch(/^IP: 198\.51\.100\.7$/m);
    });

    test.each([
      ['the primary email without a username', { username: null }, 'jane.doe@acme-corp.example', undefined],
      ['the name without a username or email', { username: null, primaryEmail: null }, 'Jane Doe', undefined],
      ['the id without anything else', { username: null, primaryEmail: null, name: null }, 'k2x9q4w7m1zv', undefined],
    ])('names the user by %s', (_, changes, name, subtitle) => {
      const { content } = parseOne(hookRequest(interactionPayload('PostSignIn', 'SignIn', { user: { ...JDOE, ...changes } })));
      expect(content.title).toBe(`Sign-in: ${name} (ACME Mobile)`);
      expect(content.subtitle).toBe(subtitle);
    });

    test('names the user by userId when Logto could not load the user', () => {
      const payload = interactionPayload('PostSignIn', 'SignIn', { user: undefined, application: undefined });
      expect(parseOne(hookRequest(payload)).content.title).toBe('Sign-in: k2x9q4w7m1zv');
    });

    test('titles the payload of the Send test button', () => {
      // `generateHookTestPayload(hookId, 'PostSignIn')`.
      const payload = {
        event: 'PostSignIn',
        hookId: 'hk5c2v8b1n4m',
        createdAt: '2025-10-31T10:12:03.512Z',
        userAgent: 'fake-user-agent',
        sessionId: 'fake-session-id',
        userIp: 'fake-user-ip',
        userId: 'fake-id',
        user: { id: 'fake-id', username: 'fake-user', primaryEmail: 'fake-user@fake-service.com', primaryPhone: '1234567890', name: 'Fake User' },
        application: { id: 'fake-spa-application-id', type: 'SPA', name: 'Fake Application', description: 'Fake application data for testing' },
      };
      expect(parseOne(hookRequest(payload)).content).toMatchObject({ title: 'Sign-in: fake-user (Fake Application)', subtitle: 'fake-user@fake-service.com' });
    });
  });

  describe('data hooks', () => {
    test.each([
      ['User.Deleted', 'User deleted: jdoe'],
      ['User.Data.Updated', 'User updated: jdoe'],
    ])('titles %s', (event, title) => {
      expect(parseOne(hookRequest(dataPayload(event))).content).toMatchObject({ title, deliveryType: 'NORMAL', tags: ['logto', event] });
    });

    test('makes a suspension critical', () => {
      const payload = dataPayload('User.SuspensionStatus.Updated', { path: '/api/users/k2x9q4w7m1zv/is-suspended', method: 'PATCH', matchedRoute: '/users/:userId/is-suspended', params: { userId: 'k2x9q4w7m1zv' }, data: { ...JDOE, isSuspended: true } });
      const { content } = parseOne(hookRequest(payload));
      expect(content).toMatchObject({ title: 'User suspended: jdoe', deliveryType: 'CRITICAL' });
      expect(content.body).toMatch(/^Suspended: yes$/m);
    });

    test('keeps a reactivation normal', () => {
      const payload = dataPayload('User.SuspensionStatus.Updated', { data: { ...JDOE, isSuspended: false } });
      expect(parseOne(hookRequest(payload)).content).toMatchObject({ title: 'User reactivated: jdoe', deliveryType: 'NORMAL' });
    });

    test('reads the IP from ip', () => {
      expect(parseOne(hookRequest(dataPayload('User.Data.Updated', { ip: '198.51.100.8' }))).content.body).toMatch(/^IP: 198\.51\.100\.8$/m);
    });

    test('titles a role by its name', () => {
      const payload = dataPayload('Role.Created', { path: '/api/roles', matchedRoute: '/roles', data: { id: 'rl_1', name: 'billing-admin', description: 'Manages invoices', type: 'User' } });
      expect(parseOne(hookRequest(payload)).content).toEqual({
        title: 'Role created: billing-admin',
        body: ['ID: rl_1', 'Description: Manages invoices', 'Request: POST /api/roles (200)', 'IP: 10.20.0.15', 'User agent: node'].join('\n'),
        deliveryType: 'NORMAL',
        tags: ['logto', 'Role.Created'],
      });
    });

    test('titles a change of a role’s scopes by the role id', () => {
      const payload = dataPayload('Role.Scopes.Updated', { path: '/api/roles/rl_1/scopes', matchedRoute: '/roles/:id/scopes', params: { id: 'rl_1' }, data: [{ id: 'sc_1', name: 'read:invoices' }] });
      expect(parseOne(hookRequest(payload)).content.title).toBe('Role scopes updated: rl_1');
    });

    test('lists the members an organization gained', () => {
      const payload = {
        event: 'Organization.Membership.Updated',
        createdAt: '2025-10-31T10:12:03.512Z',
        userAgent: 'node',
        ip: '10.20.0.15',
        path: '/api/organizations/org_1/users',
        method: 'POST',
        status: 201,
        params: { id: 'org_1' },
        matchedRoute: '/organizations/:id/users',
        organizationId: 'org_1',
        addedUserIds: ['u1', 'u2', 'u3', 'u4', 'u5', 'u6', 'u7'],
        hookId: 'hk5c2v8b1n4m',
      };
      const { content } = parseOne(hookRequest(payload));
      expect(content.title).toBe('Organization membership updated: org_1');
      expect(content.body?.split('\n')[0]).toBe('Users added: u1, u2, u3, u4, u5 and 2 more');
    });

    test('titles the payload of the Send test button', () => {
      // `generateHookTestPayload(hookId, 'User.Created')`: data is {result: 'success'}.
      const payload = { event: 'User.Created', hookId: 'hk5c2v8b1n4m', createdAt: '2025-10-31T10:12:03.512Z', userAgent: 'fake-user-agent', path: '/fake-path/:id', method: 'POST', status: 200, params: { id: 'fake-id' }, data: { result: 'success' } };
      expect(parseOne(hookRequest(payload)).content.title).toBe('User created: fake-id');
    });

    test('titles an event it does not know from its name', () => {
      const payload = dataPayload('OrganizationScope.Data.Updated', { data: { id: 'os_1', name: 'read:reports' } });
      expect(parseOne(hookRequest(payload)).content.title).toBe('Organization scope updated: read:reports');
    });
  });

  describe('exception hooks', () => {
    test('makes an identifier lockout critical', () => {
      const { content } = parseOne(hookRequest(exceptionPayload('Identifier.Lockout', { type: 'username', value: 'jdoe' })));
      expect(content).toEqual({
        title: 'Locked out: jdoe (ACME Mobile)',
        body: ['Identifier: jdoe (username)', 'Application: ACME Mobile (Native)', 'IP: 203.0.113.9', `User agent: ${IPHONE_SAFARI}`].join('\n'),
        deliveryType: 'CRITICAL',
        tags: ['logto', 'Identifier.Lockout'],
      });
    });

    test('names the recipient of rate-limited messages', () => {
      const { content } = parseOne(hookRequest(exceptionPayload('Message.RateLimited', { action: 'VerificationCodeSend', recipient: 'jane.doe@acme-corp.example' })));
      expect(content).toMatchObject({ title: 'Messages rate-limited: jane.doe@acme-corp.example (ACME Mobile)', deliveryType: 'NORMAL' });
      expect(content.body?.split('\n')[0]).toBe('Action: VerificationCodeSend');
    });

    test('counts the grants of an exceeded grant limit', () => {
      const payload = exceptionPayload('Grant.LimitExceeded', { userId: 'k2x9q4w7m1zv', maxAllowedGrants: 1, preRevocationActiveGrantCount: 2 });
      const { content } = parseOne(hookRequest(payload));
      expect(content).toMatchObject({ title: 'Grant limit exceeded: k2x9q4w7m1zv (ACME Mobile)', deliveryType: 'NORMAL' });
      expect(content.body?.split('\n')[0]).toBe('Active grants: 2 (at most 1 allowed)');
    });

    test('titles a lockout without its identifier, as the Send test button sends it', () => {
      const payload = { event: 'Identifier.Lockout', hookId: 'hk5c2v8b1n4m', createdAt: '2025-10-31T10:12:03.512Z', userAgent: 'fake-user-agent', path: '/fake-path/:id', method: 'POST', status: 200, params: { id: 'fake-id' }, data: { result: 'success' } };
      expect(parseOne(hookRequest(payload)).content).toMatchObject({ title: 'Locked out', deliveryType: 'CRITICAL' });
    });
  });

  describe('dedupe key', () => {
    test('is the same for a byte-identical redelivery', () => {
      expect(parseOne(fixtureRequest('post-sign-in')).dedupeKey).toBe(parseOne(request(fixtureBody('post-sign-in'))).dedupeKey);
    });

    test('differs for another event', () => {
      const later = hookRequest({ ...fixturePayload('post-sign-in'), createdAt: '2025-10-31T10:12:09.001Z' });
      expect(parseOne(later).dedupeKey).not.toBe(parseOne(fixtureRequest('post-sign-in')).dedupeKey);
      expect(parseOne(later).dedupeKey).toBe(`logto:${sha256(later.body)}`);
    });
  });

  describe('invalid body', () => {
    test.each([
      ['invalid JSON', '{"event": '],
      ['empty bytes', ''],
      ['a JSON array', '[{"event": "PostSignIn"}]'],
      ['a JSON string', '"PostSignIn"'],
      ['an object without an event', '{"bar":"bar","foo":"foo"}'],
      ['an empty event', '{"event": "", "hookId": "h"}'],
    ])('throws invalid_body for %s', (_, body) => {
      const error = thrown(() => logtoParser.parse(request(body)));
      expect(error.code).toBe('invalid_body');
      expect(error.message).toMatch(/^logto: /);
    });
  });

  describe('detect', () => {
    test.each(FIXTURE_NAMES)('recognises %s by its body alone', (name) => {
      expect(logtoParser.detect(request(fixtureBody(name)))).toBe(true);
    });

    test('recognises the signature header', () => {
      expect(logtoParser.detect(request('{}', { 'logto-signature-sha-256': 'ab' }))).toBe(true);
    });

    test('recognises Logto’s user agent', () => {
      expect(logtoParser.detect(request('{}', { 'user-agent': 'Logto (https://logto.io/)' }))).toBe(true);
    });

    test.each([
      ['a Keycloak event', fixtures('keycloak').fixtureBody('p2-access-login')],
      ['an event without a hookId', '{"event": "PostSignIn", "createdAt": "2025-10-31T10:12:03.512Z"}'],
      ['a Svix/Clerk event', '{"type": "session.created", "object": "event", "data": {}}'],
      ['invalid JSON', '{"event"'],
      ['binary bytes', Buffer.from([0xff, 0xfe, 0x00, 0x7b])],
    ])('rejects %s', (_, body) => {
      expect(logtoParser.detect(request(body))).toBe(false);
    });

    test('never throws on a malformed request', () => {
      const broken = malformedRequest();
      expect(logtoParser.detect(broken)).toBe(false);
    });
  });

  describe('properties', () => {
    const RUNS = 10_000;

    /** parse gives valid notifications or a HeraldError; detect a boolean; verify passes or throws a HeraldError. */
    function expectWellBehaved(req: WebhookRequest): void {
      expect(typeof logtoParser.detect(req)).toBe('boolean');
      passesOrHeraldError(() => verify(req));
      expectResultOrHeraldError(logtoParser, req);
    }

    const headers = fc.oneof(
      fc.constant({}),
      fc.string().map((value) => ({ 'logto-signature-sha-256': value })),
      fc.uint8Array({ minLength: 32, maxLength: 32 }).map((bytes) => ({ 'logto-signature-sha-256': `sha256=${Buffer.from(bytes).toString('hex')}` })),
    );
    const text = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom('', ' ', 'jdoe'));
    const anyValue = fc.oneof(text, fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.jsonValue({ maxDepth: 2 }));
    const maybe = <T>(arbitrary: fc.Arbitrary<T>) => fc.option(arbitrary, { nil: undefined });
    const user = fc.oneof(
      anyValue,
      fc.record({ id: anyValue, username: anyValue, primaryEmail: anyValue, primaryPhone: anyValue, name: anyValue, isSuspended: anyValue }, { requiredKeys: [] }),
    );
    const application = fc.oneof(anyValue, fc.record({ id: anyValue, type: anyValue, name: anyValue, description: anyValue }, { requiredKeys: [] }));
    const event = fc.oneof(
      fc.constantFrom(
        'PostRegister', 'PostSignIn', 'PostSignInAdaptiveMfaTriggered', 'PostResetPassword', 'User.Created', 'User.Deleted',
        'User.Data.Updated', 'User.SuspensionStatus.Updated', 'Role.Created', 'Role.Scopes.Updated', 'Scope.Deleted',
        'Organization.Membership.Updated', 'OrganizationRole.Scopes.Updated', 'Identifier.Lockout', 'Message.RateLimited', 'Grant.LimitExceeded',
      ),
      fc.string({ minLength: 1 }).filter((value) => value.trim().length > 0),
    );
    const hookPayload = fc.record(
      {
        event,
        interactionEvent: maybe(anyValue),
        createdAt: maybe(anyValue),
        sessionId: maybe(anyValue),
        userAgent: maybe(anyValue),
        userId: maybe(anyValue),
        userIp: maybe(anyValue),
        ip: maybe(anyValue),
        user: maybe(user),
        application: maybe(application),
        applicationId: maybe(anyValue),
        adaptiveMfaResult: maybe(fc.oneof(anyValue, fc.record({ requiresMfa: anyValue, triggeredRules: fc.oneof(anyValue, fc.array(fc.oneof(anyValue, fc.record({ rule: anyValue })))) }))),
        path: maybe(anyValue),
        method: maybe(anyValue),
        status: maybe(anyValue),
        params: maybe(fc.oneof(anyValue, fc.record({ id: anyValue, userId: anyValue }, { requiredKeys: [] }))),
        data: maybe(fc.oneof(user, fc.array(anyValue, { maxLength: 3 }))),
        organizationId: maybe(anyValue),
        addedUserIds: maybe(fc.oneof(anyValue, fc.array(anyValue, { maxLength: 8 }))),
        type: maybe(anyValue),
        value: maybe(anyValue),
        recipient: maybe(anyValue),
        action: maybe(anyValue),
        maxAllowedGrants: maybe(anyValue),
        preRevocationActiveGrantCount: maybe(anyValue),
        hookId: maybe(anyValue),
      },
      { requiredKeys: ['event'] },
    );

    test('answers arbitrary bytes with notifications or a HeraldError', () => {
      const bytes = fc.oneof(
        fc.uint8Array({ maxLength: 300 }).map((array) => Buffer.from(array)),
        fc.string({ unit: 'binary' }).map((value) => Buffer.from(value, 'utf8')),
      );
      fc.assert(
        fc.property(bytes, headers, (body, header) => expectWellBehaved(request(body, header))),
        { numRuns: RUNS },
      );
    });

    test('answers arbitrary JSON with notifications or a HeraldError', () => {
      fc.assert(
        fc.property(fc.jsonValue({ maxDepth: 4 }), headers, (value, header) => expectWellBehaved(request(JSON.stringify(value), header))),
        { numRuns: RUNS },
      );
    });

    test('parses every payload shaped like a hook’s into a valid notification keyed by its hash', () => {
      fc.assert(
        fc.property(hookPayload, headers, (payload, header) => {
          const req = request(JSON.stringify(payload), header);
          expectWellBehaved(req);
          const parsed = parseOne(req); // never invalid_body with a non-empty event
          expect(parsed.dedupeKey).toBe(`logto:${sha256(req.body)}`);
        }),
        { numRuns: RUNS },
      );
    });

    test('verifies every body signed with its key, and no body changed after signing', () => {
      fc.assert(
        fc.property(fc.uint8Array({ minLength: 1, maxLength: 200 }), fc.string({ minLength: 1 }), fc.boolean(), fc.nat(), (array, key, prefixed, at) => {
          const body = Buffer.from(array);
          const signature = `${prefixed ? 'sha256=' : ''}${createHmac('sha256', key).update(body).digest('hex')}`;
          expect(() => verify(request(body, { 'logto-signature-sha-256': signature }), key)).not.toThrow();
          const changed = withChangedByte(body, at % body.length);
          expect(thrown(() => verify(request(changed, { 'logto-signature-sha-256': signature }), key)).code).toBe('invalid_signature');
        }),
        { numRuns: 1000 },
      );
    });

    test('caps every string to the notification limits', () => {
      const long = '😀'.repeat(6000);
      const payload = interactionPayload('PostSignIn', 'SignIn', { user: { ...JDOE, username: long, name: long }, userAgent: long });
      const { content } = parseOne(hookRequest(payload));
      expect(content.title.length).toBeLessThanOrEqual(LIMITS.title);
      expect(content.title).toMatch(/^Sign-in: (?:😀)+…$/u);
      expect(content.body?.length).toBeLessThanOrEqual(LIMITS.body);
      expect(() => validateNotification(content)).not.toThrow();
    });
  });
});
