import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Command } from 'commander';
import { isHeraldError } from '../../lambdas/core/errors';
import { findParser } from '../../lambdas/core/parsers/registry';
import { removeSourceSecret, setSourceSecret } from '../../lambdas/core/sources/source-secrets';
import { SecretsManagerVault } from '../../lambdas/core/sources/vault';
import { findBucket } from '../../lambdas/core/store/buckets';
import { createStore } from '../../lambdas/core/store/table';
import { CliError, print } from './output';
import { stackOutputs } from './stack';

interface SecretOptions {
  readonly bucket: string;
  readonly source: string;
  readonly value?: string;
  readonly table?: string;
  readonly stack: string;
  readonly region?: string;
  readonly local?: string | boolean;
  readonly json?: boolean;
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) throw new CliError('give the secret with --value, or pipe it on stdin');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').trim();
}

/** Sets or removes a secret against the deployed stack, or a running local Herald with --local. */
async function apply(options: SecretOptions, action: 'set' | 'remove'): Promise<void> {
  const parser = findParser(options.source);
  const value = action === 'set' ? (options.value ?? (await readStdin())) : undefined;
  if (options.local !== undefined) {
    const base = typeof options.local === 'string' ? options.local : `http://127.0.0.1:${process.env.PORT ?? 8787}`;
    const response = await fetch(`${base.replace(/\/$/, '')}/local/source-secrets`, {
      method: action === 'set' ? 'PUT' : 'DELETE',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ bucket: options.bucket, source: parser.name, secret: value }),
    }).catch(() => {
      throw new CliError(`no local Herald answers at ${base}: start it with "npm start"`);
    });
    if (!response.ok) throw new CliError(((await response.json()) as { message: string }).message);
  } else {
    const outputs = options.table ? {} : await stackOutputs(options);
    const tableName = options.table ?? outputs.TableName;
    if (!tableName) throw new CliError(`stack "${options.stack}" has no TableName output; pass --table`);
    const clientConfig = options.region ? { region: options.region } : {};
    const deps = { store: createStore(tableName, new DynamoDBClient(clientConfig)), vault: new SecretsManagerVault(new SecretsManagerClient(clientConfig)) };
    const bucket = await findBucket(deps.store, options.bucket);
    if (!bucket) throw new CliError(`no bucket "${options.bucket}"`);
    if (action === 'set') await setSourceSecret(deps, bucket.id, parser, value!);
    else await removeSourceSecret(deps, bucket.id, parser.name);
  }
  const done = action === 'set' ? 'set' : 'removed';
  print(options, { bucket: options.bucket, source: parser.name, [done]: true }, [[`${parser.name} secret of ${options.bucket}`, done]]);
}

export function registerSecretCommands(program: Command): void {
  const secret = program.command('secret').description("manage a bucket's source secrets: signing keys (ZITADEL, Keycloak, Logto, Clerk) and secret headers (Okta, Auth0)");
  const common = (command: Command) =>
    command
      .requiredOption('--bucket <name>', 'bucket id or name')
      .requiredOption('--source <source>', 'the source (parser name)')
      .option('--table <name>', 'DynamoDB table (default: from the stack outputs)')
      .option('--stack <name>', 'the deployed CloudFormation stack', 'Herald')
      .option('--region <region>', 'AWS region (default: the SDK chain)')
      .option('--local [url]', 'a running local Herald (default http://127.0.0.1:8787)')
      .option('--json', 'print JSON for scripts');
  common(secret.command('set').description('set the secret (signing keys go to Secrets Manager; header values are stored hashed)'))
    .option('--value <secret>', 'the secret (default: read from stdin, which keeps it out of shell history)')
    .action((options: SecretOptions) => run(options, 'set'));
  common(secret.command('remove').description('remove the secret')).action((options: SecretOptions) => run(options, 'remove'));
}

async function run(options: SecretOptions, action: 'set' | 'remove'): Promise<void> {
  try {
    await apply(options, action);
  } catch (error) {
    if (isHeraldError(error)) throw new CliError(error.message);
    throw error;
  }
}
