import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as fc from 'fast-check';
import { HeraldError } from '../../../lambdas/core/errors';
import { LIMITS, validateNotification } from '../../../lambdas/core/notification';
import type { ParseResult, SourceReply, WebhookRequest } from '../../../lambdas/core/parsers/types';
import { verifyZitadelSignature, zitadelParser } from '../../../lambdas/core/parsers/zitadel';
import { fixtures, malformedRequest, parserHelpers, request, sha256 } from './helpers';

const FIXTURE_NAMES = ['event-user-locked', 'event-session-user-checked', 'request-add-human-user', 'function-preaccesstoken'] as const;
type FixtureName = (typeof FIXTURE_NAMES)[number];

/** The target's signing key in every fixture (`*.meta.json` signing.secret). */
const SIGNING_KEY = 'Hq2cXb7LwP4tRz9sVf1kYm6nJd3gTa8e';
/** `t` of every fixture's signature, and when the fixtures say to verify them (t + 10). */
const SIGNED_AT = 1761905523;
const VERIFY_AT = new Date(1761905533 * 1000);

const IPHONE_SAFARI =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.5 Mobile/15E148 Safari/604.1';

interface FixtureMeta {
  request: { headers: Record<string, string> };
  bodySha256: string;
  signing: { secret: string; timestamp: number; expected: string; verifyAt: number };
}

const { dir: FIXTURES, fixtureBody, fixtureMeta, fixtureRequest } = fixtures<FixtureMeta>('zitadel');
const helpers = parserHelpers(zitadelParser);
const { parseOne, parseError } = helpers;

/** What ZITADEL's `ComputeSignatureHeader` sends, computed here apart from the parser. */
function signatureFor(body: Buffer, t: number, key = SIGNING_KEY): string {
  return `t=${t},v1=${createHmac('sha256', key).update(`${t}.`).update(body).digest('hex')}`;
}

/** A body built from the format, signed as ZITADEL signs it. */
function signedRequest(body: string, t = SIGNED_AT): WebhookRequest {
  const bytes = Buffer.from(body, 'utf8');
  return request(bytes, { 'content-type': 'application/json', 'zitadel-signature': signatureFor(bytes, t) });
}

function verify(req: WebhookRequest, now: Date = VERIFY_AT, key = SIGNING_KEY): void {
  helpers.verify(req, key, now);
}

function verifyError(req: WebhookRequest, now: Date = VERIFY_AT, key = SIGNING_KEY): HeraldError {
  return helpers.verifyError(req, key, now);
}

function replyTo(req: WebhookRequest, result: ParseResult = { kind: 'skip', reason: 'test' }): SourceReply {
  const reply = zitadelParser.reply?.({ request: req, result, notificationIds: [] });
  if (!reply) throw new Error('zitadel must always answer with its own reply');
  return reply;
}

/**
 * Keys ZITADEL reads as error forwarding in a 2xx reply (`HandleResponse`). Go matches JSON keys
 * case-insensitively with Unicode folding, so keys are compared after NFKC and lower-casing, and at
 * every depth, which is stricter than ZITADEL (top level only).
 */
function forwardingKeysIn(json: string): string[] {
  const found: string[] = [];
  const pending: unknown[] = [JSON.parse(json)];
  while (pending.length > 0) {
    const item = pending.pop();
    if (Array.isArray(item)) for (const child of item) pending.push(child);
    else if (item !== null && typeof item === 'object') {
      for (const [key, child] of Object.entries(item)) {
        if (/^forwarded(?:statuscode|errormessage)$/.test(key.normalize('NFKC').toLowerCase())) found.push(key);
        pending.push(child);
      }
    }
  }
  return found;
}

/** Every reply: 200, JSON, never a key that makes ZITADEL fail the call. */
function expectSafeReply(reply: SourceReply): void {
  expect(reply.status).toBe(200);
  expect(reply.headers).toEqual({ 'Content-Type': 'application/json' });
  const parsed: unknown = JSON.parse(reply.body);
  expect(parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)).toBe(true);
  expect(forwardingKeysIn(reply.body)).toEqual([]);
}


// ---- payloads built from the format (idp-formats.md §2), compact as Go's encoding/json writes them ----

const USER_ID = '318426519307524115';
const ORG_ID = '318426519206860819';
const INSTANCE_ID = '318426519206795283';
const ADMIN_ID = '318426519251294227';

/** `AuthRequestInfo` as the password check events carry it. */
const CHECK_FAILED_PAYLOAD =
  `{"id":"318431200011122233","userAgentID":"318431199900011122","selectedIDPConfigID":"","userAgent":"${IPHONE_SAFARI}","acceptLanguage":"de-DE,de;q=0.9","remoteIP":"91.64.23.17"}`;

/** `user.human.password.check.failed`, newest source: `event_payload` inline (`json.RawMessage`). */
const PASSWORD_CHECK_FAILED =
  `{"aggregateID":"${USER_ID}","aggregateType":"user","resourceOwner":"${ORG_ID}","instanceID":"${INSTANCE_ID}","version":"v2","sequence":14,` +
  `"event_type":"user.human.password.check.failed","created_at":"2025-10-31T10:12:02.917734Z","userID":"${USER_ID}","event_payload":${CHECK_FAILED_PAYLOAD}}`;

/** The same event from an older version: `event_payload` is `[]byte`, so base64; RFC3339 with an offset. */
const PASSWORD_CHECK_FAILED_LEGACY =
  `{"aggregateID":"${USER_ID}","aggregateType":"user","resourceOwner":"${ORG_ID}","instanceID":"${INSTANCE_ID}","version":"v2","sequence":14,` +
  `"event_type":"user.human.password.check.failed","created_at":"2025-10-31T11:12:02+01:00","userID":"${USER_ID}",` +
  `"event_payload":"${Buffer.from(CHECK_FAILED_PAYLOAD, 'utf8').toString('base64')}"}`;

/** Like the withheld `event-user-human-added-legacy-base64`: an admin adds a user, base64 payload. */
const HUMAN_ADDED_PAYLOAD =
  '{"userName":"jane.doe@acme-corp.example","firstName":"Jane","lastName":"Doe","displayName":"Jane Doe","preferredLanguage":"de","email":"jane.doe@acme-corp.example"}';
const USER_HUMAN_ADDED_LEGACY =
  `{"aggregateID":"${USER_ID}","aggregateType":"user","resourceOwner":"${ORG_ID}","instanceID":"${INSTANCE_ID}","version":"v2","sequence":1,` +
  `"event_type":"user.human.added","created_at":"2025-10-30T16:40:12+01:00","userID":"${ADMIN_ID}",` +
  `"event_payload":"${Buffer.from(HUMAN_ADDED_PAYLOAD, 'utf8').toString('base64')}"}`;

/** An event without data: `event_payload` is left out (`omitempty`). */
const USER_UNLOCKED =
  `{"aggregateID":"${USER_ID}","aggregateType":"user","resourceOwner":"${ORG_ID}","instanceID":"${INSTANCE_ID}","version":"v2","sequence":16,` +
  `"event_type":"user.unlocked","created_at":"2025-10-31T10:20:00.000001Z","userID":"${ADMIN_ID}"}`;

