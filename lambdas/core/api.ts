import { acceptNotifications, type Accepted } from './accept';
import { authenticate, requireScope } from './auth/authenticate';
import { AUTH_FAILURES, countAuthFailure, type FailureKeys } from './auth/abuse';
import { authenticateWebhook } from './auth/authenticate-source';
import { parseDeviceRegistration, publicDevice, registerDevice } from './devices';
import { HeraldError, isHeraldError } from './errors';
import { decodeFields, decodePathSegment, emptyResponse, errorResponse, jsonResponse, MAX_BODY_BYTES, type HttpRequest, type HttpResponse } from './http';
import { handleManagementRequest } from './admin/router';
import { idempotencyDedupeKey, readNativeMessage } from './messages';
import { asBucketRequest, ntfyMessage, readNtfyJson, readNtfyTopicPublish, type NtfyPublish } from './ntfy';
import { openApiDocument } from './openapi';
import type { Notification } from './notification';
import { detectParser, findParser } from './parsers/registry';
import type { ParseResult, Parser, SourceReply } from './parsers/types';
import type { PlatformApplications, PushGateway } from './push/gateway';
import type { NotificationQueue } from './queue';
import type { NotificationScheduler } from './schedule/scheduler';
import type { SigningKeyVault } from './sources/vault';
import { BUCKET_NAME, RESERVED_BUCKET_NAMES } from './store/buckets';
import { requireTemplate } from './store/templates';
import { renderTemplate } from './templates/render';
import { readTemplateData, readTemplatePayload, templateParserName } from './templates/request';
import type { Store } from './store/table';

export interface ApiDeps {
  readonly store: Store;
  readonly queue: NotificationQueue;
  readonly gateway: PushGateway;
  readonly platformApplications: PlatformApplications;
  /** Where sources' signing keys are kept (Secrets Manager; a file in local mode). */
  readonly vault: SigningKeyVault;
  /** EventBridge Scheduler (timers in local mode), for notifications due more than 15 minutes ahead. */
  readonly scheduler?: NotificationScheduler;
  readonly now?: () => Date;
}

/** What the edge needs besides the response: metrics, and the cause of a 5xx for the logs. */
export interface ApiResult {
  readonly response: HttpResponse;
  /** Notifications queued by this request, and the parser that produced them. */
  readonly accepted?: { readonly source: string; readonly count: number };
  readonly error?: HeraldError;
}

type Route = (request: HttpRequest, deps: ApiDeps) => Promise<ApiResult>;

/**
 * A source's webhook: Zentik's `POST /transform?parser=…` (auto-detected without `?parser=`) and
 * `POST|GET /webhooks/{source}`. The source's handshake (Okta's GET) comes first; then the call is
 * authenticated (token, magic code, or the source's own signature), parsed, queued, and answered
 * the way the source expects.
 */
async function webhook(request: HttpRequest, deps: ApiDeps, parser: Parser): Promise<ApiResult> {
  const webhookRequest = { body: request.body, headers: request.headers, query: request.query };
  const handshake = parser.handshake?.({ ...webhookRequest, method: request.method.toUpperCase() });
  if (!handshake && request.method.toUpperCase() !== 'POST') {
    throw new HeraldError('method_not_allowed', `${parser.name} webhooks are POSTed`, { allow: 'POST' });
  }
  // The handshake is authenticated like an event (Okta sends its secret header with it), so only
  // the bucket's owner can point a source at Herald.
  const caller = await authenticateWebhook(deps, request, parser, deps.now?.() ?? new Date());
  if (handshake) return { response: sourceReply(handshake) };
  requireScope(caller, 'send');
  const result = parseSafely(parser, request);
  const accepted = result.kind === 'skip' ? undefined : await acceptNotifications(deps, caller.bucketId, parser.name, result.notifications);
  const reply = parser.reply?.({ request: webhookRequest, result, notificationIds: accepted ? [...accepted.queued.map((n) => n.id), ...accepted.duplicates] : [] });
  if (reply) return { response: sourceReply(reply), accepted: { source: parser.name, count: accepted?.queued.length ?? 0 } };
  if (!accepted) return { response: emptyResponse(204, { 'x-herald-skipped': (result as { reason: string }).reason.slice(0, 200) }) };
  if (accepted.queued.length === 0 && accepted.duplicates.length === 0) {
    return { response: emptyResponse(204, { 'x-herald-skipped': `${parser.name}: routine events only; this bucket has not opted in to them` }) };
  }
  return created(accepted, parser.name);
}

const transform: Route = (request, deps) => {
  const template = templateParserName(request.query.parser);
  if (template !== undefined) return sendWithTemplate(request, deps, template, () => readTemplatePayload(request.body));
  return webhook(request, deps, request.query.parser ? findParser(request.query.parser) : detectParser({ body: request.body, headers: request.headers, query: request.query }));
};

