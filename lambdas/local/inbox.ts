import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { FCM_CHANNEL_QUIET } from '../core/push/fcm';
import type { RecordedPush } from './local-push';

/** What a phone draws, read back from the push payload (APNs preferred: it has the subtitle). */
export interface InboxCard {
  readonly title: string;
  readonly subtitle?: string;
  readonly body?: string;
  readonly imageUrl?: string;
  readonly tapUrl?: string;
  readonly actions?: unknown[];
  readonly deliveryType: string;
  readonly groupId?: string;
  readonly collapseId?: string;
  readonly tags?: string[];
  readonly sound?: string;
  readonly interruptionLevel?: string;
  /** Delivered quietly (the bucket's quiet hours or snooze): listed without sound or banner. */
  readonly passive?: boolean;
}

export interface InboxDelivery {
  readonly deviceId?: string;
  readonly deviceName?: string;
  readonly platform: 'ios' | 'android';
  readonly key: string;
  readonly endpointArn: string;
  readonly payload: Record<string, unknown>;
  readonly attributes: Record<string, string>;
  readonly publishedAt: string;
}

export interface InboxEntry {
  /** The notification id (or the SQS message id of a dead letter that has none). */
  readonly id: string;
  readonly bucketId?: string;
  readonly receivedAt: string;
  readonly status: 'delivered' | 'failed';
  readonly failure?: string;
  readonly card?: InboxCard;
  readonly deliveries: InboxDelivery[];
  /** When the first clear push for it arrived (DELETE /notifications/{id}): a phone removes it. */
  readonly clearedAt?: string;
  /** The silent clear pushes, kept apart from the notification's own. */
  readonly clears?: InboxDelivery[];
}

export type InboxEvent = { type: 'notification' | 'failed' | 'cleared'; entry: InboxEntry };

export interface DeviceInfo {
  readonly id: string;
  readonly name?: string;
  readonly platform: 'ios' | 'android';
}

const KEEP = 500;

/**
 * The device inbox: every push the local transport recorded, grouped by notification, plus dead
 * letters. Kept in memory (newest KEEP) and appended to a JSON-lines file in the data directory.
 */
export class Inbox {
  private readonly entries = new Map<string, InboxEntry>();
  private readonly listeners = new Set<(event: InboxEvent) => void>();

  constructor(private readonly file?: string) {
    if (file && existsSync(file)) {
      for (const line of readFileSync(file, 'utf8').split('\n')) {
        if (!line.trim()) continue;
        try {
          const entry = JSON.parse(line) as InboxEntry;
          this.entries.delete(entry.id); // a later line is the newer state
          this.entries.set(entry.id, entry);
        } catch {
          // A torn last line from a killed process: skip it.
        }
      }
      this.trim();
    }
  }

  /** Adds a recorded push to its notification's entry. */
  addPush(push: RecordedPush, device: DeviceInfo | undefined): InboxEntry {
    if (isClearPush(push)) return this.addClear(push, device);
    const ids = notificationIds(push);
    const existing = this.entries.get(ids.id);
    const delivery = deliveryOf(push, device);
    const deliveries = [...(existing?.deliveries ?? []), delivery];
    const entry: InboxEntry = {
      id: ids.id,
      bucketId: ids.bucketId,
      receivedAt: existing?.receivedAt ?? push.publishedAt,
      status: 'delivered',
      card: cardOf(deliveries),
      deliveries,
      ...clearOf(existing),
    };
    this.save(entry, 'notification');
    return entry;
  }

  /**
   * A clear push marks its notification cleared (kept, so the page can show removed ones), and
   * keeps the clear apart from the notification's payloads. A clear of a notification this inbox
   * never saw is kept too, with no card.
   */
  private addClear(push: RecordedPush, device: DeviceInfo | undefined): InboxEntry {
    const ids = notificationIds(push);
    const existing = this.entries.get(ids.id);
    const entry: InboxEntry = {
      id: ids.id,
      bucketId: existing?.bucketId ?? ids.bucketId,
      receivedAt: existing?.receivedAt ?? push.publishedAt,
      status: existing?.status ?? 'delivered',
      ...(existing?.failure ? { failure: existing.failure } : {}),
      ...(existing?.card ? { card: existing.card } : {}),
      deliveries: existing?.deliveries ?? [],
      clearedAt: existing?.clearedAt ?? push.publishedAt,
      clears: [...(existing?.clears ?? []), deliveryOf(push, device)],
    };
    this.save(entry, 'cleared');
    return entry;
  }

  /** Records a dead letter: a notification that was not delivered. */
  addFailure(id: string, failure: string, card?: InboxCard, bucketId?: string): InboxEntry {
    const existing = this.entries.get(id);
    const entry: InboxEntry = {
      id,
      bucketId: bucketId ?? existing?.bucketId,
      receivedAt: existing?.receivedAt ?? new Date().toISOString(),
      status: 'failed',
      failure,
      card: card ?? existing?.card,
      deliveries: existing?.deliveries ?? [],
      ...clearOf(existing),
    };
    this.save(entry, 'failed');
    return entry;
  }

