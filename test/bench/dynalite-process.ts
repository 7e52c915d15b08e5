import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';

const ROOT = path.join(__dirname, '..', '..');

export interface DynaliteProcess {
  readonly endpoint: string;
  stop(): Promise<void>;
}

/**
 * dynalite (the local DynamoDB stand-in) in a child process of its own, so the CPU it spends
 * answering is not counted in the benchmark process's `process.cpuUsage()`, and on a 2-core machine
 * the store and the code under test each get a core.
 */
export async function startDynaliteProcess(): Promise<DynaliteProcess> {
  const script =
    "const server = require('dynalite')({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });" +
    "server.listen(0, '127.0.0.1', () => console.log(server.address().port));";
  const child = spawn(process.execPath, ['-e', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /^(\d+)\s*$/m.exec(output);
      if (match) resolve(Number(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`dynalite exited ${code} before listening: ${output}`)));
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** The environment the SDK clients (and so the handlers, unchanged) read to reach the stand-in. */
export function dynamoEnvironment(endpoint: string): NodeJS.ProcessEnv {
  return {
    AWS_ENDPOINT_URL_DYNAMODB: endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_EC2_METADATA_DISABLED: 'true',
  };
}

/**
 * A DynamoDB client that also asks for, and adds up, the capacity each call consumes, and counts
 * calls by command: how the cost model learns the reads and writes a notification really makes.
 * Used only in counting passes, never while CPU time is measured.
 */
export function countingDynamoClient(endpoint: string): { client: DynamoDBClient; counts: DynamoCounts } {
  const client = new DynamoDBClient({ endpoint });
  const counts = new DynamoCounts();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as DynamoInput;
      input.ReturnConsumedCapacity = 'TOTAL';
      const result = await next(args);
      const output = result.output as { ConsumedCapacity?: { CapacityUnits?: number } };
      counts.add(context.commandName ?? 'unknown', input, output.ConsumedCapacity?.CapacityUnits ?? 0);
      return result;
    },
    { step: 'initialize', name: 'benchCountCapacity', priority: 'low' },
  );
  return { client, counts };
}

/** At this step the DocumentClient has not marshalled yet: values may be plain or `{ S }`. */
type AttributeValue = string | { S?: string };
interface DynamoInput {
  ReturnConsumedCapacity?: string;
  ConsistentRead?: boolean;
  Key?: Record<string, AttributeValue>;
  Item?: Record<string, AttributeValue>;
  ExpressionAttributeValues?: Record<string, AttributeValue>;
}

const text = (value?: AttributeValue) => (typeof value === 'string' ? value : value?.S);

/** `GetItem TOKEN/META`: the call and the kind of item it touches (the key prefixes of table.ts). */
function describeCall(command: string, input: DynamoInput): string {
  const prefix = (value?: string) => value?.split('#')[0] ?? '?';
  const values = input.ExpressionAttributeValues ?? {};
  const pk = text(input.Key?.pk) ?? text(input.Item?.pk) ?? text(values[':pk']);
  const sk =
    text(input.Key?.sk) ??
    text(input.Item?.sk) ??
    Object.entries(values)
      .filter(([name]) => name !== ':pk')
      .map(([, value]) => text(value))
      .find((value) => value?.endsWith('#'));
  return `${command.replace(/(Item)?Command$/, '')} ${prefix(pk)}/${prefix(sk)}`;
}

const READS = new Set(['GetItemCommand', 'QueryCommand', 'BatchGetItemCommand', 'ScanCommand']);

/** Calls and capacity units, by call and item kind, since the last `reset()`. */
export class DynamoCounts {
  /** Per call kind: how many, and the units they consumed. */
  calls: Record<string, { calls: number; units: number }> = {};
  readUnits = 0;
  writeUnits = 0;

  add(command: string, input: DynamoInput, capacityUnits: number): void {
    const isRead = READS.has(command);
    // Reads are priced as the floor prices them, a whole unit per started 4 KB (an
    // eventually consistent read is billed half of that); a write, one unit per started 1 KB.
    const units = Math.max(1, isRead && input.ConsistentRead !== true ? capacityUnits * 2 : capacityUnits);
    const call = (this.calls[describeCall(command, input)] ??= { calls: 0, units: 0 });
    call.calls += 1;
    call.units += units;
    if (isRead) this.readUnits += units;
    else this.writeUnits += units;
  }

  reset(): void {
    this.calls = {};
    this.readUnits = this.writeUnits = 0;
  }
}
