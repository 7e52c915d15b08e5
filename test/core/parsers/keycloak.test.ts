import { createHmac } from 'node:crypto';
import * as fc from 'fast-check';
import { LIMITS, validateNotification } from '../../../lambdas/core/notification';
import { keycloakParser } from '../../../lambdas/core/parsers/keycloak';
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

/** p2-inc/keycloak-events bodies, signed with X-Keycloak-Signature (HmacSHA256). */
const P2_FIXTURES = ['p2-access-login-error', 'p2-access-login', 'p2-access-register', 'p2-admin-user-create'] as const;
/** vymalo/keycloak-webhook bodies: no signature, HTTP Basic only. */
const VYMALO_FIXTURES = ['vymalo-login-error', 'vymalo-login', 'vymalo-admin-user-create'] as const;
const FIXTURE_NAMES = [...P2_FIXTURES, ...VYMALO_FIXTURES] as const;

const NOW = new Date('2025-10-31T10:12:05Z');
/** The secret the p2 fixtures were signed with (their meta.json). */
const SECRET = 'kc-Wh00k-S3cret-4f7a';
const REALM_UUID = '6a2f1c3e-4b5d-4e6f-8a9b-0c1d2e3f4a5b';
const USER_ID = '9e8d7c6b-5a49-4382-b1c0-d9e8f7a6b5c4';
const ADMIN_ID = '11111111-2222-4333-8444-555555555555';

interface FixtureMeta {
  request: { headers: Record<string, string> };
  bodySha256: string;
  signing: { secret: string; expected: string } | null;
}

const { fixtureBody, fixtureMeta, fixtureRequest } = fixtures<FixtureMeta>('keycloak');
const helpers = parserHelpers(keycloakParser);
const { parseOne } = helpers;

/** A body as Jackson or Gson writes it (compact), signed as p2's `calculateHmacSha` signs it. */
function signedRequest(payload: object, algorithm: 'sha256' | 'sha1' = 'sha256', secret = SECRET): WebhookRequest {
  const body = Buffer.from(JSON.stringify(payload), 'utf8');
  return request(body, { 'x-keycloak-signature': createHmac(algorithm, secret).update(body).digest('hex') });
}

function verify(req: WebhookRequest, key = SECRET): void {
  helpers.verify(req, key, NOW);
}

/** A p2 user event, built like p2-access-login-error.json (ExtendedAdminEvent for an Event). */
function p2UserEvent(type: string, fields: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'e5c9a1b2-3d4e-4f5a-8b6c-7d8e9f0a1b2c',
    time: 1761905521877,
    realmId: REALM_UUID,
    realmName: 'acme',
    authDetails: { realmId: 'acme', clientId: 'account-console', userId: USER_ID, ipAddress: '91.64.23.17', username: 'jdoe' },
    details: { username: 'jdoe' },
    uid: 'b1c2d3e4-f5a6-4b7c-8d9e-0f1a2b3c4d5e',
    type: `access.${type}`,
    ...fields,
  };
}

/** A vymalo user event, built like vymalo-login-error.json. */
function vymaloUserEvent(type: string, fields: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type,
    realmId: REALM_UUID,
    id: 'e5c9a1b2-3d4e-4f5a-8b6c-7d8e9f0a1b2c',
    time: 1761905521877,
    clientId: 'mobile-app',
    userId: USER_ID,
    ipAddress: '91.64.23.17',
    details: { username: 'jdoe' },
    ...fields,
  };
}

/** A p2 admin event, built like p2-admin-user-create.json. */
function p2AdminEvent(resourceType: string, operationType: string, fields: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: '7f6e5d4c-3b2a-4190-8f7e-6d5c4b3a2910',
    time: 1761899000311,
    realmId: REALM_UUID,
    realmName: 'acme',
    authDetails: { realmId: 'master', clientId: 'security-admin-console', userId: ADMIN_ID, ipAddress: '10.20.0.15', username: 'admin' },
    resourceType,
    operationType,
    resourcePath: `users/${USER_ID}`,
    details: { userId: USER_ID, username: 'jdoe' },
    uid: 'a0b1c2d3-e4f5-4a6b-8c7d-8e9f0a1b2c3d',
    type: `admin.${resourceType}-${operationType}`,
    ...fields,
  };
}

describe('keycloak fixtures', () => {
  test.each(FIXTURE_NAMES)('%s is a byte-exact copy', (name) => {
    expect(sha256(fixtureBody(name))).toBe(fixtureMeta(name).bodySha256);
  });
});

