import type { DeliveryMeasurement, DynamoPerNotification, HandlerMeasurements, IngestMeasurement } from './handlers.worker';
import type { BenchRow } from './report';

/** us-east-1 list prices in $, from ../shared/reference/aws-notes.md §4. */
export const PRICES = {
  httpApiRequest: 1.0 / 1e6,
  lambdaRequest: 0.2 / 1e6,
  /** arm64, first 7.5B GB-s a month. */
  lambdaGbSecond: 0.0000133334,
  sqsRequest: 0.4 / 1e6,
  snsPublish: 0.5 / 1e6,
  snsMobileDelivery: 0.5 / 1e6,
  dynamoWriteUnit: 0.625 / 1e6,
  dynamoReadUnit: 0.125 / 1e6,
  /** CloudWatch Logs ingestion per GB (taken as 10^9 bytes). */
  logsPerByte: 0.5 / 1e9,
} as const;

/** Lambda gives a function one vCPU at 1,769 MB, and CPU in proportion below that. */
export const MB_PER_VCPU = 1769;
/** lib/herald-function.ts (default) and lib/delivery.ts. */
export const INGEST_MEMORY_MB = 256;
export const DELIVERY_MEMORY_MB = 512;
/** lib/delivery.ts: the SQS event source's batch size. */
export const SQS_BATCH_SIZE = 10;
export const COST_GOAL = 1.15;

/**
 * The issue's floor for one notification to one device, $ per notification: HTTP API 1.00 + SQS
 * send/receive/delete 0.48 + Lambda requests 0.22 + SNS publish 0.50 + SNS delivery 0.50 + two
 * reads (token, devices) 0.25 + two writes (dedupe record, per-device outcome) 1.25 ≈ $4.20/M.
 */
const FLOOR_SINGLE: CostLines = {
  api: PRICES.httpApiRequest,
  sqs: PRICES.sqsRequest * (1 + 2 / SQS_BATCH_SIZE),
  lambdaRequests: PRICES.lambdaRequest * (1 + 1 / SQS_BATCH_SIZE),
  lambdaCompute: 0,
  dynamoReads: 2 * PRICES.dynamoReadUnit,
  dynamoWrites: 2 * PRICES.dynamoWriteUnit,
  sns: PRICES.snsPublish + PRICES.snsMobileDelivery,
  logs: 0,
};

export interface CostLines {
  readonly api: number;
  readonly sqs: number;
  readonly lambdaRequests: number;
  readonly lambdaCompute: number;
  readonly dynamoReads: number;
  readonly dynamoWrites: number;
  readonly sns: number;
  /** CloudWatch Logs ingestion of what the handlers log (not in the floor). */
  readonly logs: number;
}

export interface CostCase {
  readonly name: string;
  /** Per million notifications (single device) or per million pushes (the 1,000-device bucket). */
  readonly per: string;
  readonly herald: CostLines;
  readonly floor: CostLines;
  readonly floorName: string;
  /** How the GB-s were modelled, for the notes. */
  readonly computeNote: string;
}

/**
 * Billed milliseconds of one invocation: the measured wall time (which ran on a whole core) plus
 * the extra its CPU time takes at the function's share of a vCPU (memory / 1,769 MB), rounded up
 * to the next millisecond as Lambda bills.
 */
export function billedMs(wallMs: number, cpuMs: number, memoryMb: number): number {
  return Math.ceil(wallMs + cpuMs * Math.max(0, MB_PER_VCPU / memoryMb - 1));
}

const gbSeconds = (ms: number, memoryMb: number) => (ms / 1000) * (memoryMb / 1024);

/** Delivery's billed milliseconds per notification, over all its invocations (continuations too). */
export function deliveryBilledMs(delivery: DeliveryMeasurement): number {
  return delivery.invocations.reduce((sum, i) => sum + billedMs(i.wallMs, i.cpuMs, DELIVERY_MEMORY_MB), 0) / delivery.notifications;
}

/** Everything a notification costs Herald, per notification; `delivery.devices` pushes each. */
function heraldLines(ingest: IngestMeasurement, delivery: DeliveryMeasurement): CostLines {
  const dynamo: DynamoPerNotification[] = [ingest.dynamo, delivery.dynamo];
  const ingestMs = billedMs(ingest.wallMs, ingest.cpuMs, INGEST_MEMORY_MB);
  // A large bucket's continuations are messages too: each sent, received and deleted.
  const messages = delivery.messages / delivery.notifications;
  return {
    api: PRICES.httpApiRequest,
    // Ingest's SendMessageBatch (one per request) and delivery's continuations; receive and
    // delete, one request per batch of messages.
    sqs: PRICES.sqsRequest * (1 + (messages - 1) + (2 * messages) / SQS_BATCH_SIZE),
    lambdaRequests: PRICES.lambdaRequest * (1 + messages / SQS_BATCH_SIZE),
    lambdaCompute: PRICES.lambdaGbSecond * (gbSeconds(ingestMs, INGEST_MEMORY_MB) + gbSeconds(deliveryBilledMs(delivery), DELIVERY_MEMORY_MB)),
    dynamoReads: PRICES.dynamoReadUnit * dynamo.reduce((sum, d) => sum + d.readUnits, 0),
    dynamoWrites: PRICES.dynamoWriteUnit * dynamo.reduce((sum, d) => sum + d.writeUnits, 0),
    sns: (PRICES.snsPublish + PRICES.snsMobileDelivery) * delivery.devices,
    logs: PRICES.logsPerByte * (ingest.logBytes + delivery.logBytes / delivery.notifications),
  };
}

