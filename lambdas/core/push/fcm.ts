import type { Notification } from '../notification';
import { DEFAULT_PUSH_TTL_SECONDS, fitToBudget, type BudgetTexts } from './budget';
import { assertPushable, compact, isPassive, nonEmpty, nonEmptyList, stringAttribute } from './payload-parts';
import type { PlatformPayload, PushPresentation } from './types';

/** Android notification channels the app creates: CRITICAL gets its own, louder one. */
export const FCM_CHANNEL_DEFAULT = 'herald_default';
export const FCM_CHANNEL_CRITICAL = 'herald_critical';
/** Low importance (no sound, no heads-up): NORMAL notifications in quiet hours or while snoozed. */
export const FCM_CHANNEL_QUIET = 'herald_quiet';

type Text = 'title' | 'subtitle' | 'body';
/** Dropped only as a last resort, in this order (see fitToBudget). `collapseId` drops only the
 * `data` copy: `collapse_key` and `tag` keep it. */
type DroppablePart = 'tags' | 'actions' | 'imageUrl' | 'tapUrl' | 'groupId' | 'collapseId';
const DROP_ORDER: readonly DroppablePart[] = ['tags', 'actions', 'imageUrl', 'tapUrl', 'groupId', 'collapseId'];
const SHORTEN_ORDER: readonly Text[] = ['body', 'subtitle', 'title'];

/**
 * Builds the SNS `GCM` value: FCM HTTP v1 in SNS's `fcmV1Message` wrapper, whose `message` follows
 * Google's `projects.messages` schema without `token` (SNS supplies it; aws-notes.md §1.3).
 *
 * - NORMAL / CRITICAL: a notification message on channel `herald_default` / `herald_critical`
 *   (`PRIORITY_DEFAULT` / `PRIORITY_MAX`), high delivery priority.
 * - NORMAL, `passive` (quiet hours, snooze): channel `herald_quiet`, `PRIORITY_LOW`, no sound,
 *   normal delivery priority, and `data.presentation: "passive"`.
 * - SILENT: a data-only message (the texts go into `data`) at normal priority, so the app wakes
 *   without showing anything.
 *
 * `data` values are all strings, as FCM v1 requires: tags as CSV, actions as JSON text. The 4 KB
 * budget is measured on the serialized GCM string.
 */
export function buildFcmPayload(notification: Notification, presentation: PushPresentation = 'alert'): PlatformPayload {
  assertPushable(notification);
  const passive = isPassive(notification, presentation);
  const { serialized, truncated } = fitToBudget<Text, DroppablePart>({
    render: (texts, dropped) => JSON.stringify({ fcmV1Message: fcmV1Message(notification, texts, dropped, passive) }),
    texts: { title: notification.title, subtitle: notification.subtitle, body: notification.body },
    shortenOrder: SHORTEN_ORDER,
    dropOrder: DROP_ORDER,
  });
  return {
    key: 'GCM',
    payload: serialized,
    attributes: { 'AWS.SNS.MOBILE.FCM.TTL': stringAttribute(String(DEFAULT_PUSH_TTL_SECONDS)) },
    truncated,
  };
}

function fcmV1Message(notification: Notification, texts: BudgetTexts<Text>, dropped: ReadonlySet<DroppablePart>, passive: boolean) {
  const keep = <T>(part: DroppablePart, value: T): T | undefined => (dropped.has(part) ? undefined : value);
  const silent = notification.deliveryType === 'SILENT';
  const critical = notification.deliveryType === 'CRITICAL';
  const imageUrl = keep('imageUrl', notification.imageUrl);
  const actions = keep('actions', nonEmptyList(notification.actions));
  const tags = keep('tags', nonEmptyList(notification.tags));

  const data = definedStrings({
    herald_id: notification.id,
    bucket_id: notification.bucketId,
    delivery_type: notification.deliveryType,
    presentation: passive ? 'passive' : undefined,
    // A data-only message has no `notification` block: the app renders or stores the texts.
    title: silent ? texts.title : undefined,
    subtitle: nonEmpty(texts.subtitle), // Android notifications have no subtitle field
    body: silent ? nonEmpty(texts.body) : undefined,
    tap_url: keep('tapUrl', notification.tapUrl),
    image_url: imageUrl,
    group_id: keep('groupId', notification.groupId),
    collapse_id: keep('collapseId', notification.collapseId),
    source: notification.source,
    tags: tags?.join(','),
    actions: actions ? JSON.stringify(actions) : undefined,
  });

  const ttl = `${DEFAULT_PUSH_TTL_SECONDS}s`; // google.protobuf.Duration in JSON: seconds + "s"
  const message = silent
    ? {
        data,
        android: compact({ priority: 'normal', ttl, collapse_key: notification.collapseId }),
      }
    : {
        notification: compact({ title: texts.title, body: nonEmpty(texts.body), image: imageUrl }),
        data,
        android: compact({
          // A quiet notification need not wake the device at once.
          priority: passive ? 'normal' : 'high',
          ttl,
          collapse_key: notification.collapseId,
          notification: compact({
            channel_id: critical ? FCM_CHANNEL_CRITICAL : passive ? FCM_CHANNEL_QUIET : FCM_CHANNEL_DEFAULT,
            // Same tag → the shown notification is replaced, as APNs does with apns-collapse-id.
            // Without a collapse id the tag is the notification's own id, so the app can find
            // and remove it on a clear (docs/app-integration.md); ids are unique, nothing merges.
            tag: notification.collapseId ?? notification.id,
            sound: passive ? undefined : notification.sound,
            notification_priority: critical ? 'PRIORITY_MAX' : passive ? 'PRIORITY_LOW' : 'PRIORITY_DEFAULT',
          }),
        }),
      };
  return { validate_only: false, message };
}


/** FCM v1 `data` is a map<string, string>: absent values are left out, never sent as null. */
function definedStrings(record: Record<string, string | undefined>): Record<string, string> {
  return compact(record) as Record<string, string>;
}
