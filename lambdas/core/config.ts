import type { PlatformApplications } from './push/gateway';

/** Reads a required environment variable, naming it when absent (a deployment error, not a client's). */
export function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is not set`);
  return value;
}

/** The SNS platform applications the stack configured (each absent when its secret is not set). */
export function platformApplicationsFromEnv(): PlatformApplications {
  const apps: PlatformApplications = {};
  if (process.env.HERALD_APNS_APP_ARN) apps.APNS = process.env.HERALD_APNS_APP_ARN;
  if (process.env.HERALD_APNS_SANDBOX_APP_ARN) apps.APNS_SANDBOX = process.env.HERALD_APNS_SANDBOX_APP_ARN;
  if (process.env.HERALD_FCM_APP_ARN) apps.GCM = process.env.HERALD_FCM_APP_ARN;
  return apps;
}
