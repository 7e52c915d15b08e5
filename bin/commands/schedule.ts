import type { Command } from 'commander';
import type { z } from 'zod';
import type { cancelledNotificationResponse, scheduledNotificationSchema } from '../../lambdas/core/admin/contract';
import { adminPath, connect, targetOptions, type TargetOptions } from './client';
import { print, printTable, shorten, type OutputOptions } from './output';

type ScheduledNotification = z.infer<typeof scheduledNotificationSchema>;
type Cancelled = z.infer<typeof cancelledNotificationResponse>;

export function registerScheduleCommands(program: Command): void {
  const schedule = program.command('schedule').description('list and cancel notifications sent with --delay or --at that are not due yet');

  targetOptions(
    schedule
      .command('list')
      .description("a bucket's scheduled notifications not sent yet, soonest first")
      .argument('<bucket>', 'bucket id or name'),
  ).action(async (bucket: string, options: TargetOptions & OutputOptions) => {
    const result = await (await connect(options)).admin<{ scheduled: ScheduledNotification[] }>('GET', adminPath('buckets', bucket, 'scheduled'));
    printTable(options, result, result.scheduled, [
      ['ID', (entry) => entry.notification.id],
      ['DUE', (entry) => entry.dueAt],
      ['VIA', (entry) => entry.mechanism],
      ['TYPE', (entry) => entry.notification.deliveryType],
      ['TITLE', (entry) => shorten(entry.notification.title)],
    ], `Bucket ${bucket} has no scheduled notifications waiting.`);
  });

  targetOptions(
    schedule
      .command('cancel')
      .description('cancel a scheduled notification before it is due: it is never sent')
      .argument('<bucket>', 'bucket id or name')
      .argument('<notificationId>', 'the notification\'s ID (from "herald schedule list" or "herald send")'),
  ).action(async (bucket: string, notificationId: string, options: TargetOptions & OutputOptions) => {
    const cancelled = await (await connect(options)).admin<Cancelled>('DELETE', adminPath('buckets', bucket, 'scheduled', notificationId));
    print(options, cancelled, [
      ['Cancelled notification', cancelled.id],
      ['It was due at', cancelled.scheduledSendAt],
    ]);
  });
}
