export default async function globalTeardown(): Promise<void> {
  await (globalThis as { heraldStandIns?: { stop(): Promise<void> } }).heraldStandIns?.stop();
}
