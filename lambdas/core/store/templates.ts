import { DeleteCommand, GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { HeraldError } from '../errors';
import { compileTemplate, type TemplateExpressions } from '../templates/render';
import { BUCKET_NAME } from './buckets';
import { isConditionalCheckFailed, type Store } from './table';

/** A bucket's named template: JSONata expressions per notification field (see templates/render.ts). */
export interface Template {
  readonly name: string;
  readonly description?: string;
  readonly fields: TemplateExpressions;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface TemplateInput {
  readonly description?: string;
  readonly fields: Readonly<Record<string, unknown>>;
}

/** Templates live in their bucket's partition, so deleting a bucket deletes them with it. */
const templateKey = (bucketId: string, name: string) => ({ pk: `BUCKET#${bucketId}`, sk: `TEMPLATE#${name}` });

/** Template names follow bucket names: `?template=` and CLI arguments take them as they are. */
export function validateTemplateName(name: string | undefined): string {
  const normalized = (name ?? '').trim().toLowerCase();
  if (!BUCKET_NAME.test(normalized)) {
    throw new HeraldError(
      'validation_failed',
      `template: must be 1–64 characters of a-z, 0-9, "_" and "-", starting with a letter or digit (given "${(name ?? '').slice(0, 80)}")`,
    );
  }
  return normalized;
}

/**
 * Creates or replaces a template. Its expressions are parsed first, so a syntax error is a 400
 * `invalid_template` when it is set, never a surprise when a webhook arrives.
 */
export async function putTemplate(store: Store, bucketId: string, name: string, input: TemplateInput, now = new Date()): Promise<Template> {
  const templateName = validateTemplateName(name);
  compileTemplate(input.fields);
  const { Attributes } = await store.doc.send(
    new UpdateCommand({
      TableName: store.tableName,
      Key: templateKey(bucketId, templateName),
      // Every attribute by placeholder: several of these names are DynamoDB reserved words.
      UpdateExpression:
        'SET #kind = :kind, #name = :name, #fields = :fields, #createdAt = if_not_exists(#createdAt, :now), #updatedAt = :now' +
        (input.description ? ', #description = :description' : ' REMOVE #description'),
      ExpressionAttributeNames: { '#kind': 'kind', '#name': 'name', '#fields': 'fields', '#createdAt': 'createdAt', '#updatedAt': 'updatedAt', '#description': 'description' },
      ExpressionAttributeValues: { ':kind': 'template', ':name': templateName, ':fields': input.fields, ':now': now.toISOString(), ...(input.description ? { ':description': input.description } : {}) },
      ReturnValues: 'ALL_NEW',
    }),
  );
  return toTemplate(Attributes!);
}

export async function getTemplate(store: Store, bucketId: string, name: string): Promise<Template | undefined> {
  const { Item } = await store.doc.send(new GetCommand({ TableName: store.tableName, Key: templateKey(bucketId, validateTemplateName(name)) }));
  return Item ? toTemplate(Item) : undefined;
}

/** The bucket's template by name, or a 404 `template_not_found` naming it. */
export async function requireTemplate(store: Store, bucketId: string, name: string | undefined): Promise<Template> {
  const template = await getTemplate(store, bucketId, validateTemplateName(name));
  if (!template) throw new HeraldError('template_not_found', `this bucket has no template "${validateTemplateName(name)}"`);
  return template;
}

/** A bucket's templates in name order (one Query on its partition's TEMPLATE# items). */
export async function listTemplates(store: Store, bucketId: string): Promise<Template[]> {
  const templates: Template[] = [];
  let cursor: Record<string, unknown> | undefined;
  do {
    const page = await store.doc.send(
      new QueryCommand({
        TableName: store.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': `BUCKET#${bucketId}`, ':prefix': 'TEMPLATE#' },
        ExclusiveStartKey: cursor,
      }),
    );
    templates.push(...(page.Items ?? []).map(toTemplate));
    cursor = page.LastEvaluatedKey;
  } while (cursor);
  return templates;
}

export async function deleteTemplate(store: Store, bucketId: string, name: string): Promise<void> {
  const templateName = validateTemplateName(name);
  try {
    await store.doc.send(new DeleteCommand({ TableName: store.tableName, Key: templateKey(bucketId, templateName), ConditionExpression: 'attribute_exists(pk)' }));
  } catch (error) {
    if (isConditionalCheckFailed(error)) throw new HeraldError('template_not_found', `this bucket has no template "${templateName}"`);
    throw error;
  }
}

function toTemplate(item: Record<string, unknown>): Template {
  return {
    name: item.name as string,
    ...(item.description ? { description: item.description as string } : {}),
    fields: item.fields as TemplateExpressions,
    createdAt: item.createdAt as string,
    updatedAt: item.updatedAt as string,
  };
}
