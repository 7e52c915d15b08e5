import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { HeraldError } from '../../lambdas/core/errors';
import { renderWebhook } from '../../lambdas/core/render';

/**
 * Every fixture through `renderWebhook` (what `herald render` runs): verified with its secret at
 * its time, parsed, and turned into APNs and FCM payloads; refused when one byte changes.
 */
interface Meta {
  bodyFile?: string;
  request: { headers: Record<string, string> };
  signing?: { secret: string; verifyAt?: number; timestamp?: number } | null;
  auth?: { expected: string };
}

const FIXTURES = path.join(__dirname, '..', 'fixtures');
const cases = readdirSync(FIXTURES).flatMap((source) =>
  readdirSync(path.join(FIXTURES, source))
    .filter((file) => file.endsWith('.meta.json'))
    .map((file) => ({ source, name: file.replace('.meta.json', ''), meta: JSON.parse(readFileSync(path.join(FIXTURES, source, file), 'utf8')) as Meta }))
    .filter(({ meta }) => meta.bodyFile !== undefined),
);
const parserOf: Record<string, string> = { clerk: 'clerk' };

function inputFor({ source, meta }: (typeof cases)[number], body?: Buffer) {
  const headers = Object.fromEntries(Object.entries(meta.request.headers).map(([name, value]) => [name.toLowerCase(), value]));
  const secret = meta.signing?.secret ?? meta.auth?.expected;
  const at = meta.signing?.verifyAt ?? meta.signing?.timestamp;
  return {
    parser: parserOf[source] ?? source,
    request: { body: body ?? readFileSync(path.join(FIXTURES, source, meta.bodyFile!)), headers, query: {} },
    secret,
    now: at === undefined ? undefined : new Date(at * 1000),
  };
}

describe('renderWebhook', () => {
  test('covers every fixture', () => {
    expect(new Set(cases.map((c) => c.source))).toEqual(new Set(['auth0', 'authentik', 'clerk', 'keycloak', 'logto', 'okta', 'zitadel']));
  });

  test.each(cases.map((c) => [`${c.source}/${c.name}`, c] as const))('%s renders', (_name, fixture) => {
    const rendered = renderWebhook(inputFor(fixture));
    expect(rendered.notifications.length + (rendered.skipped ? 1 : 0)).toBeGreaterThan(0);
    for (const notification of rendered.notifications) expect(notification.title.length).toBeGreaterThan(0);
    const pushable = rendered.notifications.filter((n) => n.deliveryType !== 'NO_PUSH').length;
    expect(rendered.apns).toHaveLength(pushable);
    expect(rendered.fcm).toHaveLength(pushable);
    for (const apns of rendered.apns) expect(Buffer.byteLength(JSON.stringify(apns.payload))).toBeLessThanOrEqual(4096);
    expect(JSON.stringify(rendered)).not.toContain('forwardedStatusCode');
  });

  test.each(cases.filter((c) => c.meta.signing).map((c) => [`${c.source}/${c.name}`, c] as const))('%s: one changed byte is refused', (_name, fixture) => {
    const body = Buffer.from(readFileSync(path.join(FIXTURES, fixture.source, fixture.meta.bodyFile!)));
    body[Math.floor(body.length / 2)] ^= 1;
    expect(() => renderWebhook(inputFor(fixture, body))).toThrow(HeraldError);
    try {
      renderWebhook(inputFor(fixture, body));
    } catch (error) {
      expect((error as HeraldError).code).toBe('invalid_signature');
    }
  });

  test.each(cases.filter((c) => c.meta.signing?.verifyAt).map((c) => [`${c.source}/${c.name}`, c] as const))('%s: outside the 300 s tolerance is refused', (_name, fixture) => {
    const input = { ...inputFor(fixture), now: new Date((fixture.meta.signing!.verifyAt! + 600) * 1000) };
    expect(() => renderWebhook(input)).toThrow(expect.objectContaining({ code: 'signature_expired' }));
  });

  test('a wrong secret header is refused', () => {
    const okta = cases.find((c) => c.source === 'okta')!;
    expect(() => renderWebhook({ ...inputFor(okta), secret: 'not-the-secret' })).toThrow(expect.objectContaining({ code: 'invalid_signature' }));
  });

  test('without ?parser the source is detected', () => {
    const zitadel = cases.find((c) => c.source === 'zitadel' && c.name === 'event-user-locked')!;
    expect(renderWebhook({ ...inputFor(zitadel), parser: undefined }).parser).toBe('zitadel');
  });
});
