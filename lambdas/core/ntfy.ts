import { HeraldError } from './errors';
import { decodeUtf8, isJsonMediaType, mediaType, parseJsonObject, type HttpRequest } from './http';
import type { DeliveryType, Notification, NotificationAction, NotificationInput } from './notification';
import type { RequestedTiming } from './schedule/when';

/**
 * ntfy-compatible publishing (peers.md §3): `PUT|POST /<topic>` with the message as the body and
 * `Title`/`Priority`/`Tags`/`Click`/`Actions` headers (`X-` prefixed or not, or lower-case query
 * parameters), and JSON `{topic, message, title, priority, tags, click, actions}` posted to the root
 * (authentik's webhook-mapping set-up). The topic is the bucket's name.
 */
export interface NtfyPublish {
  readonly topic: string;
  readonly content: NotificationInput;
  /** The ntfy priority as sent (1–5), echoed in the answer. */
  readonly priority?: number;
  /** ntfy's `X-Delay`/`X-At`/`X-In` (and `delay=`/`at=`/`in=`): all three take a duration or a time. */
  readonly timing?: RequestedTiming;
}

/** ntfy priorities 1–5 (or their names) → Herald delivery types. */
const PRIORITIES: Record<string, DeliveryType> = {
  '1': 'SILENT', min: 'SILENT',
  '2': 'NORMAL', low: 'NORMAL',
  '3': 'NORMAL', default: 'NORMAL',
  '4': 'CRITICAL', high: 'CRITICAL',
  '5': 'CRITICAL', max: 'CRITICAL', urgent: 'CRITICAL',
};
const PRIORITY_NUMBER: Record<DeliveryType, number> = { SILENT: 1, NORMAL: 3, CRITICAL: 5, NO_PUSH: 1 };

/** Header names and query aliases, as ntfy reads them. */
const FIELDS = {
  title: ['x-title', 'title', 'ti', 't'],
  priority: ['x-priority', 'priority', 'prio', 'p'],
  tags: ['x-tags', 'tags', 'tag', 'ta'],
  click: ['x-click', 'click'],
  actions: ['x-actions', 'actions', 'action'],
  attach: ['x-attach', 'attach', 'a'],
  message: ['x-message', 'message', 'm'],
  delay: ['x-delay', 'delay', 'x-at', 'at', 'x-in', 'in'],
} as const;

function field(request: HttpRequest, name: keyof typeof FIELDS): string | undefined {
  for (const alias of FIELDS[name]) {
    const value = request.headers[alias] ?? request.query[alias];
    if (value !== undefined && value !== '') return value;
  }
  return undefined;
}

/** ntfy's number for a priority given as a number or a name. */
function priorityNumber(priority: unknown): number | undefined {
  const type = priority === undefined || priority === null || priority === '' ? undefined : String(priority).trim().toLowerCase();
  if (type === undefined) return undefined;
  return /^[1-5]$/.test(type) ? Number(type) : ({ min: 1, low: 2, default: 3, high: 4, max: 5, urgent: 5 } as Record<string, number>)[type];
}

function deliveryTypeOf(priority: unknown): DeliveryType | undefined {
  if (priority === undefined || priority === null || priority === '') return undefined;
  const type = PRIORITIES[String(priority).trim().toLowerCase()];
  if (!type) throw new HeraldError('validation_failed', `priority: must be 1–5 or min, low, default, high, max, urgent (given "${String(priority).slice(0, 20)}")`);
  return type;
}

/** ntfy actions (`view, Label, url[, clear=true]; http, Label, url[, method=POST]` or JSON) → Herald actions. */
export function parseNtfyActions(value: unknown): NotificationAction[] | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  let list: unknown[];
  if (Array.isArray(value)) list = value;
  else if (typeof value === 'string' && value.trim().startsWith('[')) {
    try {
      list = JSON.parse(value) as unknown[];
    } catch {
      throw new HeraldError('validation_failed', 'actions: not valid JSON');
    }
  } else if (typeof value === 'string') {
    list = value.split(';').filter((part) => part.trim()).map((part) => {
      const [action, label, url, ...options] = part.split(',').map((piece) => piece.trim());
      const extra = Object.fromEntries(options.map((option) => option.split('=').map((piece) => piece.trim())));
      return { action, label, url, ...extra };
    });
  } else {
    throw new HeraldError('validation_failed', 'actions: must be a list or ntfy action text');
  }
  const actions: NotificationAction[] = [];
  for (const item of list) {
    if (typeof item !== 'object' || item === null) throw new HeraldError('validation_failed', 'actions: each action must be an object');
    const { action, label, url, method } = item as Record<string, unknown>;
    // Broadcast actions send an Android intent; a push has nothing to carry them, so they are left out.
    if (action === 'broadcast') continue;
    if (typeof url !== 'string' || typeof label !== 'string') throw new HeraldError('validation_failed', 'actions: each action needs a label and a url');
    if (action === 'view') actions.push({ type: 'NAVIGATE', title: label, value: url });
    else if (action === 'http') actions.push({ type: 'BACKGROUND_CALL', title: label, value: `${typeof method === 'string' ? method.toUpperCase() : 'POST'}::${url}` });
    else throw new HeraldError('validation_failed', `actions: unknown ntfy action "${String(action).slice(0, 20)}" (view, http or broadcast)`);
  }
  return actions.length > 0 ? actions : undefined;
}

