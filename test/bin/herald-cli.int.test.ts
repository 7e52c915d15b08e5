import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import * as path from 'node:path';
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import { getDevice } from '../../lambdas/core/store/devices';
import { startLocalHerald, type LocalHerald } from '../../lambdas/local/server';
import { waitFor } from '../local/helpers';

const HERALD = path.join(__dirname, '..', '..', 'bin', 'herald.mjs');
const CFN_XMLNS = 'http://cloudformation.amazonaws.com/doc/2010-05-15/';

interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the CLI as a user would (stdin a pipe, never a terminal); resolves with its exit code and output. */
function herald(args: string[], options: { env?: NodeJS.ProcessEnv; stdin?: string | Buffer } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = execFile('node', [HERALD, ...args], { env: options.env ?? process.env }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') return reject(error);
      resolve({ code: error ? (error.code as number) : 0, stdout, stderr });
    });
    child.stdin!.end(options.stdin ?? '');
  });
}

/** An environment without any AWS configuration, so the SDK's credential chain finds nothing. */
const NO_AWS_ENV: NodeJS.ProcessEnv = {
  PATH: process.env.PATH,
  HOME: '/nonexistent',
  AWS_REGION: 'us-east-1',
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_CONFIG_FILE: '/dev/null',
  AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
};

/** The one-line error of a failed command: exit 1, one line on stderr, no stack trace. */
function expectCliError(result: CliResult, message: string | RegExp): void {
  expect(result.code).toBe(1);
  expect(result.stderr).toMatch(/^herald: [^\n]+\n$/);
  expect(result.stderr).not.toMatch(/\n\s+at /);
  if (typeof message === 'string') expect(result.stderr).toContain(message);
  else expect(result.stderr).toMatch(message);
}

interface CreatedBucket {
  bucket: { id: string; name: string; displayName?: string; routineSources?: string[] };
  token: string;
  magicCode: string;
  authentikWebhookUrl: string;
}

