import { STATUS_CODES } from 'node:http';
import { z } from 'zod';
import { version } from '../../package.json';
import {
  bucketSchema,
  clearedNotificationResponse,
  cancelledNotificationResponse,
  scheduledNotificationSchema,
  createdBucketResponse,
  createdCredentialResponse,
  credentialSchema,
  deviceSchema,
  errorSchema,
  historyEntrySchema,
  MANAGEMENT_ROUTES,
  notificationDetailSchema,
  notificationSchema,
  outcomeSchema,
  type RouteSpec,
} from './admin/contract';
import { deviceRegistrationSchema } from './devices';
import { ERROR_STATUS } from './errors';
import { actionSchema, IGNORED_ZENTIK_FIELDS, notificationInputSchema } from './notification';
import { PARSERS } from './parsers/registry';
import { BUCKET_NAME } from './store/buckets';

/**
 * Herald's OpenAPI 3.1 document, generated from the zod schemas the handlers validate with
 * (`admin/contract.ts`, `notificationInputSchema`, `deviceRegistrationSchema`) by zod's own
 * `z.toJSONSchema` (JSON Schema 2020-12, OpenAPI 3.1's dialect). Served at `GET /openapi.json` and
 * committed as `docs/openapi.json`; `test/core/openapi.test.ts` fails when the two drift.
 *
 * The public routes' responses are built in `api.ts` without a schema, so theirs are declared here.
 */

type Json = Record<string, unknown>;
type Io = 'input' | 'output';

const SCHEMA_REF = '#/components/schemas/';
const SIGNED_OR_CREDENTIAL = 'a bucket token (`Authorization: Bearer`, `?token=` or `?access_token=`) or `?magicCode=`';

// ---- schemas of the public routes' answers (api.ts builds them by hand) ---------------------------

const ignoredFields = z.array(z.string()).optional().meta({ description: 'Zentik fields accepted but not (yet) supported.' });

// A schema named in COMPONENTS is nested as is (`.meta` would copy it), so that it stays a `$ref`.
const messageAccepted = z.object({
  message: notificationSchema,
  notificationsCount: z.number().int().min(1),
  messages: z.array(notificationSchema).optional().meta({ description: 'Every notification queued, when a webhook produced more than one.' }),
  duplicates: z.number().int().min(1).optional().meta({ description: "How many of the request's notifications were replays of earlier ones." }),
  ignoredFields,
}).meta({ description: '`message` is the (first) notification queued.' });

const messageDuplicate = z.object({
  message: z.object({ id: z.string() }),
  notificationsCount: z.literal(0),
  duplicate: z.literal(true),
  ignoredFields,
});

const messageRequest = notificationInputSchema.extend({
  bucketId: z.string().optional().meta({ description: 'The bucket (id or name); must be the credential\'s. Zentik also reads it here.' }),
  magicCode: z.string().optional().meta({ description: 'A magic code, as Zentik accepts it in the body.' }),
  scheduledSendAt: z.string().optional().meta({ description: 'Send at this time: ISO 8601 with a zone (`2026-01-31T09:00:00Z`) or unix seconds; at most 30 days ahead. Not with `delay`.' }),
  delay: z.string().optional().meta({ description: 'Send after this long: `30s`, `30m`, `2h`, `1d`, `1h30m` or seconds (or a time, as ntfy accepts); at most 30 days. Not with `scheduledSendAt`.' }),
  ...Object.fromEntries(IGNORED_ZENTIK_FIELDS.map((name) => [name, z.unknown().optional().meta({ description: 'Zentik field, accepted and ignored (named in `ignoredFields`).' })])),
});

const deviceRegistered = z.object({
  device: deviceSchema,
  warning: z.string().optional().meta({ description: 'Set when the device was stored but its platform is not configured in this deployment: it gets no pushes until it is.' }),
});

