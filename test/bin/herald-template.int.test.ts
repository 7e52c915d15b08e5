import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { startLocalHerald, type LocalHerald } from '../../lambdas/local/server';

/**
 * `herald template set|get|list|test|delete` against a local Herald (the admin API signed with
 * SigV4, as in the cloud), and the template it sets used by `POST /template` on the same Herald.
 */

const ROOT = path.join(__dirname, '..', '..');
const HERALD = path.join(ROOT, 'bin', 'herald.mjs');
const GITHUB_TEMPLATE = path.join(ROOT, 'docs', 'templates', 'github.json');
const GITHUB_PUSH = path.join(ROOT, 'test', 'fixtures', 'templates', 'github-push.json');

interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function herald(args: string[], stdin = ''): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = execFile('node', [HERALD, ...args], { env: process.env }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') return reject(error);
      resolve({ code: error ? (error.code as number) : 0, stdout, stderr });
    });
    child.stdin!.end(stdin);
  });
}

describe('herald template against a local Herald', () => {
  let local: LocalHerald;
  let bucket: { bucket: { name: string }; token: string };
  const emptyPayload = path.join(mkdtempSync(path.join(tmpdir(), 'herald-template-')), 'payload.json');

  beforeAll(async () => {
    const suffix = randomUUID().slice(0, 8);
    local = await startLocalHerald({
      port: 0,
      standIns: { dynamodbEndpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB!, sqsEndpoint: process.env.AWS_ENDPOINT_URL_SQS! },
      tableName: `herald-tpl-cli-${suffix}`,
      queueName: `herald-tpl-cli-${suffix}`,
    });
    bucket = await cli(['bucket', 'create', '--name', `tpl-${suffix}`]);
    await cli(['template', 'set', bucket.bucket.name, 'loops', '--title', '( $f := function($x){ $f($x) }; $f(1) )']);
    writeFileSync(emptyPayload, '{}');
  });

  afterAll(() => local?.stop());

  async function cli<T = Record<string, unknown>>(args: string[], stdin?: string): Promise<T> {
    const result = await herald([...args, '--local', local.url, '--json'], stdin);
    if (result.code !== 0) throw new Error(`herald ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
    return JSON.parse(result.stdout) as T;
  }

  test('set from a file, list, get, test a sample payload, send through POST /template, delete', async () => {
    const name = bucket.bucket.name;
    const set = await cli<{ template: { name: string; fields: Record<string, string> } }>(['template', 'set', name, 'github', '--file', GITHUB_TEMPLATE]);
    expect(set.template).toMatchObject({ name: 'github', description: 'GitHub push and pull_request webhooks', fields: { title: expect.stringContaining('pull_request') } });

    expect((await cli<{ templates: { name: string }[] }>(['template', 'list', name])).templates.map((template) => template.name)).toContain('github');
    expect(await cli(['template', 'get', name, 'github'])).toEqual(set);

    const tested = await cli<{ notification: Record<string, unknown>; apns: { payload: { aps: { alert: Record<string, string> } } }; fcm: unknown }>([
      'template', 'test', name, 'github', '--payload', GITHUB_PUSH,
    ]);
    expect(tested.notification).toMatchObject({ title: 'octo-org/herald: 2 commits to main', source: 'template:github', tags: ['github', 'push'] });
    expect(tested.apns.payload.aps.alert).toMatchObject({ title: 'octo-org/herald: 2 commits to main', subtitle: 'pushed by monalisa' });
    expect(tested.fcm).toBeDefined();

    const sent = await fetch(`${local.url}/template?template=github`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bucket.token}`, 'content-type': 'application/json' },
      body: readFileSync(GITHUB_PUSH),
    });
    expect(sent.status).toBe(201);
    expect(((await sent.json()) as { message: { title: string } }).message.title).toBe('octo-org/herald: 2 commits to main');

    expect(await cli(['template', 'delete', name, 'github'])).toEqual({ bucket: name, template: 'github', deleted: true });
    expect((await cli<{ templates: { name: string }[] }>(['template', 'list', name])).templates.map((template) => template.name)).not.toContain('github');
  });

  test('field flags override the file; the payload may come from stdin', async () => {
    const name = bucket.bucket.name;
    await cli(['template', 'set', name, 'flags', '--file', GITHUB_TEMPLATE, '--title', '"Push by " & pusher.name', '--tap-url', 'repository.html_url']);
    const tested = await cli<{ notification: Record<string, unknown> }>(['template', 'test', name, 'flags'], JSON.stringify({ pusher: { name: 'octocat' }, repository: { html_url: 'https://github.com/o/r' }, commits: [] }));
    expect(tested.notification).toMatchObject({ title: 'Push by octocat', tapUrl: 'https://github.com/o/r', subtitle: 'pushed by octocat' });
  });

  test('list and get for people', async () => {
    const name = bucket.bucket.name;
    await cli(['template', 'set', name, 'people', '--title', 'title', '--description', 'for people']);
    const list = await herald(['template', 'list', name, '--local', local.url]);
    expect(list.stdout).toMatch(/^NAME\s+FIELDS\s+UPDATED\s+DESCRIPTION\n/);
    expect(list.stdout).toMatch(/^people\s+title\s+\S+\s+for people$/m);
    const get = await herald(['template', 'get', name, 'people', '--local', local.url]);
    expect(get.stdout).toMatch(/^Template:\s+people$/m);
    expect(get.stdout).toMatch(/^title:\s+title$/m);
  });

  test.each([
    ['a syntax error (checked when set)', ['set', '{bucket}', 'broken', '--title', '"a" &'], /^herald: title: .*\(JSONata S0\d+ at position \d+\)\n$/],
    ['a template that loops (on test)', ['test', '{bucket}', 'loops', '--payload', '{payload}'], /^herald: title: evaluation took longer than \d+ ms/],
    ['an unknown template', ['test', '{bucket}', 'nope', '--payload', '{payload}'], /^herald: this bucket has no template "nope"\n$/],
    ['a missing template file', ['set', '{bucket}', 'x', '--file', '/nonexistent/t.json'], /^herald: cannot read template file \/nonexistent\/t.json: ENOENT\n$/],
    ['no fields at all', ['set', '{bucket}', 'x'], /^herald: give the template with --file/],
  ])('%s: exit 1 with one line', async (_what, args, message) => {
    const result = await herald(['template', ...args.map((arg) => arg.replace('{bucket}', bucket.bucket.name).replace('{payload}', emptyPayload)), '--local', local.url]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(message);
  });

  test('template --help lists its subcommands', async () => {
    const result = await herald(['template', '--help']);
    for (const subcommand of ['set', 'list', 'get', 'delete', 'test']) expect(result.stdout).toMatch(new RegExp(`^  ${subcommand}\\b.*\\s\\w`, 'm'));
  });
});
