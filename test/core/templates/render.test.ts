import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { HeraldError } from '../../../lambdas/core/errors';
import { compileTemplate, renderTemplate, TEMPLATE_LIMITS, type TemplateExpressions } from '../../../lambdas/core/templates/render';

const ROOT = path.join(__dirname, '..', '..', '..');
const sampleTemplate = (name: string) => (JSON.parse(readFileSync(path.join(ROOT, 'docs', 'templates', `${name}.json`), 'utf8')) as { fields: TemplateExpressions }).fields;
const payload = (name: string) => JSON.parse(readFileSync(path.join(ROOT, 'test', 'fixtures', 'templates', `${name}.json`), 'utf8')) as unknown;

/**
 * Renders that assert values get a generous time budget, so a loaded CI machine cannot fail them;
 * the time budget itself is tested below with a controlled clock and with real loops.
 */
const UNHURRIED = { limits: { ...TEMPLATE_LIMITS, timeMs: 10_000 } };

async function failure(render: Promise<unknown>): Promise<HeraldError> {
  try {
    await render;
  } catch (error) {
    if (error instanceof HeraldError) return error;
    throw error;
  }
  throw new Error('expected the render to fail');
}

describe('renderTemplate: the sample templates (docs/templates)', () => {
  test('a GitHub push renders the repository, branch and first lines of the commits', async () => {
    await expect(renderTemplate(sampleTemplate('github'), payload('github-push'), UNHURRIED)).resolves.toEqual({
      title: 'octo-org/herald: 2 commits to main',
      subtitle: 'pushed by monalisa',
      body: '• Templates: JSONata renderer with limits\n• Docs: sample templates',
      deliveryType: 'NORMAL',
      tapUrl: 'https://github.com/octo-org/herald/compare/6113728f27ae...0d1a26e67d8f',
      groupId: 'github:octo-org/herald',
      tags: ['github', 'push'],
    });
  });

  test('a GitHub pull request renders its number, action, title and link', async () => {
    await expect(renderTemplate(sampleTemplate('github'), payload('github-pull-request'), UNHURRIED)).resolves.toEqual({
      title: 'octo-org/herald PR #42 opened',
      subtitle: 'Templates for any webhook',
      body: 'hubot: Adds per-bucket JSONata templates.\n\nCloses #9.',
      deliveryType: 'NORMAL',
      tapUrl: 'https://github.com/octo-org/herald/pull/42',
      groupId: 'github:octo-org/herald',
      tags: ['github', 'pull_request'],
    });
  });

  test('a firing critical Grafana alert is CRITICAL, with one line per alert and a collapse id', async () => {
    await expect(renderTemplate(sampleTemplate('grafana'), payload('grafana-alert'), UNHURRIED)).resolves.toEqual({
      title: 'Firing: HighCPU',
      subtitle: '2 alerts · herald',
      body: 'web-1: CPU above 90% for 5 minutes\nweb-2: CPU above 90% for 5 minutes',
      deliveryType: 'CRITICAL',
      tapUrl: 'https://grafana.example.com/alerting/grafana/cdx1/view?orgId=1',
      collapseId: 'grafana--severity-critical-alertname-HighCPU-',
      groupId: 'grafana:HighCPU',
      tags: ['grafana', 'firing', 'critical'],
    });
  });

  test('the resolved Grafana alert keeps the collapse id (it replaces the firing one) and is NORMAL', async () => {
    const resolved = { ...(payload('grafana-alert') as Record<string, unknown>), status: 'resolved' };
    const rendered = await renderTemplate(sampleTemplate('grafana'), resolved, UNHURRIED);
    expect(rendered).toMatchObject({ title: 'Resolved: HighCPU', deliveryType: 'NORMAL', collapseId: 'grafana--severity-critical-alertname-HighCPU-' });
  });
});

