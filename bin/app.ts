#!/usr/bin/env node
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { HeraldStack } from '../lib/herald-stack';

/**
 * `npx cdk deploy` entry. Push credentials, the alarm address and a custom domain come from context:
 *   -c herald:apnsSecretName=herald/apns -c herald:fcmSecretName=herald/fcm -c herald:alarmEmail=ops@example.com
 *   -c herald:domainName=push.example.com -c herald:certificateArn=arn:aws:acm:<region>:<account>:certificate/<id>
 */
const app = new App();
const context = (key: string): string | undefined => {
  const value: unknown = app.node.tryGetContext(`herald:${key}`);
  return value === undefined || value === '' ? undefined : String(value);
};
const apnsEnvironments = context('apnsEnvironments')?.split(',').map((env) => env.trim()) as ('production' | 'sandbox')[] | undefined;

new HeraldStack(app, 'Herald', {
  description: 'Herald: self-hosted push notifications for identity-provider webhooks',
  apnsSecretName: context('apnsSecretName'),
  apnsEnvironments,
  fcmSecretName: context('fcmSecretName'),
  pushSecretRevision: context('pushSecretRevision'),
  alarmEmail: context('alarmEmail'),
  domainName: context('domainName'),
  certificateArn: context('certificateArn'),
  historyDays: context('historyDays') === undefined ? undefined : Number(context('historyDays')),
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
