import { billedMs, costCases, total } from './cost';
import type { DeliveryMeasurement, HandlerMeasurements, IngestMeasurement } from './handlers.worker';

/** A Herald that makes exactly the floor's calls and takes no time: it must cost the floor. */
function measurements(overrides: { ingest?: Partial<IngestMeasurement>; delivery?: Partial<DeliveryMeasurement> } = {}): HandlerMeasurements {
  const ingest: IngestMeasurement = {
    payload: 'authentik',
    bodyBytes: 900,
    requests: 2000,
    cpuMs: 0,
    floorCpuMs: 0,
    wallMs: 0,
    sqsLatencyMs: 10,
    logBytes: 0,
    dynamo: { calls: {}, readUnits: 1, writeUnits: 1 },
    ...overrides.ingest,
  };
  const delivery = (devices: number): DeliveryMeasurement => ({
    payload: 'authentik',
    devices,
    batchSize: 10,
    notifications: 10,
    messages: 10,
    invocations: [],
    logBytes: 0,
    snsLatencyMs: 20,
    concurrency: 16,
    dynamo: { calls: { 'Query BUCKET/DEVICE': { calls: 1, units: 1 } }, readUnits: 1, writeUnits: devices },
    ...overrides.delivery,
  });
  return {
    ingest: [ingest],
    deliverySingle: [delivery(1)],
    deliveryBucket: delivery(1000),
    sdkCallCpuMs: { getItem: 0, conditionalPutItem: 0, snsPublish: 0 },
  };
}

describe('cost model', () => {
  test("the floor is the issue's ≈ $4.20 per million single-device notifications", () => {
    const [single] = costCases(measurements());
    expect(total(single!.floor)).toBeCloseTo(4.2, 6);
  });

  test('a Herald making only the floor’s requests, in no time, costs the floor', () => {
    for (const c of costCases(measurements())) expect(total(c.herald)).toBeCloseTo(total(c.floor), 6);
  });

  test('each extra write per notification costs $0.625 per million', () => {
    const [single] = costCases(measurements({ ingest: { dynamo: { calls: {}, readUnits: 1, writeUnits: 2 } } }));
    expect(total(single!.herald) - total(single!.floor)).toBeCloseTo(0.625, 6);
  });

  test('billed time adds the CPU slowdown below 1,769 MB and rounds up to the millisecond', () => {
    expect(billedMs(10, 0, 256)).toBe(10);
    // 1 ms of CPU on a whole core takes 1769/512 ms at 512 MB: 2.455 ms more.
    expect(billedMs(10, 1, 512)).toBe(13);
    expect(billedMs(10, 1, 1769)).toBe(10);
  });
});
