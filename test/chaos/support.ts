import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { ReceiveMessageCommand, DeleteMessageBatchCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';

/** An API Gateway HTTP API (payload 2.0) event, as API Gateway builds one. */
export function httpEvent(
  method: string,
  rawPath: string,
  options: { query?: Record<string, string>; headers?: Record<string, string>; body?: Buffer | string; sourceIp?: string } = {},
): APIGatewayProxyEventV2 {
  const body = options.body === undefined ? undefined : Buffer.from(options.body);
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString: new URLSearchParams(options.query ?? {}).toString(),
    headers: { ...options.headers },
    queryStringParameters: options.query,
    requestContext: {
      accountId: '123456789012', apiId: 'api', domainName: 'api.example.com', domainPrefix: 'api',
      http: { method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: options.sourceIp ?? '203.0.113.9', userAgent: 'chaos' },
      requestId: 'req', routeKey: '$default', stage: '$default', time: '', timeEpoch: Date.now(),
    },
    body: body?.toString('base64'),
    isBase64Encoded: body !== undefined,
  };
}

/** Runs `work` over 0…count-1 with at most `limit` in flight. */
export async function forEachConcurrently(count: number, limit: number, work: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await work(next++);
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
}

/** Receives (and deletes) every message of a queue. */
export async function takeAll(sqs: SQSClient, queueUrl: string): Promise<Message[]> {
  const taken: Message[] = [];
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 300, MessageSystemAttributeNames: ['All'] }),
    );
    if (Messages.length === 0) return taken;
    taken.push(...Messages);
    await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));
  }
}

/** A table for the report: one `name  value` line per row, aligned. */
export function table(title: string, rows: readonly (readonly [string, string | number])[]): string {
  const width = Math.max(...rows.map(([name]) => name.length));
  return [`\n${title}`, ...rows.map(([name, value]) => `  ${name.padEnd(width)}  ${typeof value === 'number' ? value.toLocaleString('en-US') : value}`)].join('\n');
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
