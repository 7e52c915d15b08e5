import { ListMessageMoveTasksCommand, SQSClient, StartMessageMoveTaskCommand } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { SqsMessageMoveRedrive, startRedrive, type DeadLetterRedrive, type RedriveTask } from '../../../lambdas/core/admin/dead-letters';

/**
 * The cloud redrive at the SDK boundary: fauxqs (local mode's SQS) has no message move tasks, so
 * these assert the exact requests SQS receives and how its answers are read.
 */

const DLQ_ARN = 'arn:aws:sqs:us-east-1:123456789012:herald-dlq';
const QUEUE_ARN = 'arn:aws:sqs:us-east-1:123456789012:herald-queue';
const TASK_HANDLE = 'eyJ0YXNrSWQiOiJkYS1hLXRhc2siLCJzb3VyY2VBcm4iOiJhcm46YXdzOnNxcyJ9';

const sqsMock = mockClient(SQSClient);

beforeEach(() => {
  sqsMock.reset();
});

/** Every command sent, in order, as {command, input}. */
function sentCommands(): { command: unknown; input: unknown }[] {
  return sqsMock.calls().map((call) => ({ command: call.args[0].constructor, input: call.args[0].input }));
}

describe('SqsMessageMoveRedrive.start', () => {
  test('starts one move task from the DLQ to the notification queue, at the rate SQS chooses', async () => {
    sqsMock.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: TASK_HANDLE });

    const started = await new SqsMessageMoveRedrive(new SQSClient({}), DLQ_ARN, QUEUE_ARN).start();

    expect(started).toEqual({ taskHandle: TASK_HANDLE });
    expect(sentCommands()).toEqual([{ command: StartMessageMoveTaskCommand, input: { SourceArn: DLQ_ARN, DestinationArn: QUEUE_ARN } }]);
  });

  test('an SQS refusal reaches the caller unchanged', async () => {
    sqsMock.on(StartMessageMoveTaskCommand).rejects(Object.assign(new Error('Access to the resource is denied'), { name: 'AccessDeniedException' }));

    await expect(new SqsMessageMoveRedrive(new SQSClient({}), DLQ_ARN, QUEUE_ARN).start()).rejects.toThrow(/denied/);
  });
});

describe('SqsMessageMoveRedrive.list', () => {
  test("asks for the DLQ's last 10 tasks and reports each with its handle only while it runs", async () => {
    sqsMock.on(ListMessageMoveTasksCommand).resolves({
      Results: [
        {
          TaskHandle: TASK_HANDLE,
          Status: 'RUNNING',
          SourceArn: DLQ_ARN,
          DestinationArn: QUEUE_ARN,
          ApproximateNumberOfMessagesMoved: 3,
          ApproximateNumberOfMessagesToMove: 7,
          StartedTimestamp: Date.parse('2026-03-01T10:00:00Z'),
        },
        { Status: 'FAILED', SourceArn: DLQ_ARN, ApproximateNumberOfMessagesMoved: 1, FailureReason: 'AWS.SimpleQueueService.NonExistentQueue', StartedTimestamp: Date.parse('2026-02-28T09:00:00Z') },
        { Status: 'COMPLETED', SourceArn: DLQ_ARN, ApproximateNumberOfMessagesMoved: 12, ApproximateNumberOfMessagesToMove: 12, StartedTimestamp: Date.parse('2026-02-27T08:00:00Z') },
      ],
    });

    const tasks = await new SqsMessageMoveRedrive(new SQSClient({}), DLQ_ARN, QUEUE_ARN).list();

    expect(sentCommands()).toEqual([{ command: ListMessageMoveTasksCommand, input: { SourceArn: DLQ_ARN, MaxResults: 10 } }]);
    expect(tasks).toEqual([
      { taskHandle: TASK_HANDLE, status: 'RUNNING', startedAt: '2026-03-01T10:00:00.000Z', messagesMoved: 3, messagesToMove: 7 },
      { status: 'FAILED', startedAt: '2026-02-28T09:00:00.000Z', messagesMoved: 1, failureReason: 'AWS.SimpleQueueService.NonExistentQueue' },
      { status: 'COMPLETED', startedAt: '2026-02-27T08:00:00.000Z', messagesMoved: 12, messagesToMove: 12 },
    ]);
  });

  test('no task yet is an empty list', async () => {
    sqsMock.on(ListMessageMoveTasksCommand).resolves({});

    expect(await new SqsMessageMoveRedrive(new SQSClient({}), DLQ_ARN, QUEUE_ARN).list()).toEqual([]);
  });
});

describe('startRedrive', () => {
  class FakeRedrive implements DeadLetterRedrive {
    started = 0;
    constructor(private readonly tasks: RedriveTask[]) {}
    async start() {
      this.started += 1;
      return { taskHandle: 'new-task' };
    }
    async list() {
      return this.tasks;
    }
  }

  test('starts a task when none runs', async () => {
    const redrive = new FakeRedrive([{ status: 'COMPLETED', startedAt: '2026-03-01T10:00:00.000Z', messagesMoved: 2 }]);

    expect(await startRedrive(redrive)).toEqual({ taskHandle: 'new-task', alreadyRunning: false });
    expect(redrive.started).toBe(1);
  });

  test('returns the running task instead of starting a second (SQS runs one per queue)', async () => {
    const redrive = new FakeRedrive([{ taskHandle: 'running-task', status: 'RUNNING', startedAt: '2026-03-01T10:00:00.000Z', messagesMoved: 0 }]);

    expect(await startRedrive(redrive)).toEqual({ taskHandle: 'running-task', alreadyRunning: true });
    expect(redrive.started).toBe(0);
  });

  test('through SQS: one ListMessageMoveTasks, then one StartMessageMoveTask with the exact ARNs', async () => {
    sqsMock.on(ListMessageMoveTasksCommand).resolves({ Results: [{ Status: 'COMPLETED', ApproximateNumberOfMessagesMoved: 4, StartedTimestamp: 1 }] });
    sqsMock.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: TASK_HANDLE });

    const started = await startRedrive(new SqsMessageMoveRedrive(new SQSClient({}), DLQ_ARN, QUEUE_ARN));

    expect(started).toEqual({ taskHandle: TASK_HANDLE, alreadyRunning: false });
    expect(sentCommands()).toEqual([
      { command: ListMessageMoveTasksCommand, input: { SourceArn: DLQ_ARN, MaxResults: 10 } },
      { command: StartMessageMoveTaskCommand, input: { SourceArn: DLQ_ARN, DestinationArn: QUEUE_ARN } },
    ]);
  });
});
