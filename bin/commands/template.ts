import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { z } from 'zod';
import type { putTemplateRequest, templateSchema, testTemplateResponse } from '../../lambdas/core/admin/contract';
import { TEMPLATE_FIELDS } from '../../lambdas/core/templates/render';
import { adminPath, connect, targetOptions, type TargetOptions } from './client';
import { CliError, print, printTable, shorten, type OutputOptions } from './output';

type TemplateView = z.infer<typeof templateSchema>;
type TemplateBody = z.infer<typeof putTemplateRequest>;

interface SetOptions extends TargetOptions, OutputOptions {
  readonly file?: string;
  readonly description?: string;
  /** One JSONata expression per field flag (`--title`, `--tap-url`, …), camel-cased by commander. */
  readonly [field: string]: unknown;
}

interface TestOptions extends TargetOptions, OutputOptions {
  readonly payload?: string;
}

/** `tapUrl` → `--tap-url`: commander maps the flag back to `tapUrl`. */
const flagOf = (field: string) => `--${field.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`;

/** A JSON file named on the command line, or stdin for `-`; its errors name the file. */
function readJsonFile(file: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read ${what} ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new CliError(`${what} ${file} is not valid JSON: ${(error as Error).message}`);
  }
}

/** The template to set: `--file` (the admin API's body, `{description?, fields}`), then per-field flags on top. */
export function templateBody(options: SetOptions): TemplateBody {
  const fromFile = options.file === undefined ? {} : readJsonFile(options.file, 'template file');
  if (typeof fromFile !== 'object' || fromFile === null || Array.isArray(fromFile)) throw new CliError(`template file ${options.file} must hold a JSON object: {"description"?, "fields": {"title": "…", …}}`);
  const file = fromFile as { description?: unknown; fields?: unknown };
  const fields: Record<string, unknown> = { ...(typeof file.fields === 'object' && file.fields !== null ? file.fields : {}) };
  for (const field of TEMPLATE_FIELDS) {
    if (typeof options[field] === 'string') fields[field] = options[field];
  }
  if (Object.keys(fields).length === 0) throw new CliError('give the template with --file <template.json> or --title <expression> (and other field flags)');
  const description = options.description ?? file.description;
  return { ...(description === undefined ? {} : { description }), fields } as TemplateBody;
}

export function registerTemplateCommands(program: Command): void {
  const template = program
    .command('template')
    .description("manage a bucket's templates: JSONata expressions that turn any webhook's JSON into a notification (docs/templates.md)");

  let set = template
    .command('set')
    .description('create or replace a template; its JSONata is checked now')
    .argument('<bucket>', 'bucket id or name')
    .argument('<name>', 'template name (a-z, 0-9, "_", "-"), used as ?template=<name> or ?parser=template:<name>')
    .option('--file <file>', 'the template as JSON: {"description"?, "fields": {"title": "<JSONata>", …}} ("-" for stdin)')
    .option('--description <text>', 'what the template is for');
  for (const field of TEMPLATE_FIELDS) set = set.option(`${flagOf(field)} <expression>`, `JSONata expression for ${field} (overrides the file's)`);
  targetOptions(set).action(async (bucket: string, name: string, options: SetOptions) => {
    const { template: saved } = await (await connect(options)).admin<{ template: TemplateView }>('PUT', adminPath('buckets', bucket, 'templates', name), { body: templateBody(options) });
    print(options, { template: saved }, [
      ['Template', saved.name],
      ['Description', saved.description],
      ['Fields', Object.keys(saved.fields).join(', ')],
      ['Use', `POST /template?template=${saved.name} or POST /transform?parser=template:${saved.name}`],
    ]);
  });

  targetOptions(template.command('list').description("list a bucket's templates").argument('<bucket>', 'bucket id or name')).action(
    async (bucket: string, options: TargetOptions & OutputOptions) => {
      const { templates } = await (await connect(options)).admin<{ templates: TemplateView[] }>('GET', adminPath('buckets', bucket, 'templates'));
      printTable(
        options,
        { templates },
        templates,
        [
          ['NAME', (item) => item.name],
          ['FIELDS', (item) => Object.keys(item.fields).join(',')],
          ['UPDATED', (item) => item.updatedAt],
          ['DESCRIPTION', (item) => shorten(item.description)],
        ],
        `Bucket ${bucket} has no templates.`,
      );
    },
  );

  targetOptions(template.command('get').description("print a template's expressions").argument('<bucket>', 'bucket id or name').argument('<name>', 'template name')).action(
    async (bucket: string, name: string, options: TargetOptions & OutputOptions) => {
      const { template: found } = await (await connect(options)).admin<{ template: TemplateView }>('GET', adminPath('buckets', bucket, 'templates', name));
      print(options, { template: found }, [
        ['Template', found.name],
        ['Description', found.description],
        ...TEMPLATE_FIELDS.map((field): [string, string | undefined] => [field, found.fields[field]]),
        ['Updated', found.updatedAt],
      ]);
    },
  );

  targetOptions(template.command('delete').description('delete a template').argument('<bucket>', 'bucket id or name').argument('<name>', 'template name')).action(
    async (bucket: string, name: string, options: TargetOptions & OutputOptions) => {
      await (await connect(options)).admin('DELETE', adminPath('buckets', bucket, 'templates', name));
      print(options, { bucket, template: name, deleted: true }, [['Deleted template', `${name} of bucket ${bucket}`]]);
    },
  );

  targetOptions(
    template
      .command('test')
      .description('render a sample payload with a template, without sending: prints the notification and the exact APNs and FCM payloads (like "herald render")')
      .argument('<bucket>', 'bucket id or name')
      .argument('<name>', 'template name')
      .option('--payload <file>', 'the sample payload, a JSON file ("-" or absent: stdin)'),
  ).action(async (bucket: string, name: string, options: TestOptions) => {
    const payload = readJsonFile(options.payload ?? '-', 'payload');
    const rendered = await (await connect(options)).admin<z.infer<typeof testTemplateResponse>>('POST', adminPath('buckets', bucket, 'templates', name, 'test'), { body: { payload } });
    // Always JSON, as `herald render` prints: the payloads are the point.
    process.stdout.write(`${JSON.stringify(rendered, null, 2)}\n`);
  });
}
