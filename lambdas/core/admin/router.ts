import type { z } from 'zod';
import { authenticate, requireScope } from '../auth/authenticate';
import { clearNotification } from '../clear';
import { generateAccessToken, generateMagicCode } from '../auth/secrets';
import { publicDevice, refreshDevice, unregisterDevice } from '../devices';
import { HeraldError } from '../errors';
import { decodeFields, decodePathSegment, emptyResponse, jsonResponse, type HttpRequest, type HttpResponse } from '../http';
import { describeIssues, stampNotification } from '../notification';
import { findParser } from '../parsers/registry';
import { buildApnsPayload } from '../push/apns';
import { buildFcmPayload } from '../push/fcm';
import type { PlatformApplications, PushGateway } from '../push/gateway';
import type { NotificationQueue } from '../queue';
import { cancelScheduled } from '../schedule/cancel';
import type { NotificationScheduler } from '../schedule/scheduler';
import { renderedPayload } from '../render';
import { removeSourceSecret, setSourceSecret } from '../sources/source-secrets';
import type { SigningKeyVault } from '../sources/vault';
import { createBucket, findBucket, listBuckets, renameBucket, updateBucket, type Bucket } from '../store/buckets';
import { addCredential, listCredentials, revokeCredential, type CredentialKind, type CredentialRecord } from '../store/credentials';
import { disableDevice, getDevice, listDevices } from '../store/devices';
import { getHistory, listHistory } from '../store/history';
import { listOutcomes } from '../store/outcomes';
import { listPendingScheduled } from '../store/scheduled';
import type { Store } from '../store/table';
import { deleteTemplate, listTemplates, putTemplate, requireTemplate } from '../store/templates';
import { renderTemplate } from '../templates/render';
import {
  MANAGEMENT_ROUTES,
  type createBucketRequest,
  type createTokenRequest,
  type putTemplateRequest,
  type RouteSpec,
  type updateBucketRequest,
} from './contract';
import { peekDeadLetters, startRedrive, type DeadLetterDeps } from './dead-letters';
import { deleteBucket } from './delete-bucket';

export interface ManagementDeps {
  readonly store: Store;
  readonly gateway: PushGateway;
  readonly vault: SigningKeyVault;
  readonly platformApplications: PlatformApplications;
  /** The notification queue's DLQ and its redrive; absent where no queue is configured (the public API). */
  readonly deadLetters?: DeadLetterDeps;
  /** The notification queue, for clears; absent in the admin function (clears are public routes). */
  readonly queue?: NotificationQueue;
  /** Deletes the schedule of a cancelled scheduled notification; without it the schedule fires and is dropped. */
  readonly scheduler?: NotificationScheduler;
  readonly now?: () => Date;
}

interface Call {
  readonly deps: ManagementDeps;
  readonly params: Record<string, string>;
  readonly body: unknown;
  readonly query: Record<string, unknown>;
  /** The bucket named by `{bucket}`, or the token's bucket on token-authorized routes. */
  readonly bucket?: Bucket;
}

type Handler = (call: Call) => Promise<unknown>;

function credentialView(record: CredentialRecord) {
  const { credentialId, bucketId: _bucket, ...rest } = record;
  return { id: credentialId, ...rest };
}

async function createCredential(call: Call, kind: CredentialKind, name?: string, scopes?: CredentialRecord['scopes'], validUntil?: Date) {
  const secret = kind === 'token' ? generateAccessToken() : generateMagicCode();
  const record = await addCredential(call.deps.store, { bucketId: call.bucket!.id, kind, secret, name, scopes, validUntil, now: call.deps.now?.() });
  return { credential: credentialView(record), secret };
}

async function credentialOf(call: Call, kind: CredentialKind): Promise<CredentialRecord> {
  const found = (await listCredentials(call.deps.store, call.bucket!.id, kind)).find((record) => record.credentialId === call.params.credentialId);
  if (!found) throw new HeraldError('not_found', `no ${kind === 'token' ? 'token' : 'magic code'} ${call.params.credentialId!.slice(0, 64)} in bucket ${call.bucket!.name}`);
  return found;
}

