import { Command, CommanderError } from 'commander';
import { registerBucketCommands } from './commands/bucket';
import { registerLocalCommand } from './commands/local';
import { registerRenderCommand } from './commands/render';
import { registerSecretCommands } from './commands/secret';
import { CliError } from './commands/output';

export function buildProgram(): Command {
  const program = new Command('herald')
    .description('Herald: self-hosted push notifications for identity-provider webhooks')
    .showHelpAfterError()
    .exitOverride();
  registerBucketCommands(program);
  registerSecretCommands(program);
  registerRenderCommand(program);
  registerLocalCommand(program);
  return program;
}

/** Runs the CLI; a user error prints one clear line and exits 1, never a stack trace. */
export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode;
      return;
    }
    process.stderr.write(`herald: ${error instanceof CliError ? error.message : describe(error)}\n`);
    process.exitCode = 1;
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) return `${error.name === 'Error' ? '' : `${error.name}: `}${error.message}`;
  return String(error);
}
