import { randomUUID } from 'node:crypto';
import { PlayerStack } from './support/player-stack';

/**
 * The web player in real Chromium against a live stream fed by the segment fixture: the video
 * plays (currentTime advances), the quality selector lists the levels, hls.js sends CMCD, and the
 * page's playback events reach `playback.events` through POST /v1/events.
 */
const BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');

describe('web player /watch/:id (Chromium, hls.js, real Kafka)', () => {
  const prefix = `t-${randomUUID().slice(0, 8)}`;
  const streamId = `player-${randomUUID().slice(0, 6)}`;
  let stack: PlayerStack;

  beforeAll(async () => {
    stack = await PlayerStack.start({ brokers: BROKERS, prefix, name: 'player-test', seconds: 20 });
  }, 180_000);

  afterAll(async () => {
    await stack?.close();
  });

  it('plays a live stream, offers the quality levels, sends CMCD and reports play to playback.events', async () => {
    const { fixture, browser, viewer, events } = stack;
    await fixture.register(streamId);
    await fixture.live(streamId, 'pub-player');
    stack.feedLive(streamId, new Date(), 'tx-player');

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

    // Live catch-up (issue 14): a player far behind jumps to the edge; the page shows its latency
    // (wall clock − the program date time of what plays; the fixture stamps segments from now on).
    const catchUp = await page.evaluate<number[]>(
      '[window.tributaryPlayer.hls.config.liveSyncDurationCount, window.tributaryPlayer.hls.config.liveMaxLatencyDurationCount, window.tributaryPlayer.hls.config.maxLiveSyncPlaybackRate]',
    );
    expect(catchUp).toEqual([3, 6, 1.25]);
    await page.waitForFunction('/^Latency \\d+\\.\\d s$/.test(document.querySelector("#latency").textContent)', undefined, { timeout: 10_000, polling: 250 });
    expect(await page.evaluate<number>('window.tributaryPlayer.latencySeconds')).toBeLessThan(60);

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
    const { fixture, browser, viewer } = stack;
    await stack.stopFeeding();
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
