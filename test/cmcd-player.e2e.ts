import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { Topics, type PlaybackEvent } from '@tributary/contracts';
import { freePort, startService, type ServiceProcess } from '@tributary/devkit';
import { FIXTURE_RENDITIONS, type FixtureSegment, makeSegments, VideoFixture } from './support/video-fixture';

/**
 * CMCD from a real player: hls.js (the /watch page) in Chromium plays a live stream fed by the
 * segment fixture; the CMCD it attaches to playlist and segment requests becomes `source: "cmcd"`
 * events on `playback.events` with the player's session id, the rendition's bitrate and a
 * plausible buffer length.
 */
const BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

describe('CMCD from hls.js in Chromium → playback.events', () => {
  const prefix = `t-${randomUUID().slice(0, 8)}`;
  const streamId = `cmcd-${randomUUID().slice(0, 6)}`;
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
    segments = await makeSegments(FIXTURE_RENDITIONS, 16);
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
    const consumer = fixture.kafka.consumer({ groupId: `${prefix}-cmcd-test` });
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

  it('turns the player’s CMCD into cmcd events with its session, bitrate and buffer length', async () => {
    await fixture.register(streamId);
    await fixture.live(streamId, 'pub-cmcd');
    const start = new Date();
    feeder = (async () => {
      const total = segments.get('360p')!.length;
      await fixture.segments(streamId, segments, 0, 3, start, 'tx-cmcd');
      for (let sequence = 3; sequence < total && feeding; sequence++) {
        await new Promise((resolve) => setTimeout(resolve, 2000));
        await fixture.segments(streamId, segments, sequence, sequence + 1, start, 'tx-cmcd');
      }
    })();

    const page = await browser.newPage();
    await page.goto(`${viewer.url}/watch/${streamId}`);
    await page.waitForFunction('document.querySelector("video").currentTime > 2', undefined, { timeout: 60_000, polling: 250 });
    const sessionId = await page.evaluate<string>('window.tributaryPlayer.sessionId');

    const cmcd = () => events.filter((e) => e.source === 'cmcd' && e.session_id === sessionId);
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && !(cmcd().some((e) => e.object_type === 'v' || e.object_type === 'av') && cmcd().some((e) => (e.buffer_length_ms ?? 0) > 0))) {
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const received = cmcd();
    expect(received.length).toBeGreaterThan(2);
    for (const event of received) expect(event).toMatchObject({ stream_id: streamId, device: 'web', source: 'cmcd' });
    // Segments carry the encoded bitrate of their rendition (hls.js: BANDWIDTH / 1000).
    const media = received.filter((e) => e.object_type === 'v' || e.object_type === 'av');
    expect(media.length).toBeGreaterThan(0);
    const bandwidthsKbps = FIXTURE_RENDITIONS.map((r) => r.bandwidth_bps / 1000);
    for (const event of media) expect(bandwidthsKbps).toContain(event.bitrate_kbps);
    // Buffer length: some requests report a buffer ahead, none an implausible one (live window is ~6 s).
    expect(received.some((e) => (e.buffer_length_ms ?? 0) > 0)).toBe(true);
    for (const event of received) expect(event.buffer_length_ms ?? 0).toBeLessThan(60_000);
    // The first requests are startup (su) → play.
    expect(received.some((e) => e.event_type === 'play')).toBe(true);
    process.stdout.write(`cmcd events: ${JSON.stringify(received.slice(0, 4).map(({ event_type, bitrate_kbps, buffer_length_ms, throughput_kbps, object_type }) => ({ event_type, bitrate_kbps, buffer_length_ms, throughput_kbps, object_type })))}\n`);
    await page.close();
  }, 120_000);
});