// ntfy.ts reads these fields by hand (peers.md §3); they are declared here for the document only.
const ntfyPriority = z.union([z.number().int().min(1).max(5), z.enum(['1', '2', '3', '4', '5', 'min', 'low', 'default', 'high', 'max', 'urgent'])]);
const ntfyJsonMessage = z.object({
  topic: z.string().regex(BUCKET_NAME).meta({ description: 'The bucket name.' }),
  message: z.string().optional(),
  title: z.string().optional(),
  priority: ntfyPriority.optional(),
  tags: z.union([z.array(z.string()), z.string()]).optional(),
  click: z.string().optional(),
  actions: z
    .union([z.array(z.looseObject({ action: z.enum(['view', 'http', 'broadcast']), label: z.string(), url: z.string(), method: z.string().optional() })), z.string()])
    .optional(),
  attach: z.string().optional(),
  delay: z.string().optional().meta({ description: 'Send later: a duration (`30m`, `1h30m`) or a time (ISO 8601 or unix seconds), at most 30 days ahead.' }),
});
const ntfyTopicJsonMessage = ntfyJsonMessage.partial({ topic: true });
const ntfyMessage = z.object({
  id: z.string(),
  time: z.number().int(),
  expires: z.number().int(),
  event: z.literal('message'),
  topic: z.string(),
  title: z.string(),
  message: z.string(),
  priority: z.number().int().min(1).max(5),
  tags: z.array(z.string()).optional(),
  click: z.string().optional(),
  scheduledSendAt: z.string().optional().meta({ description: 'When it is sent, for a delayed message.' }),
});
const ntfyDuplicate = z.object({ id: z.string(), event: z.literal('message'), topic: z.string(), duplicate: z.literal(true) });

/** Shared schemas, one component each; every other schema is written inline where it is used. */
const COMPONENTS: readonly (readonly [string, z.ZodType, Io])[] = [
  ['Error', errorSchema, 'output'],
  ['Bucket', bucketSchema, 'output'],
  ['Credential', credentialSchema, 'output'],
  ['CreatedBucket', createdBucketResponse, 'output'],
  ['CreatedCredential', createdCredentialResponse, 'output'],
  ['Device', deviceSchema, 'output'],
  ['DeliveryOutcome', outcomeSchema, 'output'],
  ['HistoryEntry', historyEntrySchema, 'output'],
  ['ClearedNotification', clearedNotificationResponse, 'output'],
  ['CancelledNotification', cancelledNotificationResponse, 'output'],
  ['ScheduledNotification', scheduledNotificationSchema, 'output'],
  ['Notification', notificationSchema, 'output'],
  ['NotificationAction', actionSchema, 'input'],
  ['NotificationDetail', notificationDetailSchema, 'output'],
  ['MessageAccepted', messageAccepted, 'output'],
  ['MessageDuplicate', messageDuplicate, 'output'],
  ['DeviceRegistered', deviceRegistered, 'output'],
  ['NtfyMessage', ntfyMessage, 'output'],
  ['NtfyDuplicate', ntfyDuplicate, 'output'],
  ['MessageRequest', messageRequest, 'input'],
  ['DeviceRegistration', deviceRegistrationSchema, 'input'],
  ['NtfyJsonMessage', ntfyJsonMessage, 'input'],
  ['NtfyTopicJsonMessage', ntfyTopicJsonMessage, 'input'],
];

/**
 * Small normalizations of zod's output, each for the reader of the document:
 * - a timestamp's `format: date-time` says what zod's 400-character RFC 3339 regex says, and an
 *   integer's safe-integer bounds go without saying;
 * - a response object may gain fields (the handlers do not pass responses through these schemas),
 *   so only request objects and `z.strictObject` responses forbid unknown properties.
 */
function normalize(io: Io) {
  return ({ zodSchema, jsonSchema }: { zodSchema: z.core.$ZodTypes; jsonSchema: Json }) => {
    if (jsonSchema.format === 'date-time') delete jsonSchema.pattern;
    if (jsonSchema.maximum === Number.MAX_SAFE_INTEGER) delete jsonSchema.maximum;
    if (jsonSchema.minimum === Number.MIN_SAFE_INTEGER) delete jsonSchema.minimum;
    const def = zodSchema._zod.def;
    if (io === 'output' && def.type === 'object' && !def.catchall) delete jsonSchema.additionalProperties;
  };
}

