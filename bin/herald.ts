import { Command, CommanderError } from 'commander';
import { registerBucketCommands } from './commands/bucket';
import { registerDeviceCommands } from './commands/device';
import { registerDlqCommands } from './commands/dlq';
import { registerHistoryCommands } from './commands/history';
import { registerLocalCommand } from './commands/local';
import { registerMagicCodeCommands } from './commands/magic-code';
import { CliError } from './commands/output';
import { registerRenderCommand } from './commands/render';
import { registerScheduleCommands } from './commands/schedule';
import { registerSecretCommands } from './commands/secret';
import { registerSendCommand } from './commands/send';
import { registerTemplateCommands } from './commands/template';
import { registerTokenCommands } from './commands/token';

export function buildProgram(): Command {
  const program = new Command('herald')
    .description(
      'Herald: self-hosted push notifications for identity-provider webhooks.\n' +
        'Commands that manage Herald use the deployed stack (--stack, default Herald; signed with your AWS credentials), or a local Herald with --local.',
    )
    .showHelpAfterError()
    .exitOverride();
  registerBucketCommands(program);
  registerTokenCommands(program);
  registerMagicCodeCommands(program);
  registerSecretCommands(program);
  registerDeviceCommands(program);
  registerTemplateCommands(program);
  registerSendCommand(program);
  registerHistoryCommands(program);
  registerScheduleCommands(program);
  registerDlqCommands(program);
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