function describeDelivery(delivery: DeliveryMeasurement): string {
  const wall = delivery.invocations.reduce((sum, i) => sum + i.wallMs, 0) / delivery.notifications;
  const cpu = delivery.invocations.reduce((sum, i) => sum + i.cpuMs, 0) / delivery.notifications;
  const continuations = (delivery.messages - delivery.notifications) / delivery.notifications;
  return (
    `delivery ${deliveryBilledMs(delivery).toFixed(1)} ms per notification at ${DELIVERY_MEMORY_MB} MB (wall ${wall.toFixed(1)} ms, CPU ${cpu.toFixed(1)} ms, ` +
    `batches of ${delivery.batchSize}, SNS ${delivery.snsLatencyMs} ms, C = ${delivery.concurrency}${continuations > 0 ? `, ${continuations} continuation message(s)` : ''})`
  );
}

const scale = (lines: CostLines, factor: number): CostLines =>
  Object.fromEntries(Object.entries(lines).map(([name, value]) => [name, value * factor])) as unknown as CostLines;

export function total(lines: CostLines, withLogs = false): number {
  const { logs, ...rest } = lines;
  return Object.values(rest).reduce((sum, value) => sum + value, 0) + (withLogs ? logs : 0);
}

/** Single-device notifications per payload, and pushes to the 1,000-device bucket. */
export function costCases(measured: HandlerMeasurements): CostCase[] {
  const cases: CostCase[] = measured.ingest.map((ingest) => {
    const delivery = measured.deliverySingle.find((d) => d.payload === ingest.payload)!;
    return {
      name: `${ingest.payload}, 1 device`,
      per: 'M notifications',
      herald: scale(heraldLines(ingest, delivery), 1e6),
      floor: scale(FLOOR_SINGLE, 1e6),
      floorName: 'issue 8: request fees + 2 reads + 2 writes ≈ $4.20',
      computeNote:
        `${ingest.payload}: ingest ${billedMs(ingest.wallMs, ingest.cpuMs, INGEST_MEMORY_MB)} ms at ${INGEST_MEMORY_MB} MB ` +
        `(wall ${ingest.wallMs.toFixed(1)} ms incl. ${ingest.sqsLatencyMs} ms SQS, CPU ${ingest.cpuMs.toFixed(2)} ms); ${describeDelivery(delivery)}`,
    };
  });
  const bucket = measured.deliveryBucket;
  const ingest = measured.ingest.find((i) => i.payload === bucket.payload)!;
  const pushes = bucket.devices;
  // The floor lists the same devices (the same Query units), then pays per device what the issue
  // counts: publish, delivery and the outcome write; per notification, the rest of its $4.20.
  const deviceListUnits = Object.entries(bucket.dynamo.calls)
    .filter(([call]) => call === 'Query BUCKET/DEVICE')
    .reduce((sum, [, c]) => sum + c.units, 0);
  const floorPerNotification: CostLines = {
    ...FLOOR_SINGLE,
    dynamoReads: PRICES.dynamoReadUnit * (1 + deviceListUnits),
    dynamoWrites: PRICES.dynamoWriteUnit * (1 + pushes),
    sns: (PRICES.snsPublish + PRICES.snsMobileDelivery) * pushes,
  };
  cases.push({
    name: `${bucket.payload}, ${pushes.toLocaleString('en-US')}-device bucket`,
    per: 'M pushes',
    herald: scale(heraldLines(ingest, bucket), 1e6 / pushes),
    floor: scale(floorPerNotification, 1e6 / pushes),
    floorName: `issue 8's per-notification fees ÷ ${pushes.toLocaleString('en-US')}, + publish, delivery, outcome write per push`,
    computeNote: `${pushes.toLocaleString('en-US')} devices: ${describeDelivery(bucket)}`,
  });
  return cases;
}