function jsonSchemaOf(schema: z.ZodType, io: Io): Json {
  const { $schema: _dialect, ...json } = z.toJSONSchema(schema, { target: 'draft-2020-12', io, override: normalize(io) }) as Json;
  return json;
}

/**
 * The schemas the document uses: named ones become components (`$ref`), the rest are converted in
 * the same pass (so their references to components resolve) and written inline.
 */
class SchemaSet {
  private readonly registries = { input: z.registry<{ id: string }>(), output: z.registry<{ id: string }>() };
  private readonly placeholders: { io: Io; id: string; target: Json }[] = [];
  private readonly named = new Set<string>();
  private readonly ids = new Set<string>();

  constructor(components: typeof COMPONENTS) {
    for (const [id, schema, io] of components) {
      this.register(schema, io, id);
      this.named.add(id);
    }
  }

  /** Where the schema goes in the document: filled in by `components()`. */
  use(schema: z.ZodType, io: Io, inlineId: string): Json {
    const id = this.registries[io].get(schema)?.id ?? this.register(schema, io, inlineId);
    const target: Json = {};
    this.placeholders.push({ io, id, target });
    return target;
  }

  components(): Record<string, Json> {
    const converted: Record<string, Json> = {};
    for (const io of ['input', 'output'] as const) {
      const { schemas } = z.toJSONSchema(this.registries[io], {
        target: 'draft-2020-12',
        io,
        uri: (id) => `${SCHEMA_REF}${id}`,
        override: normalize(io),
      });
      for (const [id, schema] of Object.entries(schemas)) {
        if (id === '__shared') throw new Error('a schema was extracted into __shared $defs; name it in COMPONENTS');
        const { $schema: _dialect, $id: _id, ...json } = schema as Json;
        converted[id] = json;
      }
    }
    for (const { id, target } of this.placeholders) {
      Object.assign(target, this.named.has(id) ? { $ref: `${SCHEMA_REF}${id}` } : converted[id]);
    }
    return Object.fromEntries([...this.named].sort().map((id) => [id, converted[id]!]));
  }

  private register(schema: z.ZodType, io: Io, id: string): string {
    if (this.ids.has(id)) throw new Error(`two schemas are named ${id}`);
    this.ids.add(id);
    this.registries[io].add(schema, { id });
    return id;
  }
}

// ---- parameters, security and errors ---------------------------------------------------------------

const PATH_PARAMETERS: Record<string, Json> = {
  bucket: { description: "The bucket's id or name.", schema: { type: 'string' } },
  credentialId: { description: 'The token or magic code id (never the secret).', schema: { type: 'string' } },
  deviceId: { description: 'The device id returned at registration.', schema: { type: 'string' } },
  notificationId: { description: 'The notification id.', schema: { type: 'string' } },
  template: { description: 'The template name (a-z, 0-9, "_" and "-", like a bucket name).', schema: { type: 'string', pattern: BUCKET_NAME.source } },
  source: { description: `The source (parser): ${PARSERS.map((parser) => parser.name).join(', ')}, or an alias.`, schema: { type: 'string' } },
  topic: { description: 'The bucket name (ntfy topic).', schema: { type: 'string', pattern: BUCKET_NAME.source } },
};

function pathParameters(path: string): Json[] {
  return [...path.matchAll(/\{(\w+)\}/g)].map(([, name]) => {
    const known = PATH_PARAMETERS[name!];
    if (!known) throw new Error(`path parameter {${name}} of ${path} has no description`);
    return { name, in: 'path', required: true, ...known };
  });
}