describe('keycloakParser', () => {
  test('is named keycloak, with an alias per extension', () => {
    expect(keycloakParser.name).toBe('keycloak');
    expect(keycloakParser.aliases).toEqual(['keycloak-events', 'p2-keycloak', 'vymalo', 'keycloak-webhook']);
  });

  describe('signature', () => {
    test.each(P2_FIXTURES)('%s verifies with its secret', (name) => {
      const meta = fixtureMeta(name);
      expect(meta.signing?.secret).toBe(SECRET);
      expect(fixtureRequest(name).headers['x-keycloak-signature']).toBe(meta.signing?.expected);
      expect(() => verify(fixtureRequest(name))).not.toThrow();
    });

    test.each(P2_FIXTURES)('%s with one changed body byte is refused', (name) => {
      const error = thrown(() => verify(fixtureRequest(name, withChangedByte(fixtureBody(name)))));
      expect(error.code).toBe('invalid_signature');
    });

    test('refuses a change to any single byte of the body', () => {
      const body = fixtureBody('p2-access-login-error');
      fc.assert(
        fc.property(fc.nat({ max: body.length - 1 }), fc.integer({ min: 1, max: 255 }), (index, flip) => {
          const changed = Buffer.from(body);
          changed[index] ^= flip;
          expect(thrown(() => verify(fixtureRequest('p2-access-login-error', changed))).code).toBe('invalid_signature');
        }),
        { numRuns: 300 },
      );
    });

    test.each(P2_FIXTURES)('%s is refused under another key', (name) => {
      expect(thrown(() => verify(fixtureRequest(name), 'another-secret')).code).toBe('invalid_signature');
    });

    test('verifies an HmacSHA1 signature, told apart by its 40 digits', () => {
      const req = signedRequest(p2UserEvent('LOGIN_ERROR', { error: 'invalid_user_credentials' }), 'sha1');
      expect(req.headers['x-keycloak-signature']).toHaveLength(40);
      expect(() => verify(req)).not.toThrow();
    });

    test('refuses an HmacSHA1 signature over a changed body', () => {
      const req = signedRequest(p2UserEvent('LOGIN_ERROR', { error: 'invalid_user_credentials' }), 'sha1');
      const error = thrown(() => verify({ ...req, body: withChangedByte(req.body) }));
      expect(error.code).toBe('invalid_signature');
    });

    test('accepts the digest in upper case', () => {
      const req = fixtureRequest('p2-access-login');
      const upper = withHeader(req, 'x-keycloak-signature', req.headers['x-keycloak-signature'].toUpperCase());
      expect(() => verify(upper)).not.toThrow();
    });

    test('finds the header whatever the case of its name', () => {
      const signature = fixtureRequest('p2-access-login').headers['x-keycloak-signature'];
      expect(() => verify(request(fixtureBody('p2-access-login'), { 'X-Keycloak-Signature': signature }))).not.toThrow();
    });

    test.each(VYMALO_FIXTURES)('refuses %s, which keycloak-webhook cannot sign, when a signing key is configured', (name) => {
      const error = thrown(() => verify(fixtureRequest(name)));
      expect(error.code).toBe('invalid_signature');
      expect(error.message).toMatch(/X-Keycloak-Signature/);
    });

    test.each([
      ['a sha256= prefix, which p2 never sends', (hex: string) => `sha256=${hex}`],
      ['a truncated digest', (hex: string) => hex.slice(0, 62)],
      ['a digest of another length', (hex: string) => `${hex}00`],
      ['non-hex digits', (hex: string) => `${hex.slice(0, 62)}zz`],
      ['an empty value', () => ''],
    ])('refuses %s', (_, mangle) => {
      const req = fixtureRequest('p2-access-login');
      const mangled = withHeader(req, 'x-keycloak-signature', mangle(req.headers['x-keycloak-signature']));
      expect(thrown(() => verify(mangled)).code).toBe('invalid_signature');
    });

    test('answers a malformed request with invalid_signature', () => {
      const broken = malformedRequest();
      expect(thrown(() => verify(broken)).code).toBe('invalid_signature');
    });
  });

  describe('fixtures', () => {
    const EXPECTED: Record<(typeof FIXTURE_NAMES)[number], object> = {
      'p2-access-login-error': {
        title: 'Login failed: jdoe',
        body: 'Realm: acme\nClient: mobile-app\nIP: 91.64.23.17\nError: invalid_user_credentials (wrong password or code)',
        deliveryType: 'CRITICAL',
        tags: ['keycloak', 'login_error'],
      },
      'p2-access-login': {
        title: 'Login: jdoe',
        body: 'Realm: acme\nClient: mobile-app\nIP: 91.64.23.17',
        deliveryType: 'NORMAL',
        tags: ['keycloak', 'login'],
      },
      'p2-access-register': {
        title: 'User registered: jdoe',
        subtitle: 'jane.doe@acme-corp.example',
        body: 'Realm: acme\nClient: mobile-app\nIP: 91.64.23.17',
        deliveryType: 'NORMAL',
        tags: ['keycloak', 'register'],
      },
      'p2-admin-user-create': {
        title: 'Admin: user created: jdoe',
        subtitle: 'jane.doe@acme-corp.example',
        body: [
          'By: admin (realm master)',
          'Realm: acme',
          'Client: security-admin-console',
          'IP: 10.20.0.15',
          `Resource: users/${USER_ID}`,
          'username: jdoe',
          'enabled: true',
          'email: jane.doe@acme-corp.example',
          'firstName: Jane',
          'lastName: Doe',
        ].join('\n'),
        deliveryType: 'NORMAL',
        tags: ['keycloak', 'admin', 'user-create'],
      },
      'vymalo-login-error': {
        title: 'Login failed: jdoe',
        body: `Realm ID: ${REALM_UUID}\nClient: mobile-app\nIP: 91.64.23.17\nError: invalid_user_credentials (wrong password or code)`,
        deliveryType: 'CRITICAL',
        tags: ['keycloak', 'login_error'],
      },
      'vymalo-login': {
        title: 'Login: jdoe',
        body: `Realm ID: ${REALM_UUID}\nClient: mobile-app\nIP: 91.64.23.17`,
        deliveryType: 'NORMAL',
        tags: ['keycloak', 'login'],
      },
      'vymalo-admin-user-create': {
        title: 'Admin: user created: jdoe',
        subtitle: 'jane.doe@acme-corp.example',
        body: [
          `By: ${ADMIN_ID}`,
          `Realm ID: ${REALM_UUID}`,
          'Client: security-admin-console',
          'IP: 10.20.0.15',
          `Resource: users/${USER_ID}`,
          'username: jdoe',
          'enabled: true',
          'email: jane.doe@acme-corp.example',
        ].join('\n'),
        deliveryType: 'NORMAL',
        tags: ['keycloak', 'admin', 'user-create'],
      },
    };

    test.each(FIXTURE_NAMES)('%s gives the expected notification', (name) => {
      expect(parseOne(fixtureRequest(name)).content).toEqual(EXPECTED[name]);
    });

    test.each(FIXTURE_NAMES)('%s is keyed by its Keycloak event id', (name) => {
      const { id } = JSON.parse(fixtureBody(name).toString('utf8')) as { id: string };
      expect(parseOne(fixtureRequest(name)).dedupeKey).toBe(`keycloak:${id}`);
    });

    test.each(FIXTURE_NAMES)('%s gives a valid notification', (name) => {
      expect(() => validateNotification(parseOne(fixtureRequest(name)).content)).not.toThrow();
    });

    test.each(FIXTURE_NAMES)('%s is not routine', (name) => {
      expect('routine' in parseOne(fixtureRequest(name))).toBe(false);
    });

    test('gives one event the same key from either extension', () => {
      expect(parseOne(fixtureRequest('vymalo-login-error')).dedupeKey).toBe(parseOne(fixtureRequest('p2-access-login-error')).dedupeKey);
    });
  });

  describe('user events', () => {
    test('names the tried username of a vymalo login by an unknown user, sent unsigned', () => {
      // keycloak-webhook for `user_not_found`: no userId, the typed username in details.
      const payload = vymaloUserEvent('LOGIN_ERROR', { userId: undefined, error: 'user_not_found', details: { auth_method: 'openid-connect', username: 'mallory' } });
      const req = request(JSON.stringify(payload), { 'content-type': 'application/json; charset=UTF-8', authorization: 'Basic a2V5Y2xvYWs6dnktQmFzaWMtUDRzcw==' });
      expect(keycloakParser.detect(req)).toBe(true);
      expect(parseOne(req).content).toEqual({
        title: 'Login failed: mallory (unknown user)',
        body: `Realm ID: ${REALM_UUID}\nClient: mobile-app\nIP: 91.64.23.17\nError: user_not_found (no such user)`,
        deliveryType: 'CRITICAL',
        tags: ['keycloak', 'login_error'],
      });
    });

    test('names the tried username of a p2 login by an unknown user', () => {
      const payload = p2UserEvent('LOGIN_ERROR', {
        authDetails: { realmId: 'acme', clientId: 'mobile-app', ipAddress: '203.0.113.9' },
        error: 'user_not_found',
        details: { auth_method: 'openid-connect', username: 'mallory' },
      });
      const { content } = parseOne(signedRequest(payload));
      expect(content).toMatchObject({ title: 'Login failed: mallory (unknown user)', deliveryType: 'CRITICAL' });
      expect(content.body).toBe('Realm: acme\nClient: mobile-app\nIP: 203.0.113.9\nError: user_not_found (no such user)');
    });

    test('parses a p2 failed login signed with HmacSHA1', () => {
      const req = signedRequest(p2UserEvent('LOGIN_ERROR', { error: 'invalid_user_credentials' }), 'sha1');
      expect(() => verify(req)).not.toThrow();
      expect(parseOne(req).content).toMatchObject({ title: 'Login failed: jdoe', deliveryType: 'CRITICAL' });
    });

    test('titles a failed login with what was typed, and names the user it matched', () => {
      const payload = p2UserEvent('LOGIN_ERROR', { error: 'invalid_user_credentials', details: { username: 'jane.doe@acme-corp.example' } });
      const { content } = parseOne(signedRequest(payload));
      expect(content.title).toBe('Login failed: jane.doe@acme-corp.example');
      expect(content.body?.split('\n')[0]).toBe('User: jdoe');
    });

    test('explains a brute-force lockout error', () => {
      const payload = p2UserEvent('LOGIN_ERROR', { error: 'user_temporarily_disabled' });
      expect(parseOne(signedRequest(payload)).content.body).toMatch(/^Error: user_temporarily_disabled \(locked by brute-force detection\)$/m);
    });

    test('falls back to the user id without any username', () => {
      const payload = vymaloUserEvent('UPDATE_PASSWORD', { details: undefined });
      expect(parseOne(request(JSON.stringify(payload))).content.title).toBe(`Password changed: ${USER_ID}`);
    });

    test.each([
      ['REFRESH_TOKEN', 'Token refreshed: jdoe (account-console)', 'Token refreshed: jdoe (mobile-app)'],
      ['REFRESH_TOKEN_ERROR', 'Token refresh failed: jdoe (account-console)', 'Token refresh failed: jdoe (mobile-app)'],
      ['CODE_TO_TOKEN', 'Code exchanged for tokens: jdoe (account-console)', 'Code exchanged for tokens: jdoe (mobile-app)'],
      ['INTROSPECT_TOKEN', 'Token introspected: jdoe (account-console)', 'Token introspected: jdoe (mobile-app)'],
      ['USER_INFO_REQUEST', 'Userinfo requested: jdoe (account-console)', 'Userinfo requested: jdoe (mobile-app)'],
      ['CLIENT_LOGIN', 'Client login: account-console', 'Client login: mobile-app'],
      ['LOGOUT', 'Logout: jdoe', 'Logout: jdoe'],
    ])('gives %s from either extension as a routine notification', (type, p2Title, vymaloTitle) => {
      const p2 = parseOne(signedRequest(p2UserEvent(type)));
      expect(p2).toEqual({
        content: { title: p2Title, body: 'Realm: acme\nClient: account-console\nIP: 91.64.23.17', deliveryType: 'NORMAL', tags: ['keycloak', type.toLowerCase()] },
        dedupeKey: 'keycloak:e5c9a1b2-3d4e-4f5a-8b6c-7d8e9f0a1b2c',
        routine: true,
      });
      const vymalo = parseOne(request(JSON.stringify(vymaloUserEvent(type))));
      expect(vymalo).toEqual({
        content: { title: vymaloTitle, body: `Realm ID: ${REALM_UUID}\nClient: mobile-app\nIP: 91.64.23.17`, deliveryType: 'NORMAL', tags: ['keycloak', type.toLowerCase()] },
        dedupeKey: 'keycloak:e5c9a1b2-3d4e-4f5a-8b6c-7d8e9f0a1b2c',
        routine: true,
      });
    });

    test('titles routine token traffic without a user by its client', () => {
      const payload = vymaloUserEvent('INTROSPECT_TOKEN', { userId: undefined, details: undefined, clientId: 'api-gateway' });
      const parsed = parseOne(request(JSON.stringify(payload)));
      expect(parsed.content).toMatchObject({ title: 'Token introspected: api-gateway', deliveryType: 'NORMAL' });
      expect(parsed.routine).toBe(true);
    });

    test('explains the error of a routine failure', () => {
      const parsed = parseOne(signedRequest(p2UserEvent('REFRESH_TOKEN_ERROR', { error: 'invalid_token' })));
      expect(parsed.routine).toBe(true);
      expect(parsed.content.body?.split('\n').at(-1)).toBe('Error: invalid_token');
    });

    test('flags no admin or system event routine, whatever its type', () => {
      const admin = parseOne(signedRequest(p2AdminEvent('USER', 'UPDATE')));
      const system = parseOne(signedRequest({ id: 's-3', realmId: REALM_UUID, uid: 'u-3', type: 'system.LOGOUT' }));
      expect('routine' in admin).toBe(false);
      expect('routine' in system).toBe(false);
    });

    test.each([
      ['UPDATE_PASSWORD', {}, 'Password changed: jdoe', 'NORMAL', undefined],
      ['RESET_PASSWORD', {}, 'Password reset: jdoe', 'NORMAL', undefined],
      ['UPDATE_TOTP', {}, 'OTP set up: jdoe', 'NORMAL', undefined],
      ['REMOVE_TOTP', {}, 'OTP removed: jdoe', 'CRITICAL', undefined],
      ['UPDATE_CREDENTIAL', { credential_type: 'webauthn' }, 'Credential updated: jdoe', 'NORMAL', 'Credential: webauthn'],
      ['REMOVE_CREDENTIAL', { credential_type: 'otp' }, 'Credential removed: jdoe', 'NORMAL', 'Credential: otp'],
      ['USER_DISABLED_BY_TEMPORARY_LOCKOUT', {}, 'User locked out temporarily: jdoe', 'CRITICAL', undefined],
      ['UPDATE_EMAIL', { previous_email: 'jd@old.example', updated_email: 'jd@new.example' }, 'Email changed: jdoe', 'NORMAL', 'New email: jd@new.example'],
      ['IMPERSONATE', { impersonator: 'admin' }, 'Impersonation: jdoe', 'NORMAL', 'Impersonator: admin'],
      ['UPDATE_PROFILE', {}, 'Update profile: jdoe', 'NORMAL', undefined],
      ['IDENTITY_PROVIDER_LOGIN_ERROR', { identity_provider: 'google' }, 'Identity provider login failed: jdoe', 'NORMAL', 'Identity provider: google'],
    ])('titles %s', (type, details, title, deliveryType, line) => {
      const payload = p2UserEvent(type, { details: { username: 'jdoe', ...details } });
      const { content } = parseOne(signedRequest(payload));
      expect(content).toMatchObject({ title, deliveryType, tags: ['keycloak', type.toLowerCase()] });
      expect(content.body?.split('\n').slice(0, 3)).toEqual(['Realm: acme', 'Client: account-console', 'IP: 91.64.23.17']);
      if (line) expect(content.body?.split('\n')).toContain(line);
    });

    test('names the client of a failed client login', () => {
      const payload = vymaloUserEvent('CLIENT_LOGIN_ERROR', { userId: undefined, details: undefined, clientId: 'billing-batch', error: 'invalid_client_credentials' });
      expect(parseOne(request(JSON.stringify(payload))).content).toMatchObject({ title: 'Client login failed: billing-batch', deliveryType: 'NORMAL' });
    });

    test('shows a system event with its details', () => {
      const payload = { id: 's-1', time: 1761905521877, realmId: REALM_UUID, realmName: 'acme', details: { note: 'nightly sync done' }, uid: 'u-1', type: 'system.sync-finished' };
      expect(parseOne(signedRequest(payload)).content).toEqual({
        title: 'Keycloak system event: sync-finished',
        body: 'Realm: acme\nnote: nightly sync done',
        deliveryType: 'NORMAL',
        tags: ['keycloak', 'system'],
      });
    });
  });

  describe('system events', () => {
    test('reads a custom type holding dots', () => {
      const payload = { id: 's-2', realmId: REALM_UUID, uid: 'u-2', type: 'system.acme.sync.finished' };
      expect(parseOne(signedRequest(payload)).content).toMatchObject({ title: 'Keycloak system event: acme.sync.finished', body: `Realm ID: ${REALM_UUID}` });
    });
  });

  describe('admin events', () => {
    test('names the affected user, not the admin, and lists the representation string', () => {
      const representation = JSON.stringify({ id: USER_ID, username: 'jdoe', enabled: false, email: 'jane.doe@acme-corp.example', emailVerified: true });
      const req = signedRequest(p2AdminEvent('USER', 'UPDATE', { representation }));
      expect(parseOne(req).content).toEqual({
        title: 'Admin: user updated: jdoe',
        subtitle: 'jane.doe@acme-corp.example',
        body: [
          'By: admin (realm master)',
          'Realm: acme',
          'Client: security-admin-console',
          'IP: 10.20.0.15',
          `Resource: users/${USER_ID}`,
          `id: ${USER_ID}`,
          'username: jdoe',
          'enabled: false',
          'email: jane.doe@acme-corp.example',
          'emailVerified: true',
        ].join('\n'),
        deliveryType: 'NORMAL',
        tags: ['keycloak', 'admin', 'user-update'],
      });
    });

    test('never shows credentials or secrets from a representation', () => {
      const representation = JSON.stringify({
        username: 'svc',
        credentials: [{ type: 'password', value: 'hunter2', temporary: true }],
        secret: 's3cr3t-client',
        clientSecret: 'also-secret',
        password: 'plain',
        attributes: { apiKey: ['k'] },
      });
      const { content } = parseOne(signedRequest(p2AdminEvent('USER', 'CREATE', { representation, details: {} })));
      expect(content.title).toBe('Admin: user created: svc');
      expect(content.body).not.toMatch(/hunter2|s3cr3t|also-secret|plain|apiKey/);
    });

    test('titles a client by its clientId', () => {
      const representation = JSON.stringify({ clientId: 'grafana', enabled: true, secret: 'x' });
      const payload = p2AdminEvent('CLIENT', 'UPDATE', { resourcePath: 'clients/5d1c9e4a', details: {}, representation });
      expect(parseOne(signedRequest(payload)).content).toMatchObject({ title: 'Admin: client updated: grafana', tags: ['keycloak', 'admin', 'client-update'] });
    });

    test('lists the roles of a role mapping', () => {
      const representation = JSON.stringify([{ id: 'r1', name: 'admin' }, { id: 'r2', name: 'ops' }]);
      const payload = p2AdminEvent('REALM_ROLE_MAPPING', 'CREATE', { resourcePath: `users/${USER_ID}/role-mappings/realm`, details: {}, representation });
      const { content } = parseOne(signedRequest(payload));
      expect(content.title).toBe('Admin: realm role mapping created');
      expect(content.body?.split('\n').at(-1)).toBe('Roles: admin, ops');
    });

    test('names a deleted user by the id in its path without a representation', () => {
      const payload = { type: 'USER-DELETE', realmId: REALM_UUID, id: 'd-1', time: 1, clientId: 'security-admin-console', userId: ADMIN_ID, ipAddress: '10.20.0.15', resourcePath: `users/${USER_ID}` };
      expect(parseOne(request(JSON.stringify(payload))).content.title).toBe(`Admin: user deleted: ${USER_ID}`);
    });

    test('ignores a representation that is not JSON', () => {
      const payload = p2AdminEvent('USER', 'ACTION', { resourcePath: `users/${USER_ID}/execute-actions-email`, representation: '["UPDATE_PASSWORD"' });
      const { content } = parseOne(signedRequest(payload));
      expect(content.title).toBe('Admin: user action: jdoe');
      expect(content.body?.split('\n').at(-1)).toBe(`Resource: users/${USER_ID}/execute-actions-email`);
    });
  });

  describe('dedupe key', () => {
    test('hashes an id that is not plain', () => {
      const id = 'weird id/with:colons';
      const expected = sha256(Buffer.from(id, 'utf8'));
      expect(parseOne(signedRequest(p2UserEvent('LOGIN', { id }))).dedupeKey).toBe(`keycloak:${expected}`);
    });

    test('hashes the body without an id', () => {
      const req = signedRequest(p2UserEvent('LOGIN', { id: undefined }));
      expect(parseOne(req).dedupeKey).toBe(`keycloak:${sha256(req.body)}`);
    });
  });

  describe('invalid body', () => {
    test.each([
      ['invalid JSON', '{"type": '],
      ['empty bytes', ''],
      ['a JSON array', '[{"type": "access.LOGIN"}]'],
      ['a JSON string', '"access.LOGIN"'],
      ['an object without a type', '{"id": "x", "realmId": "acme"}'],
      ['a type of another source', '{"type": "session.created", "object": "event", "data": {}}'],
      ['a lower-case type', '{"type": "login", "realmId": "acme"}'],
    ])('throws invalid_body for %s', (_, body) => {
      const error = thrown(() => keycloakParser.parse(request(body)));
      expect(error.code).toBe('invalid_body');
      expect(error.message).toMatch(/^keycloak: /);
    });
  });

  describe('detect', () => {
    test.each(FIXTURE_NAMES)('recognises %s by its body alone', (name) => {
      expect(keycloakParser.detect(request(fixtureBody(name)))).toBe(true);
    });

    test('recognises the signature header', () => {
      expect(keycloakParser.detect(request('{}', { 'x-keycloak-signature': 'ab' }))).toBe(true);
    });

    test.each([
      ['a Logto payload', fixtures('logto').fixtureBody('post-sign-in')],
      ['a Svix/Clerk event', '{"type": "session.created", "object": "event", "data": {}}'],
      ['an authentik body', '{"body": "login: {}", "severity": "notice", "user_username": "a"}'],
      ['a bare type without a realm', '{"type": "LOGIN", "id": "x"}'],
      ['invalid JSON', '{"type"'],
      ['binary bytes', Buffer.from([0xff, 0xfe, 0x00, 0x7b])],
    ])('rejects %s', (_, body) => {
      expect(keycloakParser.detect(request(body))).toBe(false);
    });

    test('never throws on a malformed request', () => {
      const broken = malformedRequest();
      expect(keycloakParser.detect(broken)).toBe(false);
    });
  });

  describe('properties', () => {
    const RUNS = 10_000;

    /** parse gives valid notifications, a skip or a HeraldError; detect a boolean; verify passes or throws a HeraldError. */
    function expectWellBehaved(req: WebhookRequest): void {
      expect(typeof keycloakParser.detect(req)).toBe('boolean');
      passesOrHeraldError(() => verify(req));
      expectResultOrHeraldError(keycloakParser, req, (notification) => {
        expect(notification.routine === undefined || notification.routine === true).toBe(true);
      });
    }

    const headers = fc.oneof(
      fc.constant({}),
      fc.string().map((value) => ({ 'x-keycloak-signature': value })),
      fc.uint8Array({ minLength: 20, maxLength: 32 }).map((bytes) => ({ 'x-keycloak-signature': Buffer.from(bytes).toString('hex') })),
    );
    const text = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom('', ' ', 'jdoe', USER_ID));
    const anyValue = fc.oneof(text, fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.jsonValue({ maxDepth: 2 }));
    const maybe = <T>(arbitrary: fc.Arbitrary<T>) => fc.option(arbitrary, { nil: undefined });
    const accessTypes = fc.constantFrom(
      'LOGIN', 'LOGIN_ERROR', 'REGISTER', 'UPDATE_PASSWORD', 'RESET_PASSWORD', 'UPDATE_TOTP', 'REMOVE_TOTP', 'UPDATE_CREDENTIAL',
      'REMOVE_CREDENTIAL', 'LOGOUT', 'REFRESH_TOKEN', 'CODE_TO_TOKEN', 'INTROSPECT_TOKEN', 'CLIENT_LOGIN', 'CLIENT_LOGIN_ERROR',
      'IMPERSONATE', 'USER_DISABLED_BY_TEMPORARY_LOCKOUT', 'UPDATE_PROFILE', 'CUSTOM_REQUIRED_ACTION_ERROR',
    );
    /** Every routine user event, so that a generated `access.…` type is judged right too. */
    const ROUTINE = [
      'LOGOUT', 'LOGOUT_ERROR', 'REFRESH_TOKEN', 'REFRESH_TOKEN_ERROR', 'CODE_TO_TOKEN', 'CODE_TO_TOKEN_ERROR', 'INTROSPECT_TOKEN',
      'INTROSPECT_TOKEN_ERROR', 'CLIENT_LOGIN', 'VALIDATE_ACCESS_TOKEN', 'VALIDATE_ACCESS_TOKEN_ERROR', 'USER_INFO_REQUEST',
      'USER_INFO_REQUEST_ERROR', 'TOKEN_EXCHANGE', 'TOKEN_EXCHANGE_ERROR', 'PERMISSION_TOKEN', 'PERMISSION_TOKEN_ERROR',
      'OAUTH2_DEVICE_CODE_TO_TOKEN', 'AUTHREQID_TO_TOKEN', 'PUSHED_AUTHORIZATION_REQUEST', 'CLIENT_INFO',
    ];
    const adminTypes = fc
      .tuple(fc.constantFrom('USER', 'CLIENT', 'REALM_ROLE_MAPPING', 'GROUP_MEMBERSHIP', 'REALM', 'CLIENT_SCOPE'), fc.constantFrom('CREATE', 'UPDATE', 'DELETE', 'ACTION'))
      .map(([resource, operation]) => `${resource}-${operation}`);
    const details = fc.oneof(
      anyValue,
      fc.dictionary(fc.constantFrom('username', 'email', 'credential_type', 'identity_provider', 'impersonator', 'updated_email', 'constructor', '__proto__'), anyValue),
    );
    const representation = fc.oneof(
      anyValue,
      fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value)),
      fc.record({ username: anyValue, email: anyValue, name: anyValue, clientId: anyValue, secret: anyValue }, { requiredKeys: [] }).map((value) => JSON.stringify(value)),
      fc.array(fc.oneof(anyValue, fc.record({ name: anyValue, id: anyValue }, { requiredKeys: [] })), { maxLength: 15 }).map((value) => JSON.stringify(value)),
    );
    const authDetails = fc.oneof(
      anyValue,
      fc.record({ realmId: anyValue, clientId: anyValue, userId: anyValue, ipAddress: anyValue, username: anyValue, sessionId: anyValue }, { requiredKeys: [] }),
    );
    const p2Event = fc.record(
      {
        id: maybe(anyValue),
        time: maybe(anyValue),
        realmId: maybe(anyValue),
        realmName: maybe(anyValue),
        authDetails: maybe(authDetails),
        details: maybe(details),
        error: maybe(anyValue),
        uid: maybe(anyValue),
        type: fc.oneof(accessTypes.map((type) => `access.${type}`), adminTypes.map((type) => `admin.${type}`), fc.stringMatching(/^(access|admin|system)\.[A-Za-z0-9_-]{0,12}$/)),
        resourceType: maybe(anyValue),
        operationType: maybe(anyValue),
        resourcePath: maybe(anyValue),
        representation: maybe(representation),
      },
      { requiredKeys: ['type'] },
    );
    const vymaloEvent = fc.record(
      {
        type: fc.oneof(accessTypes, adminTypes),
        realmId: text,
        id: maybe(anyValue),
        time: maybe(anyValue),
        clientId: maybe(anyValue),
        userId: maybe(anyValue),
        ipAddress: maybe(anyValue),
        error: maybe(anyValue),
        details: maybe(details),
        resourcePath: maybe(anyValue),
        representation: maybe(representation),
        sessionId: maybe(anyValue),
      },
      { requiredKeys: ['type', 'realmId'] },
    );

    test('answers arbitrary bytes with notifications, a skip or a HeraldError', () => {
      const bytes = fc.oneof(
        fc.uint8Array({ maxLength: 300 }).map((array) => Buffer.from(array)),
        fc.string({ unit: 'binary' }).map((value) => Buffer.from(value, 'utf8')),
      );
      fc.assert(
        fc.property(bytes, headers, (body, header) => expectWellBehaved(request(body, header))),
        { numRuns: RUNS },
      );
    });

    test('answers arbitrary JSON with notifications, a skip or a HeraldError', () => {
      fc.assert(
        fc.property(fc.jsonValue({ maxDepth: 4 }), headers, (value, header) => expectWellBehaved(request(JSON.stringify(value) ?? '', header))),
        { numRuns: RUNS },
      );
    });

    test('parses every event shaped like either extension’s into a valid notification, flagged routine for token traffic and logouts', () => {
      fc.assert(
        fc.property(fc.oneof(p2Event, vymaloEvent), headers, (payload, header) => {
          const req = request(JSON.stringify(payload), header);
          expectWellBehaved(req);
          const result = keycloakParser.parse(req); // never invalid_body for a well-formed type
          expect(result.kind).toBe('notifications');
          if (result.kind === 'notifications') {
            expect(result.notifications[0].dedupeKey).toMatch(/^keycloak:[A-Za-z0-9-]{1,64}$/);
            const type = payload.type.replace(/^access\./, '');
            const routine = !payload.type.startsWith('admin.') && !payload.type.startsWith('system.') && ROUTINE.includes(type);
            expect(result.notifications[0].routine).toBe(routine ? true : undefined);
          }
        }),
        { numRuns: RUNS },
      );
    });

    test('verifies every body signed with its key, and no body changed after signing', () => {
      fc.assert(
        fc.property(fc.uint8Array({ minLength: 1, maxLength: 200 }), fc.string({ minLength: 1 }), fc.constantFrom('sha256', 'sha1' as const), fc.nat(), (array, key, algorithm, at) => {
          const body = Buffer.from(array);
          const signature = createHmac(algorithm, key).update(body).digest('hex');
          expect(() => verify(request(body, { 'x-keycloak-signature': signature }), key)).not.toThrow();
          const changed = withChangedByte(body, at % body.length);
          expect(thrown(() => verify(request(changed, { 'x-keycloak-signature': signature }), key)).code).toBe('invalid_signature');
        }),
        { numRuns: 1000 },
      );
    });

    test('caps every string to the notification limits', () => {
      const long = 'x'.repeat(5000);
      const payload = p2AdminEvent('USER', 'UPDATE', {
        details: { username: long },
        resourcePath: long,
        representation: JSON.stringify(Object.fromEntries(Array.from({ length: 40 }, (_, index) => [`field${index}`, long]))),
      });
      const { content } = parseOne(signedRequest(payload));
      expect(content.title).toHaveLength(LIMITS.title);
      expect(content.body?.length).toBeLessThanOrEqual(LIMITS.body);
      expect(() => validateNotification(content)).not.toThrow();
    });
  });
});
