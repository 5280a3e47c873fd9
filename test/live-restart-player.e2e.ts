import { randomUUID } from 'node:crypto';
import { BacklogRestart } from './support/backlog-restart';
import { type HeadlessChromium, launchChromium } from '@tributary/devkit';

/**
 * Issue 14, as a viewer sees it: a stream is publishing when the transcoder is SIGKILLed, ingest
 * writes 6 s more of its input nobody reads (a backlog), ingest dies too; both come back and a new
 * stream is published. A browser (real Chromium, the /watch page with hls.js) that joins it plays
 * media whose program date time (hls.js `playingDate`, stamped by the transcoder's ffmpeg) is
 * within the documented bound of the wall clock: the transcoder's bound
 * (TRANSCODER_LIVE_MAX_TRAIL_SEGMENTS = 3 segments) plus the player's own catch-up bound (it jumps to
 * the edge past liveMaxLatencyDurationCount = 6 segments) plus one segment — 20 s with 2 s
 * segments. The broken behaviour this guards against played a ~3 minute old picture as LIVE.
 * Build first: `npx tsc -b services/ingest services/transcoder services/viewer-api`.
 */
const brokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const SEGMENT_S = 2;
const BOUND_SEGMENTS = 3;
const PLAYER_MAX_LATENCY_SEGMENTS = 6;
const BOUND_S = (BOUND_SEGMENTS + PLAYER_MAX_LATENCY_SEGMENTS + 1) * SEGMENT_S;

let platform: BacklogRestart;
let chromium: HeadlessChromium;

beforeAll(async () => {
  chromium = await launchChromium();
  platform = await BacklogRestart.start({ brokers, prefix: `t-${randomUUID().slice(0, 8)}`, backlogAfterMs: 5_000, boundSegments: BOUND_SEGMENTS });
}, 240_000);

afterAll(async () => {
  await chromium?.close();
  await platform?.stop();
});

it('a browser joining after a restart with backlog plays media whose program date time is within the bound of the wall clock', async () => {
  await platform.restartWithBacklog([`old-${randomUUID().slice(0, 4)}`], 6_000);
  const id = `watch-${randomUUID().slice(0, 4)}`;
  await platform.publish(id, 60);

  const page = await chromium.browser.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  // The page polls the stream's status and loads the live playlist once the stream is live.
  await page.goto(`${platform.viewer.url}/watch/${id}`);
  await page.waitForFunction('document.querySelector("video").currentTime > 1', undefined, { timeout: 90_000, polling: 250 });

  // Page code as strings: the test program has no DOM types. Wall clock − program date time of
  // the playing position, sampled while it plays.
  const lags: number[] = [];
  for (let i = 0; i < 6; i += 1) {
    const sample = await page.evaluate<{ playing: number | null; now: number; paused: boolean }>(
      '({ playing: window.tributaryPlayer.hls.playingDate ? window.tributaryPlayer.hls.playingDate.getTime() : null, now: Date.now(), paused: document.querySelector("video").paused })',
    );
    if (sample.playing !== null && !sample.paused) lags.push((sample.now - sample.playing) / 1000);
    await page.waitForTimeout(1000);
  }
  console.log(`player latency (wall clock − program date time), s: ${lags.map((lag) => lag.toFixed(1)).join(' ')}; bound ${BOUND_S} s`);
  expect(lags.length).toBeGreaterThanOrEqual(4);
  for (const lag of lags) {
    expect(lag).toBeLessThan(BOUND_S);
    expect(lag).toBeGreaterThan(-2); // not from the future either (a wrong program date time)
  }
  // It plays the new session, live, on the page's own terms.
  expect(await page.textContent('#state')).toBe('live');
  expect(await page.evaluate<number>('window.tributaryPlayer.latencySeconds')).toBeLessThan(BOUND_S);
  expect(pageErrors).toEqual([]);
  await page.close();
}, 240_000);
