import * as path from 'node:path';
import type { Command } from 'commander';
import { CliError } from './output';

interface LocalOptions {
  readonly port?: string;
  readonly host: string;
  readonly data: string;
  readonly memory?: boolean;
}

export function registerLocalCommand(program: Command): void {
  program
    .command('local')
    .description('run Herald on this machine: real handlers, local DynamoDB and SQS stand-ins, a device inbox page')
    .option('--port <port>', 'HTTP port (default: PORT or 8787)')
    .option('--host <host>', 'address to bind; anything but loopback exposes Herald to your network', '127.0.0.1')
    .option('--data <dir>', 'where buckets, devices and the inbox persist', '.herald')
    .option('--memory', 'keep nothing on disk')
    .action(async (options: LocalOptions) => {
      const port = Number(options.port ?? process.env.PORT ?? 8787);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliError(`--port must be a port number (given "${options.port ?? process.env.PORT}")`);
      const started = Date.now();
      // Loaded here so other commands do not pay for the stand-ins.
      const { startLocalHerald, PortInUseError, describeAdminApi } = await import('../../lambdas/local/server');
      let herald: Awaited<ReturnType<typeof startLocalHerald>>;
      try {
        herald = await startLocalHerald({
          port,
          host: options.host,
          dataDir: options.memory ? undefined : path.resolve(options.data),
          demoToken: process.env.HERALD_DEMO_TOKEN || undefined,
          demoMagicCode: process.env.HERALD_DEMO_MAGIC_CODE || undefined,
        });
      } catch (error) {
        if (error instanceof PortInUseError || (error instanceof Error && /demo (token|magic code)/.test(error.message))) {
          throw new CliError(error.message);
        }
        throw error;
      }
      const { url, demo } = herald;
      const curl = `curl -X POST '${url}/message' -H 'Authorization: Bearer ${demo.token}' -H 'Content-Type: application/json' -d '{"title":"Hello from Herald","body":"It works on my laptop"}'`;
      const lines = [
        `Herald is running locally at ${url} (ready in ${Date.now() - started} ms)`,
        '',
        `  Device inbox:   ${url}/local/inbox`,
        `  Bucket:         ${demo.bucket.name} (${demo.bucket.id}), with a simulated iPhone and Android phone`,
        `  Token:          ${demo.token}`,
        `  Magic code:     ${demo.magicCode}`,
        '',
        `  Try it:         ${curl}`,
        `  authentik URL:  ${url}/transform?parser=ZENTIK_AUTHENTIK&magicCode=${demo.magicCode}`,
        `  Admin API:      ${describeAdminApi(url)}; try: npx herald bucket list --local ${url}`,
        '',
        options.memory ? '  Data: in memory only.' : `  Data: ${path.resolve(options.data)}`,
        '  Ctrl-C stops accepting requests, delivers what is queued, then exits.',
      ];
      if (options.host !== '127.0.0.1' && options.host !== 'localhost' && options.host !== '::1') {
        lines.push('', `  Warning: bound to ${options.host}; anyone who can reach it can use the demo credentials.`);
      }
      process.stdout.write(`${lines.join('\n')}\n`);
      await new Promise<void>((resolve) => {
        const shutdown = () => {
          process.stdout.write('\nHerald: stopping, draining the queue…\n');
          herald.stop().then(() => {
            process.stdout.write('Herald: stopped.\n');
            resolve();
          }, (error: unknown) => {
            process.stderr.write(`herald: ${(error as Error).message}\n`);
            process.exitCode = 1;
            resolve();
          });
        };
        process.once('SIGINT', shutdown);
        process.once('SIGTERM', shutdown);
      });
    });
}
