import { messageBody, parseDeliveryJob, parseQueuedJob } from '../../lambdas/core/queue';

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

describe('parseQueuedJob', () => {
  test('reads the reference EventBridge Scheduler queues for a scheduled notification, and nothing more', () => {
    const body = JSON.stringify({ kind: 'scheduled', notification: { id: notification.id, bucketId: 'b', title: 'extra' } });
    expect(parseQueuedJob(body)).toEqual({ kind: 'scheduled', notification: { id: notification.id, bucketId: 'b' } });
  });

  test('refuses a scheduled job without its ids', () => {
    expect(() => parseQueuedJob(JSON.stringify({ kind: 'scheduled', notification: { id: 1 } }))).toThrow(/not a Herald scheduled job/);
  });

  test('reads delivery and clear jobs as parseDeliveryJob does', () => {
    expect(parseQueuedJob(messageBody({ kind: 'clear', notification }))).toEqual({ kind: 'clear', notification });
    expect(() => parseQueuedJob(JSON.stringify({ kind: 'explode', notification }))).toThrow(/unknown job kind "explode"/);
  });

  test('parseDeliveryJob alone still refuses a scheduled reference (it has no notification to deliver)', () => {
    expect(() => parseDeliveryJob(JSON.stringify({ kind: 'scheduled', notification: { id: notification.id, bucketId: 'b' } }))).toThrow(/unknown job kind "scheduled"/);
  });
});
