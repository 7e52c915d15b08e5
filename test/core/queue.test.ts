import { messageBody, parseDeliveryJob } from '../../lambdas/core/queue';

const notification = { id: '0197a1c2-3b4d-7e5f-8a6b-7c8d9e0f1a2b', bucketId: 'b', source: 'native', createdAt: '2025-06-01T12:00:00.000Z', title: 'T', deliveryType: 'NORMAL' as const };

describe('parseDeliveryJob', () => {
  test('reads a message queued before jobs had a kind as a delivery', () => {
    const job = parseDeliveryJob(JSON.stringify({ notification, cursor: 'c' }));
    expect(job.kind).toBeUndefined();
    expect(job).toEqual({ notification, cursor: 'c' });
  });

  test('reads a clear job back as queued', () => {
    expect(parseDeliveryJob(messageBody({ kind: 'clear', notification }))).toEqual({ kind: 'clear', notification });
  });

  test('refuses a job of an unknown kind', () => {
    expect(() => parseDeliveryJob(JSON.stringify({ kind: 'explode', notification }))).toThrow(/unknown job kind "explode"/);
  });
});
