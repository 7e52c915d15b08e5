import type { Notification } from '../notification';

export type DevicePlatform = 'ios' | 'android';
export type ApnsEnvironment = 'production' | 'sandbox';

/** The SNS `MessageStructure: json` key a device is reached through (aws-notes.md §1.3). */
export type PlatformKey = 'APNS' | 'APNS_SANDBOX' | 'GCM';

export interface MessageAttribute {
  readonly DataType: 'String';
  readonly StringValue: string;
}

/** A platform payload ready for SNS: the serialized APNs or FCM JSON and its reserved attributes. */
export interface PlatformPayload {
  readonly key: PlatformKey;
  /** The serialized platform JSON: the value SNS expects as an escaped string. */
  readonly payload: string;
  /** SNS reserved attributes that become APNs headers / FCM TTL (aws-notes.md §1.4). */
  readonly attributes: Readonly<Record<string, MessageAttribute>>;
  /** True when the body (or other text) was shortened to fit the 4 KB budget. */
  readonly truncated: boolean;
}

/**
 * How a NORMAL notification is shown: `alert` (sound, banner) or `passive` (listed quietly, during
 * the bucket's quiet hours or snooze). CRITICAL and SILENT ignore it.
 */
export type PushPresentation = 'alert' | 'passive';

export type PayloadBuilder = (notification: Notification) => PlatformPayload;
