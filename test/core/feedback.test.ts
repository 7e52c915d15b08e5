import {
  disableReasonFor,
  ENDPOINT_DELETED_REASON,
  failureTypeDimension,
  parsePlatformEvent,
  PlatformEventFormatError,
  type PlatformEvent,
} from '../../lambdas/core/feedback';

const ENDPOINT_ARN = 'arn:aws:sns:eu-central-1:121212121212:endpoint/GCM/PushNotification/3f08fd15-d349-3d82-b415-49df9ff9d8dd';
const APPLICATION_ARN = 'arn:aws:sns:eu-central-1:121212121212:app/GCM/PushNotification';

/** The DeliveryFailure event as AWS re:Post shows it ("sns push notification list of available failuretypes"). */
const DELIVERY_FAILURE = {
  DeliveryAttempts: 1,
  EndpointArn: ENDPOINT_ARN,
  EventType: 'DeliveryFailure',
  FailureMessage: 'Platform token associated with the endpoint is not valid',
  FailureType: 'InvalidPlatformToken',
  MessageId: 'dd686e01-3f8f-56f7-9683-348cb97d649a',
  Resource: APPLICATION_ARN,
  Service: 'SNS',
  Time: '2022-02-21T12:25:22.787Z',
};

/** An APNs EndpointNotFound failure, as delivered inside SNS's notification envelope (no raw delivery). */
const ENVELOPED_ENDPOINT_NOT_FOUND = JSON.stringify({
  Type: 'Notification',
  MessageId: 'a8fc525e-5575-5a61-ad09-01025bb9c110',
  TopicArn: 'arn:aws:sns:us-east-1:123456789012:herald-events',
  Subject: 'DeliveryFailure event for app com.some.app (APNS)',
  Message: JSON.stringify({
    DeliveryAttempts: 1,
    EndpointArn: 'arn:aws:sns:us-east-1:123456789012:endpoint/APNS/com.some.app/3f08fd15-d349-3d82-b415-49df9ff9d8dd',
    EventType: 'DeliveryFailure',
    FailureMessage: 'Endpoint was not found',
    FailureType: 'EndpointNotFound',
    MessageId: '4e658b3c-8738-5a67-a13b-d86089f45074',
    Resource: 'arn:aws:sns:us-east-1:123456789012:app/APNS/com.some.app',
    Service: 'SNS',
    Time: '2018-04-26T17:29:48.732Z',
  }),
  Timestamp: '2018-04-26T17:29:48.776Z',
  SignatureVersion: '1',
});

