import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Stack, Validations } from 'aws-cdk-lib';
import { Construct } from 'constructs';

export interface ScheduledDeliveryProps {
  /** The notification queue: a due schedule sends its job here. */
  readonly queue: sqs.IQueue;
  /** Where Scheduler puts a job it could not send (the notification queue's dead-letter queue). */
  readonly deadLetterQueue: sqs.IQueue;
}

/**
 * Where notifications due more than 15 minutes ahead wait (SQS delays at most 15): an EventBridge
 * Scheduler schedule group for Herald's one-time schedules, and the role Scheduler assumes to send
 * a due job to the notification queue. Least privilege:
 * - the role is assumable by scheduler.amazonaws.com only on behalf of this account
 *   (`aws:SourceAccount`), and may only send to the notification queue and its dead-letter queue;
 * - functions granted with `grantScheduling` may create and delete schedules in this group only,
 *   and pass this role only.
 */
export class ScheduledDelivery extends Construct {
  public readonly scheduleGroup: scheduler.ScheduleGroup;
  public readonly role: iam.IRole;
  private readonly queueArn: string;
  private readonly deadLetterQueueArn: string;

  constructor(scope: Construct, id: string, props: ScheduledDeliveryProps) {
    super(scope, id);
    this.scheduleGroup = new scheduler.ScheduleGroup(this, 'Group');
    this.role = new iam.Role(this, 'Role', {
      description: 'Assumed by EventBridge Scheduler to queue scheduled Herald notifications when they are due',
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    });
    props.queue.grantSendMessages(this.role);
    props.deadLetterQueue.grantSendMessages(this.role);
    this.queueArn = props.queue.queueArn;
    this.deadLetterQueueArn = props.deadLetterQueue.queueArn;
  }

  /**
   * Lets a function schedule and cancel notifications: create and delete schedules in the group,
   * pass the role, and the environment `schedulerFromEnv` reads.
   */
  public grantScheduling(fn: lambda.IFunction): void {
    if (!(fn instanceof lambda.Function)) throw new Error(`ScheduledDelivery.grantScheduling needs a lambda.Function to set its environment (given ${fn.node.path})`);
    this.scheduleGroup.grants.writeSchedules(fn);
    this.scheduleGroup.grants.deleteSchedules(fn);
    this.role.grantPassRole(fn.grantPrincipal);
    if (fn.role) {
      Validations.of(fn.role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/${this.scheduleGroup.scheduleGroupName}/*]`,
        reason: "Each scheduled notification gets its own one-time schedule, named at run time; the function may only create and delete schedules in Herald's own schedule group.",
      });
    }
    fn.addEnvironment('SCHEDULE_GROUP_NAME', this.scheduleGroup.scheduleGroupName);
    fn.addEnvironment('SCHEDULER_ROLE_ARN', this.role.roleArn);
    fn.addEnvironment('QUEUE_ARN', this.queueArn);
    fn.addEnvironment('DEAD_LETTER_QUEUE_ARN', this.deadLetterQueueArn);
  }
}
