import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { findBucket, findCredential } from '../../lambdas/core/store/buckets';
import { createHarness, type Harness } from '../integration/harness';

const run = promisify(execFile);
const HERALD = path.join(__dirname, '..', '..', 'bin', 'herald.mjs');

/** Runs the CLI as a user would; resolves with its exit code and output instead of throwing. */
async function herald(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('node', [HERALD, ...args], { env });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('herald bucket create', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await createHarness();
  });

  test('creates the bucket and prints its token and magic code once, as JSON', async () => {
    const result = await herald(['bucket', 'create', '--name', 'cli-alerts', '--table', harness.tableName, '--json']);
    expect(result.code).toBe(0);
    const printed = JSON.parse(result.stdout) as { bucket: { id: string; name: string }; token: string; magicCode: string };
    expect(printed.bucket.name).toBe('cli-alerts');
    expect(printed.token).toMatch(/^hrld_[A-Za-z0-9_-]{43}$/);
    // Stored: the bucket by name, and the credentials only as hashes that resolve to it.
    expect((await findBucket(harness.store, 'cli-alerts'))?.id).toBe(printed.bucket.id);
    expect((await findCredential(harness.store, 'token', printed.token))?.bucketId).toBe(printed.bucket.id);
    expect((await findCredential(harness.store, 'magicCode', printed.magicCode))?.scopes).toEqual(['send']);
  });

  test('prints a table for people', async () => {
    const result = await herald(['bucket', 'create', '--name', 'cli-people', '--table', harness.tableName]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Bucket:\s+cli-people \(/m);
    expect(result.stdout).toMatch(/^Token \(shown once\):\s+hrld_/m);
    expect(result.stdout).toMatch(/^Magic code \(shown once\):\s+\S{22}$/m);
  });

  test('a taken name is a clear error with exit code 1 and no stack trace', async () => {
    await herald(['bucket', 'create', '--name', 'cli-taken', '--table', harness.tableName]);
    const result = await herald(['bucket', 'create', '--name', 'cli-taken', '--table', harness.tableName]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('herald: name: a bucket named "cli-taken" already exists\n');
  });

  test('a reserved name is refused', async () => {
    const result = await herald(['bucket', 'create', '--name', 'transform', '--table', harness.tableName]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("one of Herald's routes");
  });

  test('without --table and without AWS credentials it says what to do', async () => {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: '/nonexistent',
      AWS_REGION: 'us-east-1',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    };
    const result = await herald(['bucket', 'create', '--name', 'nocreds'], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('no AWS credentials found');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  test('--help lists the commands', async () => {
    const result = await herald(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('bucket');
    expect(result.stdout).toContain('local');
  });
});

describe('herald render', () => {
  const FIXTURES = path.join(__dirname, '..', 'fixtures');

  /** Runs `herald render` with the body on stdin, as a user pipes a recorded webhook. */
  async function render(args: string[], bodyFile: string): Promise<{ code: number; json: Record<string, unknown> }> {
    return new Promise((resolve, reject) => {
      const child = execFile('node', [HERALD, 'render', ...args], (error, stdout) => {
        if (error && typeof error.code !== 'number') return reject(error);
        resolve({ code: error ? (error.code as number) : 0, json: JSON.parse(stdout) as Record<string, unknown> });
      });
      child.stdin!.end(readFileSync(path.join(FIXTURES, bodyFile)));
    });
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
