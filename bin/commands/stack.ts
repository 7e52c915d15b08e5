import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CliError } from './output';

export interface StackOptions {
  readonly stack: string;
  readonly region?: string;
}

export interface DeployedStack {
  /** The stack's outputs (ApiUrl, TableName, …). */
  readonly outputs: Record<string, string>;
  /** The region the stack was found in (from --region or the SDK's chain). */
  readonly region: string;
}

export const NO_CREDENTIALS =
  'no AWS credentials found: configure them (aws configure, AWS_PROFILE, or environment variables), or use a local Herald with --local';

/** True for the SDK's "no credentials anywhere in the chain" failure. */
export function isMissingCredentials(error: unknown): boolean {
  const { name, message } = error as Error;
  return name === 'CredentialsProviderError' || /credential/i.test(message ?? '');
}

/** The deployed stack, found through CloudFormation. */
export async function findStack(options: StackOptions): Promise<DeployedStack> {
  const cloudformation = new CloudFormationClient(options.region ? { region: options.region } : {});
  try {
    const { Stacks = [] } = await cloudformation.send(new DescribeStacksCommand({ StackName: options.stack }));
    const outputs: Record<string, string> = {};
    for (const output of Stacks[0]?.Outputs ?? []) {
      if (output.OutputKey && output.OutputValue) outputs[output.OutputKey] = output.OutputValue;
    }
    return { outputs, region: await cloudformation.config.region() };
  } catch (error) {
    const { name, message } = error as Error;
    if (isMissingCredentials(error)) throw new CliError(NO_CREDENTIALS);
    if (name === 'ValidationError' && /does not exist/.test(message)) {
      throw new CliError(`stack "${options.stack}" not found${options.region ? ` in ${options.region}` : ''}: deploy it with "npx cdk deploy", or pass --stack or --region`);
    }
    if (/region/i.test(message)) throw new CliError('no AWS region configured: set AWS_REGION or pass --region');
    throw new CliError(`could not read stack "${options.stack}": ${message}`);
  } finally {
    cloudformation.destroy();
  }
}
