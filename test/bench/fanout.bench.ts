import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { deliverNotification } from '../../lambdas/core/delivery';
import { stampNotification, validateNotification } from '../../lambdas/core/notification';
import { createBucket } from '../../lambdas/core/store/buckets';
import { createStore, type Store } from '../../lambdas/core/store/table';
import { ensureTable } from '../../lambdas/local/stand-ins';
import { DELIVERY_MEMORY_MB, MB_PER_VCPU } from './cost';
import { LatencyGateway, seedDevices } from './devices';
import { startDynaliteProcess } from './dynalite-process';
import type { BenchRow } from './report';

export const FANOUT_GOAL = 1.3;

export interface FanoutCase {
  readonly devices: number;
  readonly concurrency: number;
}

export interface FanoutMeasurement extends FanoutCase {
  readonly latencyMs: number;
  /** The median of this many runs. */
  readonly runs: number;
  readonly wallMs: number;
  readonly floorMs: number;
  /** CPU of this process (delivery code, SDK, fake SNS) per device. */
  readonly cpuMsPerDevice: number;
  /** The fake SNS publish's real mean latency (timers overshoot). */
  readonly publishMs: number;
  /** Mean round trip of the per-device PutItems (the claim before the publish, the outcome after). */
  readonly putMs: number;
  readonly putsPerDevice: number;
  /** Time spent in Queries (outcomes, then each page of devices), which run one after another. */
  readonly queryMs: number;
  readonly queries: number;
}

/** Times every store call by command, around the real client. */
function timedStore(store: Store): { store: Store; totals: Map<string, { calls: number; ms: number }> } {
  const totals = new Map<string, { calls: number; ms: number }>();
  const doc = new Proxy(store.doc, {
    get(target, property, receiver) {
      if (property !== 'send') return Reflect.get(target, property, receiver);
      return async (command: object) => {
        const started = performance.now();
        try {
          return await target.send(command as never);
        } finally {
          const name = command.constructor.name;
          const total = totals.get(name) ?? { calls: 0, ms: 0 };
          total.calls += 1;
          total.ms += performance.now() - started;
          totals.set(name, total);
        }
      };
    },
  });
  return { store: { ...store, doc }, totals };
}

/**
 * `deliverNotification` to N devices stored in dynalite (in its own process), through a fake SNS
 * whose publish takes L ms, at concurrency C: against ⌈N/C⌉·L, the time C perfect workers need.
 */
