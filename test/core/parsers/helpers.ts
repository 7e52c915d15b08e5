import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HeraldError } from '../../../lambdas/core/errors';
import { validateNotification } from '../../../lambdas/core/notification';
import type { ParsedNotification, ParseResult, Parser, WebhookRequest } from '../../../lambdas/core/parsers/types';

/**
 * What the parser tests share: fixture loading, request builders, and the checks every parser's
 * contract calls for (parse gives valid notifications or throws a HeraldError, and so on).
 */

// ---- fixtures ----------------------------------------------------------------------------------

/** What every `<fixture>.meta.json` holds; each source adds its own fields (signing, auth, …). */
export interface FixtureMeta {
  readonly request: { readonly method?: string; readonly headers: Record<string, string> };
  readonly bodySha256?: string;
  /** The rest differs by source; a source that reads it typed passes its own interface. */
  readonly [field: string]: any;
}

export interface Fixtures<Meta> {
  /** The folder the source's fixtures are in. */
  readonly dir: string;
  /** The exact body bytes the source sent, as the receiver gets them. */
  fixtureBody(name: string): Buffer;
  fixtureMeta(name: string): Meta;
  /** The fixture as API Gateway hands it over: header names lower-cased; `body` replaces the fixture's. */
  fixtureRequest(name: string, body?: Buffer): WebhookRequest;
}

/** The fixtures of one source, in `test/fixtures/<source>/`: `<name>.json` and `<name>.meta.json`. */
export function fixtures<Meta extends { readonly request: { readonly headers: Record<string, string> } } = FixtureMeta>(source: string): Fixtures<Meta> {
  const dir = join(__dirname, '..', '..', 'fixtures', source);
  const fixtureBody = (name: string): Buffer => readFileSync(join(dir, `${name}.json`));
  const fixtureMeta = (name: string): Meta => JSON.parse(readFileSync(join(dir, `${name}.meta.json`), 'utf8')) as Meta;
  return {
    dir,
    fixtureBody,
    fixtureMeta,
    fixtureRequest: (name, body = fixtureBody(name)) => ({ body, headers: lowerCaseNames(fixtureMeta(name).request.headers), query: {} }),
  };
}

/** Header names lower-cased, as API Gateway HTTP API delivers them. */
export function lowerCaseNames(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([key, value]) => [key.toLowerCase(), value]));
}

// ---- requests ----------------------------------------------------------------------------------

/** A request with this body (text as UTF-8) and these headers, as the parser receives it. */
export function request(body: string | Buffer, headers: Record<string, string> = {}): WebhookRequest {
  return { body: Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8'), headers, query: {} };
}

/** A request with nothing where the fields should be: what `detect` must survive. */
export function malformedRequest(): WebhookRequest {
  return { body: undefined, headers: undefined, query: undefined } as unknown as WebhookRequest;
}

/** The request with one header added or replaced. */
export function withHeader(req: WebhookRequest, name: string, value: string): WebhookRequest {
  return { ...req, headers: { ...req.headers, [name]: value } };
}

/** A copy of the bytes with one bit flipped at `index`. */
export function withChangedByte(body: Buffer, index = Math.floor(body.length / 2)): Buffer {
  const changed = Buffer.from(body);
  changed[index] ^= 0x01;
  return changed;
}

/** Lowercase hex SHA-256 of the bytes, or of the text as UTF-8, computed apart from the parsers. */
export function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

// ---- results and errors ------------------------------------------------------------------------

/** The notifications of a result that must have some. */
export function notificationsOf(result: ParseResult): readonly ParsedNotification[] {
  if (result.kind !== 'notifications') throw new Error(`expected notifications, got skip (${result.reason})`);
  return result.notifications;
}

/** The HeraldError `action` throws; fails the test when it throws anything else, or nothing. */
export function thrown(action: () => unknown): HeraldError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(HeraldError);
    return error as HeraldError;
  }
  throw new Error('expected a HeraldError');
}

/** Passes, or throws a HeraldError (returned for more checks); anything else thrown fails the test. */
export function passesOrHeraldError(action: () => unknown): HeraldError | undefined {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(HeraldError);
    return error as HeraldError;
  }
  return undefined;
}

/**
 * parse's contract: valid notifications, a skip, or a thrown HeraldError, never anything else.
 * `each` checks more of every notification, after it validates. Returns the result, or undefined
 * when parse threw.
 */
export function expectResultOrHeraldError(
  parser: Parser,
  req: WebhookRequest,
  each: (notification: ParsedNotification) => void = () => undefined,
): ParseResult | undefined {
  let result: ParseResult;
  try {
    result = parser.parse(req);
  } catch (error) {
    expect(error).toBeInstanceOf(HeraldError);
    return undefined;
  }
  if (result.kind === 'notifications') {
    for (const notification of result.notifications) {
      validateNotification(notification.content);
      each(notification);
    }
  }
  return result;
}

// ---- one parser --------------------------------------------------------------------------------

export interface ParserHelpers {
  /** The notifications parse gives; fails on a skip. */
  parseAll(req: WebhookRequest): readonly ParsedNotification[];
  /** The one notification parse gives; fails on a skip or on more than one. */
  parseOne(req: WebhookRequest): ParsedNotification;
  /** The HeraldError parse throws. */
  parseError(req: WebhookRequest): HeraldError;
  /** The parser's signature check (fails when it authenticates otherwise). */
  verify(req: WebhookRequest, key: string, now: Date): void;
  /** The HeraldError the signature check throws. */
  verifyError(req: WebhookRequest, key: string, now: Date): HeraldError;
  /** The header secret the request presents (fails when it authenticates otherwise). */
  presentedSecret(req: WebhookRequest): string | undefined;
}

/** The helpers above, bound to one parser. */
export function parserHelpers(parser: Parser): ParserHelpers {
  const helpers: ParserHelpers = {
    parseAll: (req) => notificationsOf(parser.parse(req)),
    parseOne(req) {
      const notifications = helpers.parseAll(req);
      expect(notifications).toHaveLength(1);
      return notifications[0];
    },
    parseError: (req) => thrown(() => parser.parse(req)),
    verify(req, key, now) {
      const auth = parser.auth;
      if (auth?.kind !== 'signature') throw new Error(`${parser.name} must authenticate by signature`);
      auth.verify(req, key, now);
    },
    verifyError: (req, key, now) => thrown(() => helpers.verify(req, key, now)),
    presentedSecret(req) {
      const auth = parser.auth;
      if (auth?.kind !== 'header') throw new Error(`${parser.name} must authenticate with a header secret`);
      return auth.presentedSecret(req);
    },
  };
  return helpers;
}