/** One query parameter per property; lists as CSV (`style: form, explode: false`), objects as JSON text. */
function queryParameters(schema: z.ZodType): Json[] {
  const json = jsonSchemaOf(schema, 'input');
  const required = (json.required as string[] | undefined) ?? [];
  return Object.entries(json.properties as Record<string, Json>).map(([name, property]) => {
    const { description, ...propertySchema } = property;
    const base = { name, in: 'query', ...(description ? { description } : {}), required: required.includes(name) };
    const items = propertySchema.items as Json | undefined;
    if (items?.type === 'object') return { ...base, content: { 'application/json': { schema: propertySchema } } };
    if (propertySchema.type === 'array') return { ...base, style: 'form', explode: false, schema: propertySchema };
    return { ...base, schema: propertySchema };
  });
}

const query = (name: string, description: string): Json => ({ name, in: 'query', description, required: false, schema: { type: 'string' } });
const header = (name: string, description: string): Json => ({ name, in: 'header', description, required: false, schema: { type: 'string' } });

/** Parameters several routes share: components, used by `$ref`. */
const PARAMETERS: Record<string, Json> = {
  BucketId: query('bucketId', "The bucket (id or name). With a credential it must be the credential's bucket; a source that signs its requests names its bucket with it."),
  Token: query('token', 'A bucket token, for clients that cannot send `Authorization: Bearer` (`access_token` works too).'),
  IdempotencyKey: header('Idempotency-Key', 'A replay with the same key within the dedupe window is answered 200 with the original id, and not pushed again.'),
  NtfyTitle: header('X-Title', 'The title (also `Title`, `ti`, `t`, or the query parameter `title`); the topic when absent.'),
  NtfyPriority: header('X-Priority', 'ntfy priority 1–5 or min, low, default, high, max, urgent: 1 is SILENT, 4–5 CRITICAL (also `Priority`, `prio`, `p`).'),
  NtfyTags: header('X-Tags', 'Comma-separated tags (also `Tags`, `tag`, `ta`).'),
  NtfyClick: header('X-Click', 'The URL opened on tap (also `Click`).'),
  NtfyActions: header('X-Actions', 'ntfy actions: `view, Label, url; http, Label, url` or JSON (also `Actions`, `action`).'),
  NtfyAttach: header('X-Attach', 'An image URL to show (also `Attach`, `a`).'),
  NtfyDelay: header('X-Delay', 'Send later: a duration (`30m`, `1h30m`, seconds) or a time (ISO 8601 with a zone, unix seconds), at most 30 days ahead (also `Delay`, `X-At`, `At`, `X-In`, `In`, or the query parameters `delay`, `at`, `in`).'),
};
const parameter = (name: keyof typeof PARAMETERS): Json => ({ $ref: `#/components/parameters/${name}` });
const BUCKET_ID_PARAM = parameter('BucketId');
const TOKEN_PARAM = parameter('Token');
const IDEMPOTENCY_KEY = parameter('IdempotencyKey');

const SECURITY_SCHEMES = {
  bearerToken: {
    type: 'http',
    scheme: 'bearer',
    description: 'A bucket access token; also accepted as `?token=` (or `?access_token=`). The requirement lists the scope the route needs: `send`, `devices` or `read`.',
  },
  magicCode: { type: 'apiKey', in: 'query', name: 'magicCode', description: 'A magic code: sends notifications to its bucket, nothing else.' },
  sigv4: { type: 'apiKey', in: 'header', name: 'Authorization', description: 'AWS SigV4 (IAM)', 'x-amazon-apigateway-authtype': 'awsSigv4' },
} as const;

const SEND = [{ bearerToken: ['send'] }, { magicCode: [] }];

function security(authorization: RouteSpec['authorization']): Json[] {
  if (authorization === 'iam') return [{ sigv4: [] }];
  if (authorization === 'none') return [];
  return [{ bearerToken: [authorization.scope] }];
}