/** The docs' request example: snake_case, as older versions marshalled the Go struct; no headers. */
const SNAKE_CASE_REQUEST =
  `{"fullMethod":"/zitadel.user.v2.UserService/AddHumanUser","instanceID":"${INSTANCE_ID}","orgID":"${ORG_ID}","projectID":"318426519240349203","userID":"${ADMIN_ID}",` +
  `"request":{"organization":{"org_id":"${ORG_ID}"},"profile":{"given_name":"Jane","family_name":"Doe"},"email":{"email":"jane.doe@acme-corp.example","Verification":{"SendCode":{}}}}}`;

function event(fields: Record<string, unknown>): string {
  return JSON.stringify({
    aggregateID: USER_ID,
    aggregateType: 'user',
    resourceOwner: ORG_ID,
    instanceID: INSTANCE_ID,
    version: 'v2',
    sequence: 20,
    event_type: 'user.human.email.changed',
    created_at: '2025-10-31T10:30:00Z',
    userID: USER_ID,
    ...fields,
  });
}

function call(fields: Record<string, unknown>): string {
  return JSON.stringify({
    fullMethod: '/zitadel.user.v2.UserService/AddHumanUser',
    instanceID: INSTANCE_ID,
    orgID: ORG_ID,
    projectID: '318426519240349203',
    userID: ADMIN_ID,
    ...fields,
  });
}

function jws(json: string): string {
  const segment = (text: string) => Buffer.from(text, 'utf8').toString('base64url');
  return `${segment('{"alg":"RS256","kid":"318400000000000001"}')}.${segment(json)}.${segment('not checked here')}`;
}

describe('zitadel fixtures', () => {
  test.each(FIXTURE_NAMES)('%s is a byte-exact copy', (name) => {
    expect(sha256(fixtureBody(name))).toBe(fixtureMeta(name).bodySha256);
  });

  test.each(FIXTURE_NAMES)('%s was signed with the key, time and header these tests use', (name) => {
    const { signing, request: sent } = fixtureMeta(name);
    expect([signing.secret, signing.timestamp, signing.verifyAt * 1000]).toEqual([SIGNING_KEY, SIGNED_AT, VERIFY_AT.getTime()]);
    expect(sent.headers['Zitadel-Signature']).toBe(signing.expected);
    expect(signatureFor(fixtureBody(name), SIGNED_AT)).toBe(signing.expected);
  });
});

