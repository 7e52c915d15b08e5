import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { startLocalHerald } from '../../lambdas/local/server';
import { ensureQueues, startStandIns, useStandIns } from '../../lambdas/local/stand-ins';
import { median, type BenchRow } from './report';

const ROOT = path.join(__dirname, '..', '..');

/** Wall time from spawning `command` until it prints `marker`, then it is stopped. */
function timeToOutput(command: string, args: string[], marker: RegExp, env: NodeJS.ProcessEnv = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...env } });
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (marker.test(output)) {
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        child.kill('SIGINT');
        child.once('close', () => resolve(ms));
        child.stdout.off('data', onData);
      }
    };
    child.stdout.on('data', onData);
    child.once('exit', (code) => {
      if (!marker.test(output)) reject(new Error(`${command} exited ${code} before ready:\n${output}`));
    });
  });
}

/** `npm start` to ready (the banner), against a bare Node HTTP server's start. */
export async function benchStartup(runs = 5): Promise<BenchRow> {
  const herald: number[] = [];
  const floor: number[] = [];
  for (let i = 0; i < runs; i += 1) {
    floor.push(await timeToOutput(process.execPath, ['-e', "require('node:http').createServer().listen(0, '127.0.0.1', () => console.log('ready'))"], /ready/));
    herald.push(await timeToOutput(process.execPath, ['bin/herald.mjs', 'local', '--memory'], /running locally at/, { PORT: '0' }));
  }
  const value = median(herald);
  return { name: 'local: npm start to ready', value, unit: 'ms', floor: median(floor), floorName: 'bare Node HTTP server start', goal: 'ready < 1,500 ms', met: value < 1500 };
}

async function post(url: string, init: RequestInit): Promise<void> {
  const response = await fetch(url, init);
  if (response.status >= 300) throw new Error(`${url}: ${response.status} ${await response.text()}`);
  await response.arrayBuffer();
}

async function pool(total: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < total) await task(next++);
  }));
}

/**
 * Notifications per second through the whole local pipeline (HTTP → ingest → fauxqs → delivery →
 * both demo devices), against the floor of the same stand-ins doing only the transport: an HTTP
 * server that sends each body to SQS, and a consumer that receives and deletes.
 */
export async function benchLocalThroughput(total = 2000, concurrency = 32): Promise<BenchRow> {
  const herald = await startLocalHerald({ port: 0 });
  const headers = { authorization: `Bearer ${herald.demo.token}`, 'content-type': 'application/json' };
  // Warm up the handlers and the stand-ins.
  await pool(50, 8, (i) => post(`${herald.url}/message`, { method: 'POST', headers, body: JSON.stringify({ title: `warm-up ${i}` }) }));
  await waitUntil(() => herald.push.publishCount >= 100);
  const before = herald.push.publishCount;
  const started = process.hrtime.bigint();
  await pool(total, concurrency, (i) => post(`${herald.url}/message`, { method: 'POST', headers, body: JSON.stringify({ title: `bench ${i}`, body: 'throughput' }) }));
  await waitUntil(() => herald.push.publishCount - before >= total * 2);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await herald.stop();
  const value = total / seconds;
  const floor = await transportFloor(total, concurrency);
  return { name: `local: end-to-end notifications/s (${total}, 2 devices each)`, value, unit: '/s', floor, floorName: 'HTTP → SQS → receive/delete on the same stand-ins', goal: '≥ 1,000/s', met: value >= 1000, higherIsBetter: true };
}

async function transportFloor(total: number, concurrency: number): Promise<number> {
  const standIns = await startStandIns();
  useStandIns(standIns);
  const sqs = new SQSClient({});
  const { queueUrl } = await ensureQueues(sqs, 'bench-floor', { visibilityTimeoutSeconds: 30, maxReceiveCount: 5 });
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      void sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: Buffer.concat(chunks).toString() })).then(() => response.writeHead(201).end('{}'));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  let received = 0;
  let consuming = true;
  const consumers = Array.from({ length: 2 }, async () => {
    while (consuming) {
      const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
      if (Messages.length === 0) continue;
      await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));
      received += Messages.length;
    }
  });
  const started = process.hrtime.bigint();
  await pool(total, concurrency, (i) => post(url, { method: 'POST', body: JSON.stringify({ title: `floor ${i}` }) }));
  await waitUntil(() => received >= total);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  consuming = false;
  await Promise.all(consumers);
  server.close();
  await standIns.stop();
  return total / seconds;
}

async function waitUntil(done: () => boolean, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error('benchmark timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