async function notificationDetail(call: Call) {
  const entry = await getHistory(call.deps.store, call.bucket!.id, call.params.notificationId!);
  if (!entry) throw new HeraldError('not_found', `no notification ${call.params.notificationId!.slice(0, 64)} in this bucket's history`);
  return { ...entry, devices: [...(await listOutcomes(call.deps.store, entry.notification.id)).values()] };
}

async function clear(call: Call) {
  // A scheduled notification not sent yet has nothing on the devices to clear: it is cancelled.
  const cancelled = await cancelScheduled(call.deps, call.bucket!.id, call.params.notificationId!).catch((error: unknown) => {
    if (error instanceof HeraldError && error.code === 'notification_already_sent') return undefined;
    throw error;
  });
  if (cancelled) return cancelled;
  if (!call.deps.queue) throw new HeraldError('service_unavailable', 'this function is not configured with the notification queue (QUEUE_URL)');
  return clearNotification({ store: call.deps.store, queue: call.deps.queue, now: call.deps.now }, call.bucket!.id, call.params.notificationId!);
}

async function history(call: Call) {
  const page = await listHistory(call.deps.store, call.bucket!.id, call.query as { limit?: number; cursor?: string });
  return { notifications: page.entries, ...(page.cursor ? { cursor: page.cursor } : {}) };
}

/** What a template makes of a sample payload, with the payloads delivery would build; nothing is sent. */
async function testTemplate({ deps, bucket, params, body }: Call) {
  const template = await requireTemplate(deps.store, bucket!.id, params.template);
  const content = await renderTemplate(template.fields, (body as { payload?: unknown }).payload ?? {});
  const notification = stampNotification(content, bucket!.id, `template:${template.name}`, deps.now?.());
  if (notification.deliveryType === 'NO_PUSH') return { notification };
  return { notification, apns: renderedPayload(buildApnsPayload(notification, 'production')), fcm: renderedPayload(buildFcmPayload(notification)) };
}

function deadLettersOf(deps: ManagementDeps): DeadLetterDeps {
  if (!deps.deadLetters) throw new HeraldError('service_unavailable', 'this function is not configured with the dead-letter queue (DEAD_LETTER_QUEUE_URL)');
  return deps.deadLetters;
}

