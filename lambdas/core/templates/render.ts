import jsonata from 'jsonata';
import { HeraldError } from '../errors';
import { validateNotification, type NotificationContent } from '../notification';

/**
 * Templates map an arbitrary JSON payload (a webhook body, Zentik's template data) to a
 * notification, with one JSONata expression per notification field. JSONata is side-effect free
 * (no I/O, no access to anything but the payload and its own functions) and is interpreted, never
 * compiled to JavaScript, so a template cannot reach the process; what it can do is spend time
 * and memory, which the budget below bounds.
 */
export const TEMPLATE_FIELDS = ['title', 'subtitle', 'body', 'deliveryType', 'tapUrl', 'imageUrl', 'tags', 'groupId', 'collapseId'] as const;
export type TemplateField = (typeof TEMPLATE_FIELDS)[number];

/** A template's expressions by field; `title` is required, the others optional. */
export type TemplateExpressions = { readonly title: string } & { readonly [F in Exclude<TemplateField, 'title'>]?: string };

export interface TemplateLimits {
  /** Total size of a template's expressions, in UTF-8 bytes. */
  readonly sourceBytes: number;
  /**
   * Wall time for one render (all fields), checked as each JSONata step enters and exits. Warm
   * renders of the sample templates take 1–4 ms; the first in a cold, small Lambda JITs JSONata
   * and can take tens, and a false stop would lose a real webhook, hence the margin.
   */
  readonly timeMs: number;
  /**
   * Evaluation steps in progress (a non-tail recursion grows it; so do the items of a literal list
   * or object, which JSONata evaluates concurrently). Async steps do not grow the JS stack, so this
   * bounds memory, and the time budget would stop deep recursion too; the limit is generous.
   */
  readonly depth: number;
  /** Items in any one sequence or array, and the largest range (`[1..n]`) JSONata may allocate. */
  readonly items: number;
  /** Characters in any one intermediate string (`$string($)` of a 256 KB webhook still fits). */
  readonly stringChars: number;
  /**
   * Characters of text all steps of a render produce together (a string passed through several
   * steps counts each time): bounds the memory of many large strings, each under `stringChars`,
   * in the 256 MB ingest function.
   */
  readonly textChars: number;
  /** The rendered notification as JSON, in characters. */
  readonly outputChars: number;
  /**
   * The longest string a regular expression may search. Regexes run natively, out of the time
   * budget's reach, and patterns like `/\s+$/` take time quadratic in the subject's length.
   */
  readonly regexSubjectChars: number;
}

export const TEMPLATE_LIMITS: TemplateLimits = {
  sourceBytes: 16 * 1024,
  timeMs: 100,
  depth: 2_000,
  items: 10_000,
  stringChars: 512 * 1024,
  textChars: 16 * 1024 * 1024,
  outputChars: 64 * 1024,
  regexSubjectChars: 10_000,
};

type Compiled = { readonly field: TemplateField; readonly expression: jsonata.Expression };

/**
 * Parses a template's expressions, as when it is set: an unknown field, a missing title, an
 * oversized template or a JSONata syntax error is a 400 `invalid_template` naming the field and
 * JSONata's position.
 */
export function compileTemplate(expressions: Readonly<Record<string, unknown>>, limits: TemplateLimits = TEMPLATE_LIMITS): Compiled[] {
  const unknown = Object.keys(expressions).filter((field) => !(TEMPLATE_FIELDS as readonly string[]).includes(field));
  if (unknown.length > 0) {
    throw new HeraldError('invalid_template', `${unknown.slice(0, 5).join(', ')}: not a template field; one of: ${TEMPLATE_FIELDS.join(', ')}`);
  }
  if (typeof expressions.title !== 'string' || expressions.title.trim() === '') {
    throw new HeraldError('invalid_template', 'title: is required (a JSONata expression, e.g. "\\"Build \\" & status")');
  }
  let bytes = 0;
  const compiled: Compiled[] = [];
  for (const field of TEMPLATE_FIELDS) {
    const source = expressions[field];
    if (source === undefined) continue;
    if (typeof source !== 'string' || source.trim() === '') throw new HeraldError('invalid_template', `${field}: must be a non-empty JSONata expression`);
    bytes += Buffer.byteLength(source, 'utf8');
    if (bytes > limits.sourceBytes) throw new HeraldError('invalid_template', `the template's expressions exceed ${limits.sourceBytes} bytes`);
    compiled.push({ field, expression: parse(field, source, limits) });
  }
  return compiled;
}

