import { startStandIns, useStandIns } from '../../lambdas/local/stand-ins';

/**
 * Starts dynalite and fauxqs once for the whole run, on loopback, and points every worker's AWS SDK
 * at them through the standard AWS_ENDPOINT_URL_* variables (inherited by the workers).
 */
export default async function globalSetup(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const standIns = await startStandIns();
  useStandIns(standIns);
  (globalThis as { heraldStandIns?: typeof standIns }).heraldStandIns = standIns;
}
