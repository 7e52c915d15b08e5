import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Command } from 'commander';
import { isHeraldError } from '../../lambdas/core/errors';
import { findParser } from '../../lambdas/core/parsers/registry';
import { createBucket } from '../../lambdas/core/store/buckets';
import { createStore } from '../../lambdas/core/store/table';
import { CliError, print } from './output';
import { stackOutputs } from './stack';

interface BucketCreateOptions {
  readonly name: string;
  readonly displayName?: string;
  readonly routine?: string;
  readonly table?: string;
  readonly stack: string;
  readonly region?: string;
  readonly json?: boolean;
}

export function registerBucketCommands(program: Command): void {
  const bucket = program.command('bucket').description('manage buckets: the destinations notifications are sent to');
  bucket
    .command('create')
    .description('create a bucket; prints its token and magic code once')
    .requiredOption('--name <name>', 'bucket name (a-z, 0-9, "_", "-"); usable as ?bucketId=')
    .option('--display-name <text>', 'name shown in apps')
    .option('--routine <sources>', 'comma-separated sources whose routine events (sign-outs, token refreshes) are pushed too')
    .option('--table <name>', 'DynamoDB table (default: from the stack outputs)')
    .option('--stack <name>', 'the deployed CloudFormation stack', 'Herald')
    .option('--region <region>', 'AWS region (default: the SDK chain)')
    .option('--json', 'print JSON for scripts')
    .action(async (options: BucketCreateOptions) => {
      const outputs = options.table ? {} : await stackOutputs(options);
      const tableName = options.table ?? outputs.TableName;
      if (!tableName) throw new CliError(`stack "${options.stack}" has no TableName output; pass --table`);
      const store = createStore(tableName, new DynamoDBClient(options.region ? { region: options.region } : {}));
      try {
        const routineSources = options.routine?.split(',').map((source) => findParser(source.trim()).name);
        const created = await createBucket(store, { name: options.name, displayName: options.displayName, routineSources });
        const apiUrl = outputs.ApiUrl;
        const webhookUrl = apiUrl ? `${apiUrl}/transform?parser=ZENTIK_AUTHENTIK&magicCode=${created.magicCode}` : undefined;
        print(
          options,
          { bucket: created.bucket, token: created.token, magicCode: created.magicCode, ...(webhookUrl ? { authentikWebhookUrl: webhookUrl } : {}) },
          [
            ['Bucket', `${created.bucket.name} (${created.bucket.id})`],
            ['Token (shown once)', created.token],
            ['Magic code (shown once)', created.magicCode],
            ['authentik webhook URL', webhookUrl],
          ],
        );
      } catch (error) {
        if (isHeraldError(error)) throw new CliError(error.message);
        throw error;
      }
    });
}
