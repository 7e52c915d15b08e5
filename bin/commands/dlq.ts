import type { Command } from 'commander';
import type { z } from 'zod';
import type { deadLettersResponse, redriveTaskSchema, startedRedriveResponse } from '../../lambdas/core/admin/contract';
import { connect, targetOptions, type HeraldClient, type TargetOptions } from './client';
import { CliError, print, printTable, shorten, type OutputOptions } from './output';

type DeadLetters = z.infer<typeof deadLettersResponse>;
type RedriveTask = z.infer<typeof redriveTaskSchema>;
type StartedRedrive = z.infer<typeof startedRedriveResponse>;

interface ListOptions extends TargetOptions, OutputOptions {
  readonly limit: string;
}

interface RedriveOptions extends TargetOptions, OutputOptions {
  readonly wait?: boolean;
  readonly timeout: string;
}

const POLL_MS = 1000;
/** ListMessageMoveTasks may lag a moment behind StartMessageMoveTask; a task started before ours is not ours. */
const CLOCK_SLACK_MS = 1000;

/** Whether the move is still going. */
const isActive = (task: RedriveTask) => task.status === 'RUNNING' || task.status === 'CANCELLING';

export function registerDlqCommands(program: Command): void {
  const dlq = program.command('dlq').description("the notification queue's dead letters: what failed and why, and moving them back");

  targetOptions(
    dlq
      .command('list')
      .description('the dead letters, with why each failed (read without removing them)')
      .option('--limit <n>', 'how many (1–100)', '50'),
  ).action(async (options: ListOptions) => {
    const limit = Number(options.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new CliError(`--limit must be a whole number from 1 to 100 (given "${options.limit}")`);
    const listing = await (await connect(options)).admin<DeadLetters>('GET', '/admin/dead-letters', { query: { limit } });
    printTable(options, listing, listing.deadLetters, [
      ['NOTIFICATION', (letter) => letter.notificationId ?? `(message ${letter.messageId})`],
      ['BUCKET', (letter) => letter.bucketId],
      ['TITLE', (letter) => shorten(letter.title ?? letter.body, 40)],
      ['RECEIVES', (letter) => String(letter.receiveCount)],
      ['REASON', (letter) => shorten(letter.reason, 100)],
    ], 'The dead-letter queue is empty.');
    const shown = listing.deadLetters.length;
    if (!options.json && listing.approximateCount > shown && shown > 0) {
      process.stdout.write(`\nShowing ${shown} of about ${listing.approximateCount}; move them all back with: herald dlq redrive\n`);
    }
  });

  targetOptions(
    dlq
      .command('redrive')
      .description('move the dead letters back to the notification queue (an SQS message move task); devices already served are not pushed again')
      .option('--wait', 'follow the move until it is done')
      .option('--timeout <seconds>', 'with --wait: give up waiting after this long (the move goes on)', '900'),
  ).action(async (options: RedriveOptions) => {
    const timeoutSeconds = Number(options.timeout);
    if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) throw new CliError(`--timeout must be a number of seconds (given "${options.timeout}")`);
    const client = await connect(options);
    const requestedAt = Date.now();
    const started = await client.admin<StartedRedrive>('POST', '/admin/dead-letters/redrive');
    if (!options.wait) {
      print(options, started, [
        ['Redrive', started.alreadyRunning ? 'already running' : 'started'],
        ['Task handle', started.taskHandle],
        ['Progress', 'herald dlq status'],
      ]);
      return;
    }
    const task = await waitForRedrive(client, started, requestedAt, timeoutSeconds * 1000, options.json !== true);
    print(options, { ...started, task }, [
      ['Task handle', started.taskHandle],
      ['Status', task.status],
      ['Moved', `${task.messagesMoved}${task.messagesToMove !== undefined ? ` of ${task.messagesToMove}` : ''}`],
      ['Failure', task.failureReason],
    ]);
    if (task.status !== 'COMPLETED') throw new CliError(`the redrive ended ${task.status}${task.failureReason ? `: ${task.failureReason}` : ''}`);
  });

  targetOptions(dlq.command('status').description('the most recent redrives, newest first')).action(async (options: TargetOptions & OutputOptions) => {
    const status = await (await connect(options)).admin<{ tasks: RedriveTask[] }>('GET', '/admin/dead-letters/redrive');
    printTable(options, status, status.tasks, [
      ['STARTED', (task) => task.startedAt],
      ['STATUS', (task) => task.status],
      ['MOVED', (task) => `${task.messagesMoved}${task.messagesToMove !== undefined ? ` of ${task.messagesToMove}` : ''}`],
      ['FAILURE', (task) => shorten(task.failureReason, 100)],
    ], 'No redrive has run recently.');
  });
}

/**
 * Polls the redrive status until our task is done. SQS names a task by its handle only while it
 * runs, so ours is the running task with our handle, and once none runs, the newest task if it
 * started no earlier than our request (or we saw it running).
 */
async function waitForRedrive(client: HeraldClient, started: StartedRedrive, requestedAt: number, timeoutMs: number, progress: boolean): Promise<RedriveTask> {
  const deadline = Date.now() + timeoutMs;
  let seenRunning = false;
  for (;;) {
    const { tasks } = await client.admin<{ tasks: RedriveTask[] }>('GET', '/admin/dead-letters/redrive');
    const ours = tasks.find((task) => task.taskHandle === started.taskHandle);
    if (ours && isActive(ours)) {
      seenRunning = true;
      if (progress) process.stderr.write(`Moved ${ours.messagesMoved}${ours.messagesToMove !== undefined ? ` of ${ours.messagesToMove}` : ''}…\n`);
    } else {
      const newest = tasks[0];
      const isOurs = newest && (seenRunning || started.alreadyRunning || Date.parse(newest.startedAt) >= requestedAt - CLOCK_SLACK_MS);
      if (newest && isOurs && !isActive(newest)) return newest;
    }
    if (Date.now() > deadline) throw new CliError(`the redrive is still running after ${Math.round(timeoutMs / 1000)} s; see its progress with: herald dlq status`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
