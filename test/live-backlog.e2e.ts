import { randomUUID } from 'node:crypto';
import { VideoHeaders } from '@tributary/contracts';
import { BacklogRestart } from './support/backlog-restart';
import { percentile } from './support/percentile';
import { parseManifest, until } from './support/video-stack';
import type { ReadMessage } from './support/video-topics';

/**
 * Issue 14, "live stays live", end to end on the real broker with real ffmpeg: two streams are
 * publishing when the transcoder is SIGKILLed; ingest keeps writing their input to Kafka for a
 * while (a backlog the dead transcoder never read), then ingest is SIGKILLed too. Both come back
 * and a third stream is published. Its first playlist and its edge trailing stay bounded while
 * the transcoder replays the two old sessions as backlog (classified by their chunks' ingest
 * time), whose replays complete with continuing media sequences and report `ended` with
 * `detail.mode = backlog`. Bounds are the test's configuration (3 × 2 s segments), plus
 * generous allowances for a loaded 2-core machine: the broken behaviour this guards against
 * trailed by 39 s p50 / 53 s p95.
 * Build first: `npx tsc -b services/ingest services/transcoder services/viewer-api`.
 */
const brokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const SEGMENT_S = 2;
const BOUND_SEGMENTS = 3;

let platform: BacklogRestart;
const sequence = (m: ReadMessage) => Number(m.headers[VideoHeaders.mediaSequence]);

beforeAll(async () => {
  platform = await BacklogRestart.start({ brokers, prefix: `t-${randomUUID().slice(0, 8)}`, backlogAfterMs: 5_000, boundSegments: BOUND_SEGMENTS });
}, 240_000);

afterAll(async () => {
  await platform?.stop();
});

it('after a SIGKILL with backlog, a new live stream stays near its edge while the old sessions are replayed as backlog', async () => {
  const old = [`old-a-${randomUUID().slice(0, 4)}`, `old-b-${randomUUID().slice(0, 4)}`];
  const beforeKill = await platform.restartWithBacklog(old, 12_000);
  const { transcoder, viewer, tap } = platform;
  const segmentsOf = (id: string) => platform.segmentsOf(id);
  const statusesOf = (id: string) => platform.statusesOf(id);
  const id = `new-${randomUUID().slice(0, 4)}`;
  const publisher = await platform.publish(id, 40);
  const publishedAt = Date.now();

  // A viewer joining gets the new stream's own live playlist.
  const firstPlaylistS = await until(
    'the new stream’s first media playlist',
    async () => {
      const response = await fetch(`${viewer.url}/live/${id}/360p/index.m3u8`);
      if (response.status !== 200) return undefined;
      return parseManifest(await response.text()).segments.length > 0 ? (Date.now() - publishedAt) / 1000 : undefined;
    },
    90_000,
    200,
  );

  // Edge trailing, as a viewer sees it: wall time since the publish started − media listed so far.
  const trailing: number[] = [];
  let publishing = true;
  void publisher.done.then(() => (publishing = false));
  while (publishing) {
    const listed = segmentsOf(id).reduce((sum, m) => sum + Number(m.headers[VideoHeaders.durationSeconds]), 0);
    trailing.push((Date.now() - publishedAt) / 1000 - listed);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  const p50 = percentile(trailing, 50);
  const p95 = percentile(trailing, 95);
  console.log(`new stream: first playlist ${firstPlaylistS.toFixed(1)} s, edge trailing p50 ${p50.toFixed(1)} s, p95 ${p95.toFixed(1)} s`);

  // Both old sessions were classified backlog from their chunks' ingest time, and replayed to the end.
  const lines = transcoder!.output().split('\n');
  for (const oldId of old) {
    expect(lines.some((line) => line.includes(oldId) && line.includes('backlog session (publisher gone)'))).toBe(true);
  }
  expect(lines.some((line) => line.includes(id) && line.includes('backlog session'))).toBe(false);
  for (const oldId of old) {
    const ended = await tap.waitFor(
      () => statusesOf(oldId).find((s) => s.reporter === 'transcoder' && s.state === 'ended' && s.detail?.mode === 'backlog'),
      120_000,
      `the backlog replay of ${oldId} to end`,
    );
    expect(ended.detail?.skipped_chunks ?? 0).toBe(0);
    const list = segmentsOf(oldId).filter((m) => m.headers[VideoHeaders.rendition] === '360p');
    // The backlog (≥ 12 s the dead transcoder never read) was transcoded after the restart …
    expect(list.length - beforeKill.get(oldId)!).toBeGreaterThanOrEqual(4);
    // … continuing the numbering: no sequence repeats or goes back.
    const numbers = list.map(sequence);
    for (let i = 1; i < numbers.length; i += 1) expect(numbers[i]).toBeGreaterThan(numbers[i - 1]);
  }
  const response = await fetch(`${viewer.url}/v1/streams/${old[0]}`);
  expect(((await response.json()) as { transcode: { mode: string } | null }).transcode).toMatchObject({ mode: 'backlog' });

  // The new stream stayed live: bounded by the configured bound plus one segment, with an
  // allowance for ffmpeg start-up and probing on a busy machine (the broken state was 39/53 s).
  const bound = BOUND_SEGMENTS * SEGMENT_S;
  expect(firstPlaylistS).toBeLessThan(30);
  expect(p50).toBeLessThan(bound + SEGMENT_S + 4);
  expect(p95).toBeLessThan(bound + SEGMENT_S + 8);
}, 420_000);