describe('zitadelParser', () => {
  test('is named zitadel with its aliases', () => {
    expect(zitadelParser.name).toBe('zitadel');
    expect(zitadelParser.aliases).toEqual(['ZITADEL', 'zitadel-actions']);
    expect(zitadelParser.auth?.kind).toBe('signature');
  });

  describe('signature', () => {
    test.each(FIXTURE_NAMES)('accepts %s at verifyAt', (name) => {
      expect(() => verify(fixtureRequest(name))).not.toThrow();
    });

    test.each(FIXTURE_NAMES)('refuses %s with one body byte changed', (name) => {
      const req = fixtureRequest(name);
      const body = Buffer.from(req.body);
      body[body.length >> 1] ^= 0x01;
      expect(verifyError({ ...req, body }).code).toBe('invalid_signature');
    });

    test.each(FIXTURE_NAMES)('refuses %s with one signature hex digit changed', (name) => {
      const req = fixtureRequest(name);
      const header = req.headers['zitadel-signature'];
      const last = header.slice(-1);
      const changed = `${header.slice(0, -1)}${last === '0' ? '1' : '0'}`;
      expect(verifyError({ ...req, headers: { ...req.headers, 'zitadel-signature': changed } }).code).toBe('invalid_signature');
    });

    test.each(FIXTURE_NAMES)('refuses %s more than 300 s after it was signed', (name) => {
      const error = verifyError(fixtureRequest(name), new Date((SIGNED_AT + 301) * 1000));
      expect(error.code).toBe('signature_expired');
      expect(error.message).toMatch(/301 s old; the tolerance is 300 s/);
    });

    test('accepts a signature exactly 300 s old', () => {
      expect(() => verify(fixtureRequest('event-user-locked'), new Date((SIGNED_AT + 300) * 1000))).not.toThrow();
    });

    test('refuses a timestamp more than 300 s in the future', () => {
      const error = verifyError(fixtureRequest('event-user-locked'), new Date((SIGNED_AT - 301) * 1000));
      expect(error.code).toBe('signature_expired');
      expect(error.message).toMatch(/in the future/);
    });

    test('calls a forgery invalid even when it is also old', () => {
      const req = signedRequest(USER_UNLOCKED);
      expect(verifyError(req, new Date((SIGNED_AT + 10_000) * 1000), 'another key').code).toBe('invalid_signature');
    });

    test('refuses another signing key', () => {
      expect(verifyError(fixtureRequest('event-user-locked'), VERIFY_AT, 'rotated-key').code).toBe('invalid_signature');
    });

    test('refuses an empty signing key, with which anyone could sign', () => {
      const body = fixtureBody('event-user-locked');
      const req = request(body, { 'zitadel-signature': signatureFor(body, SIGNED_AT, '') });
      expect(verifyError(req, VERIFY_AT, '').code).toBe('invalid_signature');
    });

    test('accepts the X-ZITADEL-Signature spelling of the proto comment', () => {
      const req = fixtureRequest('request-add-human-user');
      const headers = { 'x-zitadel-signature': req.headers['zitadel-signature'] };
      expect(() => verify({ ...req, headers })).not.toThrow();
    });

    test('reads header names in any case', () => {
      const req = fixtureRequest('event-user-locked');
      expect(() => verify({ ...req, headers: { 'Zitadel-Signature': req.headers['zitadel-signature'] } })).not.toThrow();
    });

    test('accepts any matching v1 among several', () => {
      const req = fixtureRequest('event-session-user-checked');
      const [t, v1] = req.headers['zitadel-signature'].split(',');
      for (const header of [`${t},v1=${'00'.repeat(32)},${v1}`, `${t},${v1},v1=${'ab'.repeat(32)}`, `${t}, ${v1}, v0=ignored`]) {
        expect(() => verify({ ...req, headers: { 'zitadel-signature': header } })).not.toThrow();
      }
    });

    test('accepts a header that arrived twice, comma-joined', () => {
      const req = fixtureRequest('event-user-locked');
      const header = req.headers['zitadel-signature'];
      expect(() => verify({ ...req, headers: { 'zitadel-signature': `${header},${header}` } })).not.toThrow();
    });

    test('refuses a missing header', () => {
      const error = verifyError(request(fixtureBody('event-user-locked')));
      expect(error.code).toBe('invalid_signature');
      expect(error.message).toMatch(/header is missing/);
    });

    test.each([
      ['no timestamp', `v1=${'ab'.repeat(32)}`],
      ['no v1', `t=${SIGNED_AT}`],
      ['a timestamp that is not a number', `t=yesterday,v1=${'ab'.repeat(32)}`],
      ['two different timestamps', `t=${SIGNED_AT},t=${SIGNED_AT + 1},v1=${'ab'.repeat(32)}`],
      ['the docs’ sha256= form', `sha256=${'ab'.repeat(32)}`],
      ['an empty value', ''],
      ['an overlong value', `t=${SIGNED_AT},${'v1=ab,'.repeat(2000)}`],
    ])('refuses a header with %s', (_, header) => {
      const req = request(fixtureBody('event-user-locked'), { 'zitadel-signature': header });
      expect(verifyError(req).code).toBe('invalid_signature');
    });

    test('refuses a v1 that is not hex', () => {
      const req = request(fixtureBody('event-user-locked'), { 'zitadel-signature': `t=${SIGNED_AT},v1=zz${'ab'.repeat(31)}` });
      expect(verifyError(req).code).toBe('invalid_signature');
    });

    test('signs the raw bytes, never a re-encoding', () => {
      // Go escapes <, > and & and a proxy may add whitespace: both must verify as sent.
      const body = `{ "aggregateID": "${USER_ID}", "event_type": "user.human.added", "event_payload": {"displayName": "Jane \\u003cJ\\u0026D\\u003e"} }\n`;
      const req = signedRequest(body);
      expect(() => verify(req)).not.toThrow();
      expect(parseOne(req).content.subtitle).toBe('Jane <J&D>');
      const reencoded = Buffer.from(JSON.stringify(JSON.parse(body)), 'utf8');
      expect(verifyError({ ...req, body: reencoded }).code).toBe('invalid_signature');
    });

    test('is exported as verifyZitadelSignature', () => {
      expect(() => verifyZitadelSignature(fixtureRequest('event-user-locked'), SIGNING_KEY, VERIFY_AT)).not.toThrow();
    });

    test('throws only HeraldError on a malformed request', () => {
      const broken = { body: undefined, headers: { 'zitadel-signature': `t=${SIGNED_AT},v1=00` }, query: {} } as unknown as WebhookRequest;
      expect(verifyError(broken).code).toBe('invalid_signature');
      expect(verifyError({ headers: undefined } as unknown as WebhookRequest).code).toBe('invalid_signature');
      expect(verifyError(fixtureRequest('event-user-locked'), new Date(Number.NaN)).code).toBe('invalid_signature');
    });
  });

  describe('event executions', () => {
    test('titles user.locked critical, naming the user and organization', () => {
      const parsed = parseOne(fixtureRequest('event-user-locked'));
      expect(parsed.content).toEqual({
        title: 'User locked',
        subtitle: `User ${USER_ID}`,
        body: [
          `User: ${USER_ID}`,
          `Organization: ${ORG_ID}`,
          `Instance: ${INSTANCE_ID}`,
          'Time: 2025-10-31T10:12:03.530117Z',
          'Event: user.locked (sequence 15)',
        ].join('\n'),
        deliveryType: 'CRITICAL',
        tags: ['zitadel', 'user.locked'],
      });
      expect(parsed.dedupeKey).toBe(`zitadel:${INSTANCE_ID}:user:${USER_ID}:15`);
      expect('routine' in parsed).toBe(false);
    });

    test('titles session.user.checked as a sign-in by the payload’s user, not the event creator', () => {
      const parsed = parseOne(fixtureRequest('event-session-user-checked'));
      expect(parsed.content).toEqual({
        title: 'Sign-in: user checked',
        subtitle: `User ${USER_ID}`,
        body: [
          `User: ${USER_ID}`,
          'Session: 318431122334455667',
          // The user's organization (userResourceOwner): a session's resourceOwner is the instance.
          `Organization: ${ORG_ID}`,
          `Instance: ${INSTANCE_ID}`,
          'Performed by: 318428888777766665',
          'Time: 2025-10-31T10:12:01.104332Z',
          'Event: session.user.checked (sequence 2)',
        ].join('\n'),
        deliveryType: 'NORMAL',
        tags: ['zitadel', 'session.user.checked'],
      });
      expect(parsed.dedupeKey).toBe(`zitadel:${INSTANCE_ID}:session:318431122334455667:2`);
      expect('routine' in parsed).toBe(false);
    });

    test('titles user.human.password.check.failed critical, with user agent and IP (inline payload)', () => {
      const parsed = parseOne(signedRequest(PASSWORD_CHECK_FAILED));
      expect(parsed.content).toEqual({
        title: 'Password check failed',
        subtitle: `User ${USER_ID}`,
        body: [
          `User: ${USER_ID}`,
          `User agent: ${IPHONE_SAFARI}`,
          'IP: 91.64.23.17',
          `Organization: ${ORG_ID}`,
          `Instance: ${INSTANCE_ID}`,
          'Time: 2025-10-31T10:12:02.917734Z',
          'Event: user.human.password.check.failed (sequence 14)',
        ].join('\n'),
        deliveryType: 'CRITICAL',
        tags: ['zitadel', 'user.human.password.check.failed'],
      });
      expect(parsed.dedupeKey).toBe(`zitadel:${INSTANCE_ID}:user:${USER_ID}:14`);
    });

    test('reads the legacy base64 event_payload as the inline one', () => {
      const req = signedRequest(PASSWORD_CHECK_FAILED_LEGACY);
      expect(() => verify(req)).not.toThrow();
      const legacy = parseOne(req);
      const inline = parseOne(signedRequest(PASSWORD_CHECK_FAILED));
      expect(legacy.content).toEqual({
        ...inline.content,
        body: inline.content.body?.replace('Time: 2025-10-31T10:12:02.917734Z', 'Time: 2025-10-31T11:12:02+01:00'),
      });
      expect(legacy.dedupeKey).toBe(inline.dedupeKey);
    });

    test('titles a user added by an admin with the names from a base64 payload', () => {
      const parsed = parseOne(signedRequest(USER_HUMAN_ADDED_LEGACY));
      expect(parsed.content).toEqual({
        title: 'User added',
        subtitle: 'Jane Doe',
        body: [
          `User: jane.doe@acme-corp.example (${USER_ID})`,
          'Name: Jane Doe',
          `Organization: ${ORG_ID}`,
          `Instance: ${INSTANCE_ID}`,
          `Performed by: ${ADMIN_ID}`,
          'Time: 2025-10-30T16:40:12+01:00',
          'Event: user.human.added (sequence 1)',
        ].join('\n'),
        deliveryType: 'NORMAL',
        tags: ['zitadel', 'user.human.added'],
      });
    });

    test('titles a self-registration', () => {
      const payload = { userName: 'max', firstName: 'Max', lastName: 'Muster', email: 'max@example.com' };
      const { content } = parseOne(signedRequest(event({ event_type: 'user.human.selfregistered', event_payload: payload })));
      expect(content).toMatchObject({ title: 'User registered', subtitle: 'Max Muster', deliveryType: 'NORMAL' });
      expect(content.body).toMatch(/^User: max \(318426519307524115\)\nName: Max Muster\nEmail: max@example\.com\n/);
    });

    test('titles an event without event_payload', () => {
      const parsed = parseOne(signedRequest(USER_UNLOCKED));
      expect(parsed.content).toEqual({
        title: 'User unlocked',
        subtitle: `User ${USER_ID}`,
        body: [
          `User: ${USER_ID}`,
          `Organization: ${ORG_ID}`,
          `Instance: ${INSTANCE_ID}`,
          `Performed by: ${ADMIN_ID}`,
          'Time: 2025-10-31T10:20:00.000001Z',
          'Event: user.unlocked (sequence 16)',
        ].join('\n'),
        deliveryType: 'NORMAL',
        tags: ['zitadel', 'user.unlocked'],
      });
      expect(parsed.dedupeKey).toBe(`zitadel:${INSTANCE_ID}:user:${USER_ID}:16`);
    });

    test('titles a password change without showing the hash its payload carries', () => {
      const payload = { encodedHash: '$argon2id$v=19$m=65536,t=1,p=4$c2VjcmV0$aGFzaA', changeRequired: false, userAgentID: 'ua1' };
      const { content } = parseOne(signedRequest(event({ event_type: 'user.human.password.changed', event_payload: payload })));
      expect(content).toMatchObject({ title: 'Password changed', deliveryType: 'NORMAL' });
      expect(JSON.stringify(content)).not.toMatch(/argon2id/);
    });

    test.each([
      ['user.human.mfa.otp.check.failed', 'MFA check failed (TOTP)'],
      ['user.human.mfa.u2f.token.check.failed', 'MFA check failed (security key)'],
      ['user.human.otp.sms.check.failed', 'MFA check failed (SMS code)'],
      ['user.human.passwordless.token.check.failed', 'Passkey check failed'],
      ['user.human.mfa.recovery.code.check.failed', 'MFA recovery code check failed'],
    ])('makes %s critical', (eventType, title) => {
      const { content } = parseOne(signedRequest(event({ event_type: eventType, event_payload: JSON.parse(CHECK_FAILED_PAYLOAD) })));
      expect(content).toMatchObject({ title, deliveryType: 'CRITICAL', tags: ['zitadel', eventType] });
      expect(content.body).toContain('IP: 91.64.23.17');
    });

    test('titles session.password.checked, whose payload names no user', () => {
      const body = event({ aggregateID: '318431122334455667', aggregateType: 'session', resourceOwner: INSTANCE_ID, event_type: 'session.password.checked', event_payload: { checkedAt: '2025-10-31T10:12:02Z' } });
      const { content } = parseOne(signedRequest(body));
      expect(content).toMatchObject({ title: 'Sign-in: password checked', deliveryType: 'NORMAL' });
      expect(content.subtitle).toBeUndefined();
      expect(content.body?.split('\n')[0]).toBe('Session: 318431122334455667');
    });

    test('titles session.added with the session’s user agent', () => {
      const payload = { user_agent: { fingerprint_id: 'fp1', ip: '91.64.23.17', description: IPHONE_SAFARI, header: { 'User-Agent': [IPHONE_SAFARI] } } };
      const body = event({ aggregateID: '318431122334455667', aggregateType: 'session', resourceOwner: INSTANCE_ID, event_type: 'session.added', event_payload: payload });
      const { content } = parseOne(signedRequest(body));
      expect(content).toMatchObject({ title: 'Sign-in started', deliveryType: 'NORMAL' });
      // A session's resourceOwner is the instance, and this payload names no user organization.
      expect(content.body).toContain(`Session: 318431122334455667\nUser agent: ${IPHONE_SAFARI}\nIP: 91.64.23.17\nInstance: ${INSTANCE_ID}\n`);
    });

    test.each([
      ['user.human.email.changed', 'Email changed'],
      ['user.human.mfa.otp.added', 'MFA OTP added'],
      ['user.token.added', 'Token added'],
      ['session.otp.sms.challenged', 'Session OTP SMS challenged'],
      ['session.recovery.checked', 'Sign-in: recovery checked'],
      ['org.domain.verified', 'Organization domain verified'],
      ['project.added', 'Project added'],
      ['constructor', 'Constructor'],
      ['__proto__', '__proto__'],
      ['...', 'ZITADEL event'],
    ])('titles an unknown event %s readably', (eventType, title) => {
      const { content } = parseOne(signedRequest(event({ event_type: eventType })));
      expect(content).toMatchObject({ title, deliveryType: 'NORMAL' });
    });

    test('names a non-user aggregate and leaves out what repeats it', () => {
      const body = event({ aggregateID: ORG_ID, aggregateType: 'org', resourceOwner: ORG_ID, event_type: 'org.added', event_payload: { name: 'ACME Corp' } });
      const { content } = parseOne(signedRequest(body));
      expect(content.title).toBe('Organization added');
      expect(content.body).toBe([`Organization: ${ORG_ID}`, `Instance: ${INSTANCE_ID}`, `Performed by: ${USER_ID}`, 'Time: 2025-10-31T10:30:00Z', 'Event: org.added (sequence 20)'].join('\n'));
    });

    test('keeps a uint64 sequence exactly in the dedupe key', () => {
      const body = event({ sequence: 0 }).replace('"sequence":0', '"sequence":18446744073709551615');
      expect(parseOne(signedRequest(body)).dedupeKey).toBe(`zitadel:${INSTANCE_ID}:user:${USER_ID}:18446744073709551615`);
    });

    test('keys events of two aggregate types with the same id and sequence apart', () => {
      // The sequence counts per aggregate, and an aggregate is its type and id.
      const org = parseOne(signedRequest(event({ aggregateID: ORG_ID, aggregateType: 'org', event_type: 'org.added', sequence: 3 })));
      const project = parseOne(signedRequest(event({ aggregateID: ORG_ID, aggregateType: 'project', event_type: 'project.added', sequence: 3 })));
      expect(org.dedupeKey).toBe(`zitadel:${INSTANCE_ID}:org:${ORG_ID}:3`);
      expect(project.dedupeKey).toBe(`zitadel:${INSTANCE_ID}:project:${ORG_ID}:3`);
    });

    test('leaves an absent instance or aggregate type empty in the dedupe key', () => {
      expect(parseOne(signedRequest(event({ aggregateType: undefined }))).dedupeKey).toBe(`zitadel:${INSTANCE_ID}::${USER_ID}:20`);
      expect(parseOne(signedRequest(event({ instanceID: undefined, aggregateType: undefined }))).dedupeKey).toBe(`zitadel:::${USER_ID}:20`);
    });

    test('keys an event without a sequence by its bytes', () => {
      const body = event({ sequence: undefined });
      expect(parseOne(signedRequest(body)).dedupeKey).toBe(`zitadel:${sha256(body)}`);
    });

    test('hashes ids that are not plain into the dedupe key', () => {
      const parsed = parseOne(signedRequest(event({ aggregateID: 'x:'.repeat(100) })));
      expect(parsed.dedupeKey).toBe(`zitadel:${sha256(JSON.stringify([INSTANCE_ID, 'user', 'x:'.repeat(100), '20']))}`);
    });

    test('hashes an aggregate type that is not plain into the dedupe key', () => {
      const parsed = parseOne(signedRequest(event({ aggregateType: 'a:b' })));
      expect(parsed.dedupeKey).toBe(`zitadel:${sha256(JSON.stringify([INSTANCE_ID, 'a:b', USER_ID, '20']))}`);
      const other = parseOne(signedRequest(event({ aggregateType: 'a', aggregateID: `b:${USER_ID}` })));
      expect(other.dedupeKey).not.toBe(parsed.dedupeKey);
    });

    test('still notifies when event_payload is unreadable', () => {
      const { content } = parseOne(signedRequest(event({ event_type: 'user.locked', event_payload: 'not base64 or JSON!' })));
      expect(content.title).toBe('User locked');
    });

    test('caps every string to the notification limits', () => {
      const long = '😀'.repeat(20_000);
      const body = event({ event_type: `user.${long}`, event_payload: { userName: long, displayName: long, userAgent: long, remoteIP: long }, created_at: long, resourceOwner: long });
      const { content } = parseOne(signedRequest(body));
      expect(content.title.length).toBeLessThanOrEqual(LIMITS.title);
      expect(content.title.endsWith('…')).toBe(true);
      expect(content.subtitle?.length).toBeLessThanOrEqual(LIMITS.subtitle);
      expect(content.body?.length).toBeLessThanOrEqual(LIMITS.body);
      expect((content.tags as string[])[1]).toHaveLength(LIMITS.tag);
      expect(() => validateNotification(content)).not.toThrow();
    });
  });

  describe('request and response executions', () => {
    test('names the method and the new user of a request execution', () => {
      const parsed = parseOne(fixtureRequest('request-add-human-user'));
      expect(parsed.content).toEqual({
        title: 'AddHumanUser requested',
        subtitle: 'Jane Doe',
        body: [
          'Name: Jane Doe',
          'Email: jane.doe@acme-corp.example',
          'Method: /zitadel.user.v2.UserService/AddHumanUser',
          `Organization: ${ORG_ID}`,
          'Project: 318426519240349203',
          `Instance: ${INSTANCE_ID}`,
          `Caller: ${ADMIN_ID}`,
          'Origin: https://console.acme-corp.example',
          'Client IP: 91.64.23.17',
        ].join('\n'),
        deliveryType: 'NORMAL',
        tags: ['zitadel', 'AddHumanUser'],
      });
      expect(parsed.dedupeKey).toBeUndefined();
    });

    test('reads an older, snake_case request without headers', () => {
      const parsed = parseOne(signedRequest(SNAKE_CASE_REQUEST));
      expect(parsed.content).toEqual({
        title: 'AddHumanUser requested',
        subtitle: 'Jane Doe',
        body: [
          'Name: Jane Doe',
          'Email: jane.doe@acme-corp.example',
          'Method: /zitadel.user.v2.UserService/AddHumanUser',
          `Organization: ${ORG_ID}`,
          'Project: 318426519240349203',
          `Instance: ${INSTANCE_ID}`,
          `Caller: ${ADMIN_ID}`,
        ].join('\n'),
        deliveryType: 'NORMAL',
        tags: ['zitadel', 'AddHumanUser'],
      });
    });

    test('reads v1 names and a v2 CreateUser human', () => {
      const v1 = call({ fullMethod: '/zitadel.management.v1.ManagementService/AddHumanUser', request: { user_name: 'jdoe', profile: { first_name: 'Jane', last_name: 'Doe' }, email: { email: 'j@x.example' } } });
      expect(parseOne(signedRequest(v1)).content).toMatchObject({ title: 'AddHumanUser requested', subtitle: 'Jane Doe' });
      expect(parseOne(signedRequest(v1)).content.body).toMatch(/^Name: Jane Doe\nUsername: jdoe\nEmail: j@x\.example\n/);
      const v2 = call({ fullMethod: '/zitadel.user.v2.UserService/CreateUser', request: { organizationId: ORG_ID, username: 'max', human: { profile: { givenName: 'Max', familyName: 'Muster' }, email: { email: 'max@example.com' } } } });
      expect(parseOne(signedRequest(v2)).content).toMatchObject({ title: 'CreateUser requested', subtitle: 'Max Muster' });
    });

    test('never shows request fields it does not name, such as a new password', () => {
      const body = call({ fullMethod: '/zitadel.user.v2.UserService/SetPassword', request: { userId: USER_ID, newPassword: { password: 'Sup3r-Secret!', changeRequired: false } } });
      const { content } = parseOne(signedRequest(body));
      expect(content.title).toBe('SetPassword requested');
      expect(content.body).toContain(`User ID: ${USER_ID}`);
      expect(JSON.stringify(content)).not.toContain('Sup3r-Secret!');
    });

    test('titles a response execution low-key with the new user’s id', () => {
      const request = JSON.parse(fixtureBody('request-add-human-user').toString('utf8'));
      const body = JSON.stringify({ ...request, response: { userId: USER_ID, details: { sequence: '1', resourceOwner: ORG_ID } } });
      const parsed = parseOne(signedRequest(body));
      expect(parsed.content).toMatchObject({ title: 'AddHumanUser completed', subtitle: 'Jane Doe', deliveryType: 'NORMAL', tags: ['zitadel', 'AddHumanUser'] });
      expect(parsed.content.body).toContain(`User ID: ${USER_ID}\nMethod: /zitadel.user.v2.UserService/AddHumanUser`);
      expect(parsed.dedupeKey).toBeUndefined();
    });

    test('reads a JWT payload (compact JWS) as its JSON', () => {
      const json = fixtureBody('request-add-human-user').toString('utf8');
      const req = signedRequest(jws(json));
      expect(() => verify(req)).not.toThrow();
      expect(zitadelParser.detect(request(req.body))).toBe(true);
      expect(parseOne(req)).toEqual(parseOne(fixtureRequest('request-add-human-user')));
    });
  });

  describe('function executions', () => {
    test('gives function/preaccesstoken, which runs on every token issuance, as a routine notification', () => {
      expect(parseOne(fixtureRequest('function-preaccesstoken'))).toEqual({
        content: {
          title: 'Token issued: Jane Doe',
          subtitle: 'ACME Corp',
          body: [`User: jane.doe@acme-corp.example (${USER_ID})`, 'Name: Jane Doe', `Organization: ACME Corp (${ORG_ID})`, 'Function: function/preaccesstoken'].join('\n'),
          deliveryType: 'NORMAL',
          tags: ['zitadel', 'preaccesstoken'],
        },
        routine: true,
      });
    });

    test.each([
      ['function/preuserinfo', 'Userinfo requested: Jane Doe'],
      ['function/presamlresponse', 'SAML response issued: Jane Doe'],
    ])('gives %s as a routine notification titled "%s"', (name, title) => {
      const body = JSON.parse(fixtureBody('function-preaccesstoken').toString('utf8'));
      const parsed = parseOne(signedRequest(JSON.stringify({ ...body, function: name })));
      expect(parsed.routine).toBe(true);
      expect(parsed.dedupeKey).toBeUndefined();
      expect(parsed.content).toMatchObject({ title, subtitle: 'ACME Corp', deliveryType: 'NORMAL', tags: ['zitadel', name.slice('function/'.length)] });
    });

    test('titles a routine function without a user or organization by what happened', () => {
      const parsed = parseOne(signedRequest(JSON.stringify({ function: 'function/preaccesstoken' })));
      expect(parsed).toEqual({
        content: { title: 'Token issued', body: 'Function: function/preaccesstoken', deliveryType: 'NORMAL', tags: ['zitadel', 'preaccesstoken'] },
        routine: true,
      });
    });

    test('names the user of a routine function by userinfo alone', () => {
      const parsed = parseOne(signedRequest(JSON.stringify({ function: 'function/preuserinfo', userinfo: { sub: USER_ID, preferred_username: 'jdoe' }, org: { id: ORG_ID } })));
      expect(parsed.content).toMatchObject({ title: 'Userinfo requested: jdoe', subtitle: ORG_ID });
      expect(parsed.routine).toBe(true);
    });

    test('notifies low-key of a function it does not know', () => {
      const body = JSON.parse(fixtureBody('function-preaccesstoken').toString('utf8'));
      const { content, dedupeKey } = parseOne(signedRequest(JSON.stringify({ ...body, function: 'function/prefuture' })));
      expect(content).toEqual({
        title: 'ZITADEL function: prefuture',
        subtitle: 'Jane Doe',
        body: [`User: jane.doe@acme-corp.example (${USER_ID})`, 'Name: Jane Doe', `Organization: ACME Corp (${ORG_ID})`, 'Function: function/prefuture'].join('\n'),
        deliveryType: 'NORMAL',
        tags: ['zitadel', 'prefuture'],
      });
      expect(dedupeKey).toBeUndefined();
    });

    test('flags neither an unknown function nor a request execution routine', () => {
      const body = JSON.parse(fixtureBody('function-preaccesstoken').toString('utf8'));
      expect('routine' in parseOne(signedRequest(JSON.stringify({ ...body, function: 'function/prefuture' })))).toBe(false);
      expect('routine' in parseOne(fixtureRequest('request-add-human-user'))).toBe(false);
    });
  });

  describe('validation', () => {
    const built = [PASSWORD_CHECK_FAILED, PASSWORD_CHECK_FAILED_LEGACY, USER_HUMAN_ADDED_LEGACY, USER_UNLOCKED, SNAKE_CASE_REQUEST];

    test.each(FIXTURE_NAMES)('%s gives a valid notification', (name) => {
      expect(() => validateNotification(parseOne(fixtureRequest(name)).content)).not.toThrow();
    });

    test.each(built.map((body, index) => [index, body]))('built case %i gives a valid, verifiable notification', (_, body) => {
      const req = signedRequest(body);
      expect(() => verify(req)).not.toThrow();
      expect(() => validateNotification(parseOne(req).content)).not.toThrow();
    });
  });

  describe('invalid body', () => {
    test.each([
      ['invalid JSON', '{"aggregateID": '],
      ['empty bytes', ''],
      ['a JSON array', '[{"aggregateID":"1","event_type":"user.locked"}]'],
      ['a JSON string', '"user.locked"'],
      ['an event without aggregateID', '{"event_type":"user.locked"}'],
      ['a call to another service', '{"fullMethod":"/grpc.health.v1.Health/Check","request":{}}'],
      ['a function without the function/ prefix', '{"function":"preuserinfo"}'],
      ['authentik’s body', '{"body": "login: {}", "severity": "notice", "user_username": "jdoe"}'],
      ['a JWS of a non-object', jws('[1,2]')],
    ])('throws invalid_body for %s', (_, body) => {
      const error = parseError(request(body));
      expect(error.code).toBe('invalid_body');
      expect(error.message).toMatch(/^zitadel: /);
    });

    test('explains that a JWE cannot be read', () => {
      const error = parseError(request('eyJhbGciOiJSU0EtT0FFUC0yNTYifQ.a2V5.aXY.Y2lwaGVy.dGFn'));
      expect(error.code).toBe('invalid_body');
      expect(error.message).toMatch(/JWE/);
    });
  });

  describe('detect', () => {
    test.each(FIXTURE_NAMES)('recognises %s by its body alone', (name) => {
      expect(zitadelParser.detect(request(fixtureBody(name)))).toBe(true);
    });

    test.each(['zitadel-signature', 'x-zitadel-signature'])('recognises the %s header', (header) => {
      expect(zitadelParser.detect(request('{}', { [header]: `t=${SIGNED_AT},v1=00` }))).toBe(true);
    });

    test.each([
      ['authentik’s body', '{"body": "login: {}", "severity": "notice", "user_username": "jdoe"}'],
      ['Keycloak’s event', '{"id":"e1","type":"LOGIN","realmId":"r","userId":"u"}'],
      ['a call to another service', '{"fullMethod":"/grpc.health.v1.Health/Check"}'],
      ['invalid JSON', '{"aggregateID"'],
      ['binary bytes', Buffer.from([0xff, 0xfe, 0x00, 0x7b])],
    ])('rejects %s', (_, body) => {
      expect(zitadelParser.detect(request(body))).toBe(false);
    });

    test('never throws on a malformed request', () => {
      const broken = malformedRequest();
      expect(zitadelParser.detect(broken)).toBe(false);
    });
  });

  describe('reply', () => {
    test('echoes the original request, byte for byte, for a request execution', () => {
      const req = fixtureRequest('request-add-human-user');
      const reply = replyTo(req, zitadelParser.parse(req));
      expectSafeReply(reply);
      const text = req.body.toString('utf8');
      const original = text.slice(text.indexOf('"request":') + '"request":'.length, text.indexOf(',"headers":'));
      expect(reply.body).toBe(original);
      expect(JSON.parse(reply.body)).toEqual(JSON.parse(text).request);
    });

    test('echoes Go’s escapes and uint64 numbers as sent', () => {
      const body = call({ request: { profile: { givenName: 'Jane' } } }).replace('"givenName":"Jane"', '"givenName":"J\\u0026D","seq":18446744073709551615');
      const reply = replyTo(signedRequest(body));
      expectSafeReply(reply);
      expect(reply.body).toBe('{"profile":{"givenName":"J\\u0026D","seq":18446744073709551615}}');
    });

    test('echoes the original response for a response execution', () => {
      const response = { userId: USER_ID, details: { sequence: '1', changeDate: '2025-10-31T10:12:03Z', resourceOwner: ORG_ID } };
      const body = call({ request: { profile: { givenName: 'Jane' } }, response });
      const reply = replyTo(signedRequest(body));
      expectSafeReply(reply);
      expect(JSON.parse(reply.body)).toEqual(response);
    });

    test('answers a function execution with {} – a valid restCall reply that sets and appends nothing', () => {
      const req = fixtureRequest('function-preaccesstoken');
      const reply = replyTo(req, zitadelParser.parse(req));
      expectSafeReply(reply);
      expect(reply.body).toBe('{}');
      // What a restCall target may return (function-preaccesstoken.response.json): only these keys.
      const example = JSON.parse(readFileSync(join(FIXTURES, 'function-preaccesstoken.response.json'), 'utf8'));
      const allowed = ['set_user_metadata', 'append_claims', 'append_log_claims'];
      expect(Object.keys(example).every((key) => allowed.includes(key))).toBe(true);
      expect(Object.keys(JSON.parse(reply.body)).every((key) => allowed.includes(key))).toBe(true);
    });

    test.each(['event-user-locked', 'event-session-user-checked'] satisfies FixtureName[])('answers the event %s with {}', (name) => {
      const req = fixtureRequest(name);
      const reply = replyTo(req, zitadelParser.parse(req));
      expectSafeReply(reply);
      expect(reply.body).toBe('{}');
    });

    test('answers a body it cannot read with {}', () => {
      for (const body of ['', 'not json', '[]', '{"fullMethod":"/zitadel.x/Y","request":"not an object"}']) {
        const reply = replyTo(request(body));
        expectSafeReply(reply);
        expect(reply.body).toBe('{}');
      }
    });

    test('strips the error-forwarding keys, in any case and depth, from an echoed request', () => {
      const hostile = {
        profile: { givenName: 'Jane', forwardedStatusCode: 403 },
        forwardedStatusCode: 403,
        ForwardedErrorMessage: 'denied',
        FORWARDEDSTATUSCODE: 401,
        'forwardedStatu\u017FCode': 403, // Go folds ſ to s
        metadata: [{ forwardederrormessage: 'x', key: 'k' }],
        email: { email: 'jane@example.com' },
      };
      const body = call({ request: hostile });
      expect(forwardingKeysIn(body).length).toBeGreaterThan(0);
      const reply = replyTo(signedRequest(body));
      expectSafeReply(reply);
      expect(JSON.parse(reply.body)).toEqual({ profile: { givenName: 'Jane' }, metadata: [{ key: 'k' }], email: { email: 'jane@example.com' } });
    });

    test('strips the error-forwarding keys from an echoed response', () => {
      const body = call({ request: {}, response: { userId: USER_ID, forwardedStatusCode: 400, forwardedErrorMessage: 'no' } });
      const reply = replyTo(signedRequest(body));
      expectSafeReply(reply);
      expect(JSON.parse(reply.body)).toEqual({ userId: USER_ID });
    });

    test('never replies with the error-forwarding keys, for any fixture or built case', () => {
      const bodies = [...FIXTURE_NAMES.map((name) => fixtureBody(name)), ...[PASSWORD_CHECK_FAILED, PASSWORD_CHECK_FAILED_LEGACY, USER_HUMAN_ADDED_LEGACY, USER_UNLOCKED, SNAKE_CASE_REQUEST].map((body) => Buffer.from(body))];
      for (const body of bodies) {
        const reply = replyTo(request(body));
        expectSafeReply(reply);
        expect(reply.body).not.toMatch(/forwarded(?:StatusCode|ErrorMessage)/i);
      }
    });
  });

  describe('properties', () => {
    const RUNS = 10_000;

    // Plain checks rather than expect(): tens of thousands of runs must stay within a few seconds.
    function check(condition: boolean, message: string): void {
      if (!condition) throw new Error(message);
    }

    /**
     * Either valid notifications, a skip, or HeraldError('invalid_body'); never anything else.
     * Notifications flagged routine (only ever `true`) are told apart, and only functions are routine.
     */
    function checkResultOrInvalidBody(req: WebhookRequest): ParseResult['kind'] | 'routine' | 'invalid_body' {
      let parsed: ParseResult;
      try {
        parsed = zitadelParser.parse(req);
      } catch (error) {
        check(error instanceof HeraldError && error.code === 'invalid_body', `parse threw ${String(error)}`);
        return 'invalid_body';
      }
      if (parsed.kind === 'notifications') {
        check(parsed.notifications.length === 1, 'one notification per execution');
        for (const notification of parsed.notifications) validateNotification(notification.content);
        const [{ routine }] = parsed.notifications;
        check(routine === undefined || routine === true, 'routine is true or absent');
        if (routine) {
          check(ROUTINE_FUNCTIONS.includes(functionName(req) ?? ''), 'only the routine function executions are routine');
          return 'routine';
        }
      } else {
        check(parsed.kind === 'skip' && typeof parsed.reason === 'string', 'a skip has a reason');
      }
      return parsed.kind;
    }

    const ROUTINE_FUNCTIONS = ['function/preuserinfo', 'function/preaccesstoken', 'function/presamlresponse'];

    /** `function` of the JSON (or JWS payload) the body holds, read apart from the parser. */
    function functionName(req: WebhookRequest): string | undefined {
      const text = req.body.toString('utf8').replace(/^\uFEFF/, '').trim();
      const json = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(text) ? Buffer.from(text.split('.')[1], 'base64url').toString('utf8') : text;
      const value: unknown = JSON.parse(json);
      const name = value !== null && typeof value === 'object' ? (value as Record<string, unknown>).function : undefined;
      return typeof name === 'string' ? name : undefined;
    }

    function checkSafeReply(reply: SourceReply): void {
      check(reply.status === 200 && reply.headers?.['Content-Type'] === 'application/json', 'reply is 200 JSON');
      const parsed: unknown = JSON.parse(reply.body);
      check(parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed), 'reply is a JSON object');
      check(forwardingKeysIn(reply.body).length === 0, `reply has error-forwarding keys: ${reply.body}`);
    }

    /** detect, parse and reply on one body, each within its contract. */
    function exercise(body: Buffer): ReturnType<typeof checkResultOrInvalidBody> {
      const req = request(body);
      check(typeof zitadelParser.detect(req) === 'boolean', 'detect answers a boolean');
      const outcome = checkResultOrInvalidBody(req);
      checkSafeReply(replyTo(req));
      return outcome;
    }

    const text = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom('', ' ', '318426519307524115', '😀'.repeat(300)));
    const anyJson = fc.jsonValue({ maxDepth: 3 });
    const loose = fc.oneof({ weight: 3, arbitrary: text }, { weight: 1, arbitrary: anyJson });
    const forwardingKey = fc.constantFrom('forwardedStatusCode', 'forwardedErrorMessage', 'FORWARDEDSTATUSCODE', 'forwardedStatu\u017FCode', 'forwardedErrorMe\u017F\u017Fage');

    const eventPayload = fc.record(
      {
        userID: loose,
        userResourceOwner: loose,
        userName: loose,
        firstName: loose,
        lastName: loose,
        displayName: loose,
        email: fc.oneof(loose, fc.record({ email: loose })),
        userAgent: fc.oneof(loose, fc.record({ description: loose, ip: loose })),
        user_agent: fc.record({ description: loose, ip: loose, header: anyJson }, { requiredKeys: [] }),
        remoteIP: loose,
      },
      { requiredKeys: [] },
    );

    const eventShaped = fc.record(
      {
        aggregateID: fc.oneof(fc.stringMatching(/^\d{18}$/), loose),
        aggregateType: fc.oneof(fc.constantFrom('user', 'session', 'org', 'instance'), loose),
        resourceOwner: loose,
        instanceID: loose,
        version: loose,
        sequence: fc.oneof(fc.nat(), fc.double(), fc.bigInt({ min: 0n, max: 2n ** 64n }).map(String), loose),
        event_type: fc.oneof(
          fc.constantFrom(
            'user.locked',
            'user.human.password.check.failed',
            'user.human.added',
            'session.user.checked',
            'session.added',
            'user.human.mfa.otp.check.failed',
            'constructor',
            'toString',
            '__proto__',
            'user.',
            '.',
          ),
          fc.string({ unit: 'binary' }),
          loose,
        ),
        created_at: loose,
        userID: loose,
        event_payload: fc.oneof(
          eventPayload,
          eventPayload.map((payload) => Buffer.from(JSON.stringify(payload), 'utf8').toString('base64')),
          loose,
        ),
      },
      { requiredKeys: [] },
    );

    const callBody = fc.oneof(
      fc.record(
        {
          profile: fc.record({ givenName: loose, given_name: loose, familyName: loose, displayName: loose }, { requiredKeys: [] }),
          human: fc.record({ profile: fc.record({ givenName: loose }, { requiredKeys: [] }), email: fc.record({ email: loose }) }, { requiredKeys: [] }),
          email: fc.oneof(loose, fc.record({ email: loose })),
          userId: loose,
          username: loose,
        },
        { requiredKeys: [] },
      ),
      fc.dictionary(fc.oneof(forwardingKey, fc.string()), anyJson),
      fc.record({ nested: fc.dictionary(forwardingKey, anyJson), keep: anyJson }),
      anyJson,
    );

    const callShaped = fc.record(
      {
        fullMethod: fc.oneof(
          fc.constantFrom('/zitadel.user.v2.UserService/AddHumanUser', '/zitadel.', '/zitadel.x/'),
          fc.string().map((name) => `/zitadel.${name}`),
          loose,
        ),
        instanceID: loose,
        orgID: loose,
        projectID: loose,
        userID: loose,
        request: callBody,
        response: callBody,
        headers: fc.oneof(fc.dictionary(fc.constantFrom('Origin', 'X-Forwarded-For', 'origin', 'Host'), fc.oneof(fc.array(loose), loose)), loose),
      },
      { requiredKeys: ['fullMethod'] },
    );

    const functionShaped = fc.record(
      {
        function: fc.oneof(fc.constantFrom('function/preuserinfo', 'function/preaccesstoken', 'function/'), fc.string().map((name) => `function/${name}`), loose),
        userinfo: fc.oneof(fc.record({ sub: loose, preferred_username: loose }, { requiredKeys: [] }), loose),
        user: fc.oneof(fc.record({ id: loose, username: loose, human: fc.record({ display_name: loose, email: loose }, { requiredKeys: [] }) }, { requiredKeys: [] }), loose),
        org: fc.oneof(fc.record({ id: loose, name: loose }, { requiredKeys: [] }), loose),
      },
      { requiredKeys: ['function'] },
    );

    /** As Go writes it, with whitespace a proxy might add, or as a JWT payload. */
    const encoded = (value: unknown) =>
      fc.constantFrom('compact', 'indented', 'jws').map((form) => {
        const json = form === 'indented' ? JSON.stringify(value, null, 2) : JSON.stringify(value);
        return Buffer.from(form === 'jws' ? jws(json) : json, 'utf8');
      });

    test('answers any bytes within the contract', () => {
      const bytes = fc.oneof(
        fc.string({ unit: 'binary' }).map((value) => Buffer.from(value, 'utf8')),
        fc.uint8Array({ maxLength: 300 }).map((array) => Buffer.from(array)),
      );
      fc.assert(
        fc.property(bytes, (body) => {
          exercise(body);
        }),
        { numRuns: RUNS },
      );
    });

    test('answers any JSON within the contract', () => {
      fc.assert(
        fc.property(fc.jsonValue().chain(encoded), (body) => {
          exercise(body);
        }),
        { numRuns: RUNS },
      );
    });

    test('answers any ZITADEL-shaped object within the contract', () => {
      const shaped = fc.oneof(eventShaped, callShaped, functionShaped).chain(encoded);
      const outcomes = { notifications: 0, routine: 0, skip: 0, invalid_body: 0 };
      fc.assert(
        fc.property(shaped, (body) => {
          outcomes[exercise(body)]++;
        }),
        { numRuns: RUNS },
      );
      // The shapes reach every outcome, not only the error path.
      expect(outcomes.notifications).toBeGreaterThan(RUNS / 5);
      expect(outcomes.routine).toBeGreaterThan(RUNS / 100);
      expect(outcomes.invalid_body).toBeGreaterThan(RUNS / 100);
      // Nothing ZITADEL sends is skipped any more: routine functions notify, flagged.
      expect(outcomes.skip).toBe(0);
    });

    test('echoes every request or response as sent, minus the error-forwarding keys', () => {
      fc.assert(
        fc.property(callShaped, fc.boolean(), (payload, indented) => {
          const body = JSON.stringify(payload, null, indented ? 2 : undefined);
          const reply = replyTo(request(body));
          checkSafeReply(reply);
          const member = JSON.parse(body)[Object.prototype.hasOwnProperty.call(payload, 'response') ? 'response' : 'request'];
          const isCall = typeof payload.fullMethod === 'string' && payload.fullMethod.startsWith('/zitadel.');
          const isObject = member !== null && typeof member === 'object' && !Array.isArray(member);
          if (!isCall || !isObject) {
            expect(reply.body).toBe('{}');
          } else if (forwardingKeysIn(JSON.stringify(member)).length === 0) {
            expect(JSON.stringify(JSON.parse(reply.body))).toBe(JSON.stringify(member));
          }
        }),
        { numRuns: 2000 },
      );
    });

    test('verify throws nothing but invalid_signature or signature_expired', () => {
      const header = fc.oneof(
        fc.string({ unit: 'binary' }),
        fc.tuple(fc.oneof(fc.nat(), fc.string()), fc.array(fc.oneof(fc.stringMatching(/^[0-9a-f]{0,64}$/), fc.string()), { maxLength: 3 })).map(
          ([t, signatures]) => [`t=${t}`, ...signatures.map((signature) => `v1=${signature}`)].join(','),
        ),
      );
      const headers = fc.oneof(
        header.map((value) => ({ 'zitadel-signature': value })),
        header.map((value) => ({ 'x-zitadel-signature': value })),
        fc.dictionary(fc.string(), fc.string()),
        fc.constant(undefined),
      );
      const body = fc.oneof(fc.uint8Array({ maxLength: 200 }).map((array) => Buffer.from(array)), fc.constant(undefined));
      const now = fc.oneof(fc.date(), fc.constant(new Date(Number.NaN)), fc.constant(VERIFY_AT));
      fc.assert(
        fc.property(headers, body, fc.string(), now, (hdrs, bytes, key, at) => {
          try {
            verify({ body: bytes, headers: hdrs, query: {} } as unknown as WebhookRequest, at, key);
          } catch (error) {
            const code = error instanceof HeraldError ? error.code : undefined;
            check(code === 'invalid_signature' || code === 'signature_expired', `verify threw ${String(error)}`);
          }
        }),
        { numRuns: RUNS },
      );
    });

    test('accepts exactly what is signed: any body, and refuses it with any byte changed', () => {
      fc.assert(
        fc.property(fc.uint8Array({ minLength: 1, maxLength: 200 }), fc.nat(), fc.integer({ min: 1, max: 255 }), (array, position, flip) => {
          const body = Buffer.from(array);
          const req = request(body, { 'zitadel-signature': signatureFor(body, SIGNED_AT) });
          expect(() => verify(req)).not.toThrow();
          const changed = Buffer.from(body);
          changed[position % changed.length] ^= flip;
          expect(verifyError({ ...req, body: changed }).code).toBe('invalid_signature');
        }),
        { numRuns: 2000 },
      );
    });
  });
});
