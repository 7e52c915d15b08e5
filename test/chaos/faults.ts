import { AsyncLocalStorage } from 'node:async_hooks';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { ConfiguredRetryStrategy } from '@smithy/core/retry';

/**
 * Fault injection at the AWS SDK boundary: a middleware on a real client's stack fails a seeded
 * fraction of its calls the three ways AWS calls fail.
 * - `throttled`: refused before sending (`ThrottlingException` & co., HTTP 400): nothing happened;
 * - `server`: refused before sending with a 5xx (`InternalServerError`, `ServiceUnavailable`): in
 *   this harness nothing happened either, but a caller cannot know that;
 * - `lost_reply`: the request went out and completed on the server, then the answer was lost (a
 *   `TimeoutError` with no HTTP status): it happened, and the caller cannot know.
 */
export type FaultKind = 'throttled' | 'server' | 'lost_reply';
export const FAULT_KINDS: readonly FaultKind[] = ['throttled', 'server', 'lost_reply'];

/** Error names per service, as the SDKs name them. */
const THROTTLE_NAMES: Record<string, readonly string[]> = {
  dynamodb: ['ThrottlingException', 'ProvisionedThroughputExceededException'],
  sqs: ['ThrottlingException', 'RequestThrottled'],
  sns: ['ThrottledException', 'ThrottlingException'],
};
const SERVER_NAMES: Record<string, readonly string[]> = {
  dynamodb: ['InternalServerError', 'ServiceUnavailable'],
  sqs: ['InternalFailure', 'ServiceUnavailable'],
  sns: ['InternalErrorException', 'ServiceUnavailable'],
};

/** FNV-1a over the text: a uniform number in [0, 1), the same for the same text in every run. */
export function unitHash(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  // One more avalanche round (murmur3's finalizer): FNV alone clusters on near-identical texts.
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return (hash >>> 0) / 2 ** 32;
}

/**
 * Which request a call belongs to, where the caller knows (a sender's request number and try):
 * calls that carry no identity of their own (the token's GetItem) then still fail the same way in
 * every run, however concurrent requests interleave.
 */
export const callScope = new AsyncLocalStorage<string>();

export interface InjectedFault {
  readonly service: string;
  readonly command: string;
  readonly kind: FaultKind;
  readonly errorName: string;
  /** The call's identity (see `FaultPlan.identify`). */
  readonly identity: string;
}

export function faultError(kind: FaultKind, name: string): Error {
  if (kind === 'lost_reply') {
    // What the SDK's HTTP handler throws when the socket times out: no HTTP status at all.
    return Object.assign(new Error('Connection timed out after the request was sent (injected)'), { name, $metadata: {} });
  }
  const status = kind === 'throttled' ? 400 : name === 'ServiceUnavailable' ? 503 : 500;
  return Object.assign(new Error(`${name} (injected)`), {
    name,
    $fault: kind === 'throttled' ? 'client' : 'server',
    $metadata: { httpStatusCode: status, attempts: 1, totalRetryDelay: 0 },
  });
}

/**
 * Decides, per call, whether and how it fails: a pure function of the seed, the call's identity
 * and how many times that identity was seen before, so the same calls fail in every run.
 */
export class FaultPlan {
  readonly injected: InjectedFault[] = [];
  private readonly seen = new Map<string, number>();
  private enabled = true;

  constructor(
    readonly seed: number,
    /** Fraction of calls that fail, split evenly between the three kinds. */
    readonly rate: number,
  ) {}

  /** Stops injecting, for the final accounting. */
  disable(): void {
    this.enabled = false;
  }

  decide(service: string, command: string, identity: string): InjectedFault | undefined {
    if (!this.enabled) return undefined;
    const scoped = `${callScope.getStore() ?? ''}|${service}|${command}|${identity}`;
    const occurrence = this.seen.get(scoped) ?? 0;
    this.seen.set(scoped, occurrence + 1);
    const roll = unitHash(`${this.seed}|${scoped}|${occurrence}`);
    if (roll >= this.rate) return undefined;
    const kind = FAULT_KINDS[Math.min(2, Math.floor((roll / this.rate) * 3))]!;
    const names = kind === 'lost_reply' ? ['TimeoutError'] : (kind === 'throttled' ? THROTTLE_NAMES : SERVER_NAMES)[service.split('-')[0]!]!;
    const errorName = names[Math.floor(unitHash(`${scoped}|${occurrence}|name`) * names.length)]!;
    const fault = { service, command, kind, errorName, identity: `${callScope.getStore() ?? ''}${identity}` };
    this.injected.push(fault);
    return fault;
  }
}

type Identify = (command: string, input: Record<string, unknown>) => string;

/**
 * The SDK's standard retries (3 tries, the same error classification and retry quota as the
 * default), with a tenth of the default waits so that a run fits in minutes.
 */
export function fastRetries(maxAttempts: number): ConfiguredRetryStrategy {
  return new ConfiguredRetryStrategy(maxAttempts, (attempt) => Math.round(10 * 2 ** attempt * Math.random()));
}

/**
 * Adds the fault middleware to a real client, in the deserialize step (priority high): inside the
 * SDK's retry loop, around the HTTP call and the parsing of its answer, so that each try of a call
 * is a call on the wire that may fail, and the SDK's own retries see the faults as they would see
 * AWS's. A `lost_reply` lets the request complete against the stand-in first.
 * `onSent` sees every try that reached the stand-in, with the fault that then hid its answer, or
 * the stand-in's own error.
 */
export function injectFaults(
  client: DynamoDBClient | SQSClient,
  /** `dynamodb`, `sqs`, or either with a suffix that tells callers apart (`sqs-poller`). */
  service: string,
  plan: FaultPlan,
  identify: Identify,
  options: {
    spare?: readonly string[];
    onSent?: (command: string, input: Record<string, unknown>, fault: InjectedFault | undefined, error?: unknown) => void;
    /** Sees how each call ended for its caller, after the SDK's retries. */
    onSettled?: (command: string, input: Record<string, unknown>, error?: unknown) => void;
  } = {},
): void {
  const spare = new Set(options.spare ?? []);
  const { onSettled } = options;
  if (onSettled) {
    (client.middlewareStack as { add: (middleware: unknown, options: Record<string, unknown>) => void }).add(
      (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: { input: Record<string, unknown> }) => {
        const command = (context.commandName ?? 'Unknown').replace(/Command$/, '');
        try {
          const result = await next(args);
          onSettled(command, args.input, undefined);
          return result;
        } catch (error) {
          onSettled(command, args.input, error);
          throw error;
        }
      },
      // Outside the retries, after serialization: the input is already marshalled as on the wire.
      { step: 'build', priority: 'low', name: `chaos-${service}-settled` },
    );
  }
  (client.middlewareStack as { add: (middleware: unknown, options: Record<string, unknown>) => void }).add(
    (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: { input: Record<string, unknown> }) => {
      const command = (context.commandName ?? 'Unknown').replace(/Command$/, '');
      const fault = spare.has(command) ? undefined : plan.decide(service, command, identify(command, args.input));
      if (fault && fault.kind !== 'lost_reply') throw faultError(fault.kind, fault.errorName);
      let result: unknown;
      try {
        result = await next(args);
      } catch (error) {
        options.onSent?.(command, args.input, undefined, error);
        throw error;
      }
      options.onSent?.(command, args.input, fault);
      if (fault) throw faultError(fault.kind, fault.errorName);
      return result;
    },
    { step: 'deserialize', priority: 'high', name: `chaos-${service}-faults` },
  );
}
