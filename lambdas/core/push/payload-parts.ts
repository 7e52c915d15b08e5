import type { Notification } from '../notification';
import type { MessageAttribute, PushPresentation } from './types';

/** Pieces both payload builders (APNs and FCM) are made of. */

export function assertPushable(notification: Notification): void {
  if (notification.deliveryType === 'NO_PUSH') {
    throw new Error(`notification ${notification.id} is NO_PUSH and must not be pushed`);
  }
}

/** Only a NORMAL notification is ever passive: CRITICAL always alerts, SILENT shows nothing. */
export function isPassive(notification: Notification, presentation: PushPresentation): boolean {
  return presentation === 'passive' && notification.deliveryType === 'NORMAL';
}

export function stringAttribute(value: string): MessageAttribute {
  return { DataType: 'String', StringValue: value };
}

export function nonEmpty(text: string | undefined): string | undefined {
  return text ? text : undefined;
}

export function nonEmptyList<T>(list: readonly T[] | undefined): readonly T[] | undefined {
  return list && list.length > 0 ? list : undefined;
}

/** Leaves out undefined fields, so the payload carries only what the notification has. */
export function compact<T extends Record<string, unknown>>(record: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined)) as {
    [K in keyof T]?: Exclude<T[K], undefined>;
  };
}