describe('renderTemplate: field values', () => {
  test('numbers and booleans become text; null and missing fields are left out', async () => {
    const rendered = await renderTemplate({ title: 'count', subtitle: 'ok', body: 'missing', groupId: 'nothing' }, { count: 3, ok: true, nothing: null }, UNHURRIED);
    expect(rendered).toEqual({ title: '3', subtitle: 'true', deliveryType: 'NORMAL' });
  });

  test('tags take a list or comma-separated text', async () => {
    await expect(renderTemplate({ title: '"t"', tags: 'labels' }, { labels: ['a', 2] }, UNHURRIED)).resolves.toMatchObject({ tags: ['a', '2'] });
    await expect(renderTemplate({ title: '"t"', tags: '"a, b"' }, {}, UNHURRIED)).resolves.toMatchObject({ tags: ['a', 'b'] });
  });

  test('a list where text belongs is a template_failed naming the field and suggesting $join', async () => {
    const error = await failure(renderTemplate({ title: '"t"', body: 'items' }, { items: ['a', 'b'] }, UNHURRIED));
    expect(error.toJSON()).toEqual({ error: 'template_failed', message: 'body: must evaluate to text, got a list (join a list with $join(…, ", "))' });
  });

  test('an object where text belongs is a template_failed', async () => {
    const error = await failure(renderTemplate({ title: '{"a": 1}' }, {}, UNHURRIED));
    expect(error).toMatchObject({ code: 'template_failed', status: 400, message: 'title: must evaluate to text, got an object' });
  });

  test('output that is not a valid notification is a validation_failed naming the field', async () => {
    const error = await failure(renderTemplate({ title: '"t"', tapUrl: 'url' }, { url: 'javascript:alert(1)' }, UNHURRIED));
    expect(error).toMatchObject({ code: 'validation_failed', status: 400, message: 'tapUrl: must be an http(s) URL' });
  });

  test('an empty title is the required-field error', async () => {
    const error = await failure(renderTemplate({ title: 'missing' }, {}, UNHURRIED));
    expect(error).toMatchObject({ code: 'validation_failed', message: 'title: is required' });
  });

  test("a JSONata error ($error, a type error) is a template_failed with JSONata's code and position", async () => {
    expect((await failure(renderTemplate({ title: '$error("no title here")' }, {}, UNHURRIED))).toJSON()).toEqual({
      error: 'template_failed',
      message: 'title: no title here (JSONata D3137 at position 7)',
    });
    expect(await failure(renderTemplate({ title: '"a" + 1' }, {}, UNHURRIED))).toMatchObject({ code: 'template_failed', message: expect.stringMatching(/^title: .*JSONata T2001 at position \d+\)$/) });
  });

  test('an array payload is the input as it is (JSONata wraps it, so $[0] is its first item)', async () => {
    await expect(renderTemplate({ title: '$[0].name & " +" & ($count($) - 1)' }, [{ name: 'a' }, { name: 'b' }], UNHURRIED)).resolves.toMatchObject({ title: 'a +1' });
  });
});

