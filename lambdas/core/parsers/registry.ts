import { HeraldError } from '../errors';
import { auth0Parser } from './auth0';
import { authentikParser } from './authentik';
import { keycloakParser } from './keycloak';
import { logtoParser } from './logto';
import { oktaParser } from './okta';
import { svixParser } from './svix';
import { zitadelParser } from './zitadel';
import type { Parser, WebhookRequest } from './types';

/**
 * Every built-in parser, one module per source. Auto-detection asks them in this order: sources
 * recognised by a header of their own first, shape-only detection last.
 */
export const PARSERS: readonly Parser[] = [zitadelParser, keycloakParser, logtoParser, svixParser, oktaParser, auth0Parser, authentikParser];

const byAlias = new Map<string, Parser>();
for (const parser of PARSERS) {
  for (const alias of [parser.name, ...parser.aliases]) byAlias.set(alias.toLowerCase(), parser);
}

export function parserNames(): string[] {
  return PARSERS.flatMap((parser) => [parser.name, ...parser.aliases.filter((alias) => alias.toLowerCase() !== parser.name)]);
}

/** `?parser=` takes a parser's name or alias, case-insensitively (Zentik's `ZENTIK_AUTHENTIK` included). */
export function findParser(name: string | undefined): Parser {
  if (!name) {
    throw new HeraldError('unknown_parser', `?parser= is required; one of: ${parserNames().join(', ')}`);
  }
  const parser = byAlias.get(name.trim().toLowerCase());
  if (!parser) {
    throw new HeraldError('unknown_parser', `unknown parser "${name.slice(0, 64)}"; one of: ${parserNames().join(', ')}`);
  }
  return parser;
}

/** Auto-detection without `?parser=`: the first parser that recognises the request. */
export function detectParser(request: WebhookRequest): Parser {
  const parser = PARSERS.find((candidate) => {
    try {
      return candidate.detect(request);
    } catch {
      return false;
    }
  });
  if (!parser) {
    throw new HeraldError('unknown_source', `could not tell which source sent this; add ?parser= with one of: ${parserNames().join(', ')}`);
  }
  return parser;
}
