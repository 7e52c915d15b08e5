import type { Notification } from './notification';
import { deliveryMode, type Presentation, type QuietSettings } from './quiet-hours';
import { getBucket } from './store/buckets';
import { decidePresentation } from './store/history';
import type { Store } from './store/table';

/** Reads a bucket's quiet-hours settings (empty for a bucket that is gone). */
export type QuietSettingsReader = (bucketId: string) => Promise<QuietSettings>;

export function readQuietSettings(store: Store): QuietSettingsReader {
  return async (bucketId) => {
    const bucket = await getBucket(store, bucketId);
    return bucket ? { timeZone: bucket.timeZone, quietHours: bucket.quietHours, snoozeUntil: bucket.snoozeUntil } : {};
  };
}

/** Buckets remembered at once by one container; past it the cache starts over. */
const CACHE_MAX_BUCKETS = 1000;

/**
 * Remembers each bucket's settings for `ttlMs` in this Lambda container, so a burst of jobs for one
 * bucket reads it once; a change (a new snooze) takes effect within `ttlMs`. 0 reads every time.
 */
export function cachedQuietSettings(read: QuietSettingsReader, ttlMs: number, clock: () => number = Date.now): QuietSettingsReader {
  if (!(ttlMs > 0)) return read; // 0, or a setting that is no number: no cache
  const cache = new Map<string, { settings: QuietSettings; until: number }>();
  return async (bucketId) => {
    const hit = cache.get(bucketId);
    if (hit && hit.until > clock()) return hit.settings;
    const settings = await read(bucketId);
    if (cache.size >= CACHE_MAX_BUCKETS) cache.clear();
    cache.set(bucketId, { settings, until: clock() + ttlMs });
    return settings;
  };
}

/**
 * How this notification is shown on the devices, decided once per notification: CRITICAL and
 * SILENT need nothing read; a NORMAL one reads its bucket's quiet settings (one GetItem, or the
 * cache) and records the answer, so later pages and retries present it the same way.
 */
export async function presentationFor(
  deps: { store: Store; quietSettings?: QuietSettingsReader; historyDays?: number },
  notification: Notification,
  now: Date,
): Promise<Presentation> {
  if (notification.deliveryType !== 'NORMAL') return deliveryMode({}, notification.deliveryType, now);
  const settings = await (deps.quietSettings ?? readQuietSettings(deps.store))(notification.bucketId);
  return decidePresentation(deps.store, notification, deliveryMode(settings, 'NORMAL', now), now, deps.historyDays);
}