function isImage(url: string | undefined): boolean {
  return url !== undefined && /\.(png|jpe?g|gif|webp|heic)(\?.*)?$/i.test(url);
}

/** `PUT|POST /<topic>` or `GET /<topic>/publish`: the body (or `message`) is the text. */
export function readNtfyTopicPublish(request: HttpRequest, topic: string): NtfyPublish {
  const text = request.body.length > 0 ? decodeUtf8(request.body) : field(request, 'message') ?? '';
  const type = mediaType(request.headers);
  // ntfy would show a JSON body as text; when it is an ntfy JSON message, Herald reads it as one.
  if (isJsonMediaType(type) && /^\s*\{/.test(text)) {
    const json = parseJsonObject(text);
    if ('message' in json || 'title' in json) return fromJson({ ...json, topic });
  }
  const attach = field(request, 'attach');
  const delay = field(request, 'delay');
  return {
    topic,
    priority: priorityNumber(field(request, 'priority')),
    ...(delay !== undefined ? { timing: { delay } } : {}),
    content: {
      // ntfy titles a message with its topic when none is given.
      title: field(request, 'title') ?? topic,
      body: text.trim() === '' ? 'triggered' : text,
      deliveryType: deliveryTypeOf(field(request, 'priority')),
      tags: field(request, 'tags'),
      tapUrl: field(request, 'click'),
      imageUrl: isImage(attach) ? attach : undefined,
      actions: parseNtfyActions(field(request, 'actions')),
    },
  };
}

/** JSON `{topic, message, …}` posted to the root URL. */
export function readNtfyJson(request: HttpRequest): NtfyPublish {
  return fromJson(parseJsonObject(decodeUtf8(request.body)));
}

function fromJson(json: Record<string, unknown>): NtfyPublish {
  const { topic, message, title, priority, tags, click, actions, attach, delay } = json;
  if (typeof topic !== 'string' || topic === '') throw new HeraldError('validation_failed', 'topic: is required (the bucket name)');
  const text = (value: unknown, name: string) => {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') throw new HeraldError('validation_failed', `${name}: must be a string`);
    return value;
  };
  if (tags !== undefined && !(Array.isArray(tags) || typeof tags === 'string')) {
    throw new HeraldError('validation_failed', 'tags: must be a list of strings');
  }
  const attachUrl = text(attach, 'attach');
  return {
    topic,
    priority: priorityNumber(priority),
    ...(delay !== undefined && delay !== null ? { timing: { delay } } : {}),
    content: {
      title: text(title, 'title') ?? topic,
      body: text(message, 'message') ?? 'triggered',
      deliveryType: deliveryTypeOf(priority),
      tags: tags as string[] | string | undefined,
      tapUrl: text(click, 'click'),
      imageUrl: isImage(attachUrl) ? attachUrl : undefined,
      actions: parseNtfyActions(actions),
    },
  };
}

/**
 * Maps ntfy's ways of sending a token onto Herald's: `Authorization: Basic` (the password is the
 * token) and `?auth=<base64 of the Authorization header>` become a Bearer header; the topic names
 * the bucket.
 */
export function asBucketRequest(request: HttpRequest, topic: string): HttpRequest {
  let authorization = request.headers.authorization;
  if (request.query.auth) {
    authorization = Buffer.from(request.query.auth.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8');
  }
  const basic = /^basic\s+(\S+)\s*$/i.exec(authorization ?? '');
  if (basic) {
    const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
    authorization = `Bearer ${decoded.slice(decoded.indexOf(':') + 1)}`;
  }
  const { auth: _auth, ...query } = request.query;
  return {
    ...request,
    headers: { ...request.headers, ...(authorization ? { authorization } : {}) },
    query: { ...query, bucketId: topic },
  };
}

/** ntfy's answer to a publish. */
export function ntfyMessage(notification: Notification, topic: string, priority?: number): Record<string, unknown> {
  const time = Math.floor(new Date(notification.createdAt).getTime() / 1000);
  return {
    id: notification.id,
    time,
    expires: time + 12 * 60 * 60,
    event: 'message',
    topic,
    title: notification.title,
    message: notification.body ?? '',
    priority: priority ?? PRIORITY_NUMBER[notification.deliveryType],
    ...(notification.tags ? { tags: notification.tags } : {}),
    ...(notification.tapUrl ? { click: notification.tapUrl } : {}),
    ...(notification.scheduledSendAt ? { scheduledSendAt: notification.scheduledSendAt } : {}),
  };
}