describe('the herald CLI against a local Herald (the admin API, signed with SigV4)', () => {
  let local: LocalHerald;

  beforeAll(async () => {
    const suffix = randomUUID().slice(0, 8);
    local = await startLocalHerald({
      port: 0,
      standIns: { dynamodbEndpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB!, sqsEndpoint: process.env.AWS_ENDPOINT_URL_SQS! },
      tableName: `herald-cli-${suffix}`,
      queueName: `herald-cli-${suffix}`,
    });
  });

  afterAll(() => local?.stop());

  /** `herald <args> --local <url> --json`, parsed; fails the test on a non-zero exit. */
  async function cli<T = Record<string, unknown>>(args: string[], stdin?: string | Buffer): Promise<T> {
    const result = await herald([...args, '--local', local.url, '--json'], { stdin });
    if (result.code !== 0) throw new Error(`herald ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
    return JSON.parse(result.stdout) as T;
  }

  /** The same command for people: its table or label lines. */
  async function cliText(args: string[]): Promise<CliResult> {
    return herald([...args, '--local', local.url]);
  }

  const uniqueName = (prefix: string) => `${prefix}-${randomUUID().slice(0, 6)}`;

  async function sendWithToken(token: string, title: string): Promise<Response> {
    return fetch(`${local.url}/message`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ title }),
    });
  }

  async function sendWithMagicCode(magicCode: string, title: string): Promise<Response> {
    return fetch(`${local.url}/message?magicCode=${encodeURIComponent(magicCode)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ title }),
    });
  }

  async function registerDevice(token: string, platform: 'ios' | 'android', name: string): Promise<string> {
    const response = await fetch(`${local.url}/devices`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ platform, token: `cli-test-${platform}-${randomUUID()}`, name }),
    });
    expect(response.status).toBe(201);
    return ((await response.json()) as { device: { id: string } }).device.id;
  }

  const errorOf = async (response: Response) => ((await response.json()) as { error: string }).error;

  describe('IAM authorization', () => {
    test('an unsigned request to the admin API is refused with 403; the CLI\'s signed one succeeds', async () => {
      const unsigned = await fetch(`${local.url}/admin/buckets`);
      expect(unsigned.status).toBe(403);
      expect(await cli(['bucket', 'list'])).toEqual({ buckets: expect.any(Array) });
    });

    test('a request signed with the wrong secret key is refused with 403', async () => {
      const url = new URL(`${local.url}/admin/buckets`);
      const signer = new SignatureV4({ service: 'execute-api', region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'not-the-secret' }, sha256: Sha256 });
      const signed = await signer.sign({ method: 'GET', protocol: url.protocol, hostname: url.hostname, port: Number(url.port), path: url.pathname, query: {}, headers: { host: url.host } });
      const { host: _host, ...headers } = signed.headers;
      const response = await fetch(url, { headers });
      expect(response.status).toBe(403);
    });
  });

  describe('bucket', () => {
    test('create prints the bucket, its token and magic code once, and the printed token sends', async () => {
      const name = uniqueName('cli-alerts');
      const created = await cli<CreatedBucket>(['bucket', 'create', '--name', name, '--display-name', 'CLI alerts', '--routine', 'zitadel']);
      expect(created.bucket).toMatchObject({ name, displayName: 'CLI alerts', routineSources: ['zitadel'] });
      expect(created.token).toMatch(/^hrld_[A-Za-z0-9_-]{43}$/);
      expect(created.authentikWebhookUrl).toBe(`${local.url}/transform?parser=ZENTIK_AUTHENTIK&magicCode=${created.magicCode}`);
      expect((await sendWithToken(created.token, 'from the printed token')).status).toBe(201);
      expect((await sendWithMagicCode(created.magicCode, 'from the printed magic code')).status).toBe(201);
    });

    test('create prints label lines for people', async () => {
      const name = uniqueName('cli-people');
      const result = await cliText(['bucket', 'create', '--name', name]);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(new RegExp(`^Bucket:\\s+${name} \\(`, 'm'));
      expect(result.stdout).toMatch(/^Token \(shown once\):\s+hrld_/m);
      expect(result.stdout).toMatch(/^Magic code \(shown once\):\s+\S{22}$/m);
      expect(result.stdout).toMatch(/^authentik webhook URL:\s+http:\/\/127\.0\.0\.1:\d+\/transform\?parser=ZENTIK_AUTHENTIK&magicCode=/m);
    });

    test('a taken name is a clear error with exit code 1 and no stack trace', async () => {
      const name = uniqueName('cli-taken');
      await cli(['bucket', 'create', '--name', name]);
      const result = await cliText(['bucket', 'create', '--name', name]);
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(`herald: name: a bucket named "${name}" already exists\n`);
    });

    test('a reserved name is refused', async () => {
      expectCliError(await cliText(['bucket', 'create', '--name', 'transform']), "one of Herald's routes");
    });

    test('list shows every bucket, as JSON and as a table with one row per bucket', async () => {
      const name = uniqueName('cli-listed');
      const created = await cli<CreatedBucket>(['bucket', 'create', '--name', name]);
      const { buckets } = await cli<{ buckets: { id: string; name: string }[] }>(['bucket', 'list']);
      expect(buckets).toContainEqual(expect.objectContaining({ id: created.bucket.id, name }));
      const table = await cliText(['bucket', 'list']);
      expect(table.code).toBe(0);
      const lines = table.stdout.trimEnd().split('\n');
      expect(lines[0]).toMatch(/^NAME\s+ID\s+DISPLAY NAME\s+ROUTINE EVENTS OF\s+CREATED$/);
      const row = lines.find((line) => line.startsWith(`${name} `))!;
      expect(row).toContain(created.bucket.id);
      // Aligned: every row's ID starts in the ID column.
      expect(row.indexOf(created.bucket.id)).toBe(lines[0]!.indexOf('ID'));
      // Never a secret in a listing.
      expect(table.stdout).not.toContain(created.token);
    });

    test('get and update show and change the settings', async () => {
      const name = uniqueName('cli-settings');
      const created = await cli<CreatedBucket>(['bucket', 'create', '--name', name, '--display-name', 'Before']);
      expect(await cli(['bucket', 'get', name])).toEqual({ bucket: expect.objectContaining({ id: created.bucket.id, name, displayName: 'Before' }) });
      const updated = await cli<{ bucket: CreatedBucket['bucket'] & { icon?: string } }>(['bucket', 'update', name, '--display-name', 'After', '--icon', 'bell.fill', '--routine', 'keycloak,zitadel']);
      expect(updated.bucket).toMatchObject({ displayName: 'After', icon: 'bell.fill', routineSources: ['keycloak', 'zitadel'] });
      const cleared = await cli<{ bucket: CreatedBucket['bucket'] }>(['bucket', 'update', created.bucket.id, '--clear-display-name', '--clear-routine']);
      expect(cleared.bucket.displayName).toBeUndefined();
      expect(cleared.bucket.routineSources ?? []).toEqual([]);
      const shown = await cliText(['bucket', 'get', name]);
      expect(shown.stdout).toMatch(/^Icon:\s+bell\.fill$/m);
      const renamed = await cli<{ bucket: CreatedBucket['bucket'] }>(['bucket', 'update', name, '--name', `${name}-renamed`]);
      expect(renamed.bucket).toMatchObject({ id: created.bucket.id, name: `${name}-renamed` });
    });

    test('update sets and clears the time zone, quiet hours and snooze', async () => {
      const name = uniqueName('cli-quiet');
      await cli<CreatedBucket>(['bucket', 'create', '--name', name]);
      const before = Date.now();

      const set = await cli<{ bucket: Record<string, unknown> }>(['bucket', 'update', name, '--time-zone', 'Europe/Berlin', '--quiet-hours', 'mon-fri 22:00-07:00, sat,sun 23:00-09:00', '--snooze', '2h']);
      const shown = await cliText(['bucket', 'get', name]);
      const cleared = await cli<{ bucket: Record<string, unknown> }>(['bucket', 'update', name, '--clear-quiet-hours', '--clear-snooze']);

      expect(set.bucket).toMatchObject({
        timeZone: 'Europe/Berlin',
        quietHours: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '22:00', end: '07:00' }, { days: ['sat', 'sun'], start: '23:00', end: '09:00' }],
      });
      const snoozedFor = Date.parse(set.bucket.snoozeUntil as string) - before;
      expect(snoozedFor).toBeGreaterThan(2 * 3_600_000 - 60_000);
      expect(snoozedFor).toBeLessThanOrEqual(2 * 3_600_000 + 60_000);
      expect(shown.stdout).toMatch(/^Quiet hours:\s+mon,tue,wed,thu,fri 22:00-07:00; sat,sun 23:00-09:00$/m);
      expect(shown.stdout).toMatch(/^Time zone:\s+Europe\/Berlin$/m);
      expect(cleared.bucket).toMatchObject({ timeZone: 'Europe/Berlin' });
      expect(cleared.bucket).not.toHaveProperty('quietHours');
      expect(cleared.bucket).not.toHaveProperty('snoozeUntil');
    });

    test('update names a bad quiet-hours setting', async () => {
      const name = uniqueName('cli-quiet-bad');
      await cli<CreatedBucket>(['bucket', 'create', '--name', name]);
      expectCliError(await cliText(['bucket', 'update', name, '--quiet-hours', 'weekends 22:00-07:00']), '--quiet-hours: "weekends" is not a day');
      expectCliError(await cliText(['bucket', 'update', name, '--snooze', 'soon']), '--snooze: "soon"');
      expectCliError(await cliText(['bucket', 'update', name, '--time-zone', 'Mars/Base']), 'timeZone: must be an IANA time zone name');
      expectCliError(await cliText(['bucket', 'update', name, '--snooze', '1h', '--clear-snooze']), 'give --snooze or --clear-snooze, not both');
    });

    test('update without a change says what to give', async () => {
      expectCliError(await cliText(['bucket', 'update', 'whatever']), 'nothing to update');
    });

    test('delete removes the devices\' push endpoints, and the bucket then is gone', async () => {
      // GIVEN a bucket with two registered devices
      const name = uniqueName('cli-doomed');
      const created = await cli<CreatedBucket>(['bucket', 'create', '--name', name]);
      const deviceIds = [await registerDevice(created.token, 'ios', 'Doomed iPhone'), await registerDevice(created.token, 'android', 'Doomed Pixel')];
      const endpoints = await Promise.all(deviceIds.map(async (id) => (await getDevice(local.store, created.bucket.id, id))!.endpointArn!));
      // WHEN it is deleted through the CLI
      expect(await cli(['bucket', 'delete', name, '--yes'])).toEqual({ deleted: { id: created.bucket.id, name } });
      // THEN each device's endpoint was deleted at the push boundary, and the bucket is gone
      expect(local.push.deletedEndpoints).toEqual(expect.arrayContaining(endpoints));
      for (const id of deviceIds) expect(await getDevice(local.store, created.bucket.id, id)).toBeUndefined();
      expectCliError(await cliText(['bucket', 'get', name]), `no bucket "${name}"`);
      expect((await sendWithToken(created.token, 'after the delete')).status).toBe(401);
    });

    test('delete refuses without --yes when stdin is not a terminal', async () => {
      const name = uniqueName('cli-kept');
      await cli(['bucket', 'create', '--name', name]);
      expectCliError(await cliText(['bucket', 'delete', name]), '--yes');
      expect(await cli(['bucket', 'get', name])).toEqual({ bucket: expect.objectContaining({ name }) });
    });

    test('deleting a bucket that does not exist is a one-line "no bucket" error', async () => {
      expectCliError(await cliText(['bucket', 'delete', 'cli-never-was', '--yes']), 'no bucket "cli-never-was"');
    });
  });

  describe('token', () => {
    test('create prints the token once; it works until revoked through the CLI, then 401 token_revoked', async () => {
      const name = uniqueName('cli-tokens');
      await cli(['bucket', 'create', '--name', name]);
      const created = await cli<{ credential: { id: string; name: string; scopes: string[]; validUntil?: string }; secret: string }>(
        ['token', 'create', name, '--name', 'grafana', '--scopes', 'send', '--expires-in', '30d'],
      );
      expect(created.secret).toMatch(/^hrld_/);
      expect(created.credential).toMatchObject({ name: 'grafana', scopes: ['send'] });
      expect(Date.parse(created.credential.validUntil!) - Date.now()).toBeGreaterThan(29 * 86_400_000);
      expect((await sendWithToken(created.secret, 'before the revoke')).status).toBe(201);

      // Listed without its secret.
      const { tokens } = await cli<{ tokens: { id: string; revokedAt?: string }[] }>(['token', 'list', name]);
      expect(tokens.map((token) => token.id)).toContain(created.credential.id);
      const table = await cliText(['token', 'list', name]);
      expect(table.stdout).toMatch(/^ID\s+NAME\s+SCOPES\s+CREATED\s+EXPIRES\s+STATUS$/m);
      expect(table.stdout).toMatch(new RegExp(`^${created.credential.id}\\s+grafana\\s+send\\s+\\S+\\s+\\S+\\s+active$`, 'm'));
      expect(table.stdout).not.toContain(created.secret);

      // WHEN revoked through the CLI, THEN the very next request is refused.
      expect(await cli(['token', 'revoke', name, created.credential.id])).toEqual({ bucket: name, token: created.credential.id, revoked: true });
      const refused = await sendWithToken(created.secret, 'after the revoke');
      expect(refused.status).toBe(401);
      expect(await errorOf(refused)).toBe('token_revoked');
      const after = await cli<{ tokens: { id: string; revokedAt?: string }[] }>(['token', 'list', name]);
      expect(after.tokens.find((token) => token.id === created.credential.id)?.revokedAt).toEqual(expect.any(String));
    });

    test('a token without the "send" scope cannot send', async () => {
      const name = uniqueName('cli-scopes');
      await cli(['bucket', 'create', '--name', name]);
      const reader = await cli<{ secret: string }>(['token', 'create', name, '--name', 'dashboard', '--scopes', 'read', '--expires', '2099-01-01T00:00:00Z']);
      const refused = await sendWithToken(reader.secret, 'not allowed');
      expect(refused.status).toBe(403);
      expect(((await refused.json()) as { message: string }).message).toContain('"send" scope');
    });

    test('bad durations and unknown tokens are one-line errors', async () => {
      const name = uniqueName('cli-badtoken');
      await cli(['bucket', 'create', '--name', name]);
      expectCliError(await cliText(['token', 'create', name, '--name', 'x', '--expires-in', 'soon']), '--expires-in must be a duration');
      expectCliError(await cliText(['token', 'create', name, '--name', 'x', '--expires', '2001-01-01T00:00:00Z']), 'expiresAt: must be in the future');
      expectCliError(await cliText(['token', 'revoke', name, 'no-such-token']), 'no token no-such-token');
    });
  });

  describe('magic-code', () => {
    test('create, list, rotate (the old code then fails) and revoke', async () => {
      const name = uniqueName('cli-codes');
      await cli(['bucket', 'create', '--name', name]);
      const created = await cli<{ credential: { id: string }; secret: string; authentikWebhookUrl: string }>(['magic-code', 'create', name, '--name', 'authentik']);
      expect(created.authentikWebhookUrl).toContain(`magicCode=${created.secret}`);
      expect((await sendWithMagicCode(created.secret, 'with the first code')).status).toBe(201);

      const { magicCodes } = await cli<{ magicCodes: { id: string; name?: string; scopes: string[] }[] }>(['magic-code', 'list', name]);
      expect(magicCodes).toContainEqual(expect.objectContaining({ id: created.credential.id, name: 'authentik', scopes: ['send'] }));
      expect(JSON.stringify(magicCodes)).not.toContain(created.secret);

      // WHEN rotated, THEN the old code fails and the new one works
      const rotated = await cli<{ credential: { id: string; name?: string }; secret: string; replaced: string }>(['magic-code', 'rotate', name, created.credential.id]);
      expect(rotated).toMatchObject({ replaced: created.credential.id, credential: { name: 'authentik' } });
      expect(rotated.secret).not.toBe(created.secret);
      const old = await sendWithMagicCode(created.secret, 'with the rotated-out code');
      expect(old.status).toBe(401);
      expect(await errorOf(old)).toBe('token_revoked');
      expect((await sendWithMagicCode(rotated.secret, 'with the new code')).status).toBe(201);

      // WHEN the new one is revoked, THEN it fails too
      expect(await cli(['magic-code', 'revoke', name, rotated.credential.id])).toEqual({ bucket: name, magicCode: rotated.credential.id, revoked: true });
      expect(await errorOf(await sendWithMagicCode(rotated.secret, 'after the revoke'))).toBe('token_revoked');
      const table = await cliText(['magic-code', 'list', name]);
      expect(table.stdout).toMatch(new RegExp(`^${rotated.credential.id}\\s+authentik\\s+.*revoked \\S+$`, 'm'));
    });
  });

  describe('secret', () => {
    test('set (from stdin or --value) and remove go through the admin API to the vault', async () => {
      const name = uniqueName('cli-secrets');
      const created = await cli<CreatedBucket>(['bucket', 'create', '--name', name]);
      const vaultName = `herald/source/${created.bucket.id}/zitadel`;
      expect(await cli(['secret', 'set', '--bucket', name, '--source', 'zitadel'], 'zitadel-signing-key-from-stdin\n')).toEqual({ bucket: name, source: 'zitadel', set: true });
      expect(await local.vault.get(vaultName)).toBe('zitadel-signing-key-from-stdin');
      await cli(['secret', 'set', '--bucket', name, '--source', 'zitadel', '--value', 'zitadel-signing-key-from-value']);
      expect(await local.vault.get(vaultName)).toBe('zitadel-signing-key-from-value');
      const human = await cliText(['secret', 'remove', '--bucket', name, '--source', 'zitadel']);
      expect(human.stdout).toMatch(new RegExp(`^zitadel secret of ${name}:\\s+removed$`, 'm'));
      expect(await local.vault.get(vaultName)).toBeUndefined();
    });

    test('an unknown source and an unknown bucket are one-line errors', async () => {
      expectCliError(await cliText(['secret', 'set', '--bucket', 'demo', '--source', 'nosuchidp', '--value', 'x'.repeat(16)]), 'nosuchidp');
      expectCliError(await cliText(['secret', 'set', '--bucket', 'cli-no-bucket', '--source', 'zitadel', '--value', 'x'.repeat(16)]), 'no bucket "cli-no-bucket"');
    });
  });

  describe('device, send and history', () => {
    test('list, send to the devices, read the history with per-device outcomes, disable and delete', async () => {
      // GIVEN a bucket with two devices
      const name = uniqueName('cli-devices');
      const created = await cli<CreatedBucket>(['bucket', 'create', '--name', name]);
      const iphone = await registerDevice(created.token, 'ios', 'Test iPhone');
      const pixel = await registerDevice(created.token, 'android', 'Test Pixel');

      const { devices } = await cli<{ devices: { id: string; platform: string; name?: string; enabled: boolean }[] }>(['device', 'list', name]);
      expect(devices.map((device) => device.id).sort()).toEqual([iphone, pixel].sort());
      expect(JSON.stringify(devices)).not.toMatch(/endpointArn|cli-test-/);
      const table = await cliText(['device', 'list', name]);
      expect(table.stdout).toMatch(/^ID\s+PLATFORM\s+NAME\s+UPDATED\s+STATUS$/m);
      expect(table.stdout).toMatch(new RegExp(`^${iphone}\\s+ios \\(production\\)\\s+Test iPhone\\s+\\S+\\s+enabled$`, 'm'));

      // WHEN a notification is sent with the bucket token
      const sent = await herald(['send', '--bucket', name, '--title', 'Deploy finished', '--body', 'v1.2.3 is live', '--delivery-type', 'critical', '--tag', 'deploy', '--tag', 'prod', '--local', local.url, '--json'], {
        env: { ...process.env, HERALD_TOKEN: created.token },
      });
      expect(sent.code).toBe(0);
      const { id } = JSON.parse(sent.stdout) as { id: string };
      expect(id).toEqual(expect.any(String));

      // THEN the history lists it, and shows how it reached each device
      const entry = await waitFor('the notification in the history', async () => {
        const { notifications } = await cli<{ notifications: { notification: { id: string; title: string }; outcomes: Record<string, number> }[] }>(['history', 'list', name, '--limit', '5']);
        const found = notifications.find((item) => item.notification.id === id);
        return found && found.outcomes.sent === 2 ? found : undefined;
      });
      expect(entry.notification.title).toBe('Deploy finished');
      const detail = await cli<{ notification: { tags?: string[]; deliveryType: string }; devices: { deviceId: string; status: string }[] }>(['history', 'get', name, id]);
      expect(detail.notification).toMatchObject({ deliveryType: 'CRITICAL', tags: ['deploy', 'prod'] });
      expect(detail.devices.map((outcome) => [outcome.deviceId, outcome.status]).sort()).toEqual([[iphone, 'sent'], [pixel, 'sent']].sort());
      const listed = await cliText(['history', 'list', name]);
      expect(listed.stdout).toMatch(new RegExp(`^${id}\\s+\\S+\\s+native\\s+CRITICAL\\s+sent 2\\s+Deploy finished$`, 'm'));
      const shown = await cliText(['history', 'get', name, id]);
      expect(shown.stdout).toMatch(/^Title:\s+Deploy finished$/m);
      expect(shown.stdout).toMatch(/^Delivered as:\s+alert$/m);
      expect(shown.stdout).toMatch(/^DEVICE\s+PLATFORM\s+STATUS\s+AT\s+DETAIL$/m);
      expect(shown.stdout).toMatch(new RegExp(`^${iphone}\\s+APNS\\s+sent\\s`, 'm'));

      // WHEN a device is disabled and the other deleted
      const { device } = await cli<{ device: { id: string; enabled: boolean; disabledReason?: string } }>(['device', 'disable', name, iphone]);
      expect(device).toMatchObject({ id: iphone, enabled: false, disabledReason: 'disabled by an administrator' });
      const pixelEndpoint = (await getDevice(local.store, created.bucket.id, pixel))!.endpointArn!;
      expect(await cli(['device', 'delete', name, pixel])).toEqual({ bucket: name, device: pixel, deleted: true });
      // THEN the deleted one's endpoint is gone, and the list shows what is left
      expect(local.push.deletedEndpoints).toContain(pixelEndpoint);
      const left = await cli<{ devices: { id: string; enabled: boolean }[] }>(['device', 'list', name]);
      expect(left.devices).toEqual([expect.objectContaining({ id: iphone, enabled: false })]);
      expectCliError(await cliText(['device', 'delete', name, pixel]), `no device ${pixel}`);
    });

    test('send prints the notification id for people, and needs a token', async () => {
      const name = uniqueName('cli-send');
      const created = await cli<CreatedBucket>(['bucket', 'create', '--name', name]);
      const result = await cliText(['send', '--bucket', name, '--token', created.token, '--title', 'Hello']);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^Sent notification:\s+\S+$/m);
      expectCliError(await herald(['send', '--bucket', name, '--title', 'Hello', '--local', local.url], { env: { ...process.env, HERALD_TOKEN: '' } }), '--token or HERALD_TOKEN');
      // The token must belong to the named bucket.
      expectCliError(await cliText(['send', '--bucket', 'demo', '--token', created.token, '--title', 'Hello']), 'invalid credentials');
    });

    test('send --delay and --at schedule; schedule list shows them soonest first; schedule cancel cancels', async () => {
      // GIVEN a notification in 2 hours (EventBridge Scheduler's stand-in) and one in 10 minutes (SQS delay)
      const name = uniqueName('cli-schedule');
      const created = await cli<CreatedBucket>(['bucket', 'create', '--name', name]);
      const later = new Date(Date.now() + 2 * 60 * 60 * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
      const atResult = await cliText(['send', '--bucket', name, '--token', created.token, '--title', 'Later', '--at', later]);
      expect(atResult.stdout).toMatch(/^Scheduled notification:\s+\S+$/m);
      expect(atResult.stdout).toContain(`Due at:`);
      const soon = JSON.parse((await cliText(['send', '--bucket', name, '--token', created.token, '--title', 'Soon', '--delay', '10m', '--json'])).stdout) as { id: string; notification: { scheduledSendAt: string } };
      // WHEN they are listed
      const listed = await cli<{ scheduled: { notification: { id: string; title: string }; mechanism: string; dueAt: string }[] }>(['schedule', 'list', name]);
      // THEN soonest first, each with how it waits
      expect(listed.scheduled.map((entry) => [entry.notification.title, entry.mechanism])).toEqual([['Soon', 'sqs-delay'], ['Later', 'scheduler']]);
      expect(listed.scheduled[0]!.dueAt).toBe(soon.notification.scheduledSendAt);
      const laterId = listed.scheduled[1]!.notification.id;
      expect(local.scheduler.size).toBeGreaterThanOrEqual(1);
      // WHEN the later one is cancelled
      const cancelled = await cliText(['schedule', 'cancel', name, laterId]);
      expect(cancelled.stdout).toMatch(new RegExp(`^Cancelled notification:\\s+${laterId}$`, 'm'));
      const left = await cli<{ scheduled: { notification: { id: string } }[] }>(['schedule', 'list', name]);
      expect(left.scheduled.map((entry) => entry.notification.id)).toEqual([soon.id]);
      // AND bad times are refused naming the option's field
      expectCliError(await cliText(['send', '--bucket', name, '--token', created.token, '--title', 'x', '--delay', '31d']), 'delay: is more than 30 days ahead (the limit)');
      await cli(['schedule', 'cancel', name, soon.id]);
    });

    test('history shows a cleared notification as cleared', async () => {
      // GIVEN a delivered notification, cleared with DELETE /notifications/{id}
      const name = uniqueName('cli-clear');
      const created = await cli<CreatedBucket>(['bucket', 'create', '--name', name]);
      await registerDevice(created.token, 'ios', 'Test iPhone');
      const sent = await cliText(['send', '--bucket', name, '--token', created.token, '--title', 'Disk full', '--json']);
      const { id } = JSON.parse(sent.stdout) as { id: string };
      await waitFor('the notification in the history', async () => {
        const { notifications } = await cli<{ notifications: { notification: { id: string }; outcomes: Record<string, number> }[] }>(['history', 'list', name]);
        return notifications.find((item) => item.notification.id === id && item.outcomes.sent === 1);
      });
      const response = await fetch(`${local.url}/notifications/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${created.token}` } });
      const { clearedAt } = (await response.json()) as { clearedAt: string };
      // WHEN / THEN
      const listed = await cliText(['history', 'list', name]);
      expect(listed.stdout).toMatch(new RegExp(`^${id}\\s+\\S+\\s+native\\s+NORMAL\\s+sent 1 \\(cleared\\)\\s+Disk full$`, 'm'));
      const shown = await cliText(['history', 'get', name, id]);
      expect(shown.stdout).toMatch(new RegExp(`^Cleared:\\s+${clearedAt}$`, 'm'));
      expect((await cli<{ clearedAt?: string }>(['history', 'get', name, id])).clearedAt).toBe(clearedAt);
    });

    test('history of an unknown notification is a one-line error', async () => {
      expectCliError(await cliText(['history', 'get', 'demo', 'no-such-notification']), 'no notification no-such-notification');
    });
  });

  describe('the deployed stack (without --local)', () => {
    // CloudFormation's stand-in, reached through the SDK's AWS_ENDPOINT_URL_CLOUDFORMATION: the stack
    // "Herald" has its ApiUrl output pointing at the local Herald (with API Gateway's trailing slash).
    let cloudformation: Server;
    let env: NodeJS.ProcessEnv;

    beforeAll(async () => {
      cloudformation = createHttpServer((request, response) => {
        let body = '';
        request.on('data', (chunk: Buffer) => (body += chunk.toString()));
        request.on('end', () => {
          const stackName = new URLSearchParams(body).get('StackName');
          response.setHeader('content-type', 'text/xml');
          if (stackName !== 'Herald') {
            response.statusCode = 400;
            response.end(`<ErrorResponse xmlns="${CFN_XMLNS}"><Error><Type>Sender</Type><Code>ValidationError</Code><Message>Stack with id ${stackName} does not exist</Message></Error><RequestId>1</RequestId></ErrorResponse>`);
            return;
          }
          response.end(
            `<DescribeStacksResponse xmlns="${CFN_XMLNS}"><DescribeStacksResult><Stacks><member><StackName>Herald</StackName><StackStatus>CREATE_COMPLETE</StackStatus>` +
              `<CreationTime>2025-01-01T00:00:00Z</CreationTime><Outputs><member><OutputKey>ApiUrl</OutputKey><OutputValue>${local.url}/</OutputValue></member></Outputs>` +
              '</member></Stacks></DescribeStacksResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></DescribeStacksResponse>',
          );
        });
      });
      await new Promise<void>((resolve) => cloudformation.listen(0, '127.0.0.1', resolve));
      // Local mode's credentials in the environment, where the SDK's chain finds them first.
      env = {
        ...process.env,
        AWS_ENDPOINT_URL_CLOUDFORMATION: `http://127.0.0.1:${(cloudformation.address() as AddressInfo).port}`,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'local',
        AWS_SECRET_ACCESS_KEY: 'local',
      };
    });

    afterAll(() => new Promise<void>((resolve) => cloudformation?.close(() => resolve())));

    test('finds the API through the stack outputs and signs with the credential chain', async () => {
      const name = uniqueName('cli-stack');
      const result = await herald(['bucket', 'create', '--name', name, '--json'], { env });
      expect(result.stderr).toBe('');
      const created = JSON.parse(result.stdout) as CreatedBucket;
      expect(created.authentikWebhookUrl).toBe(`${local.url}/transform?parser=ZENTIK_AUTHENTIK&magicCode=${created.magicCode}`);
      const listed = JSON.parse((await herald(['bucket', 'list', '--stack', 'Herald', '--region', 'us-east-1', '--json'], { env })).stdout) as { buckets: { name: string }[] };
      expect(listed.buckets.map((bucket) => bucket.name)).toContain(name);
    });

    test('credentials the API does not accept: refused with 403, in one line', async () => {
      const result = await herald(['bucket', 'list'], { env: { ...env, AWS_SECRET_ACCESS_KEY: 'not-the-secret' } });
      expectCliError(result, 'signature');
    });

    test('a stack that does not exist is a clear error', async () => {
      expectCliError(await herald(['bucket', 'list', '--stack', 'Nope'], { env }), 'stack "Nope" not found');
    });
  });

  describe('errors', () => {
    test('an unknown bucket: exit 1, one line, no stack trace', async () => {
      for (const args of [['bucket', 'get', 'cli-unknown'], ['token', 'list', 'cli-unknown'], ['device', 'list', 'cli-unknown'], ['history', 'list', 'cli-unknown']]) {
        const result = await cliText(args);
        expect(result.stderr).toBe('herald: no bucket "cli-unknown"\n');
        expect(result.code).toBe(1);
      }
    });

    test('--local pointing at a closed port says to start Herald', async () => {
      const closedPort = await new Promise<number>((resolve) => {
        const server = createServer().listen(0, '127.0.0.1', () => {
          const { port } = server.address() as { port: number };
          server.close(() => resolve(port));
        });
      });
      const result = await herald(['bucket', 'list', '--local', `http://127.0.0.1:${closedPort}`, '--json']);
      expectCliError(result, `no local Herald answers at http://127.0.0.1:${closedPort}: start it with "npm start"`);
    });

    test('without --local and without AWS credentials it says what to do', async () => {
      for (const args of [['bucket', 'create', '--name', 'nocreds'], ['bucket', 'list', '--json'], ['send', '--bucket', 'b', '--token', 't', '--title', 'x']]) {
        expectCliError(await herald(args, { env: NO_AWS_ENV }), 'no AWS credentials found');
      }
    });
  });
});