describe('compileTemplate: checked when a template is set', () => {
  test.each([
    ['a syntax error', { title: 'foo.' }, 'title: Unexpected end of expression (JSONata S0207 at position 4)'],
    ['an unterminated string', { title: '"t"', body: '"abc' }, expect.stringMatching(/^body: .*\(JSONata S0101 at position \d+\)$/)],
    ['a missing title', { body: 'x' }, expect.stringMatching(/^title: is required/)],
    ['an unknown field', { title: 'x', sound: '"bell"' }, expect.stringMatching(/^sound: not a template field; one of: title, subtitle, body/)],
    ['an empty expression', { title: 'x', body: ' ' }, 'body: must be a non-empty JSONata expression'],
    ['oversized expressions', { title: `"${'a'.repeat(TEMPLATE_LIMITS.sourceBytes)}"` }, `the template's expressions exceed ${TEMPLATE_LIMITS.sourceBytes} bytes`],
  ])('%s is a 400 invalid_template', (_what, fields, message) => {
    let thrown: unknown;
    try {
      compileTemplate(fields);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(HeraldError);
    expect(thrown).toMatchObject({ code: 'invalid_template', status: 400, message });
  });

  test('the sample templates compile', () => {
    expect(compileTemplate(sampleTemplate('github')).map((compiled) => compiled.field)).toEqual(['title', 'subtitle', 'body', 'tapUrl', 'tags', 'groupId']);
    expect(compileTemplate(sampleTemplate('grafana'))).toHaveLength(8);
  });
});

describe('renderTemplate: the budget stops runaway templates with a 400 template_limit', () => {
  const expectLimit = async (expressions: TemplateExpressions, message: RegExp, options = {}) => {
    const error = await failure(renderTemplate(expressions, { a: 1 }, options));
    expect(error).toMatchObject({ code: 'template_limit', status: 400 });
    expect(error.message).toMatch(message);
  };

  test('an endless tail-recursive loop runs out of time (real clock, default budget)', async () => {
    await expectLimit({ title: '( $f := function($x){ $f($x) }; $f(1) )' }, /^title: evaluation took longer than 100 ms/);
  });

  test('the time budget is one per render, shared by all fields (controlled clock)', async () => {
    // Every read of the clock advances it 1 ms, so time is counted in evaluation steps: one field
    // takes about 255 reads, four take about 1,020.
    let now = 0;
    const clock = () => (now += 1);
    const limits = { ...TEMPLATE_LIMITS, timeMs: 600 };
    const busy = '$sum([1..30].($ * 2))';
    await expect(renderTemplate({ title: busy }, {}, { limits, clock })).resolves.toMatchObject({ title: '930' });
    now = 0;
    await expectLimit({ title: busy, subtitle: busy, body: busy, groupId: busy }, /^body: evaluation took longer than 600 ms/, { limits, clock });
  });

  test('unbounded non-tail recursion is stopped by the depth limit', async () => {
    await expectLimit({ title: '( $f := function($n){ $n = 0 ? 0 : 1 + $f($n - 1) }; $f(100000) )' }, /^title: evaluation nested deeper than 2000 steps/, UNHURRIED);
  });

  test('a loop inside a list or object constructor (items JSONata evaluates concurrently) is stopped too', async () => {
    const loop = '( $f := function($x){ $f($x) }; $f(1) )';
    await expectLimit({ title: `$string([1, ${loop}])` }, /^title: evaluation took longer than 100 ms/);
    await expectLimit({ title: `$string({"a": 1, "b": ${loop}})` }, /^title: evaluation took longer than 100 ms/);
    await expectLimit({ title: '$string(["x", $pad("", 400000) & $pad("", 400000)])' }, /^title: a string of 800000 characters exceeds/, UNHURRIED);
  });

  test('a long literal list is not mistaken for deep recursion', async () => {
    const numbers = Array.from({ length: 1500 }, (_, index) => index);
    await expect(renderTemplate({ title: `$string($sum([${numbers.join(',')}]))` }, {}, UNHURRIED)).resolves.toMatchObject({ title: String((1499 * 1500) / 2) });
  });

  test('a ten-million range is refused before it is allocated', async () => {
    await expectLimit({ title: '$count([1..10000000])' }, /^title: .*sequence.*\(limit 10000 items\)$/, UNHURRIED);
  });

  test('$pad to 1 MB is refused before it allocates', async () => {
    await expectLimit({ title: '$pad("", 1000000)' }, /^title: \$pad to 1000000 characters exceeds/, UNHURRIED);
  });

  test('a 1 MB string built by doubling is stopped at the first step over the string limit', async () => {
    const doubling = `( $s := "${'x'.repeat(1024)}"; ${'$s := $s & $s; '.repeat(10)}$s )`;
    await expectLimit({ title: doubling }, /^title: a string of 1048576 characters exceeds the limit of 524288$/, UNHURRIED);
  });

  test('a 1 MB $join of a large list is stopped', async () => {
    await expectLimit({ title: '$join([1..1000].$pad("", 1100))' }, /^title: (a string of 1100000 characters exceeds|evaluation took longer)/);
  });

  test('many large strings, each under the string limit, are stopped by the total text budget', async () => {
    await expectLimit({ title: '$string($count([1..100].$pad("", 500000)))' }, /^title: (the template produced more than 16777216 characters of text in all|evaluation took longer)/);
    await expectLimit({ title: '$string($count([1..100].$pad("", 500000)))' }, /^title: the template produced more than 16777216 characters of text in all$/, UNHURRIED);
  });

  test('a $replace that would multiply a string is stopped (V8 refuses the length, or the size check does)', async () => {
    await expectLimit({ title: '$replace($pad("", 50000, "a"), "a", $pad("", 50000, "b"))' }, /^title: (Invalid string length|a string of \d+ characters exceeds)/);
  });

  test('output over 64 KB in total is stopped even when each field is within its own limit', async () => {
    const big = '$pad("", 9000, "x")';
    await expectLimit(
      { title: '"t"', body: '$pad("", 70000, "x")' },
      /^the rendered notification is \d+ characters; the limit is 65536$/,
      UNHURRIED,
    );
    await expect(renderTemplate({ title: '"t"', body: big }, {}, UNHURRIED)).resolves.toMatchObject({ body: 'x'.repeat(9000) });
  });

  test('$distinct of a long list from the payload is refused (its work grows with the square of the list)', async () => {
    const items = Array.from({ length: 9_000 }, (_, index) => ({ id: index }));
    const error = await failure(renderTemplate({ title: '$string($count($distinct(items)))' }, { items }, UNHURRIED));
    expect(error).toMatchObject({ code: 'template_limit', message: 'title: $distinct takes at most 1000 items (given 9000)' });
    await expect(renderTemplate({ title: '$join($distinct(tags), ",")' }, { tags: ['a', 'b', 'a', 'c', 'b'] }, UNHURRIED)).resolves.toMatchObject({ title: 'a,b,c' });
  });

  test('$eval is not available: a payload cannot carry code for the template to run', async () => {
    await expectLimit({ title: '$eval(code)' }, /^title: \$eval is not available in templates$/, UNHURRIED);
  });
});

describe('renderTemplate never throws anything but a HeraldError (fast-check)', () => {
  const templates: TemplateExpressions[] = [
    sampleTemplate('github'),
    sampleTemplate('grafana'),
    { title: '$string($)', body: '$join($keys($), ", ")', tags: '$keys($)' },
    { title: 'title', subtitle: 'subtitle', body: 'body', deliveryType: 'deliveryType', tapUrl: 'url', tags: 'tags', collapseId: 'id' },
    { title: '$substring($string(**), 0, 100)', body: '$join(**.$string(), "\\n")' },
    { title: '$uppercase(a.b) & $number(n) & $sum(xs)', body: '$reduce(xs, function($acc, $x){ $acc & $x }, "")' },
  ];

  test('over arbitrary JSON payloads and a few templates', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...templates), fc.jsonValue({ maxDepth: 4 }), async (expressions, data) => {
        try {
          await renderTemplate(expressions, data);
        } catch (error) {
          if (!(error instanceof HeraldError)) throw error;
          expect(error.status).toBe(400);
        }
      }),
      { numRuns: 300 },
    );
  });

  test('over arbitrary expressions (as a template author might mistype them)', async () => {
    const fragment = fc.constantFrom('title', '.', '$', '[', ']', '(', ')', '{', '}', '"a"', '1', '..', '&', '$count', '$join', ':', ',', '?', '=', ' ', '$f := function($x){$f($x)}', '$f(1)', ';', '**', '%', '$pad');
    await fc.assert(
      fc.asyncProperty(fc.array(fragment, { maxLength: 12 }).map((parts) => parts.join('')), fc.jsonValue({ maxDepth: 3 }), async (title, data) => {
        try {
          await renderTemplate({ title }, data);
        } catch (error) {
          if (!(error instanceof HeraldError)) throw error;
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('regular expressions, which run natively out of the time budget\'s reach', () => {
  test.each(['(a+)+$', '(\\w*\\s)*x', '(x+){2,}', '((ab)*c)+', '(?:[a-z]+\\.)*com'])('/%s/ (a nested repetition) is refused when the template is set', (pattern) => {
    expect(() => compileTemplate({ title: `$match(text, /${pattern}/)` })).toThrow(
      expect.objectContaining({ code: 'invalid_template', message: expect.stringMatching(/^title: the regular expression .* repeats a group that itself repeats/) }),
    );
  });

  test.each(['a+b*', '(ab)+', '[(a+)]+', '\\(a+\\)+', '(a|b)*c', '^(\\d{4})-(\\d{2})$', '(?:refs/heads/)?(.+)'])('/%s/ is accepted', (pattern) => {
    expect(() => compileTemplate({ title: `$match(text, /${pattern}/)` })).not.toThrow();
  });

  test('a regex on a subject over the limit is a template_limit; under it, it runs', async () => {
    const template = { title: '$replace(text, /\\s+$/, "")' };
    await expect(renderTemplate(template, { text: `title${' '.repeat(100)}` }, UNHURRIED)).resolves.toMatchObject({ title: 'title' });
    const error = await failure(renderTemplate(template, { text: `${' '.repeat(200_000)}x` }, UNHURRIED));
    expect(error).toMatchObject({ code: 'template_limit', message: 'title: a regular expression may search at most 10000 characters (given 200001); take a $substring first' });
  });
});
