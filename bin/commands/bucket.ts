import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import type { z } from 'zod';
import type { bucketSchema, createdBucketResponse } from '../../lambdas/core/admin/contract';
import { adminPath, authentikWebhookUrl, connect, targetOptions, type TargetOptions } from './client';
import { CliError, print, printTable, type OutputOptions } from './output';
import { formatQuietHours, parseQuietHours, parseSnooze } from './quiet-hours';

export type BucketView = z.infer<typeof bucketSchema>;

interface CreateOptions extends TargetOptions, OutputOptions {
  readonly name: string;
  readonly displayName?: string;
  readonly icon?: string;
  readonly routine?: string;
}

interface UpdateOptions extends TargetOptions, OutputOptions {
  readonly name?: string;
  readonly displayName?: string;
  readonly icon?: string;
  readonly routine?: string;
  readonly clearDisplayName?: boolean;
  readonly clearIcon?: boolean;
  readonly clearRoutine?: boolean;
  readonly timeZone?: string;
  readonly clearTimeZone?: boolean;
  readonly quietHours?: string;
  readonly clearQuietHours?: boolean;
  readonly snooze?: string;
  readonly clearSnooze?: boolean;
}

interface DeleteOptions extends TargetOptions, OutputOptions {
  readonly yes?: boolean;
}

/** `--routine zitadel,keycloak` as a list ("" clears it). */
export function sourceList(value: string): string[] {
  return value.split(',').map((source) => source.trim()).filter(Boolean);
}

function bucketLines(bucket: BucketView): [string, string | undefined][] {
  return [
    ['Bucket', bucket.name],
    ['ID', bucket.id],
    ['Display name', bucket.displayName],
    ['Icon', bucket.icon],
    ['Routine events of', bucket.routineSources?.length ? bucket.routineSources.join(', ') : undefined],
    ['Time zone', bucket.timeZone],
    ['Quiet hours', bucket.quietHours?.length ? formatQuietHours(bucket.quietHours) : undefined],
    ['Snoozed until', bucket.snoozeUntil],
    ['Created', bucket.createdAt],
    ['Updated', bucket.updatedAt],
  ];
}

