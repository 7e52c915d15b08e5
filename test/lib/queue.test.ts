import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { NotificationQueue, type NotificationQueueProps } from '../../lib/queue';

const QUEUE = 'AWS::SQS::Queue';
const QUEUE_POLICY = 'AWS::SQS::QueuePolicy';

function synth(props: Partial<NotificationQueueProps> = {}): Template {
  const stack = new Stack(new App(), 'Test');
  new NotificationQueue(stack, 'Queue', { deliveryTimeout: Duration.seconds(60), ...props });
  return Template.fromStack(stack);
}

/** The logical ids of the queue and its dead-letter queue (the one with, and the one without, a redrive policy). */
function queueIds(template: Template): { queueId: string; deadLetterQueueId: string } {
  const queues = Object.entries(template.findResources(QUEUE));
  expect(queues).toHaveLength(2);
  const [queueId] = queues.find(([, queue]) => queue.Properties.RedrivePolicy !== undefined)!;
  const [deadLetterQueueId] = queues.find(([, queue]) => queue.Properties.RedrivePolicy === undefined)!;
  return { queueId, deadLetterQueueId };
}

describe('NotificationQueue', () => {
  let template: Template;
  beforeAll(() => {
    template = synth();
  });

  test('creates a queue and its dead-letter queue', () => {
    template.resourceCountIs(QUEUE, 2);
  });

  test('encrypts both queues with SQS-managed SSE', () => {
    const queues = Object.values(template.findResources(QUEUE));
    expect(queues).toHaveLength(2);
    for (const queue of queues) {
      expect(queue.Properties.SqsManagedSseEnabled).toBe(true);
      expect(queue.Properties.KmsMasterKeyId).toBeUndefined();
    }
  });

  test('both queues refuse requests not made over TLS', () => {
    // GIVEN
    const { queueId, deadLetterQueueId } = queueIds(template);

    // THEN
    template.resourceCountIs(QUEUE_POLICY, 2);
    for (const id of [queueId, deadLetterQueueId]) {
      template.hasResourceProperties(QUEUE_POLICY, {
        Queues: [{ Ref: id }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            {
              Effect: 'Deny',
              Principal: { AWS: '*' },
              Action: 'sqs:*',
              Resource: { 'Fn::GetAtt': [id, 'Arn'] },
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            },
          ]),
        },
      });
    }
  });

  test('moves a message to the dead-letter queue after 5 receives by default', () => {
    const { deadLetterQueueId } = queueIds(template);

    template.hasResourceProperties(QUEUE, {
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [deadLetterQueueId, 'Arn'] }, maxReceiveCount: 5 },
    });
  });

  test('the visibility timeout is six times the delivery timeout', () => {
    template.hasResourceProperties(QUEUE, { RedrivePolicy: Match.anyValue(), VisibilityTimeout: 360 });

    const shorter = synth({ deliveryTimeout: Duration.seconds(15) });
    shorter.hasResourceProperties(QUEUE, { RedrivePolicy: Match.anyValue(), VisibilityTimeout: 90 });
  });

  test('keeps queued messages 4 days and dead letters 14 days by default', () => {
    const { queueId, deadLetterQueueId } = queueIds(template);
    const queues = template.findResources(QUEUE);

    expect(queues[queueId].Properties.MessageRetentionPeriod).toBe(4 * 24 * 3600);
    expect(queues[deadLetterQueueId].Properties.MessageRetentionPeriod).toBe(14 * 24 * 3600);
  });

  test('maxReceiveCount and deadLetterRetention override the defaults', () => {
    // WHEN
    const custom = synth({ maxReceiveCount: 10, deadLetterRetention: Duration.days(7) });

    // THEN
    const { deadLetterQueueId } = queueIds(custom);
    custom.hasResourceProperties(QUEUE, { RedrivePolicy: Match.objectLike({ maxReceiveCount: 10 }) });
    expect(custom.findResources(QUEUE)[deadLetterQueueId].Properties.MessageRetentionPeriod).toBe(7 * 24 * 3600);
  });

  test.each([4, 0, 1001])('refuses maxReceiveCount %d, naming it', (maxReceiveCount) => {
    const stack = new Stack(new App(), 'Test');

    expect(() => new NotificationQueue(stack, 'Queue', { deliveryTimeout: Duration.seconds(60), maxReceiveCount })).toThrow(
      new RegExp(`maxReceiveCount .*\\(given ${maxReceiveCount}\\)`),
    );
  });
});