describe('parsePlatformEvent', () => {
  test('reads a DeliveryFailure event (raw message delivery)', () => {
    expect(parsePlatformEvent(JSON.stringify(DELIVERY_FAILURE))).toEqual({
      eventType: 'DeliveryFailure',
      endpointArn: ENDPOINT_ARN,
      applicationArn: APPLICATION_ARN,
      time: new Date('2022-02-21T12:25:22.787Z'),
      failureType: 'InvalidPlatformToken',
      messageId: 'dd686e01-3f8f-56f7-9683-348cb97d649a',
      deliveryAttempts: 1,
    });
  });

  test('reads the event inside an SNS notification envelope', () => {
    expect(parsePlatformEvent(ENVELOPED_ENDPOINT_NOT_FOUND)).toMatchObject({
      eventType: 'DeliveryFailure',
      failureType: 'EndpointNotFound',
      endpointArn: 'arn:aws:sns:us-east-1:123456789012:endpoint/APNS/com.some.app/3f08fd15-d349-3d82-b415-49df9ff9d8dd',
      messageId: '4e658b3c-8738-5a67-a13b-d86089f45074',
    });
  });

  test('reads EndpointDeleted from the fields every event carries', () => {
    const body = JSON.stringify({ EventType: 'EndpointDeleted', EndpointArn: ENDPOINT_ARN, Resource: APPLICATION_ARN, Service: 'SNS', Time: '2025-06-01T12:00:00.000Z' });

    expect(parsePlatformEvent(body)).toEqual({ eventType: 'EndpointDeleted', endpointArn: ENDPOINT_ARN, applicationArn: APPLICATION_ARN, time: new Date('2025-06-01T12:00:00.000Z') });
  });

  test.each([
    ['"false"', 'false', false],
    ['"true"', 'true', true],
  ])('reads an EndpointUpdated event\'s Enabled attribute %s', (_label, enabled, expected) => {
    const body = JSON.stringify({ EventType: 'EndpointUpdated', EndpointArn: ENDPOINT_ARN, Attributes: { Enabled: enabled, Token: 'device-token-never-kept' } });

    const event = parsePlatformEvent(body);

    expect(event.enabled).toBe(expected);
    expect(JSON.stringify(event)).not.toContain('device-token-never-kept');
  });

  test('keeps nothing but the fields it knows: no FailureMessage, no attribute, no unknown field', () => {
    const body = JSON.stringify({ ...DELIVERY_FAILURE, Attributes: { Token: 'device-token-never-kept' }, CustomUserData: 'secret-ish' });

    expect(Object.keys(parsePlatformEvent(body)).sort()).toEqual(['applicationArn', 'deliveryAttempts', 'endpointArn', 'eventType', 'failureType', 'messageId', 'time']);
  });

  test.each<[string, string, RegExp]>([
    ['not JSON', 'device-token-abc', /^message body is not JSON$/],
    ['a JSON array', '[]', /not a JSON object/],
    ['an unknown EventType', JSON.stringify({ ...DELIVERY_FAILURE, EventType: 'Ping' }), /EventType must be one of DeliveryFailure, EndpointCreated, EndpointDeleted, EndpointUpdated \(given a string of 4 characters\)/],
    ['no EndpointArn', JSON.stringify({ EventType: 'EndpointDeleted' }), /EndpointArn must be an SNS platform endpoint ARN \(undefined given\)/],
    ['a topic ARN for EndpointArn', JSON.stringify({ EventType: 'EndpointDeleted', EndpointArn: 'arn:aws:sns:us-east-1:123456789012:topic' }), /EndpointArn must be/],
    ['a DeliveryFailure without FailureType', JSON.stringify({ ...DELIVERY_FAILURE, FailureType: undefined }), /FailureType must be a failure name/],
    ['an envelope whose Message is not JSON', JSON.stringify({ Type: 'Notification', Message: 'token=abc' }), /^SNS Message is not JSON$/],
  ])('refuses %s, without echoing the message', (_case, body, message) => {
    let error: unknown;
    try {
      parsePlatformEvent(body);
    } catch (caught) {
      error = caught;
    }

    expect(error).toBeInstanceOf(PlatformEventFormatError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('token');
  });
});

describe('disableReasonFor', () => {
  const event = (overrides: Partial<PlatformEvent>): PlatformEvent => ({ eventType: 'DeliveryFailure', endpointArn: ENDPOINT_ARN, ...overrides });

  test.each<[string, Partial<PlatformEvent>, string | undefined]>([
    ['a dead token (InvalidPlatformToken)', { failureType: 'InvalidPlatformToken' }, 'InvalidPlatformToken'],
    ['a disabled endpoint (EndpointDisabled)', { failureType: 'EndpointDisabled' }, 'EndpointDisabled'],
    ['a missing endpoint (EndpointNotFound)', { failureType: 'EndpointNotFound' }, ENDPOINT_DELETED_REASON],
    ['another delivery failure', { failureType: 'PayloadTooLarge' }, undefined],
    ['EndpointDeleted', { eventType: 'EndpointDeleted' }, ENDPOINT_DELETED_REASON],
    ['EndpointUpdated to disabled', { eventType: 'EndpointUpdated', enabled: false }, 'EndpointDisabled'],
    ['EndpointUpdated to enabled', { eventType: 'EndpointUpdated', enabled: true }, undefined],
    ['EndpointUpdated without attributes', { eventType: 'EndpointUpdated' }, undefined],
    ['EndpointCreated', { eventType: 'EndpointCreated' }, undefined],
  ])('%s', (_case, overrides, reason) => {
    expect(disableReasonFor(event(overrides))).toBe(reason);
  });
});

describe('failureTypeDimension', () => {
  test('keeps the failure types Herald knows, and folds the rest into Other, so the metric stays bounded', () => {
    const dimension = (failureType?: string) => failureTypeDimension({ eventType: 'DeliveryFailure', endpointArn: ENDPOINT_ARN, failureType });

    expect(dimension('InvalidPlatformToken')).toBe('InvalidPlatformToken');
    expect(dimension('EndpointDisabled')).toBe('EndpointDisabled');
    expect(dimension('EndpointNotFound')).toBe('EndpointNotFound');
    expect(dimension('SomethingNew')).toBe('Other');
    expect(dimension(undefined)).toBe('None');
  });
});