/**
 * A payload rendered by one of the caller's bucket's templates: `POST /template?template=NAME`
 * (Zentik's shape) and `POST /transform?parser=template:NAME`. The template is looked up only
 * after authentication, in the caller's own bucket, so another bucket's templates are unreachable.
 * Authenticated like `/message` (a template is not a source, so there is no source signature).
 */
async function sendWithTemplate(request: HttpRequest, deps: ApiDeps, name: string | undefined, readPayload: () => unknown): Promise<ApiResult> {
  const payload = readPayload();
  const caller = await authenticate(deps.store, request);
  requireScope(caller, 'send');
  const template = await requireTemplate(deps.store, caller.bucketId, name);
  const content = await renderTemplate(template.fields, payload);
  const accepted = await acceptNotifications(deps, caller.bucketId, `template:${template.name}`, [{ content, dedupeKey: idempotencyDedupeKey(request) }]);
  // One metrics dimension for every template: their names are the users' own.
  return created(accepted, 'template');
}

const templateMessage: Route = (request, deps) => sendWithTemplate(request, deps, request.query.template, () => readTemplateData(request));

function sourceReply(reply: SourceReply): HttpResponse {
  return { status: reply.status, headers: reply.headers ?? {}, body: reply.body };
}

/** A parser must only throw typed errors; if one slips, the sender still gets a 400, not a 5xx. */
function parseSafely(parser: Parser, request: HttpRequest): ParseResult {
  try {
    return parser.parse({ body: request.body, headers: request.headers, query: request.query });
  } catch (error) {
    if (isHeraldError(error)) throw error;
    throw new HeraldError('invalid_body', `the ${parser.name} parser could not read this body`, {}, error);
  }
}

const message: Route = async (request, deps) => {
  const native = readNativeMessage(request);
  const caller = await authenticate(deps.store, request, native.address);
  requireScope(caller, 'send');
  const accepted = await acceptNotifications(deps, caller.bucketId, 'native', [native.parsed]);
  return created(accepted, 'native', native.ignoredFields);
};

const devices: Route = async (request, deps) => {
  const caller = await authenticate(deps.store, request);
  requireScope(caller, 'devices');
  const registration = parseDeviceRegistration(decodeFields(request));
  const { device, created: isNew, warning } = await registerDevice(deps, caller.bucketId, registration);
  return { response: jsonResponse(isNew ? 201 : 200, { device: publicDevice(device), ...(warning ? { warning } : {}) }) };
};

const health: Route = async () => ({ response: jsonResponse(200, { status: 'ok' }) });

const openApi: Route = async () => ({ response: jsonResponse(200, openApiDocument()) });

/** ntfy publishing: the topic is the bucket's name; answered with ntfy's message JSON. */
async function ntfyPublish(request: HttpRequest, deps: ApiDeps, publish: NtfyPublish): Promise<ApiResult> {
  const caller = await authenticate(deps.store, asBucketRequest(request, publish.topic));
  requireScope(caller, 'send');
  const idempotencyKey = request.headers['idempotency-key']?.trim();
  const accepted = await acceptNotifications(deps, caller.bucketId, 'ntfy', [
    { content: publish.content, dedupeKey: idempotencyKey ? `idempotency:${idempotencyKey.slice(0, 200)}` : undefined, ...(publish.timing ? { timing: publish.timing } : {}) },
  ]);
  const notification = accepted.queued[0];
  if (!notification) return { response: jsonResponse(200, { id: accepted.duplicates[0], event: 'message', topic: publish.topic, duplicate: true }), accepted: { source: 'ntfy', count: 0 } };
  return { response: jsonResponse(200, ntfyMessage(notification, publish.topic, publish.priority)), accepted: { source: 'ntfy', count: 1 } };
}

/**
 * Routes that are patterns rather than fixed paths: `/webhooks/{source}`, ntfy's JSON publish to
 * the root, and ntfy's `/<topic>` (a bucket name; names of Herald's routes are reserved).
 */
function patternRoute(request: HttpRequest, path: string): Route | undefined {
  const method = request.method.toUpperCase();
  const segments = path.split('/').slice(1);
  if (segments[0] === 'webhooks' && segments.length === 2 && segments[1]) {
    const source = decodePathSegment(segments[1]);
    return (req, deps) => webhook(req, deps, findParser(source));
  }
  if (path === '/' && (method === 'POST' || method === 'PUT')) {
    return (req, deps) => ntfyPublish(req, deps, readNtfyJson(req));
  }
  const topic = segments[0] ? decodePathSegment(segments[0]) : '';
  if (!BUCKET_NAME.test(topic) || RESERVED_BUCKET_NAMES.has(topic)) return undefined;
  if (segments.length === 1 && (method === 'POST' || method === 'PUT')) {
    return (req, deps) => ntfyPublish(req, deps, readNtfyTopicPublish(req, topic));
  }
  if (segments.length === 2 && ['publish', 'send', 'trigger'].includes(segments[1]!) && (method === 'GET' || method === 'POST' || method === 'PUT')) {
    return (req, deps) => ntfyPublish(req, deps, readNtfyTopicPublish(method === 'GET' ? { ...req, body: Buffer.alloc(0) } : req, topic));
  }
  return undefined;
}

