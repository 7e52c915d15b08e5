import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { messageBody } from '../core/queue';
import type { NotificationScheduler, ScheduleRequest } from '../core/schedule/scheduler';
import { listBuckets } from '../core/store/buckets';
import { listPendingScheduled } from '../core/store/scheduled';
import type { Store } from '../core/store/table';

/** setTimeout holds at most 2^31-1 ms (about 24.8 days); longer waits are re-armed in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * EventBridge Scheduler's stand-in for local mode: one timer per schedule that, when due, sends the
 * job to the notification queue, as a schedule with an SQS target does. Timers live in the process;
 * the scheduled records in the table are what survive a restart (`rearm` sets them again).
 */
export class LocalNotificationScheduler implements NotificationScheduler {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
    private readonly onError: (error: unknown) => void = () => undefined,
  ) {}

  async schedule(request: ScheduleRequest): Promise<void> {
    // As Scheduler's ConflictException: a schedule of that name exists already.
    if (this.timers.has(request.name)) return;
    this.arm(request.name, request.dueAt.getTime(), request.job);
  }

  async cancel(name: string): Promise<void> {
    clearTimeout(this.timers.get(name));
    this.timers.delete(name);
  }

  /** Arms the schedules of every bucket's pending scheduled notifications (after a restart with --data). */
  async rearm(store: Store): Promise<number> {
    let armed = 0;
    for (const bucket of await listBuckets(store)) {
      for (const record of await listPendingScheduled(store, bucket.id, Number.MAX_SAFE_INTEGER)) {
        if (record.mechanism !== 'scheduler' || !record.scheduleName || this.timers.has(record.scheduleName)) continue;
        const job = messageBody({ kind: 'scheduled', notification: { id: record.notification.id, bucketId: record.notification.bucketId } });
        this.arm(record.scheduleName, Date.parse(record.dueAt), job);
        armed += 1;
      }
    }
    return armed;
  }

  /** Clears every timer (stopping local mode); the records keep the schedules for the next start. */
  stop(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  get size(): number {
    return this.timers.size;
  }

  private arm(name: string, dueAt: number, job: string): void {
    const wait = Math.max(0, dueAt - Date.now());
    const timer = setTimeout(() => {
      if (wait > MAX_TIMER_MS) return this.arm(name, dueAt, job);
      this.timers.delete(name);
      // Like Scheduler's ActionAfterCompletion DELETE: a fired schedule is gone.
      this.sqs.send(new SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: job })).catch(this.onError);
    }, Math.min(wait, MAX_TIMER_MS));
    timer.unref();
    this.timers.set(name, timer);
  }
}