const HANDLERS: Record<string, Handler> = {
  async createBucket({ deps, body }) {
    const input = body as z.infer<typeof createBucketRequest>;
    const routineSources = input.routineSources?.map((source) => findParser(source).name);
    return createBucket(deps.store, { ...input, routineSources, now: deps.now?.() });
  },
  async listBuckets({ deps }) {
    return { buckets: await listBuckets(deps.store) };
  },
  async getBucket({ bucket }) {
    return { bucket };
  },
  async updateBucket({ deps, bucket, body }) {
    const { name, ...settings } = body as z.infer<typeof updateBucketRequest>;
    const routineSources = settings.routineSources?.map((source) => findParser(source).name);
    const renamed = name === undefined ? bucket! : await renameBucket(deps.store, bucket!, name, deps.now?.());
    // One spelling of the instant in storage, whatever offset it was given with.
    const snoozeUntil = settings.snoozeUntil ? new Date(settings.snoozeUntil).toISOString() : settings.snoozeUntil;
    return { bucket: await updateBucket(deps.store, renamed.id, { ...settings, routineSources, snoozeUntil }, deps.now?.()) };
  },
  async deleteBucket({ deps, bucket }) {
    await deleteBucket(deps, bucket!);
  },
  async createToken(call) {
    const input = call.body as z.infer<typeof createTokenRequest>;
    const validUntil = input.expiresAt ? new Date(input.expiresAt) : undefined;
    if (validUntil && validUntil.getTime() <= (call.deps.now?.() ?? new Date()).getTime()) {
      throw new HeraldError('validation_failed', 'expiresAt: must be in the future');
    }
    return createCredential(call, 'token', input.name, input.scopes, validUntil);
  },
  async listTokens({ deps, bucket }) {
    return { tokens: (await listCredentials(deps.store, bucket!.id, 'token')).map(credentialView) };
  },
  async revokeToken(call) {
    await revokeCredential(call.deps.store, call.bucket!.id, (await credentialOf(call, 'token')).credentialId, call.deps.now?.());
  },
  async createMagicCode(call) {
    return createCredential(call, 'magicCode', (call.body as { name?: string }).name, ['send']);
  },
  async listMagicCodes({ deps, bucket }) {
    return { magicCodes: (await listCredentials(deps.store, bucket!.id, 'magicCode')).map(credentialView) };
  },
  async rotateMagicCode(call) {
    const old = await credentialOf(call, 'magicCode');
    if (old.revokedAt) throw new HeraldError('validation_failed', 'credentialId: this magic code is already revoked');
    const replacement = await createCredential(call, 'magicCode', old.name, ['send']);
    await revokeCredential(call.deps.store, call.bucket!.id, old.credentialId, call.deps.now?.());
    return replacement;
  },
  async revokeMagicCode(call) {
    await revokeCredential(call.deps.store, call.bucket!.id, (await credentialOf(call, 'magicCode')).credentialId, call.deps.now?.());
  },
  async setSourceSecret({ deps, bucket, params, body }) {
    await setSourceSecret(deps, bucket!.id, findParser(params.source), (body as { secret: string }).secret, deps.now?.());
  },
  async removeSourceSecret({ deps, bucket, params }) {
    await removeSourceSecret(deps, bucket!.id, findParser(params.source).name);
  },
  async listDevices({ deps, bucket, query }) {
    const page = await listDevices(deps.store, bucket!.id, query.cursor as string | undefined, (query.limit as number | undefined) ?? 100);
    return { devices: page.devices.map(publicDevice), ...(page.cursor ? { cursor: page.cursor } : {}) };
  },
  async disableDevice({ deps, bucket, params }) {
    if (!(await getDevice(deps.store, bucket!.id, params.deviceId!))) throw new HeraldError('not_found', `no device ${params.deviceId!.slice(0, 64)} in this bucket`);
    await disableDevice(deps.store, bucket!.id, params.deviceId!, 'disabled by an administrator', deps.now?.());
    return { device: publicDevice((await getDevice(deps.store, bucket!.id, params.deviceId!))!) };
  },
  async deleteDevice({ deps, bucket, params }) {
    await unregisterDevice(deps, bucket!.id, params.deviceId!);
  },
  async listTemplates({ deps, bucket }) {
    return { templates: await listTemplates(deps.store, bucket!.id) };
  },
  async getTemplate({ deps, bucket, params }) {
    return { template: await requireTemplate(deps.store, bucket!.id, params.template) };
  },
  async putTemplate({ deps, bucket, params, body }) {
    return { template: await putTemplate(deps.store, bucket!.id, params.template!, body as z.infer<typeof putTemplateRequest>, deps.now?.()) };
  },
  async deleteTemplate({ deps, bucket, params }) {
    await deleteTemplate(deps.store, bucket!.id, params.template!);
  },
  testTemplate,
  async listScheduled({ deps, bucket }) {
    return { scheduled: await listPendingScheduled(deps.store, bucket!.id) };
  },
  async cancelScheduled({ deps, bucket, params }) {
    const cancelled = await cancelScheduled(deps, bucket!.id, params.notificationId!);
    if (!cancelled) throw new HeraldError('notification_not_found', `no scheduled notification ${params.notificationId!.slice(0, 64)} in this bucket`);
    return cancelled;
  },
  listNotifications: history,
  getNotification: notificationDetail,
  async listDeadLetters({ deps, query }) {
    return peekDeadLetters({ ...deadLettersOf(deps), store: deps.store }, (query.limit as number | undefined) ?? 50);
  },
  async redriveDeadLetters({ deps }) {
    return startRedrive(deadLettersOf(deps).redrive);
  },
  async getRedriveStatus({ deps }) {
    return { tasks: await deadLettersOf(deps).redrive.list() };
  },
  async refreshDeviceToken({ deps, bucket, params, body }) {
    return { device: publicDevice(await refreshDevice(deps, bucket!.id, params.deviceId!, (body as { token: string }).token)) };
  },
  async unregisterDevice({ deps, bucket, params }) {
    await unregisterDevice(deps, bucket!.id, params.deviceId!);
  },
  listOwnNotifications: history,
  getOwnNotification: notificationDetail,
  clearNotification: clear,
  clearMessage: clear,
};