describe('herald --help', () => {
  test('lists every command with a description', async () => {
    const result = await herald(['--help']);
    expect(result.code).toBe(0);
    for (const command of ['bucket', 'token', 'magic-code', 'secret', 'device', 'send', 'history', 'schedule', 'render', 'local']) {
      expect(result.stdout).toMatch(new RegExp(`^  ${command}( \\[options\\])?\\s+\\w`, 'm'));
    }
  });

  test.each([['bucket', ['create', 'list', 'get', 'update', 'delete']], ['token', ['create', 'list', 'revoke']], ['magic-code', ['create', 'list', 'rotate', 'revoke']], ['device', ['list', 'disable', 'delete']], ['history', ['list', 'get']], ['schedule', ['list', 'cancel']], ['secret', ['set', 'remove']]])(
    '%s --help lists its subcommands',
    async (command, subcommands) => {
      const result = await herald([command, '--help']);
      expect(result.code).toBe(0);
      for (const subcommand of subcommands) expect(result.stdout).toMatch(new RegExp(`^  ${subcommand}\\b.*\\s\\w`, 'm'));
    },
  );
});

describe('herald render', () => {
  const FIXTURES = path.join(__dirname, '..', 'fixtures');

  /** Runs `herald render` with the body on stdin, as a user pipes a recorded webhook. */
  async function render(args: string[], bodyFile: string): Promise<{ code: number; json: Record<string, unknown> }> {
    const result = await herald(['render', ...args], { stdin: readFileSync(path.join(FIXTURES, bodyFile)) });
    return { code: result.code, json: JSON.parse(result.stdout) as Record<string, unknown> };
  }

  test.each([
    ['zitadel', 'zitadel/event-user-locked.json', ['--header', 'Zitadel-Signature: t=1761905523,v1=480010abea17ca27a73be2a2a28ff824a6513fbb5d10792e1df49954b03ed85d', '--secret', 'Hq2cXb7LwP4tRz9sVf1kYm6nJd3gTa8e', '--at', '1761905533'], 'User locked'],
    ['authentik', 'authentik/webhook-login-failed.json', [], 'Login_failed: jdoe'],
    ['okta', 'okta/event-user-session-start-failure.json', ['--header', 'Authorization: okta-hook-Secr3t-91c2', '--secret', 'okta-hook-Secr3t-91c2'], 'Sign-in failed: '],
  ])('%s: prints the notifications and the exact APNs and FCM payloads', async (parser, bodyFile, extra, title) => {
    const { code, json } = await render(['--parser', parser, ...extra], bodyFile);
    expect(code).toBe(0);
    const notifications = json.notifications as { title: string }[];
    expect(notifications[0]!.title).toContain(title);
    expect((json.apns as { key: string }[])[0]!.key).toBe('APNS');
    expect((json.fcm as { key: string; payload: { fcmV1Message: unknown } }[])[0]!.payload.fcmV1Message).toBeDefined();
  });

  test('a bad signature prints the typed error and exits 1', async () => {
    const { code, json } = await render(['--parser', 'zitadel', '--header', 'Zitadel-Signature: t=1761905523,v1=00', '--secret', 'x'.repeat(16), '--at', '1761905533'], 'zitadel/event-user-locked.json');
    expect(code).toBe(1);
    expect(json).toEqual({ error: 'invalid_signature', message: expect.any(String) });
  });
});
