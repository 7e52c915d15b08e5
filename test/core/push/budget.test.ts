import fc from 'fast-check';
import { ACTION_TYPES, LIMITS, type Notification } from '../../../lambdas/core/notification';
import { buildApnsPayload } from '../../../lambdas/core/push/apns';
import {
  type BudgetTexts,
  DEFAULT_PUSH_TTL_SECONDS,
  ELLIPSIS,
  fitToBudget,
  PUSH_PAYLOAD_LIMIT_BYTES,
  shortenText,
} from '../../../lambdas/core/push/budget';
import { buildFcmPayload } from '../../../lambdas/core/push/fcm';

type Text = 'title' | 'subtitle' | 'body';
const SHORTEN_ORDER: readonly Text[] = ['body', 'subtitle', 'title'];

const bytes = (text: string) => Buffer.byteLength(text, 'utf8');
const renderTexts = (texts: BudgetTexts<Text>) =>
  JSON.stringify({ title: texts.title, subtitle: texts.subtitle, body: texts.body });
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

describe('budget constants', () => {
  test('the payload limit is the 4096 bytes APNs and FCM accept', () => {
    expect(PUSH_PAYLOAD_LIMIT_BYTES).toBe(4096);
  });

  test('the default TTL is one day', () => {
    expect(DEFAULT_PUSH_TTL_SECONDS).toBe(86_400);
  });
});

describe('fitToBudget, shortening texts', () => {
  const texts = { title: 'Title', subtitle: 'Subtitle', body: 'b'.repeat(200) };

  test('returns the rendering untouched when it fits', () => {
    const result = fitToBudget({ render: renderTexts, texts, shortenOrder: SHORTEN_ORDER, limitBytes: 1_000 });

    expect(result).toEqual({ serialized: renderTexts(texts), truncated: false });
  });

  test('shortens the body first, leaving subtitle and title whole', () => {
    const result = fitToBudget({ render: renderTexts, texts, shortenOrder: SHORTEN_ORDER, limitBytes: 100 });
    const fitted = JSON.parse(result.serialized);

    expect(bytes(result.serialized)).toBeLessThanOrEqual(100);
    expect(fitted).toEqual({ title: 'Title', subtitle: 'Subtitle', body: expect.stringMatching(/^b+…$/) });
    expect(result.truncated).toBe(true);
  });

  test('keeps the longest body prefix that fits', () => {
    const result = fitToBudget({ render: renderTexts, texts, shortenOrder: SHORTEN_ORDER, limitBytes: 100 });
    const kept = Array.from(JSON.parse(result.serialized).body as string).length - 1;
    const oneMore = renderTexts({ ...texts, body: 'b'.repeat(kept + 1) + ELLIPSIS });

    expect(bytes(oneMore)).toBeGreaterThan(100);
  });

  test('measures UTF-8 bytes, not UTF-16 units', () => {
    const result = fitToBudget({
      render: renderTexts,
      texts: { title: 'T', body: '漢'.repeat(100) },
      shortenOrder: SHORTEN_ORDER,
      limitBytes: 100,
    });

    expect(bytes(result.serialized)).toBeLessThanOrEqual(100);
    expect(bytes(result.serialized)).toBeGreaterThan(100 - 3); // one more 3-byte character would not fit
  });

  test('never splits a surrogate pair', () => {
    const result = fitToBudget({
      render: renderTexts,
      texts: { title: 'T', body: '😀'.repeat(100) },
      shortenOrder: SHORTEN_ORDER,
      limitBytes: 101,
    });

    expect(JSON.parse(result.serialized).body).toMatch(/^(😀)+…$/u);
    expect(result.serialized).not.toMatch(LONE_SURROGATE);
  });

  test('shortens the subtitle only once the body is down to "…"', () => {
    const long = { title: 'Title', subtitle: 's'.repeat(200), body: 'b'.repeat(200) };

    const result = fitToBudget({ render: renderTexts, texts: long, shortenOrder: SHORTEN_ORDER, limitBytes: 100 });

    expect(JSON.parse(result.serialized)).toEqual({
      title: 'Title',
      subtitle: expect.stringMatching(/^s+…$/),
      body: ELLIPSIS,
    });
  });

  test('shortens the title last, never to nothing', () => {
    const long = { title: 't'.repeat(200), subtitle: 's'.repeat(200), body: 'b'.repeat(200) };

    const result = fitToBudget({ render: renderTexts, texts: long, shortenOrder: SHORTEN_ORDER, limitBytes: 60 });

    expect(JSON.parse(result.serialized)).toEqual({
      title: expect.stringMatching(/^t+…$/),
      subtitle: ELLIPSIS,
      body: ELLIPSIS,
    });
  });

  test('trims the whitespace before "…"', () => {
    const result = fitToBudget({
      render: renderTexts,
      texts: { title: 'T', body: 'word '.repeat(40) },
      shortenOrder: SHORTEN_ORDER,
      limitBytes: 60,
    });

    expect(JSON.parse(result.serialized).body).toMatch(/^(word )*word…$/);
  });
});