function parse(field: TemplateField, source: string, limits: TemplateLimits): jsonata.Expression {
  let expression: jsonata.Expression;
  try {
    expression = jsonata(source, { sequence: limits.items, RegexEngine: boundedRegExp(limits.regexSubjectChars) });
  } catch (error) {
    const { code, position, message } = error as Partial<jsonata.JsonataError>;
    throw new HeraldError('invalid_template', `${field}: ${message ?? 'does not parse'}${code ? ` (JSONata ${code}${position !== undefined ? ` at position ${position}` : ''})` : ''}`);
  }
  for (const regex of regexLiterals(expression.ast())) {
    if (nestsQuantifiers(regex.source)) {
      throw new HeraldError(
        'invalid_template',
        `${field}: the regular expression /${regex.source.slice(0, 100)}/ repeats a group that itself repeats, which can take exponential time on some payloads; rewrite it without the nested repetition`,
      );
    }
  }
  return expression;
}

/**
 * Regular expressions run natively: the budget cannot interrupt one. Templates can only hold regex
 * literals (JSONata builds none from strings, and `$eval` is unavailable), so they are all checked
 * here, when the template is set.
 */
function regexLiterals(node: unknown, found: RegExp[] = []): RegExp[] {
  if (node instanceof RegExp) found.push(node);
  else if (Array.isArray(node)) for (const item of node) regexLiterals(item, found);
  else if (typeof node === 'object' && node !== null) for (const value of Object.values(node)) regexLiterals(value, found);
  return found;
}

/**
 * Whether a pattern repeats a group that contains a repetition (`(a+)+`, `(\w*\s)*`, `(x+){2,}`): the
 * shape of catastrophic backtracking. A conservative check; alternations of overlapping branches
 * (`(a|a)*`) are not detected.
 */
