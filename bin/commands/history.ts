import type { Command } from 'commander';
import type { z } from 'zod';
import type { historyEntrySchema, notificationDetailSchema } from '../../lambdas/core/admin/contract';
import { adminPath, connect, targetOptions, type TargetOptions } from './client';
import { CliError, formatTable, print, printTable, shorten, type OutputOptions } from './output';

type HistoryEntry = z.infer<typeof historyEntrySchema>;
type NotificationDetail = z.infer<typeof notificationDetailSchema>;

interface ListOptions extends TargetOptions, OutputOptions {
  readonly limit: string;
  readonly cursor?: string;
}

/** `{sent: 2, failed: 1}` as "sent 2, failed 1". */
function outcomeCounts(outcomes: Record<string, number>): string {
  const counts = Object.entries(outcomes).filter(([, count]) => count > 0);
  return counts.length > 0 ? counts.map(([status, count]) => `${status} ${count}`).join(', ') : 'no devices';
}

export function registerHistoryCommands(program: Command): void {
  const history = program.command('history').description("read a bucket's recent notifications and how each reached its devices");

  targetOptions(
    history
      .command('list')
      .description("a bucket's recent notifications, newest first")
      .argument('<bucket>', 'bucket id or name')
      .option('--limit <n>', 'how many (1–200)', '20')
      .option('--cursor <cursor>', 'continue after the previous page (its "cursor")'),
  ).action(async (bucket: string, options: ListOptions) => {
    const limit = Number(options.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 200) throw new CliError(`--limit must be a whole number from 1 to 200 (given "${options.limit}")`);
    const page = await (await connect(options)).admin<{ notifications: HistoryEntry[]; cursor?: string }>('GET', adminPath('buckets', bucket, 'notifications'), {
      query: { limit, cursor: options.cursor },
    });
    printTable(options, page, page.notifications, [
      ['ID', (entry) => entry.notification.id],
      ['CREATED', (entry) => entry.notification.createdAt],
      ['SOURCE', (entry) => entry.notification.source],
      ['TYPE', (entry) => entry.notification.deliveryType],
      ['OUTCOMES', (entry) => `${outcomeCounts(entry.outcomes)}${entry.clearedAt ? ' (cleared)' : ''}`],
      ['TITLE', (entry) => shorten(entry.notification.title)],
    ], `Bucket ${bucket} has no notifications in its history.`);
    if (!options.json && page.cursor) process.stdout.write(`\nMore: herald history list ${bucket} --cursor ${page.cursor}\n`);
  });

  targetOptions(
    history
      .command('get')
      .description('a notification with its outcome on each device')
      .argument('<bucket>', 'bucket id or name')
      .argument('<notificationId>', 'the notification\'s ID (from "herald history list" or "herald send")'),
  ).action(async (bucket: string, notificationId: string, options: TargetOptions & OutputOptions) => {
    const detail = await (await connect(options)).admin<NotificationDetail>('GET', adminPath('buckets', bucket, 'notifications', notificationId));
    const { notification } = detail;
    print(options, detail, [
      ['Notification', notification.id],
      ['Source', notification.source],
      ['Created', notification.createdAt],
      ['Delivered', detail.deliveredAt],
      ['Title', notification.title],
      ['Subtitle', notification.subtitle],
      ['Body', shorten(notification.body, 200)],
      ['Delivery type', notification.deliveryType],
      // passive: quiet hours or snooze (no sound, no banner)
      ['Delivered as', detail.deliveredAs && `${detail.deliveredAs}${detail.quietReason ? ` (${detail.quietReason.replace('_', ' ')})` : ''}`],
      ['Tap URL', notification.tapUrl],
      ['Tags', notification.tags?.join(', ')],
      ['Outcomes', outcomeCounts(detail.outcomes)],
      ['Cleared', detail.clearedAt],
    ]);
    if (options.json) return;
    process.stdout.write('\n');
    process.stdout.write(formatTable(detail.devices, [
      ['DEVICE', (outcome) => outcome.deviceId],
      ['PLATFORM', (outcome) => outcome.platform],
      ['STATUS', (outcome) => outcome.status],
      ['AT', (outcome) => outcome.at],
      ['DETAIL', (outcome) => outcome.detail],
    ], 'No per-device outcomes were recorded.'));
  });
}
