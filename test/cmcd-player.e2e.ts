import { randomUUID } from 'node:crypto';
import { PlayerStack } from './support/player-stack';
import { FIXTURE_RENDITIONS } from './support/video-fixture';

/**
 * CMCD from a real player: hls.js (the /watch page) in Chromium plays a live stream fed by the
 * segment fixture; the CMCD it attaches to playlist and segment requests becomes `source: "cmcd"`
 * events on `playback.events` with the player's session id, the rendition's bitrate and a
 * plausible buffer length.
 */
const BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');

describe('CMCD from hls.js in Chromium → playback.events', () => {
  const prefix = `t-${randomUUID().slice(0, 8)}`;
  const streamId = `cmcd-${randomUUID().slice(0, 6)}`;
  let stack: PlayerStack;

  beforeAll(async () => {
    stack = await PlayerStack.start({ brokers: BROKERS, prefix, name: 'cmcd-test', seconds: 16 });
  }, 180_000);

  afterAll(async () => {
    await stack?.close();
  });

  it('turns the player’s CMCD into cmcd events with its session, bitrate and buffer length', async () => {
    const { fixture, browser, viewer, events } = stack;
    await fixture.register(streamId);
    await fixture.live(streamId, 'pub-cmcd');
    stack.feedLive(streamId, new Date(), 'tx-cmcd');

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
