import { HeraldError } from '../errors';
import { decodeFields, decodeUtf8, type HttpRequest } from '../http';

/** `?parser=template:<name>` on /transform: the webhook is rendered by one of the bucket's templates. */
export const TEMPLATE_PARSER_PREFIX = 'template:';

/** The template a `?parser=` names, or undefined when it names a built-in parser. */
export function templateParserName(parser: string | undefined): string | undefined {
  const value = parser?.trim();
  return value?.toLowerCase().startsWith(TEMPLATE_PARSER_PREFIX) ? value.slice(TEMPLATE_PARSER_PREFIX.length) : undefined;
}

const TEMPLATE_PREFIX = 'template-';

/**
 * Zentik's `POST /template` data: the body (a JSON object, or form fields), then `template-<key>`
 * query parameters, then `template-<key>` headers, each merged in as `<key>` (later ones win, as
 * Zentik merges body < query < headers). `?template=` itself names the template.
 */
export function readTemplateData(request: HttpRequest): Record<string, unknown> {
  const data: Record<string, unknown> = { ...decodeFields(request) };
  for (const source of [request.query, request.headers]) {
    for (const [name, value] of Object.entries(source)) {
      const key = name.toLowerCase().startsWith(TEMPLATE_PREFIX) ? name.slice(TEMPLATE_PREFIX.length) : '';
      if (key) data[key] = value;
    }
  }
  return data;
}

/** A webhook body for a template: any JSON value (some senders post arrays); empty is `{}`. */
export function readTemplatePayload(body: Buffer): unknown {
  const text = decodeUtf8(body);
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new HeraldError('invalid_body', `body is not valid JSON: ${(error as Error).message}`);
  }
}
