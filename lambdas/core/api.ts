import { acceptNotifications, type Accepted } from './accept';
import { authenticate, requireScope } from './auth/authenticate';
import { parseDeviceRegistration, publicDevice, registerDevice } from './devices';
import { HeraldError, isHeraldError } from './errors';
import { decodeFields, emptyResponse, errorResponse, jsonResponse, MAX_BODY_BYTES, type HttpRequest, type HttpResponse } from './http';
import { readNativeMessage } from './messages';
import type { Notification } from './notification';
import { findParser } from './parsers/registry';
import type { ParseResult, Parser } from './parsers/types';
import type { PlatformApplications, PushGateway } from './push/gateway';
import type { NotificationQueue } from './queue';
import type { Store } from './store/table';

export interface ApiDeps {
  readonly store: Store;
  readonly queue: NotificationQueue;
  readonly gateway: PushGateway;
  readonly platformApplications: PlatformApplications;
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

const transform: Route = async (request, deps) => {
  const parser = findParser(request.query.parser);
  const caller = await authenticate(deps.store, request);
  requireScope(caller, 'send');
  const result = parseSafely(parser, request);
  if (result.kind === 'skip') return { response: emptyResponse(204, { 'x-herald-skipped': result.reason.slice(0, 200) }) };
  const accepted = await acceptNotifications(deps, caller.bucketId, parser.name, result.notifications);
  return created(accepted, parser.name);
};

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
const ROUTES: Record<string, Partial<Record<string, Route>>> = {
  '/transform': { POST: transform },
  '/api/v1/messages/transform': { POST: transform },
  '/message': { POST: message, GET: message },
  '/api/v1/messages': { POST: message, GET: message },
  '/devices': { POST: devices },
  '/health': { GET: health },
};

/**
 * Herald's public HTTP API, shared by the Lambda handler and local mode. Every client error is a
 * typed `{error, message}`; an unexpected failure of DynamoDB or SQS is a 503, never a false 2xx.
 */
export async function handleApiRequest(request: HttpRequest, deps: ApiDeps): Promise<ApiResult> {
  try {
    if (request.body.length > MAX_BODY_BYTES) {
      throw new HeraldError('payload_too_large', `body is ${request.body.length} bytes; the limit is ${MAX_BODY_BYTES}`);
    }
    const path = request.path.length > 1 ? request.path.replace(/\/+$/, '') : request.path;
    const methods = ROUTES[path];
    if (!methods) throw new HeraldError('not_found', `no route ${request.method} ${path.slice(0, 200)}`);
    const route = methods[request.method.toUpperCase()];
    if (!route) {
      const allow = Object.keys(methods).join(', ');
      throw new HeraldError('method_not_allowed', `${path} accepts ${allow}`, { allow });
    }
    return await route(request, deps);
  } catch (error) {
    const typed = isHeraldError(error)
      ? error
      : new HeraldError('service_unavailable', 'Herald could not complete the request; retry later', { 'retry-after': '5' }, error);
    return { response: errorResponse(typed), error: typed };
  }
}
