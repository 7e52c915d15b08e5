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
      const input = args.input as { ReturnConsumedCapacity?: string; ConsistentRead?: boolean };
      input.ReturnConsumedCapacity = 'TOTAL';
      const result = await next(args);
      const output = result.output as { ConsumedCapacity?: { CapacityUnits?: number } };
      counts.add(context.commandName ?? 'unknown', output.ConsumedCapacity?.CapacityUnits ?? 0, input.ConsistentRead === true);
      return result;
    },
    { step: 'initialize', name: 'benchCountCapacity', priority: 'low' },
  );
  return { client, counts };
}

const READS = new Set(['GetItemCommand', 'QueryCommand', 'BatchGetItemCommand', 'ScanCommand']);

/** Calls and capacity units per command, since the last `reset()`. */
export class DynamoCounts {
  calls: Record<string, number> = {};
  /** Read units priced as the floor prices them: one per started 4 KB, strongly consistent or not. */
  readUnits = 0;
  /** One per started 1 KB written, as reported by the stand-in (conditional failures included). */
  writeUnits = 0;
  readCalls = 0;
  writeCalls = 0;

  add(command: string, capacityUnits: number, consistentRead: boolean): void {
    this.calls[command] = (this.calls[command] ?? 0) + 1;
    if (READS.has(command)) {
      this.readCalls += 1;
      // An eventually consistent read is billed half a unit per 4 KB; the floor counts whole units.
      this.readUnits += Math.max(1, consistentRead ? capacityUnits : capacityUnits * 2);
    } else {
      this.writeCalls += 1;
      this.writeUnits += Math.max(1, capacityUnits);
    }
  }

  reset(): void {
    this.calls = {};
    this.readUnits = this.writeUnits = this.readCalls = this.writeCalls = 0;
  }
}