export function registerBucketCommands(program: Command): void {
  const bucket = program.command('bucket').description('manage buckets: the destinations notifications are sent to');

  targetOptions(
    bucket
      .command('create')
      .description('create a bucket; prints its token and magic code once')
      .requiredOption('--name <name>', 'bucket name (a-z, 0-9, "_", "-"); usable as ?bucketId=')
      .option('--display-name <text>', 'name shown in apps')
      .option('--icon <icon>', 'icon URL or SF Symbol name shown in apps')
      .option('--routine <sources>', 'comma-separated sources whose routine events (sign-outs, token refreshes) are pushed too'),
  ).action(async (options: CreateOptions) => {
    const herald = await connect(options);
    const created = await herald.admin<z.infer<typeof createdBucketResponse>>('POST', adminPath('buckets'), {
      body: { name: options.name, displayName: options.displayName, icon: options.icon, routineSources: options.routine === undefined ? undefined : sourceList(options.routine) },
    });
    const webhookUrl = authentikWebhookUrl(herald, created.magicCode);
    print(options, { bucket: created.bucket, token: created.token, magicCode: created.magicCode, authentikWebhookUrl: webhookUrl }, [
      ['Bucket', `${created.bucket.name} (${created.bucket.id})`],
      ['Token (shown once)', created.token],
      ['Magic code (shown once)', created.magicCode],
      ['authentik webhook URL', webhookUrl],
    ]);
  });

  targetOptions(bucket.command('list').description('list buckets')).action(async (options: TargetOptions & OutputOptions) => {
    const { buckets } = await (await connect(options)).admin<{ buckets: BucketView[] }>('GET', adminPath('buckets'));
    printTable(options, { buckets }, buckets, [
      ['NAME', (item) => item.name],
      ['ID', (item) => item.id],
      ['DISPLAY NAME', (item) => item.displayName],
      ['ROUTINE EVENTS OF', (item) => item.routineSources?.join(',')],
      ['CREATED', (item) => item.createdAt],
    ], 'No buckets yet: create one with "herald bucket create --name <name>".');
  });

  targetOptions(bucket.command('get').description("show a bucket's settings").argument('<bucket>', 'bucket id or name')).action(
    async (ref: string, options: TargetOptions & OutputOptions) => {
      const found = await (await connect(options)).admin<{ bucket: BucketView }>('GET', adminPath('buckets', ref));
      print(options, found, bucketLines(found.bucket));
    },
  );

  targetOptions(
    bucket
      .command('update')
      .description("change a bucket's settings")
      .argument('<bucket>', 'bucket id or name')
      .option('--name <name>', 'rename it (webhook URLs with the old name stop working; ids keep working)')
      .option('--display-name <text>', 'name shown in apps')
      .option('--clear-display-name', 'remove the display name')
      .option('--icon <icon>', 'icon URL or SF Symbol name shown in apps')
      .option('--clear-icon', 'remove the icon')
      .option('--routine <sources>', 'comma-separated sources whose routine events are pushed too (replaces the list)')
      .option('--clear-routine', 'push no routine events')
      .option('--time-zone <zone>', 'IANA time zone of the quiet hours, e.g. Europe/Berlin (default UTC)')
      .option('--clear-time-zone', 'quiet hours in UTC')
      .option('--quiet-hours <windows>', 'when NORMAL notifications arrive quietly (no sound, no banner), e.g. "mon-fri 22:00-07:00, sat,sun 23:00-09:00" (replaces the windows)')
      .option('--clear-quiet-hours', 'no quiet hours')
      .option('--snooze <until>', 'NORMAL notifications arrive quietly for a while: 30m, 2h, 1d, or until an ISO time')
      .option('--clear-snooze', 'end a snooze'),
  ).action(async (ref: string, options: UpdateOptions) => {
    const pairs = [
      [options.displayName, options.clearDisplayName, 'display-name'],
      [options.icon, options.clearIcon, 'icon'],
      [options.routine, options.clearRoutine, 'routine'],
      [options.timeZone, options.clearTimeZone, 'time-zone'],
      [options.quietHours, options.clearQuietHours, 'quiet-hours'],
      [options.snooze, options.clearSnooze, 'snooze'],
    ] as const;
    for (const [value, clear, name] of pairs) {
      if (value !== undefined && clear) throw new CliError(`give --${name} or --clear-${name}, not both`);
    }
    const body = {
      ...(options.name !== undefined ? { name: options.name } : {}),
      ...(options.displayName !== undefined ? { displayName: options.displayName } : options.clearDisplayName ? { displayName: null } : {}),
      ...(options.icon !== undefined ? { icon: options.icon } : options.clearIcon ? { icon: null } : {}),
      ...(options.routine !== undefined ? { routineSources: sourceList(options.routine) } : options.clearRoutine ? { routineSources: [] } : {}),
      ...(options.timeZone !== undefined ? { timeZone: options.timeZone } : options.clearTimeZone ? { timeZone: null } : {}),
      ...(options.quietHours !== undefined ? { quietHours: parseQuietHours(options.quietHours) } : options.clearQuietHours ? { quietHours: null } : {}),
      ...(options.snooze !== undefined ? { snoozeUntil: parseSnooze(options.snooze) } : options.clearSnooze ? { snoozeUntil: null } : {}),
    };
    if (Object.keys(body).length === 0) throw new CliError('nothing to update: give --display-name, --icon, --routine, --time-zone, --quiet-hours, --snooze or a --clear-… option');
    const updated = await (await connect(options)).admin<{ bucket: BucketView }>('PATCH', adminPath('buckets', ref), { body });
    print(options, updated, bucketLines(updated.bucket));
  });

  targetOptions(
    bucket
      .command('delete')
      .description('delete a bucket with its devices (and their push endpoints), tokens, magic codes, secrets and history')
      .argument('<bucket>', 'bucket id or name')
      .option('--yes', 'do not ask; required when stdin is not a terminal'),
  ).action(async (ref: string, options: DeleteOptions) => {
    if (!options.yes && !process.stdin.isTTY) throw new CliError(`refusing to delete bucket "${ref}" without --yes (stdin is not a terminal to confirm on)`);
    const herald = await connect(options);
    const { bucket: found } = await herald.admin<{ bucket: BucketView }>('GET', adminPath('buckets', ref));
    if (!options.yes) await confirmByName(found);
    await herald.admin('DELETE', adminPath('buckets', found.id));
    print(options, { deleted: { id: found.id, name: found.name } }, [['Deleted bucket', `${found.name} (${found.id})`]]);
  });
}

/** Asks, on the terminal, to type the bucket's name: deleting is not undone. */
async function confirmByName(bucket: BucketView): Promise<void> {
  // The prompt goes to stderr, so stdout stays the command's output (JSON with --json).
  const terminal = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const typed = await terminal.question(
      `This deletes bucket "${bucket.name}" (${bucket.id}) with its devices, tokens, magic codes, secrets and history. It cannot be undone.\nType the bucket's name to delete it: `,
    );
    if (typed.trim() !== bucket.name) throw new CliError('the name did not match: nothing was deleted');
  } finally {
    terminal.close();
  }
}
