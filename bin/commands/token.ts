import type { Command } from 'commander';
import type { z } from 'zod';
import type { createdCredentialResponse, credentialSchema } from '../../lambdas/core/admin/contract';
import { adminPath, connect, targetOptions, type TargetOptions } from './client';
import { CliError, print, printTable, type Column, type OutputOptions } from './output';

export type CredentialView = z.infer<typeof credentialSchema>;
export type CreatedCredential = z.infer<typeof createdCredentialResponse>;

interface TokenCreateOptions extends TargetOptions, OutputOptions {
  readonly name: string;
  readonly expires?: string;
  readonly expiresIn?: string;
  readonly scopes?: string;
}

const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/** `--expires 2026-01-31T00:00:00Z` or `--expires-in 30d` (m, h, d, w) as an ISO time. */
export function expiresAt(options: { expires?: string; expiresIn?: string }, now = Date.now()): string | undefined {
  if (options.expires !== undefined && options.expiresIn !== undefined) throw new CliError('give --expires or --expires-in, not both');
  if (options.expires !== undefined) {
    const at = Date.parse(options.expires);
    if (Number.isNaN(at)) throw new CliError(`--expires must be an ISO 8601 time such as 2030-01-31T00:00:00Z (given "${options.expires}")`);
    return new Date(at).toISOString();
  }
  if (options.expiresIn !== undefined) {
    const match = /^(\d+)\s*([mhdw])$/.exec(options.expiresIn.trim());
    if (!match || Number(match[1]) === 0) throw new CliError(`--expires-in must be a duration such as 90m, 12h, 30d or 4w (given "${options.expiresIn}")`);
    return new Date(now + Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS]).toISOString();
  }
  return undefined;
}

/** Active, or why not: the table says at a glance which credentials still work. */
function status(credential: CredentialView): string {
  if (credential.revokedAt) return `revoked ${credential.revokedAt}`;
  if (credential.validUntil && Date.parse(credential.validUntil) <= Date.now()) return `expired ${credential.validUntil}`;
  return 'active';
}

export const CREDENTIAL_COLUMNS: Column<CredentialView>[] = [
  ['ID', (item) => item.id],
  ['NAME', (item) => item.name],
  ['SCOPES', (item) => item.scopes.join(',')],
  ['CREATED', (item) => item.createdAt],
  ['EXPIRES', (item) => item.validUntil],
  ['STATUS', status],
];

export function registerTokenCommands(program: Command): void {
  const token = program.command('token').description("manage a bucket's access tokens (send, register devices, read history)");

  targetOptions(
    token
      .command('create')
      .description('create an access token; prints it once')
      .argument('<bucket>', 'bucket id or name')
      .requiredOption('--name <name>', 'what the token is for, e.g. "grafana" or "iOS app"')
      .option('--expires <time>', 'when it stops working, an ISO 8601 time')
      .option('--expires-in <duration>', 'when it stops working, from now: 90m, 12h, 30d, 4w')
      .option('--scopes <scopes>', 'comma-separated: send, devices, read (default: all three)'),
  ).action(async (bucket: string, options: TokenCreateOptions) => {
    const scopes = options.scopes?.split(',').map((scope) => scope.trim()).filter(Boolean);
    const body = { name: options.name, expiresAt: expiresAt(options), scopes };
    const created = await (await connect(options)).admin<CreatedCredential>('POST', adminPath('buckets', bucket, 'tokens'), { body });
    print(options, created, [
      ['Token (shown once)', created.secret],
      ['ID', created.credential.id],
      ['Name', created.credential.name],
      ['Scopes', created.credential.scopes.join(', ')],
      ['Expires', created.credential.validUntil ?? 'never'],
    ]);
  });

  targetOptions(token.command('list').description("list a bucket's tokens (never the tokens themselves)").argument('<bucket>', 'bucket id or name')).action(
    async (bucket: string, options: TargetOptions & OutputOptions) => {
      const { tokens } = await (await connect(options)).admin<{ tokens: CredentialView[] }>('GET', adminPath('buckets', bucket, 'tokens'));
      printTable(options, { tokens }, tokens, CREDENTIAL_COLUMNS, `Bucket ${bucket} has no tokens.`);
    },
  );

  targetOptions(
    token
      .command('revoke')
      .description('revoke a token: its next request gets 401 token_revoked')
      .argument('<bucket>', 'bucket id or name')
      .argument('<tokenId>', 'the token\'s ID (from "herald token list")'),
  ).action(async (bucket: string, tokenId: string, options: TargetOptions & OutputOptions) => {
    await (await connect(options)).admin('DELETE', adminPath('buckets', bucket, 'tokens', tokenId));
    print(options, { bucket, token: tokenId, revoked: true }, [['Revoked token', `${tokenId} of bucket ${bucket}`]]);
  });
}
