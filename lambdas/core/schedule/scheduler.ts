import { CreateScheduleCommand, DeleteScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';

/** A one-time schedule that, at `dueAt`, sends `job` (a queue message body) to the notification queue. */
export interface ScheduleRequest {
  /** Unique per notification (`herald-<notificationId>`), so creating it again is harmless. */
  readonly name: string;
  readonly dueAt: Date;
  /** The message body queued at the due time. */
  readonly job: string;
}

/** Where notifications due more than 15 minutes ahead wait (EventBridge Scheduler; timers in local mode). */
export interface NotificationScheduler {
  /** Creates the schedule; one that exists already (a retried request) counts as created. */
  schedule(request: ScheduleRequest): Promise<void>;
  /** Deletes the schedule; one that is gone already (fired, or deleted) counts as deleted. */
  cancel(name: string): Promise<void>;
}

export const scheduleNameOf = (notificationId: string) => `herald-${notificationId}`;

/** Scheduler's `at()` takes a local time without zone; `ScheduleExpressionTimezone: 'UTC'` says which. */
export function atExpression(dueAt: Date): string {
  return `at(${dueAt.toISOString().slice(0, 19)})`;
}

export interface SchedulerTarget {
  readonly groupName: string;
  /** The notification queue's ARN. */
  readonly queueArn: string;
  /** The role Scheduler assumes to send to the queue. */
  readonly roleArn: string;
  /** Where Scheduler puts a job it could not send. */
  readonly deadLetterArn?: string;
}

/**
 * EventBridge Scheduler: one one-time schedule per notification, deleted by Scheduler after it
 * fires. `at()` has a one-second resolution and no flexible window, so the job arrives on time.
 */
export class EventBridgeNotificationScheduler implements NotificationScheduler {
  constructor(
    private readonly target: SchedulerTarget,
    private readonly client: SchedulerClient = new SchedulerClient({}),
  ) {}

  async schedule(request: ScheduleRequest): Promise<void> {
    try {
      await this.client.send(
        new CreateScheduleCommand({
          Name: request.name,
          GroupName: this.target.groupName,
          ScheduleExpression: atExpression(request.dueAt),
          ScheduleExpressionTimezone: 'UTC',
          FlexibleTimeWindow: { Mode: 'OFF' },
          ActionAfterCompletion: 'DELETE',
          Target: {
            Arn: this.target.queueArn,
            RoleArn: this.target.roleArn,
            Input: request.job,
            // Scheduler gives up on a job it could not send within a day, after this many tries.
            RetryPolicy: { MaximumEventAgeInSeconds: 86_400, MaximumRetryAttempts: 185 },
            ...(this.target.deadLetterArn ? { DeadLetterConfig: { Arn: this.target.deadLetterArn } } : {}),
          },
        }),
      );
    } catch (error) {
      // The name is the notification's: an existing schedule is this one, made by an earlier try.
      if ((error as { name?: string }).name !== 'ConflictException') throw error;
    }
  }

  async cancel(name: string): Promise<void> {
    try {
      await this.client.send(new DeleteScheduleCommand({ Name: name, GroupName: this.target.groupName }));
    } catch (error) {
      if ((error as { name?: string }).name !== 'ResourceNotFoundException') throw error;
    }
  }
}

/** The scheduler the handlers configure from SCHEDULE_GROUP_NAME, QUEUE_ARN, SCHEDULER_ROLE_ARN (and DEAD_LETTER_QUEUE_ARN). */
export function schedulerFromEnv(env: NodeJS.ProcessEnv = process.env): NotificationScheduler | undefined {
  const { SCHEDULE_GROUP_NAME: groupName, QUEUE_ARN: queueArn, SCHEDULER_ROLE_ARN: roleArn, DEAD_LETTER_QUEUE_ARN: deadLetterArn } = env;
  if (!groupName || !queueArn || !roleArn) return undefined;
  return new EventBridgeNotificationScheduler({ groupName, queueArn, roleArn, ...(deadLetterArn ? { deadLetterArn } : {}) });
}
