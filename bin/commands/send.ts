import type { Command } from 'commander';
import { connect, targetOptions, type TargetOptions } from './client';
import { CliError, print, type OutputOptions } from './output';

interface SendOptions extends TargetOptions, OutputOptions {
  readonly bucket: string;
  readonly token?: string;
  readonly title: string;
  readonly body?: string;
  readonly subtitle?: string;
  readonly deliveryType?: string;
  readonly tapUrl?: string;
  readonly imageUrl?: string;
  readonly tag: string[];
  readonly groupId?: string;
  readonly collapseId?: string;
  readonly idempotencyKey?: string;
  readonly delay?: string;
  readonly at?: string;
}

/** `POST /message`'s answer: the queued notification, or the original's id for a replay. */
interface MessageResponse {
  readonly message: { readonly id: string; readonly scheduledSendAt?: string };
  readonly notificationsCount: number;
  readonly duplicate?: boolean;
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function registerSendCommand(program: Command): void {
  targetOptions(
    program
      .command('send')
      .description("send a notification to a bucket's devices with a bucket token (POST /message); prints its id")
      .requiredOption('--bucket <bucket>', "bucket id or name (must be the token's bucket)")
      .option('--token <token>', 'a token of the bucket with the "send" scope (default: $HERALD_TOKEN, which keeps it out of shell history)')
      .requiredOption('--title <text>', 'the title')
      .option('--body <text>', 'the body')
      .option('--subtitle <text>', 'the subtitle')
      .option('--delivery-type <type>', 'NORMAL, CRITICAL (breaks through Focus), SILENT or NO_PUSH', 'NORMAL')
      .option('--tap-url <url>', 'what opens on a tap (https)')
      .option('--image-url <url>', 'an image shown with it (https)')
      .option('--tag <tag>', 'a tag (repeatable)', collect, [])
      .option('--group-id <id>', 'groups notifications in the notification center')
      .option('--collapse-id <id>', 'a newer notification with the same id replaces this one')
      .option('--idempotency-key <key>', 'sending again with the same key does not notify twice')
      .option('--delay <duration>', 'send later: 30s, 30m, 2h, 1d, 1h30m (at most 30 days)')
      .option('--at <time>', 'send at this ISO 8601 time with a zone, e.g. 2026-01-31T09:00:00Z (at most 30 days ahead)'),
  ).action(async (options: SendOptions) => {
    const token = options.token ?? process.env.HERALD_TOKEN;
    if (!token) throw new CliError('give a bucket token with --token or HERALD_TOKEN');
    const herald = await connect(options);
    const sent = await herald.call<MessageResponse>('POST', '/message', {
      headers: { authorization: `Bearer ${token}`, ...(options.idempotencyKey ? { 'idempotency-key': options.idempotencyKey } : {}) },
      body: {
        bucketId: options.bucket,
        title: options.title,
        body: options.body,
        subtitle: options.subtitle,
        deliveryType: options.deliveryType,
        tapUrl: options.tapUrl,
        imageUrl: options.imageUrl,
        tags: options.tag.length > 0 ? options.tag : undefined,
        groupId: options.groupId,
        collapseId: options.collapseId,
        delay: options.delay,
        scheduledSendAt: options.at,
      },
    });
    const duplicate = sent.duplicate === true;
    print(options, { id: sent.message.id, bucket: options.bucket, duplicate, ...(duplicate ? {} : { notification: sent.message }) }, [
      [duplicate ? 'Already sent (same idempotency key)' : sent.message.scheduledSendAt ? 'Scheduled notification' : 'Sent notification', sent.message.id],
      ['Due at', sent.message.scheduledSendAt],
    ]);
  });
}
