/** An error the user can act on: printed as one line, exit code 1. */
export class CliError extends Error {}

export interface OutputOptions {
  readonly json?: boolean;
}

/** Prints `data` as JSON for scripts, or as aligned `label: value` lines for people. */
export function print(options: OutputOptions, data: Record<string, unknown>, lines: [string, string | undefined][]): void {
  if (options.json) {
    process.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
    return;
  }
  const shown = lines.filter((line): line is [string, string] => line[1] !== undefined);
  const width = Math.max(...shown.map(([label]) => label.length));
  for (const [label, value] of shown) process.stdout.write(`${`${label}:`.padEnd(width + 2)}${value}\n`);
}
