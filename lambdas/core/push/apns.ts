import type { Notification } from '../notification';
import { DEFAULT_PUSH_TTL_SECONDS, fitToBudget, type BudgetTexts } from './budget';
import { assertPushable, compact, isPassive, nonEmpty, nonEmptyList, stringAttribute } from './payload-parts';
import type { ApnsEnvironment, MessageAttribute, PlatformPayload, PushPresentation } from './types';

/**
 * The `aps.category` of a notification with actions. The app registers a UNNotificationCategory
 * under this id, and its Notification Content Extension draws the buttons from `herald.actions`.
 */
export const APNS_ACTIONS_CATEGORY = 'HERALD_ACTIONS';

type Text = 'title' | 'subtitle' | 'body';
/** Dropped only as a last resort, in this order (see fitToBudget). `groupId` and `collapseId` drop
 * only the `herald` copies: `thread-id` and the collapse header keep them. */
type DroppablePart = 'tags' | 'actions' | 'imageUrl' | 'tapUrl' | 'groupId' | 'collapseId';
const DROP_ORDER: readonly DroppablePart[] = ['tags', 'actions', 'imageUrl', 'tapUrl', 'groupId', 'collapseId'];
const SHORTEN_ORDER: readonly Text[] = ['body', 'subtitle', 'title'];

/**
 * Builds the APNs payload SNS relays for `APNS` (production) or `APNS_SANDBOX`: Apple's `aps`
 * dictionary plus Herald's data under `herald`, within the 4 KB budget, and the reserved message
 * attributes SNS turns into APNs headers (aws-notes.md §1.4).
 *
 * - NORMAL: an alert, `interruption-level: active`, push type `alert`, priority 10.
 * - CRITICAL: the same at `time-sensitive`, which breaks through Focus without Apple's
 *   critical-alert entitlement; it always has a sound.
 * - NORMAL, `passive` (quiet hours, snooze): `interruption-level: passive` and no sound, so it is
 *   listed without lighting the screen; priority 5, and `herald.presentation: "passive"`.
 * - SILENT: a background push (`content-available: 1` and nothing else in `aps`, push type
 *   `background`, priority 5 as Apple requires); the texts travel in `herald` for the app.
 */
export function buildApnsPayload(notification: Notification, environment: ApnsEnvironment, presentation: PushPresentation = 'alert'): PlatformPayload {
  assertPushable(notification);
  const background = notification.deliveryType === 'SILENT';
  const passive = isPassive(notification, presentation);
  const { serialized, truncated } = fitToBudget<Text, DroppablePart>({
    render: (texts, dropped) => JSON.stringify(apnsPayload(notification, texts, dropped, passive)),
    texts: { title: notification.title, subtitle: notification.subtitle, body: notification.body },
    shortenOrder: SHORTEN_ORDER,
    dropOrder: DROP_ORDER,
  });

  const key = environment === 'sandbox' ? 'APNS_SANDBOX' : 'APNS';
  const attributes: Record<string, MessageAttribute> = {
    'AWS.SNS.MOBILE.APNS.PUSH_TYPE': stringAttribute(background ? 'background' : 'alert'),
    'AWS.SNS.MOBILE.APNS.PRIORITY': stringAttribute(background || passive ? '5' : '10'),
    // SNS reads the TTL attribute named for the platform key (aws-notes.md §1.4).
    [`AWS.SNS.MOBILE.${key}.TTL`]: stringAttribute(String(DEFAULT_PUSH_TTL_SECONDS)),
  };
  if (notification.collapseId) {
    attributes['AWS.SNS.MOBILE.APNS.COLLAPSE_ID'] = stringAttribute(notification.collapseId);
  }
  return { key, payload: serialized, attributes, truncated };
}

function apnsPayload(notification: Notification, texts: BudgetTexts<Text>, dropped: ReadonlySet<DroppablePart>, passive: boolean) {
  const keep = <T>(part: DroppablePart, value: T): T | undefined => (dropped.has(part) ? undefined : value);
  const actions = keep('actions', nonEmptyList(notification.actions));
  const imageUrl = keep('imageUrl', notification.imageUrl);
  const background = notification.deliveryType === 'SILENT';

  const aps = background
    ? { 'content-available': 1 }
    : compact({
        alert: compact({ title: texts.title, subtitle: nonEmpty(texts.subtitle), body: nonEmpty(texts.body) }),
        sound: passive ? undefined : (notification.sound ?? 'default'),
        // Zentik groups by bucket when the sender gives no group.
        'thread-id': notification.groupId ?? notification.bucketId,
        'interruption-level': notification.deliveryType === 'CRITICAL' ? 'time-sensitive' : passive ? 'passive' : 'active',
        // Lets the app's Notification Service Extension download and attach the image.
        'mutable-content': imageUrl ? 1 : undefined,
        category: actions ? APNS_ACTIONS_CATEGORY : undefined,
      });

  const herald = compact({
    id: notification.id,
    bucketId: notification.bucketId,
    deliveryType: notification.deliveryType,
    presentation: passive ? 'passive' : undefined,
    // A background push shows nothing, so the app gets the texts here to store or show itself.
    title: background ? texts.title : undefined,
    subtitle: background ? nonEmpty(texts.subtitle) : undefined,
    body: background ? nonEmpty(texts.body) : undefined,
    tapUrl: keep('tapUrl', notification.tapUrl),
    imageUrl,
    actions,
    tags: keep('tags', nonEmptyList(notification.tags)),
    collapseId: keep('collapseId', notification.collapseId),
    groupId: keep('groupId', notification.groupId),
    source: notification.source,
  });
  return { aps, herald };
}
