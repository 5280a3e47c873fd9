import { randomUUID } from 'node:crypto';
import { type StreamStatus, Topics, topicName, VideoHeaders } from '@tributary/contracts';
import { freePort, type ServiceProcess, startService } from '@tributary/devkit';
import { createStream, parseManifest, until } from './support/video-stack';
import { type FfmpegRun, kafkaFor, publishTestPattern, type ReadMessage, TopicTap } from './support/video-topics';

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
const prefix = `t-${randomUUID().slice(0, 8)}`;
const topic = (base: string) => topicName(base, prefix);
const common = { KAFKA_BROKERS: brokers, TOPIC_PREFIX: prefix, LOG_LEVEL: 'warn', KAFKA_VIDEO_PARTITIONS: '2', KAFKA_EVENT_PARTITIONS: '1' };
const SEGMENT_S = 2;
const BOUND_SEGMENTS = 3;

let ingest: ServiceProcess | undefined;
let transcoder: ServiceProcess | undefined;
let viewer: ServiceProcess;
let tap: TopicTap;
const publishers: FfmpegRun[] = [];
const BACKLOG_AFTER_MS = 5_000;

async function startIngest(): Promise<ServiceProcess> {
  const port = await freePort();
  return startService('ingest', { port, env: { ...common, INGEST_PORT: String(port) } });
}

async function startTranscoder(): Promise<ServiceProcess> {
  const port = await freePort();
  return startService('transcoder', {
    port,
    env: {
      ...common,
      LOG_LEVEL: 'info',
      TRANSCODER_PORT: String(port),
      TRANSCODER_GROUP_ID: `${prefix}-transcoder`,
      TRANSCODER_PRESET: 'ultrafast',
      TRANSCODER_THREADS: '1',
      TRANSCODER_SESSION_TIMEOUT_MS: '6000',
      TRANSCODER_IDLE_TIMEOUT_MS: '4000',
      TRANSCODER_BACKLOG_AFTER_MS: String(BACKLOG_AFTER_MS),
      TRANSCODER_BACKLOG_POLICY: 'replay',
      TRANSCODER_LIVE_MAX_TRAIL_SEGMENTS: String(BOUND_SEGMENTS),
    },
  });
}

const segmentsOf = (id: string) => tap.messages.filter((m) => m.topic === topic(Topics.videoSegments) && m.key === id);
const statusesOf = (id: string) =>
  tap.messages.filter((m) => m.topic === topic(Topics.streamStatus) && m.key === id).map((m) => JSON.parse(m.value!.toString()) as StreamStatus);
const sequence = (m: ReadMessage) => Number(m.headers[VideoHeaders.mediaSequence]);
const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((p / 100) * values.length))];

beforeAll(async () => {
  const viewerPort = await freePort();
  [ingest, transcoder, viewer] = await Promise.all([
    startIngest(),
    startTranscoder(),
    startService('viewer-api', { port: viewerPort, env: { ...common, VIEWER_API_PORT: String(viewerPort) } }),
  ]);
  tap = await new TopicTap(kafkaFor(brokers), [topic(Topics.videoSegments), topic(Topics.streamStatus)]).start();
}, 240_000);

afterAll(async () => {
  for (const publisher of publishers) publisher.kill();
  await tap?.stop();
  await Promise.all([viewer?.stop(), transcoder?.stop(), ingest?.stop()]);
});

it('after a SIGKILL with backlog, a new live stream stays near its edge while the old sessions are replayed as backlog', async () => {
  const old = [`old-a-${randomUUID().slice(0, 4)}`, `old-b-${randomUUID().slice(0, 4)}`];
  for (const id of old) {
    const key = await createStream(ingest!.url, id);
    publishers.push(publishTestPattern(`${ingest!.url}/live/${key}`, { size: '640x360', rate: 15, seconds: 120 }));
  }
  await tap.waitFor(() => old.every((id) => segmentsOf(id).length >= 2) || undefined, 120_000, 'first segments of both old streams');

  // The transcoder dies; ingest goes on writing input nobody reads (the backlog), then dies too.
  await transcoder!.kill();
  transcoder = undefined;
  const beforeKill = new Map(old.map((id) => [id, segmentsOf(id).length]));
  await new Promise((resolve) => setTimeout(resolve, 12_000));
  await ingest!.kill();
  ingest = undefined;
  for (const publisher of publishers) publisher.kill();
  // Let the newest chunk age past TRANSCODER_BACKLOG_AFTER_MS: a restart faster than that would
  // rightly take the old sessions for live ones (their publisher could still be sending).
  await new Promise((resolve) => setTimeout(resolve, BACKLOG_AFTER_MS + 2_000));

  [ingest, transcoder] = await Promise.all([startIngest(), startTranscoder()]);
  const id = `new-${randomUUID().slice(0, 4)}`;
  const key = await createStream(ingest.url, id);
  const publishedAt = Date.now();
  const publisher = publishTestPattern(`${ingest.url}/live/${key}`, { size: '640x360', rate: 15, seconds: 40 });
  publishers.push(publisher);

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
  const lines = transcoder.output().split('\n');
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