describe('fitToBudget, dropping parts', () => {
  type Part = 'tags' | 'actions';
  const renderWithParts = (texts: BudgetTexts<Text>, dropped: ReadonlySet<Part>) =>
    JSON.stringify({
      ...JSON.parse(renderTexts(texts)),
      tags: dropped.has('tags') ? undefined : 'g'.repeat(50),
      actions: dropped.has('actions') ? undefined : 'a'.repeat(50),
    });
  const fit = (limitBytes: number) =>
    fitToBudget<Text, Part>({
      render: renderWithParts,
      texts: { title: 'Title', body: 'b'.repeat(100) },
      shortenOrder: SHORTEN_ORDER,
      dropOrder: ['tags', 'actions'],
      limitBytes,
    });

  test('drops nothing while shortening the texts is enough', () => {
    const fitted = JSON.parse(fit(170).serialized);

    expect(fitted).toMatchObject({ tags: expect.any(String), actions: expect.any(String) });
    expect(fitted.body).toMatch(/^b+…$/);
  });

  test('drops the first part once every text at "…" still does not fit', () => {
    const fitted = JSON.parse(fit(120).serialized);

    expect(fitted.tags).toBeUndefined();
    expect(fitted.actions).toBe('a'.repeat(50));
  });

  test('gives the room a drop frees back to the body', () => {
    const fitted = JSON.parse(fit(120).serialized);

    expect(fitted.body).toMatch(/^b{10,}…$/);
  });

  test('drops parts cumulatively, in order', () => {
    const fitted = JSON.parse(fit(60).serialized);

    expect(fitted.tags).toBeUndefined();
    expect(fitted.actions).toBeUndefined();
  });

  test('returns the smallest rendering, marked truncated, when nothing makes it fit', () => {
    const result = fit(10);

    expect(JSON.parse(result.serialized)).toEqual({ title: ELLIPSIS, body: ELLIPSIS });
    expect(result.truncated).toBe(true);
  });
});

describe('shortenText', () => {
  test('leaves a text within the limit alone', () => {
    expect(shortenText('hello', 5)).toBe('hello');
  });

  test('cuts to the limit in code points, the last one "…"', () => {
    expect(shortenText('hello world', 5)).toBe('hell…');
  });

  test('counts an astral character as one code point and never splits it', () => {
    expect(shortenText('😀😀😀😀', 3)).toBe('😀😀…');
  });
});

// Strings of every kind the budget must survive: any code point, lone surrogates, and characters
// JSON.stringify expands to six bytes (controls) or two (quote, backslash).
const anyCharacter = fc.oneof(
  fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }),
  fc.constantFrom('"', '\\', '\n', '\u0000', '\u001f', '\u2028', '😀', '漢'),
  fc.integer({ min: 0xd800, max: 0xdfff }).map((unit) => String.fromCharCode(unit)),
);
const text = (maxLength: number, minLength = 0) => fc.string({ unit: anyCharacter, minLength, maxLength });
/** Mostly short, often near the limit (fast-check's default size rarely reaches long strings). */
const longText = (maxLength: number) =>
  fc.oneof(text(100), fc.string({ unit: anyCharacter, minLength: Math.floor(maxLength / 2), maxLength, size: 'max' }));