/** Zentik answers 201 `{message, notificationsCount}`; a replay gets 200 and the original id. */
function created(accepted: Accepted, source: string, ignoredFields: string[] = []): ApiResult {
  const extra = ignoredFields.length > 0 ? { ignoredFields } : {};
  if (accepted.queued.length === 0) {
    return {
      response: jsonResponse(200, { message: { id: accepted.duplicates[0] }, notificationsCount: 0, duplicate: true, ...extra }),
      accepted: { source, count: 0 },
    };
  }
  const [first, ...rest] = accepted.queued as [Notification, ...Notification[]];
  return {
    response: jsonResponse(201, {
      message: first,
      notificationsCount: accepted.queued.length,
      ...(rest.length > 0 ? { messages: accepted.queued } : {}),
      ...(accepted.duplicates.length > 0 ? { duplicates: accepted.duplicates.length } : {}),
      ...extra,
    }),
    accepted: { source, count: accepted.queued.length },
  };
}

/** Routes by path, then method. Zentik serves its message routes both at the root and under /api/v1. */
export const ROUTES: Record<string, Partial<Record<string, Route>>> = {
  '/transform': { POST: transform },
  '/api/v1/messages/transform': { POST: transform },
  '/template': { POST: templateMessage },
  '/api/v1/messages/template': { POST: templateMessage },
  '/message': { POST: message, GET: message },
  '/api/v1/messages': { POST: message, GET: message },
  '/devices': { POST: devices },
  '/health': { GET: health },
  '/openapi.json': { GET: openApi },
};

/**
 * Bodies are bounded per route: webhooks carry a source's batch; a message, a device or an ntfy
 * publish is small (ntfy itself caps messages at 4 KB).
 */
function bodyLimit(path: string): number {
  if (path === '/transform' || path === '/api/v1/messages/transform' || path.startsWith('/webhooks/')) return MAX_BODY_BYTES;
  // Template data is often a webhook payload too.
  if (path === '/template' || path === '/api/v1/messages/template') return MAX_BODY_BYTES;
  if (path === '/devices' || path.startsWith('/devices/')) return 16 * 1024;
  return 64 * 1024;
}

/** Who to count a failed authentication against: the caller's address and the bucket it named. */
function failureKeys(request: HttpRequest): FailureKeys {
  const topic = /^\/([a-z0-9][a-z0-9_-]{0,63})(?:\/|$)/.exec(request.path)?.[1];
  return { ip: request.sourceIp, bucket: request.query.bucketId ?? (topic && !RESERVED_BUCKET_NAMES.has(topic) ? topic : undefined) };
}

/**
 * Herald's public HTTP API, shared by the Lambda handler and local mode. Every client error is a
 * typed `{error, message}`; an unexpected failure of DynamoDB or SQS is a 503, never a false 2xx.
 */
export async function handleApiRequest(request: HttpRequest, deps: ApiDeps): Promise<ApiResult> {
  try {
    const path = request.path.length > 1 ? request.path.replace(/\/+$/, '') : request.path;
    const limit = bodyLimit(path);
    if (request.body.length > limit) {
      throw new HeraldError('payload_too_large', `body is ${request.body.length} bytes; the limit for ${path.slice(0, 100)} is ${limit}`);
    }
    const methods = ROUTES[path];
    if (!methods) {
      // The token-authorized management routes (device refresh/unregister, history); admin routes
      // reach this function only without IAM, and are refused.
      const managed = await handleManagementRequest(request, deps, false);
      if (managed) return { response: managed };
      const route = patternRoute(request, path);
      if (!route) throw new HeraldError('not_found', `no route ${request.method} ${path.slice(0, 200)}`);
      return await route(request, deps);
    }
    const route = methods[request.method.toUpperCase()];
    if (!route) {
      const allow = Object.keys(methods).join(', ');
      throw new HeraldError('method_not_allowed', `${path} accepts ${allow}`, { allow });
    }
    return await route(request, deps);
  } catch (error) {
    if (isHeraldError(error) && AUTH_FAILURES.has(error.code)) {
      const limited = await countAuthFailure(deps.store, failureKeys(request), deps.now?.()).then(
        () => undefined,
        (limit: unknown) => (isHeraldError(limit) ? limit : undefined), // the count itself failing must not hide the 401
      );
      if (limited) return { response: errorResponse(limited), error: limited };
    }
    const typed = isHeraldError(error)
      ? error
      : new HeraldError('service_unavailable', 'Herald could not complete the request; retry later', { 'retry-after': '5' }, error);
    return { response: errorResponse(typed), error: typed };
  }
}
