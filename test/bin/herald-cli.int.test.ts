import { execFile } from 'node:child_process';
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