  /** Newest first. */
  list(): InboxEntry[] {
    return [...this.entries.values()].reverse();
  }

  get(id: string): InboxEntry | undefined {
    return this.entries.get(id);
  }

  subscribe(listener: (event: InboxEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private save(entry: InboxEntry, type: InboxEvent['type']): void {
    this.entries.delete(entry.id);
    this.entries.set(entry.id, entry);
    this.trim();
    if (this.file) appendFileSync(this.file, `${JSON.stringify(entry)}\n`);
    for (const listener of this.listeners) listener({ type, entry });
  }

  private trim(): void {
    while (this.entries.size > KEEP) this.entries.delete(this.entries.keys().next().value!);
  }
}

/** An entry's clear, carried over when a later push or failure replaces the entry. */
function clearOf(entry: InboxEntry | undefined): Pick<InboxEntry, 'clearedAt' | 'clears'> {
  return entry?.clearedAt ? { clearedAt: entry.clearedAt, clears: entry.clears ?? [] } : {};
}

function deliveryOf(push: RecordedPush, device: DeviceInfo | undefined): InboxDelivery {
  return {
    deviceId: device?.id,
    deviceName: device?.name,
    platform: push.key === 'GCM' ? 'android' : 'ios',
    key: push.key,
    endpointArn: push.endpointArn,
    payload: push.payload,
    attributes: push.attributes,
    publishedAt: push.publishedAt,
  };
}

/** The silent push of DELETE /notifications/{id} (lambdas/core/push/clear.ts). */
export function isClearPush(push: Pick<RecordedPush, 'key' | 'payload'>): boolean {
  if (push.key === 'GCM') {
    const data = ((push.payload.fcmV1Message as { message?: { data?: Record<string, string> } })?.message?.data) ?? {};
    return data.herald_action === 'clear';
  }
  return (push.payload.herald as Record<string, unknown> | undefined)?.action === 'clear';
}

function notificationIds(push: RecordedPush): { id: string; bucketId?: string } {
  if (push.key === 'GCM') {
    const data = ((push.payload.fcmV1Message as { message?: { data?: Record<string, string> } })?.message?.data) ?? {};
    return { id: data.herald_id ?? push.messageId, bucketId: data.bucket_id };
  }
  const herald = (push.payload.herald ?? {}) as Record<string, string>;
  return { id: herald.id ?? push.messageId, bucketId: herald.bucketId };
}

/** Reads the card back from the payloads: what the devices would show. */
export function cardOf(deliveries: readonly InboxDelivery[]): InboxCard | undefined {
  const apns = deliveries.find((delivery) => delivery.key !== 'GCM');
  if (apns) {
    const aps = (apns.payload.aps ?? {}) as Record<string, unknown>;
    const alert = (aps.alert ?? {}) as Record<string, string>;
    const herald = (apns.payload.herald ?? {}) as Record<string, unknown>;
    return {
      title: alert.title ?? (herald.title as string) ?? '',
      subtitle: alert.subtitle ?? (herald.subtitle as string | undefined),
      body: alert.body ?? (herald.body as string | undefined),
      imageUrl: herald.imageUrl as string | undefined,
      tapUrl: herald.tapUrl as string | undefined,
      actions: herald.actions as unknown[] | undefined,
      deliveryType: (herald.deliveryType as string) ?? 'NORMAL',
      groupId: herald.groupId as string | undefined,
      collapseId: herald.collapseId as string | undefined,
      tags: herald.tags as string[] | undefined,
      sound: aps.sound as string | undefined,
      interruptionLevel: aps['interruption-level'] as string | undefined,
      ...(aps['interruption-level'] === 'passive' ? { passive: true } : {}),
    };
  }
  const fcm = deliveries.find((delivery) => delivery.key === 'GCM');
  if (!fcm) return undefined;
  const message = ((fcm.payload.fcmV1Message as { message?: Record<string, unknown> })?.message) ?? {};
  const notification = (message.notification ?? {}) as Record<string, string>;
  const data = (message.data ?? {}) as Record<string, string>;
  const channel = ((message.android as { notification?: { channel_id?: string } } | undefined)?.notification)?.channel_id;
  return {
    title: notification.title ?? data.title ?? '',
    subtitle: data.subtitle,
    body: notification.body ?? data.body,
    imageUrl: notification.image ?? data.image_url,
    tapUrl: data.tap_url,
    actions: data.actions ? (JSON.parse(data.actions) as unknown[]) : undefined,
    deliveryType: data.delivery_type ?? 'NORMAL',
    groupId: data.group_id,
    collapseId: data.collapse_id,
    tags: data.tags ? data.tags.split(',') : undefined,
    ...(channel === FCM_CHANNEL_QUIET ? { passive: true } : {}),
  };
}
