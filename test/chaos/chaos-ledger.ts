import type { DeliveryJob } from '../../lambdas/core/queue';
import { FAULT_KINDS, type FaultPlan } from './faults';

/**
 * What the chaos run observes, at the SDK boundary only, per (notification, device) pair
 * (`notificationId|deviceId`). Each delivery process keeps one and hands a snapshot back.
 */
export class Ledger {
  /** Notification id → the sender's request number (read from the queued bodies). */
  readonly indexOfId = new Map<string, number>();
  /** Publishes that reached SNS. */
  readonly publishes = new Map<string, number>();
  /**
   * Publishes that reached SNS but whose success Herald never recorded: SNS's reply was lost, or
   * the outcome write after it failed. Only these may be repeated.
   */
  readonly unknownPublishes = new Map<string, number>();
  /** Claims taken over as stale on the server (the `unknown` case of `claimDelivery`). */
  readonly takeovers = new Map<string, number>();
  /** Why an attempt's outcome was unknown there. */
  readonly causes = new Map<string, Set<string>>();
  /** What happened to each pair and when (ms since the run's epoch), for the report. */
  readonly timeline = new Map<string, string[]>();

  constructor(private readonly epoch: number) {}

  static pair(notificationId: string, deviceId: string): string {
    return `${notificationId}|${deviceId}`;
  }

  bump(map: Map<string, number>, key: string): void {
    map.set(key, (map.get(key) ?? 0) + 1);
  }

  cause(pair: string, why: string): void {
    const causes = this.causes.get(pair) ?? new Set<string>();
    causes.add(why);
    this.causes.set(pair, causes);
  }

  event(pair: string, what: string): void {
    const events = this.timeline.get(pair) ?? [];
    events.push(`${Date.now() - this.epoch} ${what}`);
    this.timeline.set(pair, events);
  }

  /** Learns the request number of each notification from a queued job's title (`chaos #<n>`). */
  learn(job: DeliveryJob): number {
    const index = titleIndex(job.notification.title);
    this.indexOfId.set(job.notification.id, index);
    return index;
  }

  snapshot(): LedgerSnapshot {
    const repeated = [...this.publishes].filter(([, count]) => count > 1).map(([pair]) => pair);
    return {
      publishes: [...this.publishes],
      unknownPublishes: [...this.unknownPublishes],
      takeovers: [...this.takeovers],
      causes: [...this.causes].map(([pair, causes]) => [pair, [...causes]]),
      // Only the pairs published more than once: the report explains those.
      timeline: repeated.map((pair) => [pair, this.timeline.get(pair) ?? []]),
    };
  }

  /** Adds another process's observations to this ledger. */
  merge(snapshot: LedgerSnapshot): void {
    for (const [pair, n] of snapshot.publishes) this.publishes.set(pair, (this.publishes.get(pair) ?? 0) + n);
    for (const [pair, n] of snapshot.unknownPublishes) this.unknownPublishes.set(pair, (this.unknownPublishes.get(pair) ?? 0) + n);
    for (const [pair, n] of snapshot.takeovers) this.takeovers.set(pair, (this.takeovers.get(pair) ?? 0) + n);
    for (const [pair, causes] of snapshot.causes) for (const why of causes) this.cause(pair, why);
    for (const [pair, events] of snapshot.timeline) this.timeline.set(pair, [...(this.timeline.get(pair) ?? []), ...events].sort((a, b) => parseInt(a, 10) - parseInt(b, 10)));
  }
}

export interface LedgerSnapshot {
  readonly publishes: [string, number][];
  readonly unknownPublishes: [string, number][];
  readonly takeovers: [string, number][];
  readonly causes: [string, string[]][];
  readonly timeline: [string, string[]][];
}

/** Injected faults counted per service and kind (`dynamodb throttled` → n). */
export function faultCounts(plan: FaultPlan): [string, number][] {
  const counts = new Map<string, number>();
  for (const fault of plan.injected) {
    const key = `${fault.service} ${fault.kind}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts];
}

export function addCounts(into: Map<string, number>, counts: readonly [string, number][]): void {
  for (const [key, n] of counts) into.set(key, (into.get(key) ?? 0) + n);
}

export function describeFaults(counts: ReadonlyMap<string, number>, service: string): string {
  const total = FAULT_KINDS.reduce((sum, kind) => sum + (counts.get(`${service} ${kind}`) ?? 0), 0);
  return `${total.toLocaleString('en-US')} (${FAULT_KINDS.map((kind) => `${kind} ${(counts.get(`${service} ${kind}`) ?? 0).toLocaleString('en-US')}`).join(', ')})`;
}

/** An attribute value as a string, marshalled (`{S: …}`) or not. */
export function attr(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  const typed = value as { S?: string; N?: string };
  return typed.S ?? typed.N ?? JSON.stringify(value);
}

export function titleIndex(title: string): number {
  return Number(/^chaos #(\d+)$/.exec(title)?.[1] ?? -1);
}

/** Stable names for the ids a run draws at random, so the same calls fail in every run. */
export function stableNames(ledger: Ledger, bucketId: string): (text: string) => string {
  return (text) =>
    text
      .replaceAll(bucketId, 'B')
      .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, (id) => {
        const index = ledger.indexOfId.get(id);
        return index === undefined ? id : `n${index}`;
      });
}

/** A DynamoDB call's identity for the fault plan: its key, and what it writes. */
export function dynamoIdentity(stable: (text: string) => string): (command: string, input: Record<string, unknown>) => string {
  return (command, input) => {
    const key = (input.Key ?? input.Item) as Record<string, unknown> | undefined;
    const values = input.ExpressionAttributeValues as Record<string, unknown> | undefined;
    if (command === 'Query') return stable(`${attr(values?.[':pk'])} ${attr(input.ExclusiveStartKey)}`);
    const item = input.Item as Record<string, unknown> | undefined;
    const what = command === 'PutItem' ? attr(item?.status) || attr(item?.kind) : command === 'UpdateItem' ? String(input.UpdateExpression).slice(0, 24) : '';
    return stable(`${attr(key?.pk)}/${attr(key?.sk)} ${what}`);
  };
}

/** Which (notification, device) a DynamoDB outcome item is, if it is one. */
export function outcomePair(input: Record<string, unknown>): string | undefined {
  const key = (input.Key ?? input.Item) as Record<string, unknown> | undefined;
  const pk = attr(key?.pk);
  const sk = attr(key?.sk);
  if (!pk.startsWith('NOTIF#') || !sk.startsWith('DEVICE#')) return undefined;
  return Ledger.pair(pk.slice('NOTIF#'.length), sk.slice('DEVICE#'.length));
}
