import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { createBucket, findBucket } from '../../lambdas/core/store/buckets';
import { createHarness } from './harness';

describe('local stand-ins', () => {
  test('a bucket written to dynalite is found by its name', async () => {
    const { store } = await createHarness();
    const { bucket } = await createBucket(store, { name: 'stand-in-check' });
    expect((await findBucket(store, 'stand-in-check'))?.id).toBe(bucket.id);
  });

  test('the fauxqs queue carries the redrive policy of the stack', async () => {
    const { sqs, queues } = await createHarness({ maxReceiveCount: 5 });
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queues.queueUrl, AttributeNames: ['All'] }));
    expect(JSON.parse(Attributes!.RedrivePolicy!)).toMatchObject({ maxReceiveCount: 5 });
  });
});