export function nestsQuantifiers(source: string): boolean {
  // For each open group: whether something inside it repeats.
  const groups: boolean[] = [];
  for (let index = 0; index < source.length; index += 1) {
    const char = source[index]!;
    if (char === '\\') {
      index += 1;
    } else if (char === '[') {
      // A character class: nothing inside it groups or repeats.
      for (index += 1; index < source.length && source[index] !== ']'; index += 1) if (source[index] === '\\') index += 1;
    } else if (char === '(') {
      groups.push(false);
    } else if (char === ')') {
      const inner = groups.pop() ?? false;
      const next = source[index + 1];
      if (inner && (next === '*' || next === '+' || next === '{')) return true;
      if (inner && groups.length > 0) groups[groups.length - 1] = true;
    } else if (char === '*' || char === '+' || (char === '{' && /^\{\d+,/.test(source.slice(index)))) {
      if (groups.length > 0) groups[groups.length - 1] = true;
    }
  }
  return false;
}

/** Thrown by the budget inside JSONata; carries no JSONata `code`, so it passes through unchanged. */
class BudgetExceeded extends Error {}

/** The regex engine JSONata runs template regexes with: RegExp, refusing subjects over the limit. */
function boundedRegExp(maxChars: number): RegExpConstructor {
  return class BoundedRegExp extends RegExp {
    override exec(subject: string): RegExpExecArray | null {
      if (subject.length > maxChars) {
        throw new BudgetExceeded(`a regular expression may search at most ${maxChars} characters (given ${subject.length}); take a $substring first`);
      }
      return super.exec(subject);
    }
  } as RegExpConstructor;
}

interface Budget {
  readonly deadline: number;
  depth: number;
  /** Characters of the string results of the steps so far. */
  textChars: number;
}

/**
 * Renders a template against a payload into validated notification content. Every failure is a
 * `HeraldError`: `template_limit` when the budget runs out, `template_failed` for a JSONata error
 * or a field of the wrong type, `validation_failed` (naming the field) when the output is not a
 * valid notification. `clock` is what the time budget reads (a test may control it).
 */
export async function renderTemplate(
  expressions: TemplateExpressions,
  payload: unknown,
  options: { readonly limits?: TemplateLimits; readonly clock?: () => number } = {},
): Promise<NotificationContent> {
  const limits = options.limits ?? TEMPLATE_LIMITS;
  const clock = options.clock ?? Date.now;
  const compiled = compileTemplate(expressions, limits);
  const budget: Budget = { deadline: clock() + limits.timeMs, depth: 0, textChars: 0 };
  const content: Record<string, unknown> = {};
  for (const { field, expression } of compiled) {
    guard(expression, budget, limits, clock);
    let value: unknown;
    try {
      value = await expression.evaluate(payload);
    } catch (error) {
      throw describeFailure(field, error, limits);
    }
    const output = fieldValue(field, value);
    if (output !== undefined) content[field] = output;
  }
  const size = JSON.stringify(content).length;
  if (size > limits.outputChars) {
    throw new HeraldError('template_limit', `the rendered notification is ${size} characters; the limit is ${limits.outputChars}`);
  }
  return validateNotification(content);
}

/**
 * The budget, enforced the way JSONata's exerciser does (`timeboxExpression`): hooks JSONata calls
 * as each evaluation step enters and exits. A step that builds a large value in one native call
 * (`$pad`, `$join`, `&`) is caught on exit by the size of its result, before the next step can
 * double it; `$pad` itself checks its width first, since it allocates its whole result at once.
 */
function guard(expression: jsonata.Expression, budget: Budget, limits: TemplateLimits, clock: () => number): void {
  const check = () => {
    if (budget.depth > limits.depth) throw new BudgetExceeded(`evaluation nested deeper than ${limits.depth} steps (unbounded recursion?)`);
    if (clock() > budget.deadline) throw new BudgetExceeded(`evaluation took longer than ${limits.timeMs} ms (a loop?)`);
  };
  const assign = expression.assign as (name: string | symbol, value: unknown) => void;
  // Unlike the exerciser, steps JSONata marks `isParallelCall` (the items of an array or object
  // constructor, evaluated concurrently) are checked too: skipping them would leave
  // `[1, <endless loop>]` unchecked. Their steps interleave, so the depth counts the steps in
  // progress across them, which is why the depth limit is generous.
  assign(Symbol.for('jsonata.__evaluate_entry'), () => {
    budget.depth += 1;
    check();
  });
  assign(Symbol.for('jsonata.__evaluate_exit'), (_node: unknown, _input: unknown, _environment: unknown, result: unknown) => {
    budget.depth -= 1;
    checkSize(result, limits);
    if (typeof result === 'string') {
      budget.textChars += result.length;
      if (budget.textChars > limits.textChars) throw new BudgetExceeded(`the template produced more than ${limits.textChars} characters of text in all`);
    }
    check();
  });
  // `$eval` would run JSONata taken from the payload: code chosen by whoever sends the webhook,
  // not by the bucket's owner who set (and had validated) the template. Templates never need it.
  expression.registerFunction('eval', () => {
    throw new BudgetExceeded('$eval is not available in templates');
  }, '<sx?:x>');
  expression.registerFunction('pad', (text: string | undefined, width: number, char?: string) => {
    if (Math.abs(Math.trunc(width)) > limits.stringChars) throw new BudgetExceeded(`$pad to ${width} characters exceeds the ${limits.stringChars}-character limit on a string`);
    return pad(text, width, char);
  }, '<s-ns?:s>');
  // `$distinct` compares every item with every distinct one so far, in one native call: 9,000
  // objects from a payload take half a minute. Shorter lists go to the built-in.
  expression.registerFunction('distinct', async function (this: jsonata.Focus, values: unknown) {
    if (Array.isArray(values) && values.length > DISTINCT_MAX_ITEMS) {
      throw new BudgetExceeded(`$distinct takes at most ${DISTINCT_MAX_ITEMS} items (given ${values.length})`);
    }
    builtinDistinct ??= jsonata('$distinct').evaluate({}) as Promise<{ implementation: (this: jsonata.Focus, values: unknown) => unknown }>;
    return (await builtinDistinct).implementation.call(this, values);
  }, '<x:x>');
}

/** Its work grows with the square of the list: 1,000 items are half a million comparisons at most. */
const DISTINCT_MAX_ITEMS = 1_000;
/** JSONata's own `$distinct`, looked up once (a function value of an expression that names it). */
let builtinDistinct: Promise<{ implementation: (this: jsonata.Focus, values: unknown) => unknown }> | undefined;

function checkSize(result: unknown, limits: TemplateLimits): void {
  if (typeof result === 'string' && result.length > limits.stringChars) {
    throw new BudgetExceeded(`a string of ${result.length} characters exceeds the limit of ${limits.stringChars}`);
  }
  if (Array.isArray(result) && result.length > limits.items) {
    throw new BudgetExceeded(`a sequence of ${result.length} items exceeds the limit of ${limits.items}`);
  }
}

/** JSONata's `$pad` (code points, negative width pads on the left), for the guarded binding. */
function pad(text: string | undefined, width: number, char?: string): string | undefined {
  if (text === undefined) return undefined;
  const filler = char === undefined || char.length === 0 ? ' ' : char;
  const target = Math.abs(Math.trunc(width));
  const missing = target - [...text].length;
  if (missing <= 0) return text;
  const padding = [...filler.repeat(Math.ceil(missing / [...filler].length))].slice(0, missing).join('');
  return width > 0 ? text + padding : padding + text;
}

/** JSONata's error codes for its own allocation limits (range size, sequence length). */
const JSONATA_LIMIT_CODES = new Set(['D2014', 'D2015', 'D1011', 'D1012']);

function describeFailure(field: TemplateField, error: unknown, limits: TemplateLimits): HeraldError {
  if (error instanceof HeraldError) return error;
  if (error instanceof BudgetExceeded) return new HeraldError('template_limit', `${field}: ${error.message}`);
  if (error instanceof RangeError) {
    // "Invalid string length", "Invalid array length" or the call stack: all budgets, in V8's words.
    return new HeraldError('template_limit', `${field}: ${error.message}`);
  }
  const { code, position, message } = (error ?? {}) as Partial<jsonata.JsonataError>;
  if (code && JSONATA_LIMIT_CODES.has(code)) return new HeraldError('template_limit', `${field}: ${message ?? code} (limit ${limits.items} items)`);
  const where = code ? ` (JSONata ${code}${typeof position === 'number' ? ` at position ${position}` : ''})` : '';
  return new HeraldError('template_failed', `${field}: ${typeof message === 'string' ? message.slice(0, 300) : 'evaluation failed'}${where}`);
}

/**
 * A field's value as the notification takes it: strings as they are, numbers and booleans as
 * text, nothing (undefined or null) leaves the field out; `tags` may also be a list of strings.
 */
function fieldValue(field: TemplateField, value: unknown): unknown {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (field === 'tags' && Array.isArray(value)) {
    return value.filter((tag) => tag !== undefined && tag !== null).map((tag) => (typeof tag === 'string' ? tag : typeof tag === 'number' || typeof tag === 'boolean' ? String(tag) : invalid(field, tag)));
  }
  return invalid(field, value);
}

function invalid(field: TemplateField, value: unknown): never {
  const kind = Array.isArray(value) ? 'a list' : typeof value === 'function' || (typeof value === 'object' && value !== null && '_jsonata_lambda' in value) ? 'a function' : 'an object';
  const hint = Array.isArray(value) ? ' (join a list with $join(…, ", "))' : '';
  throw new HeraldError('template_failed', `${field}: must evaluate to text, got ${kind}${hint}`);
}
