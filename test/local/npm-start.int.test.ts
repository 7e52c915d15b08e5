import { exec } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { bannerValue, npmStart, waitFor, type RunningHerald } from './helpers';

const run = promisify(exec);
const FIXTURE = path.join(__dirname, '..', 'fixtures', 'authentik', 'webhook-login-failed.json');

interface InboxJson {
  notifications: { id: string; status: string; card?: { title: string }; deliveries: { key: string; payload: { aps?: Record<string, unknown> } }[] }[];
}

describe('npm start', () => {
  let herald: RunningHerald;
  let baseUrl: string;

  beforeAll(async () => {
    herald = npmStart(['--memory'], { PORT: '0' });
    baseUrl = await waitFor('the start-up banner', () => /running locally at (http:\/\/\S+)/.exec(herald.output())?.[1]);
  });

  afterAll(async () => {
    herald.interrupt();
    await herald.exited;
  });

  test('binds loopback only', () => {
    expect(baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  test('the printed curl line and the authentik URL each reach the device inbox', async () => {
    // GIVEN what the banner printed
    const output = await waitFor('the authentik URL', () => (bannerValue(herald.output(), 'authentik URL') ? herald.output() : undefined));
    const curl = bannerValue(output, 'Try it')!;
    const authentikUrl = bannerValue(output, 'authentik URL')!;
    expect(curl).toMatch(/^curl /);
    // WHEN the curl line runs as printed, and authentik's failed-login webhook is posted
    const sent = await run(curl);
    expect(JSON.parse(sent.stdout)).toMatchObject({ notificationsCount: 1 });
    const response = await fetch(authentikUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: readFileSync(FIXTURE) });
    expect(response.status).toBe(201);
    // THEN both show up in the inbox, pushed to both simulated phones
    const inbox = await waitFor('both notifications in the inbox', async () => {
      const json = (await (await fetch(`${baseUrl}/local/inbox.json`)).json()) as InboxJson;
      const done = json.notifications.filter((entry) => entry.deliveries.length === 2);
      return done.length >= 2 ? json : undefined;
    });
    const titles = inbox.notifications.map((entry) => entry.card?.title);
    expect(titles).toEqual(expect.arrayContaining(['Hello from Herald', 'Login_failed: jdoe']));
    const failedLogin = inbox.notifications.find((entry) => entry.card?.title === 'Login_failed: jdoe')!;
    const apns = failedLogin.deliveries.find((delivery) => delivery.key === 'APNS')!;
    expect(apns.payload.aps!['interruption-level']).toBe('time-sensitive');
  });

  test('Ctrl-C stops accepting, drains the queue and exits', async () => {
    herald.interrupt();
    await herald.exited;
    expect(herald.output()).toContain('draining the queue');
    expect(herald.output()).toContain('Herald: stopped.');
    await expect(fetch(`${baseUrl}/health`)).rejects.toThrow();
  });
});

describe('npm start on a port that is taken', () => {
  test('says so and exits non-zero', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const herald = npmStart(['--memory'], { PORT: String(port) });
      expect(await herald.exited).toBe(1);
      expect(herald.output()).toContain(`port ${port} on 127.0.0.1 is already in use`);
      expect(herald.output()).not.toMatch(/\n\s+at /); // no stack trace
    } finally {
      blocker.close();
    }
  });
});

describe('npm start with a data directory', () => {
  test('buckets, credentials, devices and the inbox survive a restart', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'herald-data-'));
    // GIVEN a first run that received a notification
    const first = npmStart(['--data', dataDir], { PORT: '0' });
    const firstUrl = await waitFor('the first start', () => /running locally at (http:\/\/\S+)/.exec(first.output())?.[1]);
    const token = await waitFor('the token', () => bannerValue(first.output(), 'Token'));
    const sent = await fetch(`${firstUrl}/message`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'kept across restarts' }),
    });
    const { message } = (await sent.json()) as { message: { id: string } };
    await waitFor('the push', async () => {
      const inbox = (await (await fetch(`${firstUrl}/local/inbox.json`)).json()) as InboxJson;
      return inbox.notifications.some((entry) => entry.id === message.id && entry.deliveries.length === 2) ? true : undefined;
    });
    first.interrupt();
    await first.exited;
    // WHEN Herald starts again on the same directory
    const second = npmStart(['--data', dataDir], { PORT: '0' });
    try {
      const secondUrl = await waitFor('the second start', () => /running locally at (http:\/\/\S+)/.exec(second.output())?.[1]);
      // THEN the same demo token works, and the earlier notification is still in the inbox
      expect(await waitFor('the token', () => bannerValue(second.output(), 'Token'))).toBe(token);
      const inbox = (await (await fetch(`${secondUrl}/local/inbox.json`)).json()) as InboxJson;
      expect(inbox.notifications.map((entry) => entry.id)).toContain(message.id);
      const again = await fetch(`${secondUrl}/message`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ title: 'second run' }),
      });
      expect(again.status).toBe(201);
    } finally {
      second.interrupt();
      await second.exited;
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