const url = fc.oneof(
  fc.webUrl(),
  fc
    .string({ unit: anyCharacter.filter((c) => !/\s/.test(c)), minLength: 1, maxLength: LIMITS.url - 8, size: 'max' })
    .map((rest) => `https://${rest}`),
);
const action = fc.record(
  {
    type: fc.constantFrom(...ACTION_TYPES),
    value: fc.oneof(url, text(64)),
    title: text(64),
    destructive: fc.boolean(),
    icon: text(128),
  },
  { requiredKeys: ['type'] },
);
const notification: fc.Arbitrary<Notification> = fc.record(
  {
    id: fc.uuid(),
    bucketId: fc.uuid(),
    source: fc.constantFrom('native', 'authentik', 'zitadel'),
    createdAt: fc.constant('2025-06-01T12:00:00.000Z'),
    deliveryType: fc.constantFrom('SILENT' as const, 'NORMAL' as const, 'CRITICAL' as const),
    // The schema trims the title and requires one character.
    title: text(LIMITS.title, 1)
      .map((title) => title.trim())
      .filter((title) => title.length > 0),
    subtitle: longText(LIMITS.subtitle),
    body: longText(LIMITS.body),
    actions: fc.array(action, { maxLength: LIMITS.actions }),
    tapUrl: url,
    imageUrl: url,
    sound: text(LIMITS.sound),
    groupId: text(LIMITS.groupId),
    collapseId: text(LIMITS.collapseId, 1),
    tags: fc.array(text(LIMITS.tag, 1), { maxLength: LIMITS.tags }),
  },
  { requiredKeys: ['id', 'bucketId', 'source', 'createdAt', 'deliveryType', 'title'] },
);

describe('platform payloads within the budget', () => {
  // \u0001 serializes as six bytes, the worst case JSON.stringify produces per UTF-16 unit.
  const worst = (length: number) => '\u0001'.repeat(length);
  const worstUrl = `https://${worst(LIMITS.url - 8)}`;
  const everyFieldAtItsLimit = (deliveryType: Notification['deliveryType']): Notification => ({
    id: '0b9f6a52-6d38-4c43-9a55-6f2f4f3b7c11',
    bucketId: 'd3c7e0a4-2b8f-4f0e-8a61-3c5d9e7f1a22',
    source: 'authentik',
    createdAt: '2025-06-01T12:00:00.000Z',
    deliveryType,
    title: `T${worst(LIMITS.title - 1)}`,
    subtitle: worst(LIMITS.subtitle),
    body: worst(LIMITS.body),
    actions: Array.from({ length: LIMITS.actions }, () => ({
      type: 'NAVIGATE' as const,
      value: worstUrl,
      title: worst(64),
      icon: worst(128),
    })),
    tapUrl: worstUrl,
    imageUrl: worstUrl,
    sound: worst(LIMITS.sound),
    groupId: worst(LIMITS.groupId),
    collapseId: worst(LIMITS.collapseId),
    tags: Array.from({ length: LIMITS.tags }, () => worst(LIMITS.tag)),
  });

  test.each(['SILENT', 'NORMAL', 'CRITICAL'] as const)('a %s notification with every field at its limit fits', (type) => {
    const subject = everyFieldAtItsLimit(type);

    expect(bytes(buildApnsPayload(subject, 'sandbox').payload)).toBeLessThanOrEqual(PUSH_PAYLOAD_LIMIT_BYTES);
    expect(bytes(buildFcmPayload(subject).payload)).toBeLessThanOrEqual(PUSH_PAYLOAD_LIMIT_BYTES);
  });


  test('any notification gives valid APNs and FCM JSON of at most 4096 bytes, with a title (property)', () => {
    fc.assert(
      fc.property(notification, fc.constantFrom('production' as const, 'sandbox' as const), (subject, environment) => {
        const apns = buildApnsPayload(subject, environment);
        const fcm = buildFcmPayload(subject);

        expect(bytes(apns.payload)).toBeLessThanOrEqual(PUSH_PAYLOAD_LIMIT_BYTES);
        expect(bytes(fcm.payload)).toBeLessThanOrEqual(PUSH_PAYLOAD_LIMIT_BYTES);

        const { aps, herald } = JSON.parse(apns.payload);
        const { message } = JSON.parse(fcm.payload).fcmV1Message;
        const apnsTitle: string = subject.deliveryType === 'SILENT' ? herald.title : aps.alert.title;
        const fcmTitle: string = subject.deliveryType === 'SILENT' ? message.data.title : message.notification.title;
        expect(apnsTitle.length).toBeGreaterThan(0);
        expect(fcmTitle.length).toBeGreaterThan(0);
        for (const value of Object.values(message.data)) expect(typeof value).toBe('string');
      }),
      { numRuns: 1_000 },
    );
  });
});
