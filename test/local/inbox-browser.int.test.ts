/// <reference lib="dom" />
import { existsSync, mkdirSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { updateBucket } from '../../lambdas/core/store/buckets';
import { startLocalHerald, type LocalHerald } from '../../lambdas/local/server';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = path.join(__dirname, '..', 'artifacts');
const available = existsSync(CHROMIUM);
if (!available) {
  if (process.env.CI) throw new Error(`Chromium is required in CI but ${CHROMIUM} is missing (.ci/run installs it with apt-get)`);
  // eslint-disable-next-line no-console
  console.warn(`Skipping the inbox browser test: no Chromium at ${CHROMIUM}. Install it with: sudo apt-get install chromium`);
}

/** The device inbox page in real headless Chromium: a notification sent appears live. */
(available ? describe : describe.skip)('device inbox page in Chromium', () => {
  let herald: LocalHerald;
  let browser: Browser;

  beforeAll(async () => {
    const suffix = randomUUID().slice(0, 8);
    herald = await startLocalHerald({
      port: 0,
      standIns: { dynamodbEndpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB!, sqsEndpoint: process.env.AWS_ENDPOINT_URL_SQS! },
      tableName: `herald-browser-${suffix}`,
      queueName: `herald-browser-${suffix}`,
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await herald?.stop();
  });

  test('a sent notification appears live, styled by its delivery type', async () => {
    // GIVEN the inbox is open
    const page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
    await page.goto(`${herald.url}/local/inbox`);
    await page.waitForFunction(() => document.body.innerText.includes('Live'), undefined, { timeout: 15_000 });
    // WHEN a critical notification is sent
    const response = await fetch(`${herald.url}/message`, {
      method: 'POST',
      headers: { authorization: `Bearer ${herald.demo.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        title: 'Login_failed: admin',
        subtitle: 'admin@example.com',
        body: 'Someone failed to log in as admin\nLocation: Berlin, DE',
        deliveryType: 'CRITICAL',
        actions: [{ type: 'NAVIGATE', value: 'https://example.com/audit', title: 'Open audit log' }],
      }),
    });
    const { message } = (await response.json()) as { message: { id: string } };
    // THEN its title appears without a reload, on a card marked time-sensitive
    const card = page.locator(`[data-notification-id="${message.id}"]`);
    await card.locator('.title').filter({ hasText: 'Login_failed: admin' }).waitFor({ timeout: 15_000 });
    await page.waitForFunction((id) => document.querySelector(`[data-notification-id="${id}"]`)?.textContent?.includes('Demo Pixel'), message.id, { timeout: 15_000 });
    expect(await card.textContent()).toContain('Time Sensitive');
    // AND the raw payloads open from the keyboard
    const toggle = card.getByRole('button', { name: /payload/i });
    await toggle.focus();
    await page.keyboard.press('Enter');
    expect(await toggle.getAttribute('aria-expanded')).toBe('true');
    expect(await card.textContent()).toContain('interruption-level');
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'inbox.png'), fullPage: true });
    expect(existsSync(path.join(ARTIFACTS, 'inbox.png'))).toBe(true);
  });

  /** Sends with the demo token; answers the notification id. */
  async function send(content: Record<string, unknown>): Promise<string> {
    const response = await fetch(`${herald.url}/message`, {
      method: 'POST',
      headers: { authorization: `Bearer ${herald.demo.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(content),
    });
    expect(response.status).toBe(201);
    return ((await response.json()) as { message: { id: string } }).message.id;
  }

  test('a notification with the same collapse id replaces the shown one, as on a phone', async () => {
    // GIVEN the inbox is open and a backup's progress is shown
    const page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
    await page.goto(`${herald.url}/local/inbox`);
    await page.waitForFunction(() => document.body.innerText.includes('Live'), undefined, { timeout: 15_000 });
    const collapseId = `backup-${randomUUID().slice(0, 8)}`;
    const first = await send({ title: 'Backup running', body: '10 % done', collapseId });
    await page.locator(`[data-notification-id="${first}"]`).waitFor({ timeout: 15_000 });
    // WHEN the next progress notification with the same collapse id arrives
    const second = await send({ title: 'Backup running', body: '90 % done', collapseId });
    const newer = page.locator(`[data-notification-id="${second}"]`);
    await newer.waitFor({ timeout: 15_000 });
    // THEN the earlier card is gone and the newer one says it replaced it
    await page.locator(`[data-notification-id="${first}"]`).waitFor({ state: 'detached', timeout: 15_000 });
    await page.waitForFunction((id) => document.querySelector(`[data-notification-id="${id}"] .replaces`)?.textContent === 'Replaced 1 earlier', second, { timeout: 15_000 });
    // AND "Show removed" brings the earlier one back, marked as replaced
    await page.getByRole('button', { name: 'Show removed' }).click();
    const earlier = page.locator(`[data-notification-id="${first}"]`);
    await earlier.waitFor({ timeout: 15_000 });
    expect(await earlier.getAttribute('data-removed')).toBe('replaced');
    expect(await earlier.locator('.l-removed').textContent()).toBe('Replaced');
    expect(await page.getByRole('button', { name: 'Show removed' }).getAttribute('aria-pressed')).toBe('true');
    await page.close();
  });

  test('a cleared notification is removed from the list, and shown as cleared on request', async () => {
    // GIVEN the inbox shows a delivered notification on both demo devices
    const page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
    await page.goto(`${herald.url}/local/inbox`);
    await page.waitForFunction(() => document.body.innerText.includes('Live'), undefined, { timeout: 15_000 });
    const id = await send({ title: 'Certificate expires in 3 days', deliveryType: 'critical' });
    await page.waitForFunction((nid) => document.querySelector(`[data-notification-id="${nid}"]`)?.textContent?.includes('Demo Pixel'), id, { timeout: 15_000 });
    // WHEN it is cleared through the API
    const response = await fetch(`${herald.url}/notifications/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${herald.demo.token}` } });
    expect(response.status).toBe(202);
    // THEN its card leaves the list live, as it leaves a phone
    await page.locator(`[data-notification-id="${id}"]`).waitFor({ state: 'detached', timeout: 15_000 });
    expect(await page.locator('#count').textContent()).toMatch(/removed/);
    // AND "Show removed" shows it marked cleared, with the silent clear pushes in its payloads
    await page.getByRole('button', { name: 'Show removed' }).click();
    const card = page.locator(`[data-notification-id="${id}"]`);
    await card.waitFor({ timeout: 15_000 });
    expect(await card.getAttribute('data-removed')).toBe('cleared');
    expect(await card.locator('.l-removed').textContent()).toBe('Cleared');
    await card.getByRole('button', { name: /payload/i }).click();
    await page.waitForFunction((nid) => (document.querySelector(`[data-notification-id="${nid}"]`)?.textContent?.match(/clear \(silent\)/g) ?? []).length === 2, id, { timeout: 15_000 });
    expect(await card.textContent()).toContain('"content-available": 1');
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'inbox-removed.png'), fullPage: true });
    await page.close();
  });

  test('while the bucket is snoozed a NORMAL notification is listed quietly, and a CRITICAL one still alerts', async () => {
    // GIVEN the inbox is open and the demo bucket is snoozed for an hour
    const page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
    await page.goto(`${herald.url}/local/inbox`);
    await page.waitForFunction(() => document.body.innerText.includes('Live'), undefined, { timeout: 15_000 });
    await updateBucket(herald.store, herald.demo.bucket.id, { snoozeUntil: new Date(Date.now() + 3_600_000).toISOString() });
    try {
      // WHEN a NORMAL and a CRITICAL notification arrive
      const quiet = await send({ title: 'Nightly backup done', sound: 'chime.caf' });
      const loud = await send({ title: 'Disk failing', deliveryType: 'CRITICAL' });
      await page.waitForFunction((ids) => ids.every((id) => document.querySelector(`[data-notification-id="${id}"]`)?.textContent?.includes('Demo Pixel')), [quiet, loud], { timeout: 15_000 });

      // THEN the NORMAL one is marked delivered quietly, with no sound mark and no banner slide-in
      const quietCard = page.locator(`[data-notification-id="${quiet}"]`);
      expect(await quietCard.getAttribute('class')).toContain('passive');
      expect(await quietCard.locator('.l-passive').textContent()).toBe('Delivered quietly');
      expect(await quietCard.locator('.sound').count()).toBe(0);
      expect(await quietCard.evaluate((element) => element.closest('li')!.classList.contains('quiet'))).toBe(true);
      await quietCard.getByRole('button', { name: /payload/i }).click();
      expect(await quietCard.textContent()).toContain('"interruption-level": "passive"');
      expect(await quietCard.textContent()).toContain('"channel_id": "herald_quiet"');
      // AND the CRITICAL one alerts: time-sensitive with its sound, not quiet
      const loudCard = page.locator(`[data-notification-id="${loud}"]`);
      expect(await loudCard.textContent()).toContain('Time Sensitive');
      expect(await loudCard.locator('.l-passive').count()).toBe(0);
      expect(await loudCard.locator('.sound').getAttribute('aria-label')).toBe('Plays sound default');
      expect(await loudCard.evaluate((element) => element.closest('li')!.classList.contains('quiet'))).toBe(false);
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: path.join(ARTIFACTS, 'inbox-quiet.png'), fullPage: true });
    } finally {
      await updateBucket(herald.store, herald.demo.bucket.id, { snoozeUntil: null });
      await page.close();
    }
  });
});
