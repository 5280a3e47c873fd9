import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { Topics, type PlaybackEvent } from '@tributary/contracts';
import { freePort, startService, type ServiceProcess } from '@tributary/devkit';
import { FIXTURE_RENDITIONS, type FixtureSegment, makeSegments, VideoFixture } from './support/video-fixture';

/**
 * The web player in real Chromium against a live stream fed by the segment fixture: the video
 * plays (currentTime advances), the quality selector lists the levels, hls.js sends CMCD, and the
 * page's playback events reach `playback.events` through POST /v1/events.
 */
const BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

describe('web player /watch/:id (Chromium, hls.js, real Kafka)', () => {
  const prefix = `t-${randomUUID().slice(0, 8)}`;
  const streamId = `player-${randomUUID().slice(0, 6)}`;
  let viewer: ServiceProcess;
  let fixture: VideoFixture;
  let browser: BrowserContext;
  let profile: string;
  let segments: Map<string, FixtureSegment[]>;
  let feeding = true;
  let feeder: Promise<void> = Promise.resolve();
  const events: PlaybackEvent[] = [];
  let stopConsumer: () => Promise<void> = async () => {};

  beforeAll(async () => {
    segments = await makeSegments(FIXTURE_RENDITIONS, 20);
    const port = await freePort();
    viewer = await startService('viewer-api', {
      port,
      env: {
        KAFKA_BROKERS: BROKERS.join(','),
        TOPIC_PREFIX: prefix,
        VIEWER_API_PORT: String(port),
        KAFKA_VIDEO_PARTITIONS: '2',
        KAFKA_EVENT_PARTITIONS: '2',
        LOG_LEVEL: 'warn',
      },
    });
    fixture = new VideoFixture(BROKERS, prefix);
    await fixture.connect();
    const consumer = fixture.kafka.consumer({ groupId: `${prefix}-player-test` });
    await consumer.connect();
    await consumer.subscribe({ topics: [fixture.topic(Topics.playbackEvents)], fromBeginning: true });
    await consumer.run({
      eachMessage: ({ message }) => {
        if (message.value) events.push(JSON.parse(message.value.toString()) as PlaybackEvent);
        return Promise.resolve();
      },
    });
    stopConsumer = () => consumer.disconnect();
    profile = await mkdtemp(join(tmpdir(), 'tributary-chromium-'));
    // A fresh profile directory per run (playwright passes it as --user-data-dir).
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
        '--disable-sync', '--no-first-run', '--autoplay-policy=no-user-gesture-required',
      ],
    });
  }, 180_000);

  afterAll(async () => {
    feeding = false;
    await feeder;
    await browser?.close();
    await stopConsumer();
    await fixture?.disconnect();
    await viewer?.stop();
    if (profile) await rm(profile, { recursive: true, force: true });
  });

  /** A live transcoder stand-in: 3 segments of back-log, then one per segment duration. */
  function feedLive(start: Date): Promise<void> {
    return (async () => {
      const total = segments.get('360p')!.length;
      await fixture.segments(streamId, segments, 0, 3, start, 'tx-player');
      for (let sequence = 3; sequence < total && feeding; sequence++) {
        await new Promise((resolve) => setTimeout(resolve, 2000));
        await fixture.segments(streamId, segments, sequence, sequence + 1, start, 'tx-player');
      }
    })();
  }

  it('plays a live stream, offers the quality levels, sends CMCD and reports play to playback.events', async () => {
    await fixture.register(streamId);
    await fixture.live(streamId, 'pub-player');
    feeder = feedLive(new Date());

    const page = await browser.newPage();
    const cmcdRequests: string[] = [];
    page.on('request', (request) => {
      if (request.url().includes('CMCD=')) cmcdRequests.push(request.url());
    });
    const eventResponses: number[] = [];
    page.on('response', (response) => {
      if (response.url().endsWith('/v1/events')) eventResponses.push(response.status());
    });
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(`${viewer.url}/watch/${streamId}`);

    // Page code as strings: the test program has no DOM types.
    const currentTime = async () => Number(await page.evaluate('document.querySelector("video").currentTime'));
    await page.waitForFunction('document.querySelector("video").currentTime > 1', undefined, { timeout: 60_000, polling: 250 });
    const first = await currentTime();
    await page.waitForTimeout(2500);
    const later = await currentTime();
    expect(later).toBeGreaterThan(first + 1);

    const options = await page.evaluate<string[]>('[...document.querySelectorAll("#quality option")].map((n) => n.textContent)');
    expect(options[0]).toBe('Auto');
    expect(options.slice(1).join(' ')).toMatch(/360p/);
    expect(options.slice(1).join(' ')).toMatch(/180p/);
    expect(await page.textContent('#state')).toBe('live');
    expect(cmcdRequests.some((url) => decodeURIComponent(url).includes(`cid="${streamId}"`))).toBe(true);
    expect(pageErrors).toEqual([]);

    // CMCD-derived events (source cmcd) share the session id; the page's own are source player.
    const fromPlayer = (type: string) => events.find((e) => e.session_id === sessionId && e.event_type === type && e.source === 'player');
    const sessionId = await page.evaluate<string>('window.tributaryPlayer.sessionId');
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && !fromPlayer('play')) {
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const play = fromPlayer('play');
    if (!play) throw new Error(`no play event from the player; /v1/events answered ${JSON.stringify(eventResponses)}; ${events.length} events seen`);
    expect(play).toMatchObject({ stream_id: streamId, device: 'web', source: 'player' });
    expect(typeof play.user_id).toBe('string');
    expect(fromPlayer('bitrate')?.bitrate_kbps).toBeGreaterThan(0);

    // Leaving the page sends `stop` with navigator.sendBeacon.
    await page.close({ runBeforeUnload: true });
    const stopDeadline = Date.now() + 15_000;
    while (Date.now() < stopDeadline && !fromPlayer('stop')) {
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(fromPlayer('stop')).toBeDefined();
  });

  it('replays the stream from its start once it ended (VOD playlist from Kafka)', async () => {
    feeding = false;
    await feeder;
    await fixture.ended(streamId, 'pub-player');
    const page = await browser.newPage();
    const playlists: string[] = [];
    page.on('request', (request) => {
      if (request.url().includes('.m3u8')) playlists.push(new URL(request.url()).pathname);
    });
    await page.goto(`${viewer.url}/watch/${streamId}?from=start`);
    await page.waitForFunction('document.querySelector("video").currentTime > 1', undefined, { timeout: 60_000, polling: 250 });
    expect(playlists.some((path) => path.startsWith(`/vod/${streamId}/`))).toBe(true);
    await page.waitForFunction('document.querySelector("#state").textContent === "ended"', undefined, { timeout: 20_000 });
    await page.close();
  });
});