export async function benchFanout(cases: readonly FanoutCase[], latencyMs = 20): Promise<FanoutMeasurement[]> {
  const dynalite = await startDynaliteProcess();
  try {
    const client = new DynamoDBClient({ endpoint: dynalite.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    await ensureTable(client, 'herald-bench-fanout');
    const store = createStore('herald-bench-fanout', client);
    const buckets = new Map<number, string>();
    for (const devices of new Set(cases.map((c) => c.devices))) {
      const started = performance.now();
      const { bucket } = await createBucket(store, { name: `fanout-${devices}` });
      await seedDevices(store, bucket.id, devices);
      buckets.set(devices, bucket.id);
      process.stderr.write(`  seeded ${devices} devices in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
    }
    const gateway = new LatencyGateway(latencyMs);
    const results: FanoutMeasurement[] = [];
    // A small warm-up, so the first case does not pay for JIT and connection set-up.
    await deliverNotification({ store, gateway, concurrency: 16 }, notificationFor(buckets.get(Math.min(...buckets.keys()))!));
    for (const fanout of cases) {
      // Small fan-outs take well under a second: the median of a few runs steadies them.
      const runs: FanoutMeasurement[] = [];
      for (let run = 0; run < (fanout.devices <= 1000 ? 5 : 1); run += 1) {
        runs.push(await measureFanout(store, gateway, buckets.get(fanout.devices)!, fanout, latencyMs));
      }
      const measurement = runs.sort((a, b) => a.wallMs - b.wallMs)[Math.floor(runs.length / 2)]!;
      results.push({ ...measurement, runs: runs.length });
      process.stderr.write(
        `  fan-out ${fanout.devices} devices, C=${fanout.concurrency}: ${(measurement.wallMs / 1000).toFixed(2)} s (floor ${(measurement.floorMs / 1000).toFixed(2)} s${runs.length > 1 ? `, median of ${runs.length}` : ''})\n`,
      );
    }
    return results;
  } finally {
    await dynalite.stop();
  }
}

async function measureFanout(store: Store, gateway: LatencyGateway, bucketId: string, fanout: FanoutCase, latencyMs: number): Promise<FanoutMeasurement> {
  const timed = timedStore(store);
  gateway.reset();
  const cpuStart = process.cpuUsage();
  const started = performance.now();
  const report = await deliverNotification({ store: timed.store, gateway, concurrency: fanout.concurrency }, notificationFor(bucketId));
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuStart);
  if (report.outcomes.length !== fanout.devices) throw new Error(`delivered to ${report.outcomes.length} of ${fanout.devices} devices`);
  const put = timed.totals.get('PutCommand') ?? { calls: 1, ms: 0 };
  const query = timed.totals.get('QueryCommand') ?? { calls: 0, ms: 0 };
  return {
    ...fanout,
    latencyMs,
    runs: 1,
    wallMs,
    floorMs: Math.ceil(fanout.devices / fanout.concurrency) * latencyMs,
    cpuMsPerDevice: (cpu.user + cpu.system) / 1000 / fanout.devices,
    publishMs: gateway.totalPublishMs / gateway.publishes,
    putMs: put.ms / put.calls,
    putsPerDevice: put.calls / fanout.devices,
    queryMs: query.ms,
    queries: query.calls,
  };
}

function notificationFor(bucketId: string) {
  return stampNotification(validateNotification({ title: 'Login failed: jdoe', body: 'Three failed password attempts from 203.0.113.7' }), bucketId, 'authentik');
}

export function fanoutRows(measurements: readonly FanoutMeasurement[], defaultConcurrency = 16): BenchRow[] {
  return measurements.map((m) => ({
    name: `fan-out: ${m.devices.toLocaleString('en-US')} devices, C = ${m.concurrency}${m.concurrency === defaultConcurrency ? ' (default)' : ''}, L = ${m.latencyMs} ms${m.runs > 1 ? ` (median of ${m.runs})` : ''}`,
    value: m.wallMs,
    unit: 'ms',
    floor: m.floorMs,
    floorName: '⌈N/C⌉·L; one invocation, pages of 1,000 in turn',
    // The goal is for Herald's concurrency; other values are shown for comparison.
    goal: m.concurrency === defaultConcurrency ? `≤ ${FANOUT_GOAL}×` : '— (comparison)',
    met: m.concurrency === defaultConcurrency ? m.wallMs / m.floorMs <= FANOUT_GOAL : undefined,
  }));
}

/**
 * Where each fan-out's time goes, and what a 512 MB delivery Lambda would need: CPU there runs at
 * 512/1769 of a vCPU, so a fan-out takes at least its CPU time × 1769/512, counting the real SNS
 * client's CPU per publish (measured separately: the fake gateway here has none).
 */
export function fanoutDetails(measurements: readonly FanoutMeasurement[], snsPublishCpuMs: number): string[][] {
  const slowdown = MB_PER_VCPU / DELIVERY_MEMORY_MB;
  return measurements.map((m) => {
    const lambdaCpuMs = (m.cpuMsPerDevice + snsPublishCpuMs) * m.devices * slowdown;
    return [
      `${m.devices.toLocaleString('en-US')} × C ${m.concurrency}`,
      `${(m.wallMs / m.floorMs).toFixed(2)}×`,
      `${m.publishMs.toFixed(1)} ms`,
      `${m.putsPerDevice.toFixed(0)} × ${m.putMs.toFixed(1)} ms`,
      `${m.queries} in ${(m.queryMs / 1000).toFixed(2)} s`,
      `${(m.cpuMsPerDevice * 1000).toFixed(0)} µs + ${(snsPublishCpuMs * 1000).toFixed(0)} µs`,
      `${(lambdaCpuMs / 1000).toFixed(1)} s`,
      `${(Math.max(m.wallMs, lambdaCpuMs) / m.floorMs).toFixed(2)}×`,
    ];
  });
}

export const FANOUT_DETAIL_HEADER = [
  'fan-out',
  'ratio',
  'fake SNS publish (mean)',
  'PutItems per device × mean round trip',
  'Queries (one after another)',
  'CPU per device (+ SNS client, measured apart)',
  `that CPU at ${DELIVERY_MEMORY_MB} MB`,
  `${DELIVERY_MEMORY_MB} MB Lambda lower bound ÷ floor`,
];