/** One response per error status the routes answer, naming the `error` codes it carries (errors.ts). */
function errorResponses(statuses: ReadonlySet<number>): Record<string, Json> {
  const responses = [...statuses].sort((a, b) => a - b).map((status) => {
    const codes = Object.entries(ERROR_STATUS).filter(([, s]) => s === status).map(([code]) => `\`${code}\``);
    const headers =
      status === 405 ? { Allow: { description: 'The methods the path accepts.', schema: { type: 'string' } } }
      : status === 429 || status === 503 ? { 'Retry-After': { description: 'Seconds to wait before retrying.', schema: { type: 'integer' } } }
      : undefined;
    const response = {
      description: `${STATUS_CODES[status]}: \`error\` is ${codes.join(', ')}.`,
      ...(headers ? { headers } : {}),
      content: { 'application/json': { schema: { $ref: `${SCHEMA_REF}Error` } } },
    };
    return [errorName(status), response] as const;
  });
  return Object.fromEntries(responses);
}

function errorName(status: number): string {
  return STATUS_CODES[status]!.replace(/[^A-Za-z]/g, '');
}

function errors(...statuses: number[]): Record<string, Json> {
  // Repeated failed authentications are answered 429 instead of 401 (auth/abuse.ts).
  if (statuses.includes(401)) statuses.push(429);
  return Object.fromEntries([...new Set(statuses)].sort((a, b) => a - b).map((status) => [String(status), { $ref: `#/components/responses/${errorName(status)}` }]));
}

// ---- operations ----------------------------------------------------------------------------------

interface Operation {
  readonly method: RouteSpec['method'];
  readonly path: string;
  readonly body: Json;
}