export function costRows(cases: readonly CostCase[]): BenchRow[] {
  return cases.map((c) => {
    const value = total(c.herald);
    const floor = total(c.floor);
    return {
      name: `cost per ${c.per}: ${c.name} (requests + DynamoDB + Lambda GB-s)`,
      value,
      unit: '$',
      floor,
      floorName: c.floorName,
      goal: `≤ ${COST_GOAL}×`,
      met: value / floor <= COST_GOAL,
    };
  });
}

const LINE_NAMES: [keyof CostLines, string][] = [
  ['api', 'API Gateway HTTP API'],
  ['sqs', 'SQS (send; receive + delete per batch of 10)'],
  ['lambdaRequests', 'Lambda requests (ingest; delivery per batch)'],
  ['lambdaCompute', 'Lambda GB-s (arm64)'],
  ['dynamoReads', 'DynamoDB reads'],
  ['dynamoWrites', 'DynamoDB writes'],
  ['sns', 'SNS publish + mobile delivery'],
];

/** The per-service breakdown: one column per case, Herald next to its floor. */
export function costBreakdown(cases: readonly CostCase[]): { header: string[]; rows: string[][] } {
  const money = (value: number) => `$${value.toFixed(value >= 10 ? 2 : 3)}`;
  const header = ['$ per million', ...cases.flatMap((c) => [`${c.name} (per ${c.per})`, 'floor'])];
  const rows = LINE_NAMES.map(([key, label]) => [label, ...cases.flatMap((c) => [money(c.herald[key]), money(c.floor[key])])]);
  rows.push(['**total**', ...cases.flatMap((c) => [`**${money(total(c.herald))}**`, `**${money(total(c.floor))}**`])]);
  rows.push(['ratio', ...cases.flatMap((c) => [`${(total(c.herald) / total(c.floor)).toFixed(2)}×`, ''])]);
  rows.push(['CloudWatch Logs (handler lines, measured)', ...cases.flatMap((c) => [money(c.herald.logs), '—'])]);
  rows.push(['total with logs; ratio', ...cases.flatMap((c) => [`${money(total(c.herald, true))}; ${(total(c.herald, true) / total(c.floor)).toFixed(2)}×`, ''])]);
  return { header, rows };
}

const CALL_NAMES: Record<string, string> = {
  'Get TOKEN/META': 'token lookup',
  'Get MAGIC/META': 'magic-code lookup',
  'Get BUCKET/SOURCE': 'source-secret lookup',
  'Get BUCKET/META': 'bucket read (routine events)',
  'Put DEDUPE/META': 'dedupe claim',
  'Query NOTIF/DEVICE': 'outcomes already recorded',
  'Query BUCKET/DEVICE': 'device pages',
  'Put NOTIF/DEVICE': 'per-device claim, then outcome',
  'Get NOTIF/DEVICE': 'claim found taken: read it',
  'Put BUCKET/NOTIF': 'history entry',
  'Update BUCKET/NOTIF': 'history entry',
};

/** DynamoDB calls as counted on the stand-in: `token lookup ×1 (1 RRU), dedupe claim ×1 (1 WRU)`. */
export function describeDynamoCalls(dynamo: DynamoPerNotification): string {
  const described = Object.entries(dynamo.calls).map(([call, c]) => {
    const write = /^(Put|Update|Delete)/.test(call);
    const times = Number.isInteger(c.calls) ? String(c.calls) : c.calls.toFixed(1);
    return `${CALL_NAMES[call] ?? call} ×${times} (${Number(c.units.toFixed(1))} ${write ? 'WRU' : 'RRU'})`;
  });
  return described.join(', ') || 'none';
}

/** The calls behind the DynamoDB lines, and how the GB-s were modelled. */
export function costNotes(measured: HandlerMeasurements, cases: readonly CostCase[]): string[] {
  const bucket = measured.deliveryBucket;
  return [
    ...measured.ingest.map(
      (ingest, i) =>
        `DynamoDB per ${ingest.payload} notification to 1 device: ingest: ${describeDynamoCalls(ingest.dynamo)}; delivery: ${describeDynamoCalls(measured.deliverySingle[i]!.dynamo)}.`,
    ),
    `DynamoDB per notification to ${bucket.devices.toLocaleString('en-US')} devices, delivery: ${describeDynamoCalls(bucket.dynamo)}; ` +
      `${(bucket.messages / bucket.notifications).toFixed(0)} SQS message(s) per notification; ${(bucket.logBytes / bucket.notifications / bucket.devices).toFixed(0)} B logged per push.`,
    `Lambda GB-s: billed ms = measured wall + CPU × (${MB_PER_VCPU} MB / memory − 1), since a function gets memory/${MB_PER_VCPU} of a vCPU ` +
      `(ingest ${INGEST_MEMORY_MB} MB, delivery ${DELIVERY_MEMORY_MB} MB). ${cases.map((c) => c.computeNote).join('; ')}.`,
  ];
}
