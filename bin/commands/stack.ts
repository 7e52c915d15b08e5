import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CliError } from './output';

export interface StackOptions {
  readonly stack: string;
  readonly region?: string;
}

/** The deployed stack's outputs (ApiUrl, TableName, …), found through CloudFormation. */
export async function stackOutputs(options: StackOptions): Promise<Record<string, string>> {
  const cloudformation = new CloudFormationClient(options.region ? { region: options.region } : {});
  try {
    const { Stacks = [] } = await cloudformation.send(new DescribeStacksCommand({ StackName: options.stack }));
    const outputs: Record<string, string> = {};
    for (const output of Stacks[0]?.Outputs ?? []) {
      if (output.OutputKey && output.OutputValue) outputs[output.OutputKey] = output.OutputValue;
    }
    return outputs;
  } catch (error) {
    const name = (error as Error).name;
    if (name === 'CredentialsProviderError' || /credential/i.test((error as Error).message)) {
      throw new CliError('no AWS credentials found: configure them (aws configure, AWS_PROFILE, or environment variables) or pass --table');
    }
    if (name === 'ValidationError' && /does not exist/.test((error as Error).message)) {
      throw new CliError(`stack "${options.stack}" not found${options.region ? ` in ${options.region}` : ''}: deploy it with "npx cdk deploy" or pass --stack`);
    }
    if (/region/i.test((error as Error).message)) {
      throw new CliError('no AWS region configured: set AWS_REGION or pass --region');
    }
    throw new CliError(`could not read stack "${options.stack}": ${(error as Error).message}`);
  }
}