function capitalized(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function managementOperation(route: RouteSpec, schemas: SchemaSet): Operation {
  const name = capitalized(route.operationId);
  const parameters = [...pathParameters(route.path), ...(route.query ? queryParameters(route.query) : [])];
  const tokenAuthorized = typeof route.authorization === 'object';
  const hasInput = parameters.length > 0 || route.body !== undefined;
  const success = route.response
    ? { description: STATUS_CODES[route.status], content: { 'application/json': { schema: schemas.use(route.response, 'output', `${name}Response`) } } }
    : { description: STATUS_CODES[route.status] };
  return {
    method: route.method,
    path: route.path,
    body: {
      tags: [route.path.startsWith('/admin/') ? 'Admin' : route.path.startsWith('/devices') ? 'Devices' : 'History'],
      summary: route.summary,
      operationId: route.operationId,
      security: security(route.authorization),
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(route.body
        ? { requestBody: { required: true, content: { 'application/json': { schema: schemas.use(route.body, 'input', `${name}Request`) } } } }
        : {}),
      responses: {
        [String(route.status)]: success,
        ...errors(
          ...(hasInput ? [400] : []),
          ...(tokenAuthorized ? [401] : []),
          403,
          ...(pathParameters(route.path).length > 0 ? [404] : []),
          ...(route.body ? [413, 415] : []),
          503,
        ),
      },
    },
  };
}

function publicOperations(schemas: SchemaSet): Operation[] {
  const ref = (id: string) => ({ $ref: `${SCHEMA_REF}${id}` });
  const json = (schema: Json) => ({ 'application/json': { schema } });
  const accepted = {
    '201': { description: 'Queued for delivery.', content: json(ref('MessageAccepted')) },
    '200': { description: 'A replay of a notification already accepted: not pushed again.', content: json(ref('MessageDuplicate')) },
  };
  const skipped = {
    description: 'Nothing to push (an event Herald skips, or a routine event the bucket has not opted in to).',
    headers: { 'x-herald-skipped': { description: 'Why.', schema: { type: 'string' } } },
  };

  const webhookBody = {
    required: true,
    description: "The source's webhook body, byte for byte: signatures are verified on the raw bytes.",
    content: { 'application/json': { schema: {} }, '*/*': { schema: {} } },
  };
  const webhookResponses = {
    ...accepted,
    '200': { description: "A replay of a notification already accepted, or the source's own reply where its protocol wants one (ZITADEL).", content: json({}) },
    '204': skipped,
  };

  const transform = (path: string, operationId: string): Operation => ({
    method: 'POST',
    path,
    body: {
      tags: ['Webhooks'],
      summary: "Receive a source's webhook (Zentik-compatible)",
      description: `Authenticated with ${SIGNED_OR_CREDENTIAL}, or by the source's own signature or secret header with \`?bucketId=\`. Without \`?parser=\` the source is detected from the request.`,
      operationId,
      security: [...SEND, {}],
      parameters: [
        query('parser', `The source: ${PARSERS.map((parser) => parser.name).join(', ')}, or an alias; or \`template:<name>\` to render the JSON body with one of the bucket's templates (docs/templates.md).`),
        BUCKET_ID_PARAM,
        TOKEN_PARAM,
        IDEMPOTENCY_KEY,
      ],
      requestBody: webhookBody,
      responses: { ...webhookResponses, ...errors(400, 401, 403, 405, 413, 503) },
    },
  });
  const message = (path: string, suffix: string): Operation[] => {
    const description = `Authenticated with ${SIGNED_OR_CREDENTIAL}. Query parameters are merged over the body's fields, as Zentik does.`;
    const common = { tags: ['Messages'], security: SEND };
    const responses = { ...accepted, ...errors(400, 401, 403, 503) };
    return [
      {
        method: 'POST',
        path,
        body: {
          ...common,
          summary: 'Send a notification',
          description,
          operationId: `sendMessage${suffix}`,
          parameters: [BUCKET_ID_PARAM, TOKEN_PARAM, IDEMPOTENCY_KEY],
          requestBody: {
            required: true,
            content: {
              'application/json': { schema: schemas.use(messageRequest, 'input', 'MessageRequest') },
              'application/x-www-form-urlencoded': {
                schema: ref('MessageRequest'),
                encoding: { actions: { contentType: 'application/json' }, tags: { style: 'form', explode: false } },
              },
            },
          },
          responses: { ...responses, ...errors(413, 415) },
        },
      },
      {
        method: 'GET',
        path,
        body: {
          ...common,
          summary: 'Send a notification given as query parameters',
          description,
          operationId: `sendMessageByQuery${suffix}`,
          parameters: [...queryParameters(notificationInputSchema), BUCKET_ID_PARAM, TOKEN_PARAM, IDEMPOTENCY_KEY],
          responses,
        },
      },
    ];
  };

  const ntfyResponse = { '200': { description: "ntfy's answer: the message, or the original id for a replay.", content: json({ anyOf: [ref('NtfyMessage'), ref('NtfyDuplicate')] }) } };
  const ntfy = {
    tags: ['ntfy'],
    description:
      'ntfy-compatible publishing; the topic is the bucket name. Besides a token or magic code, ntfy\'s `Authorization: Basic` (the password is the token) and `?auth=` work.',
    security: SEND,
  };
  const ntfyHeaders = [...['NtfyTitle', 'NtfyPriority', 'NtfyTags', 'NtfyClick', 'NtfyActions', 'NtfyAttach', 'NtfyDelay'].map(parameter), IDEMPOTENCY_KEY];
  const topicPublish = (method: 'PUT' | 'POST', operationId: string): Operation => ({
    method,
    path: '/{topic}',
    body: {
      ...ntfy,
      summary: 'Publish to a topic (ntfy)',
      operationId,
      parameters: [...pathParameters('/{topic}'), ...ntfyHeaders],
      requestBody: {
        description: 'The message text; an ntfy JSON message (its topic is the path\'s) when sent as JSON.',
        content: { 'text/plain': { schema: { type: 'string' } }, 'application/json': { schema: schemas.use(ntfyTopicJsonMessage, 'input', 'NtfyTopicJsonMessage') } },
      },
      responses: { ...ntfyResponse, ...errors(400, 401, 403, 404, 413, 503) },
    },
  });

  const template = (path: string, operationId: string): Operation => ({
    method: 'POST',
    path,
    body: {
      tags: ['Messages'],
      summary: "Send a notification rendered by one of the bucket's templates (Zentik-compatible)",
      description: `Authenticated with ${SIGNED_OR_CREDENTIAL}. The body is the template's data; \`template-<key>\` query parameters and then headers are merged into it as \`<key>\`. See docs/templates.md.`,
      operationId,
      security: SEND,
      parameters: [
        { ...query('template', 'The template name.'), required: true },
        BUCKET_ID_PARAM,
        TOKEN_PARAM,
        IDEMPOTENCY_KEY,
      ],
      requestBody: { required: true, content: { 'application/json': { schema: { type: 'object' } }, 'application/x-www-form-urlencoded': { schema: { type: 'object' } } } },
      responses: { ...accepted, ...errors(400, 401, 403, 404, 413, 415, 503) },
    },
  });

  return [
    transform('/transform', 'transformWebhook'),
    transform('/api/v1/messages/transform', 'transformWebhookV1'),
    ...message('/message', ''),
    ...message('/api/v1/messages', 'V1'),
    template('/template', 'sendTemplate'),
    template('/api/v1/messages/template', 'sendTemplateV1'),
    {
      method: 'POST',
      path: '/devices',
      body: {
        tags: ['Devices'],
        summary: "Register a device's APNs or FCM token (idempotent)",
        description: 'Registering the same token again returns the same device (200). iOS development builds register with `environment: sandbox`.',
        operationId: 'registerDevice',
        security: [{ bearerToken: ['devices'] }],
        requestBody: {
          required: true,
          content: {
            'application/json': { schema: schemas.use(deviceRegistrationSchema, 'input', 'DeviceRegistration') },
            'application/x-www-form-urlencoded': { schema: ref('DeviceRegistration') },
          },
        },
        responses: {
          '201': { description: 'Registered.', content: json(ref('DeviceRegistered')) },
          '200': { description: 'Already registered: the same device.', content: json(ref('DeviceRegistered')) },
          ...errors(400, 401, 403, 413, 415, 503),
        },
      },
    },
    {
      method: 'GET',
      path: '/health',
      body: {
        tags: ['Service'],
        summary: 'Liveness',
        operationId: 'health',
        security: [],
        responses: { '200': { description: 'Herald answers.', content: json({ type: 'object', properties: { status: { const: 'ok' } }, required: ['status'] }) } },
      },
    },
    {
      method: 'GET',
      path: '/openapi.json',
      body: {
        tags: ['Service'],
        summary: 'This OpenAPI document',
        operationId: 'getOpenApiDocument',
        security: [],
        responses: { '200': { description: 'The OpenAPI 3.1 document of every route.', content: json({ type: 'object' }) } },
      },
    },
    {
      method: 'POST',
      path: '/webhooks/{source}',
      body: {
        tags: ['Webhooks'],
        summary: "Receive a source's webhook",
        description: `Authenticated with ${SIGNED_OR_CREDENTIAL}, or by the source's own signature or secret header with \`?bucketId=\`.`,
        operationId: 'receiveWebhook',
        security: [...SEND, {}],
        parameters: [...pathParameters('/webhooks/{source}'), BUCKET_ID_PARAM, TOKEN_PARAM],
        requestBody: webhookBody,
        responses: { ...webhookResponses, ...errors(400, 401, 403, 405, 413, 503) },
      },
    },
    {
      method: 'GET',
      path: '/webhooks/{source}',
      body: {
        tags: ['Webhooks'],
        summary: "A source's verification handshake (Okta's one-time GET)",
        operationId: 'verifyWebhook',
        security: [...SEND, {}],
        parameters: [...pathParameters('/webhooks/{source}'), BUCKET_ID_PARAM, TOKEN_PARAM],
        responses: { '200': { description: "The source's handshake reply.", content: json({}) }, ...errors(400, 401, 405, 503) },
      },
    },
    topicPublish('PUT', 'ntfyPublishPut'),
    topicPublish('POST', 'ntfyPublish'),
    {
      method: 'POST',
      path: '/',
      body: {
        ...ntfy,
        summary: 'Publish an ntfy JSON message (the topic in the body)',
        operationId: 'ntfyPublishJson',
        parameters: [IDEMPOTENCY_KEY],
        requestBody: { required: true, content: json(schemas.use(ntfyJsonMessage, 'input', 'NtfyJsonMessage')) },
        responses: { ...ntfyResponse, ...errors(400, 401, 403, 413, 503) },
      },
    },
    {
      method: 'GET',
      path: '/{topic}/publish',
      body: {
        ...ntfy,
        summary: 'Publish to a topic with query parameters (ntfy; `/send` and `/trigger` are aliases)',
        operationId: 'ntfyPublishByQuery',
        parameters: [
          ...pathParameters('/{topic}/publish'),
          query('message', 'The message text (also `m`); "triggered" when absent.'),
          query('title', 'The title (also `ti`, `t`); the topic when absent.'),
          query('priority', 'ntfy priority 1–5 or its name (also `prio`, `p`).'),
          query('tags', 'Comma-separated tags (also `tag`, `ta`).'),
          query('click', 'The URL opened on tap.'),
          query('actions', 'ntfy actions (also `action`).'),
          query('attach', 'An image URL to show (also `a`).'),
        ],
        responses: { ...ntfyResponse, ...errors(400, 401, 403, 404, 503) },
      },
    },
  ];
}

// ---- the document --------------------------------------------------------------------------------

const METHOD_ORDER = ['get', 'put', 'post', 'delete', 'patch'];
const OPERATION_KEYS = ['tags', 'summary', 'description', 'operationId', 'security', 'parameters', 'requestBody', 'responses'];

const TAGS = [
  { name: 'Messages', description: "Herald's message API (Zentik-compatible)." },
  { name: 'Webhooks', description: "Identity providers' webhooks, parsed into notifications." },
  { name: 'ntfy', description: 'ntfy-compatible publishing.' },
  { name: 'Devices', description: 'For the phone app: register, refresh and unregister push tokens (a token with the `devices` scope).' },
  { name: 'History', description: "A bucket's recent notifications (a token with the `read` scope)." },
  { name: 'Admin', description: 'Buckets, credentials, source secrets, devices and history, authorized by AWS IAM (SigV4).' },
  { name: 'Service', description: 'Health and this document.' },
];

function buildDocument(): Json {
  const schemas = new SchemaSet(COMPONENTS);
  const operations = [...publicOperations(schemas), ...MANAGEMENT_ROUTES.map((route) => managementOperation(route, schemas))];
  const paths: Record<string, Record<string, Json>> = {};
  const errorStatuses = new Set<number>();
  for (const { method, path, body } of operations) {
    const item = (paths[path] ??= {});
    const key = method.toLowerCase();
    if (item[key]) throw new Error(`${method} ${path} is declared twice`);
    item[key] = Object.fromEntries(OPERATION_KEYS.filter((name) => body[name] !== undefined).map((name) => [name, body[name]]));
    for (const status of Object.keys(body.responses as Json)) if (Number(status) >= 400) errorStatuses.add(Number(status));
  }
  const sortedPaths = Object.fromEntries(
    Object.keys(paths)
      .sort()
      .map((path) => [path, Object.fromEntries(METHOD_ORDER.filter((method) => paths[path]![method]).map((method) => [method, paths[path]![method]]))]),
  );
  return {
    openapi: '3.1.0',
    info: {
      title: 'Herald',
      version,
      summary: 'Self-hosted serverless push notifications for identity-provider webhooks, on AWS.',
      description:
        'Webhooks and messages in, APNs/FCM pushes out. Public routes authenticate with a bucket token or magic code (or a source\'s own signature); `/admin/…` routes are authorized by AWS IAM (SigV4). Errors are `{"error": code, "message": text}`.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    tags: TAGS,
    paths: sortedPaths,
    components: {
      schemas: schemas.components(),
      parameters: PARAMETERS,
      responses: errorResponses(errorStatuses),
      securitySchemes: SECURITY_SCHEMES,
    },
  };
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

let document: Json | undefined;

/** The OpenAPI 3.1 document of every public and management route (built once, then shared, frozen). */
export function openApiDocument(): object {
  return (document ??= deepFreeze(buildDocument()));
}
