import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as path from 'node:path';

export const PROJECT_ROOT = path.join(__dirname, '..', '..');

export interface RunningHerald {
  readonly child: ChildProcessWithoutNullStreams;
  /** Everything printed so far. */
  output(): string;
  /** Resolves with npm's exit code (null when a signal ended it) once every process closed its output. */
  readonly exited: Promise<number | null>;
  /** Ctrl-C: SIGINT to the whole process group (npm, the shell and node). */
  interrupt(): void;
}

/** Runs `npm start` (the README's command) with extra arguments and environment. */
export function npmStart(args: string[], env: Record<string, string> = {}): RunningHerald {
  const child = spawn('npm', ['start', '--silent', '--', ...args], {
    cwd: PROJECT_ROOT,
    // The demo credentials are the child's own unless a test sets them.
    env: { ...withoutDemoCredentials(process.env), ...env },
    // Its own process group, so `interrupt()` reaches every process as Ctrl-C in a terminal does.
    detached: true,
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    child,
    output: () => output,
    exited,
    interrupt: () => {
      try {
        process.kill(-child.pid!, 'SIGINT');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error; // already gone
      }
    },
  };
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The line printed after `label:` in Herald's start-up banner. */
export function bannerValue(output: string, label: string): string | undefined {
  const line = output.split('\n').find((candidate) => candidate.trimStart().startsWith(`${label}:`));
  return line?.slice(line.indexOf(':') + 1).trim();
}

function withoutDemoCredentials(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { HERALD_DEMO_TOKEN: _token, HERALD_DEMO_MAGIC_CODE: _code, ...rest } = env;
  return rest;
}
