import type { Command } from 'commander';
import { isHeraldError } from '../../lambdas/core/errors';
import { renderWebhook } from '../../lambdas/core/render';
import { CliError } from './output';

interface RenderOptions {
  readonly parser?: string;
  readonly header: string[];
  readonly query: string[];
  readonly secret?: string;
  readonly at?: string;
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function registerRenderCommand(program: Command): void {
  program
    .command('render')
    .description('print the notifications and the exact APNs and FCM payloads Herald would send for a webhook body read from stdin')
    .option('--parser <name>', 'source parser (default: detected from headers and body)')
    .option('--header <header>', "a request header, 'Name: value' (repeatable)", collect, [])
    .option('--query <param>', "a query parameter, 'name=value' (repeatable)", collect, [])
    .option('--secret <secret>', "the source's signing key or secret header value, to verify the request")
    .option('--at <unixSeconds>', 'verify a timestamped signature as of this time (to replay a recorded delivery)')
    .action(async (options: RenderOptions) => {
      const headers: Record<string, string> = {};
      for (const header of options.header) {
        const colon = header.indexOf(':');
        if (colon < 1) throw new CliError(`--header must be 'Name: value' (given "${header}")`);
        headers[header.slice(0, colon).trim().toLowerCase()] = header.slice(colon + 1).trim();
      }
      const query = Object.fromEntries(options.query.map((param) => [param.split('=')[0]!, param.slice(param.indexOf('=') + 1)]));
      let now: Date | undefined;
      if (options.at !== undefined) {
        if (!/^\d+$/.test(options.at)) throw new CliError(`--at must be unix seconds (given "${options.at}")`);
        now = new Date(Number(options.at) * 1000);
      }
      try {
        const rendered = renderWebhook({ parser: options.parser, request: { body: await readStdin(), headers, query }, secret: options.secret, now });
        process.stdout.write(`${JSON.stringify(rendered, null, 2)}\n`);
      } catch (error) {
        if (!isHeraldError(error)) throw error;
        process.stdout.write(`${JSON.stringify(error.toJSON(), null, 2)}\n`);
        process.exitCode = 1;
      }
    });
}