interface CompiledRoute {
  readonly spec: RouteSpec;
  readonly pattern: RegExp;
  readonly names: string[];
}

const COMPILED: CompiledRoute[] = MANAGEMENT_ROUTES.map((spec) => {
  const names: string[] = [];
  const source = spec.path.replace(/\{(\w+)\}/g, (_match, name: string) => {
    names.push(name);
    return '([^/]+)';
  });
  return { spec, pattern: new RegExp(`^${source}$`), names };
});

/** Whether a path is one of the management API's (so the public router leaves it alone). */
export function isManagementPath(path: string): boolean {
  return COMPILED.some((route) => route.pattern.test(path));
}

function parse<T>(schema: z.ZodType<T> | undefined, value: unknown): T | undefined {
  if (!schema) return undefined;
  const result = schema.safeParse(value);
  if (!result.success) throw new HeraldError('validation_failed', describeIssues(result.error.issues));
  return result.data;
}

/**
 * The management API: admin routes (the caller is IAM-authorized by API Gateway, or by local
 * mode's SigV4 check: `iamAuthorized`) and the token-authorized device and history routes.
 * Returns undefined for a path that is not one of its routes.
 */
export async function handleManagementRequest(request: HttpRequest, deps: ManagementDeps, iamAuthorized: boolean): Promise<HttpResponse | undefined> {
  const path = request.path.length > 1 ? request.path.replace(/\/+$/, '') : request.path;
  const matches = COMPILED.filter((route) => route.pattern.test(path));
  if (matches.length === 0) return undefined;
  const route = matches.find((candidate) => candidate.spec.method === request.method.toUpperCase());
  if (!route) {
    const allow = matches.map((candidate) => candidate.spec.method).join(', ');
    throw new HeraldError('method_not_allowed', `${path.slice(0, 200)} accepts ${allow}`, { allow });
  }
  const values = route.pattern.exec(path)!.slice(1);
  const params = Object.fromEntries(route.names.map((name, index) => [name, decodePathSegment(values[index]!)]));
  let bucket: Bucket | undefined;
  const { authorization } = route.spec;
  if (authorization === 'iam') {
    if (!iamAuthorized) throw new HeraldError('forbidden', 'the admin API is authorized with AWS IAM: sign the request with SigV4 (the herald CLI does)');
    if (params.bucket !== undefined) {
      bucket = await findBucket(deps.store, params.bucket);
      if (!bucket) throw new HeraldError('not_found', `no bucket "${params.bucket.slice(0, 64)}"`);
    }
  } else if (authorization !== 'none') {
    const caller = await authenticate(deps.store, request);
    requireScope(caller, authorization.scope);
    bucket = await findBucket(deps.store, caller.bucketId);
    if (!bucket) throw new HeraldError('not_found', 'the token\'s bucket no longer exists');
  }
  const body = parse(route.spec.body, route.spec.body ? decodeFields(request) : undefined);
  const { token: _t, access_token: _a, magicCode: _m, ...queryFields } = request.query;
  const query = (parse(route.spec.query, queryFields) ?? {}) as Record<string, unknown>;
  const result = await HANDLERS[route.spec.operationId]!({ deps, params, body, query, bucket });
  return route.spec.response ? jsonResponse(route.spec.status, result) : emptyResponse(route.spec.status);
}
