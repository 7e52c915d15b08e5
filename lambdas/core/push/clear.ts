import type { Notification } from '../notification';
import { DEFAULT_PUSH_TTL_SECONDS } from './budget';
import { compact, stringAttribute } from './payload-parts';
import type { EndpointPublishInput, PushTarget } from './publish-request';
import type { ApnsEnvironment, PlatformPayload } from './types';

/**
 * The silent push that tells the app to remove a notification it shows (DELETE
 * /notifications/{id}); docs/app-integration.md says what the app does with it. It carries only
 * ids, so it is far below the 4 KB budget and needs no shortening.
 */
export const CLEAR_ACTION = 'clear';

/**
 * APNs: a background push (`content-available: 1` and nothing else in `aps`: no alert, no sound),
 * push type `background` at priority 5 as Apple requires, and the ids under `herald`. It has no
 * `apns-collapse-id`: a background push must not take the place of the notification it clears.
 */
export function buildApnsClearPayload(notification: Notification, environment: ApnsEnvironment): PlatformPayload {
  const key = environment === 'sandbox' ? 'APNS_SANDBOX' : 'APNS';
  const payload = {
    aps: { 'content-available': 1 },
    herald: compact({ action: CLEAR_ACTION, id: notification.id, bucketId: notification.bucketId, collapseId: notification.collapseId }),
  };
  return {
    key,
    payload: JSON.stringify(payload),
    attributes: {
      'AWS.SNS.MOBILE.APNS.PUSH_TYPE': stringAttribute('background'),
      'AWS.SNS.MOBILE.APNS.PRIORITY': stringAttribute('5'),
      [`AWS.SNS.MOBILE.${key}.TTL`]: stringAttribute(String(DEFAULT_PUSH_TTL_SECONDS)),
    },
    truncated: false,
  };
}

/**
 * FCM v1: a data-only message (no `notification` block, so Android shows nothing and the app's
 * FirebaseMessagingService gets it) at normal priority, with the same data as the APNs `herald`
 * dictionary in FCM's flat snake_case keys. No `collapse_key`, for the same reason as on APNs.
 */
export function buildFcmClearPayload(notification: Notification): PlatformPayload {
  const data = compact({
    herald_action: CLEAR_ACTION,
    herald_id: notification.id,
    bucket_id: notification.bucketId,
    collapse_id: notification.collapseId,
  });
  const message = { data, android: { priority: 'normal', ttl: `${DEFAULT_PUSH_TTL_SECONDS}s` } };
  return {
    key: 'GCM',
    payload: JSON.stringify({ fcmV1Message: { validate_only: false, message } }),
    attributes: { 'AWS.SNS.MOBILE.FCM.TTL': stringAttribute(String(DEFAULT_PUSH_TTL_SECONDS)) },
    truncated: false,
  };
}

/** The SNS `Publish` input of the clear push to one device endpoint (shaped as buildPublishInput's). */
export function buildClearPublishInput(notification: Notification, target: PushTarget): EndpointPublishInput {
  const platformPayload = target.platform === 'ios' ? buildApnsClearPayload(notification, target.environment ?? 'production') : buildFcmClearPayload(notification);
  return {
    TargetArn: target.endpointArn,
    MessageStructure: 'json',
    // `default` is read only by non-mobile subscribers.
    Message: JSON.stringify({ default: `Herald: notification ${notification.id} cleared`, [platformPayload.key]: platformPayload.payload }),
    MessageAttributes: platformPayload.attributes,
  };
}
