import type { Command } from 'commander';
import { isHeraldError } from '../../lambdas/core/errors';
import { findParser } from '../../lambdas/core/parsers/registry';
import type { Parser } from '../../lambdas/core/parsers/types';
import { adminPath, connect, targetOptions, type TargetOptions } from './client';
import { CliError, print, type OutputOptions } from './output';

interface SecretOptions extends TargetOptions, OutputOptions {
  readonly bucket: string;
  readonly source: string;
  readonly value?: string;
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) throw new CliError('give the secret with --value, or pipe it on stdin');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').trim();
}

/** The source's parser: its canonical name for the URL and the output, or a clear error before any request. */
function sourceParser(source: string): Parser {
  try {
    return findParser(source);
  } catch (error) {
    if (isHeraldError(error)) throw new CliError(error.message);
    throw error;
  }
}

/** Sets or removes a source's secret through the admin API (`PUT|DELETE …/sources/{source}/secret`). */
async function apply(options: SecretOptions, action: 'set' | 'remove'): Promise<void> {
  const parser = sourceParser(options.source);
  const path = adminPath('buckets', options.bucket, 'sources', parser.name, 'secret');
  if (action === 'set') {
    const secret = options.value ?? (await readStdin());
    if (!secret) throw new CliError('the secret is empty: give it with --value, or pipe it on stdin');
    await (await connect(options)).admin('PUT', path, { body: { secret } });
  } else {
    await (await connect(options)).admin('DELETE', path);
  }
  const done = action === 'set' ? 'set' : 'removed';
  print(options, { bucket: options.bucket, source: parser.name, [done]: true }, [[`${parser.name} secret of ${options.bucket}`, done]]);
}

export function registerSecretCommands(program: Command): void {
  const secret = program.command('secret').description("manage a bucket's source secrets: signing keys (ZITADEL, Keycloak, Logto, Clerk) and secret headers (Okta, Auth0)");
  const common = (command: Command) =>
    targetOptions(command.requiredOption('--bucket <bucket>', 'bucket id or name').requiredOption('--source <source>', 'the source (parser name)'));
  common(secret.command('set').description('set the secret (signing keys go to Secrets Manager; header values are stored hashed)'))
    .option('--value <secret>', 'the secret (default: read from stdin, which keeps it out of shell history)')
    .action((options: SecretOptions) => apply(options, 'set'));
  common(secret.command('remove').description('remove the secret')).action((options: SecretOptions) => apply(options, 'remove'));
}
