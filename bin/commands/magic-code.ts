import type { Command } from 'commander';
import { adminPath, authentikWebhookUrl, connect, targetOptions, type TargetOptions } from './client';
import { print, printTable, type OutputOptions } from './output';
import { CREDENTIAL_COLUMNS, type CreatedCredential, type CredentialView } from './token';

interface MagicCodeCreateOptions extends TargetOptions, OutputOptions {
  readonly name?: string;
}

export function registerMagicCodeCommands(program: Command): void {
  const magicCode = program.command('magic-code').description("manage a bucket's magic codes: send-only credentials for webhook URLs (?magicCode=)");

  const printCreated = (options: OutputOptions, created: CreatedCredential, webhookUrl: string, replaced?: string) =>
    print(options, { ...created, authentikWebhookUrl: webhookUrl, ...(replaced ? { replaced } : {}) }, [
      ['Magic code (shown once)', created.secret],
      ['ID', created.credential.id],
      ['Name', created.credential.name],
      ['Replaces (now revoked)', replaced],
      ['authentik webhook URL', webhookUrl],
    ]);

  targetOptions(
    magicCode
      .command('create')
      .description('create a magic code; prints it once')
      .argument('<bucket>', 'bucket id or name')
      .option('--name <name>', 'where it is used, e.g. "authentik"'),
  ).action(async (bucket: string, options: MagicCodeCreateOptions) => {
    const herald = await connect(options);
    const created = await herald.admin<CreatedCredential>('POST', adminPath('buckets', bucket, 'magic-codes'), { body: { name: options.name } });
    printCreated(options, created, authentikWebhookUrl(herald, created.secret));
  });

  targetOptions(magicCode.command('list').description("list a bucket's magic codes (never the codes themselves)").argument('<bucket>', 'bucket id or name')).action(
    async (bucket: string, options: TargetOptions & OutputOptions) => {
      const { magicCodes } = await (await connect(options)).admin<{ magicCodes: CredentialView[] }>('GET', adminPath('buckets', bucket, 'magic-codes'));
      printTable(options, { magicCodes }, magicCodes, CREDENTIAL_COLUMNS.filter(([heading]) => heading !== 'SCOPES'), `Bucket ${bucket} has no magic codes.`);
    },
  );

  targetOptions(
    magicCode
      .command('rotate')
      .description('replace a magic code with a new one (printed once); the old one stops working')
      .argument('<bucket>', 'bucket id or name')
      .argument('<codeId>', 'the magic code\'s ID (from "herald magic-code list")'),
  ).action(async (bucket: string, codeId: string, options: TargetOptions & OutputOptions) => {
    const herald = await connect(options);
    const created = await herald.admin<CreatedCredential>('POST', adminPath('buckets', bucket, 'magic-codes', codeId, 'rotate'));
    printCreated(options, created, authentikWebhookUrl(herald, created.secret), codeId);
  });

  targetOptions(
    magicCode
      .command('revoke')
      .description('revoke a magic code: webhooks using it get 401 token_revoked')
      .argument('<bucket>', 'bucket id or name')
      .argument('<codeId>', 'the magic code\'s ID (from "herald magic-code list")'),
  ).action(async (bucket: string, codeId: string, options: TargetOptions & OutputOptions) => {
    await (await connect(options)).admin('DELETE', adminPath('buckets', bucket, 'magic-codes', codeId));
    print(options, { bucket, magicCode: codeId, revoked: true }, [['Revoked magic code', `${codeId} of bucket ${bucket}`]]);
  });
}
