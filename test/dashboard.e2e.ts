import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import type { PlaybackNotice, PlaybackStats } from '@tributary/contracts';
import { freePort, REPO_ROOT, type ServiceProcess, startService } from '@tributary/devkit';
import { connectClient, kafkaBrokers, makeEvent, postEvents, type RecordingClient, uniquePrefix, waitFor } from './support/playback-events';

/**
 * The live dashboard (event-gateway `GET /`) and its Socket.IO features with the built services,
 * a real broker, real socket.io clients and real Chromium: events on the page within a second,
 * statistics cards, resume from Kafka positions (exactly the missed events, in order), history
 * for new clients, and a client that stops reading while the others keep receiving on time.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

describe('live dashboard end to end', () => {
  const prefix = uniquePrefix('dashboard');
  let viewerApi: ServiceProcess;
  let gateway: ServiceProcess;
  let browser: BrowserContext | undefined;
  let profile: string | undefined;
  const clients: RecordingClient[] = [];

  function client(auth?: Record<string, unknown>): RecordingClient & { notices: PlaybackNotice[] } {
    const recording = connectClient(gateway.url, auth);
    const notices: PlaybackNotice[] = [];
    recording.socket.on('notice', (notice) => notices.push(notice));
    clients.push(recording);
    return Object.assign(recording, { notices });
  }

  beforeAll(async () => {
    const env = { KAFKA_BROKERS: kafkaBrokers(), TOPIC_PREFIX: prefix, KAFKA_EVENT_PARTITIONS: '3', LOG_LEVEL: 'warn' };
    const viewerPort = await freePort();
    viewerApi = await startService('viewer-api', { port: viewerPort, env: env });
    const gatewayPort = await freePort();
    gateway = await startService('event-gateway', {
      port: gatewayPort,
      env: { ...env, STATS_EMIT_INTERVAL_MS: '500', SLOW_CLIENT_HIGH_WATER_BYTES: '65536', SLOW_CLIENT_LOW_WATER_BYTES: '16384', SLOW_CLIENT_MAX_MS: '600000' },
    });
    // The gateway's own group starts at "latest" once assigned: wait until a probe gets through.
    const probe = client();
    await probe.subscribed;
    const deadline = Date.now() + 30_000;
    while (probe.messages.length === 0 && Date.now() < deadline) {
      await postEvents(viewerApi.url, makeEvent('warm-up'));
      await new Promise((wait) => setTimeout(wait, 500));
    }
    probe.socket.disconnect();
  }, 120_000);

  afterAll(async () => {
    for (const recording of clients) recording.socket.disconnect();
    await browser?.close();
    if (profile) await rm(profile, { recursive: true, force: true });
    await gateway?.stop();
    await viewerApi?.stop();
  });

  it('shows a posted event within 1 s and the stream’s statistics card in Chromium', async () => {
    profile = await mkdtemp(join(tmpdir(), 'tributary-dashboard-'));
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1280, height: 900 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(`${gateway.url}/?stream=dash-a`);
    await page.waitForSelector('#status[data-state="connected"]', { timeout: 15_000 });

    const first = makeEvent('dash-a', { session_id: 'dash-s0', event_type: 'play', bitrate_kbps: 0 });
    const posted = Date.now();
    expect((await postEvents(viewerApi.url, first)).status).toBe(202);
    await page.waitForSelector(`tr[data-event-id="${first.event_id}"]`, { timeout: 5_000 });
    const latencyMs = Date.now() - posted;
    expect(latencyMs).toBeLessThan(1_000);
    expect(await page.textContent(`tr[data-event-id="${first.event_id}"] td.type`)).toBe('play');

    // Four more sessions: five active viewers in all.
    const fixture = [1, 2, 3, 4].flatMap((n) => [
      makeEvent('dash-a', { session_id: `dash-s${n}`, event_type: 'play', bitrate_kbps: 0, device: n % 2 ? 'tv' : 'web' }),
      makeEvent('dash-a', { session_id: `dash-s${n}`, event_type: 'position', bitrate_kbps: 1000 * n }),
    ]);
    expect((await postEvents(viewerApi.url, fixture)).status).toBe(202);
    // Polled from here: the page's CSP forbids the eval a string predicate would need.
    const viewers = page.locator('[data-stream="dash-a"] [data-figure="viewers"]');
    const until = Date.now() + 20_000;
    while ((await viewers.textContent().catch(() => null)) !== '5' && Date.now() < until) await page.waitForTimeout(100);
    expect(await viewers.textContent()).toBe('5');
    expect(await page.textContent('[data-stream="dash-a"] [data-figure="bitrate"]')).toBe('2500 kbps');
    expect(await page.$$('[data-stream="dash-a"] .uplot')).toHaveLength(2);
    expect(await page.$$eval('#events tr', (rows) => rows.length)).toBe(9);
    await mkdir(join(REPO_ROOT, 'test-artifacts'), { recursive: true });
    await page.screenshot({ path: join(REPO_ROOT, 'test-artifacts', 'dashboard.png'), fullPage: true });
    expect(pageErrors).toEqual([]);

    // The card's data comes over Socket.IO too: a fresh client gets the latest snapshot at once.
    const fresh = client({ streamId: 'dash-a' });
    const stats = await new Promise<PlaybackStats>((resolve) => fresh.socket.once('playback.stats', resolve));
    expect(stats.stream_id).toBe('dash-a');
  }, 90_000);

  it('resumes a reconnecting client with exactly the events it missed, in order, then live', async () => {
    const streamId = 'resume-a';
    const before = client({ streamId });
    await before.subscribed;
    const seen = makeEvent(streamId);
    expect((await postEvents(viewerApi.url, seen)).status).toBe(202);
    await waitFor('the first event', () => before.messages.length === 1);
    const position = before.messages[0].position;
    before.socket.disconnect();

    const missed = Array.from({ length: 50 }, () => makeEvent(streamId));
    expect((await postEvents(viewerApi.url, missed)).status).toBe(202);

    const after = client({ streamId, resume: { positions: [position] } });
    await waitFor('the resume to complete', () => after.notices.some((n) => n.code === 'resume_complete'), 30_000);
    expect(after.ids()).toEqual(missed.map((e) => e.event_id));
    // Protocol 2: the replay comes in playback.events batches, not one packet per event.
    expect(after.packets['playback.event']).toBe(0);
    expect(after.packets['playback.events']).toBeLessThan(missed.length);
    expect(after.notices.find((n) => n.code === 'resume_complete')?.count).toBe(50);

    const live = makeEvent(streamId);
    expect((await postEvents(viewerApi.url, live)).status).toBe(202);
    await waitFor('the live event', () => after.ids().includes(live.event_id));
    await new Promise((settle) => setTimeout(settle, 300));
    expect(after.ids()).toEqual([...missed, live].map((e) => e.event_id));

    // A new client asking for history gets the stream's last events at once (the page is never empty).
    const fresh = client({ streamId, history: true });
    await waitFor('history', () => fresh.messages.length >= 50);
    expect(fresh.ids()).toEqual([seen, ...missed, live].slice(-50).map((e) => e.event_id));
  }, 60_000);

  it('holds back a client that stops reading while the others receive on time', async () => {
    const streamId = 'slow-a';
    const fast = client({ streamId });
    const slow = client({ streamId });
    await fast.subscribed;
    await slow.subscribed;
    // Stop reading: the TCP window fills, then the gateway's Engine.IO write buffer for it grows.
    const engine = slow.socket.io.engine as unknown as { transport: { ws?: { _socket?: { pause(): void; resume(): void } } } };
    const tcp = engine.transport.ws?._socket;
    expect(tcp).toBeDefined();
    tcp!.pause();

    const lags: number[] = [];
    let total = 0;
    for (let batch = 0; batch < 30; batch += 1) {
      // ~600-byte events: 15 000 of them overflow the paused client's TCP buffers.
      const events = Array.from({ length: 500 }, () => makeEvent(streamId, { session_id: `slow-${batch}-${'s'.repeat(100)}`, user_id: 'x'.repeat(120) }));
      const sent = Date.now();
      expect((await postEvents(viewerApi.url, events)).status).toBe(202);
      total += events.length;
      const last = events[events.length - 1].event_id;
      await waitFor(`batch ${batch} at the fast client`, () => fast.messages.length >= total, 10_000);
      expect(fast.messages[fast.messages.length - 1].event.event_id).toBe(last);
      lags.push(Date.now() - sent);
    }
    expect(fast.messages).toHaveLength(total);
    // Batched delivery: far fewer packets than events reached the client that keeps up.
    expect(fast.packets['playback.events']).toBeLessThan(total / 5);
    // "On time": POST → Kafka → gateway → socket for a batch of 500 on a shared 2-core machine; the
    // median stays at the level of an unloaded run and no batch waits for the paused client.
    const sorted = [...lags].sort((a, b) => a - b);
    process.stdout.write(`fast client batch latencies (ms): ${JSON.stringify(lags)}\n`);
    expect(sorted[Math.floor(sorted.length / 2)]).toBeLessThan(2_000);
    expect(sorted[sorted.length - 1]).toBeLessThan(10_000);

    const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
    const dropped = Number(/tributary_events_dropped_total\{[^}]*reason="backpressure"[^}]*\} (\d+)/.exec(metrics)?.[1] ?? 0);
    expect(dropped).toBeGreaterThan(0);

    // Reading again: the slow client drains its backlog, was told it lagged, and is told it recovered.
    tcp!.resume();
    await waitFor(`the recovered notice (notices so far: ${JSON.stringify(slow.notices)})`, () => slow.notices.some((n) => n.code === 'recovered'), 30_000);
    expect(slow.notices.map((n) => n.code)).toEqual(['lagging', 'recovered']);
    expect(slow.messages.length).toBeLessThan(total);
    expect(slow.notices[1].count).toBe(total - slow.messages.length);
    expect((await fetch(`${gateway.url}/healthz`)).status).toBe(200);
  }, 180_000);
});
