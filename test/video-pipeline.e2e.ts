import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Topics, topicName, VideoHeaders } from '@tributary/contracts';
import { freePort, type ServiceProcess, startService } from '@tributary/devkit';
import type { Kafka } from 'kafkajs';
import { FFPROBE_BIN, kafkaFor, publishTestPattern, type ReadMessage, streamStatuses, TopicTap } from './support/video-topics';
import { createStream } from './support/video-stack';
import { testTranscoderEnv } from './support/test-transcoder';

/**
 * The live video path end to end: ffmpeg publishes to ingest over HTTP → video.ingest → the
 * transcoder's ffmpeg ladder → video.segments / video.frames / stream.status. Real broker, real
 * ffmpeg, the built services (`npx tsc -b services/ingest services/transcoder` first). Sources
 * are small and low-fps (2 shared cores): 720p at 5 fps, 360p at 10 fps, ultrafast preset.
 */
const run = promisify(execFile);
const brokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const prefix = `t-${randomUUID().slice(0, 8)}`;
const group = `transcoder-${prefix}`;
const topic = (base: string) => topicName(base, prefix);

let kafka: Kafka;
let ingest: ServiceProcess;
let transcoder: ServiceProcess;
let tap: TopicTap;
let dir: string;

async function transcoderEnv(): Promise<{ port: number; env: Record<string, string> }> {
  const port = await freePort();
  return {
    port,
    // The full ladder is checked here: no shedding (testTranscoderEnv; live-overload.e2e.ts tests it).
    env: {
      KAFKA_BROKERS: brokers,
      TOPIC_PREFIX: prefix,
      LOG_LEVEL: 'info',
      ...testTranscoderEnv(group, {
        TRANSCODER_THREADS: '1',
        TRANSCODER_THUMBNAIL_INTERVAL_SECONDS: '2',
        TRANSCODER_SESSION_TIMEOUT_MS: '6000',
        TRANSCODER_PROBE_MAX_BYTES: String(512 * 1024),
      }),
    },
  };
}

const statuses = (messages: ReadMessage[], id: string) => streamStatuses(messages, topic(Topics.streamStatus), id);
const segments = (messages: ReadMessage[], id: string): ReadMessage[] =>
  messages.filter((m) => m.topic === topic(Topics.videoSegments) && m.key === id);
const transcoderEnded = (id: string) => (messages: ReadMessage[]) =>
  statuses(messages, id).some((s) => s.reporter === 'transcoder' && (s.state === 'ended' || s.state === 'error'));

function byRendition(list: ReadMessage[]): Map<string, ReadMessage[]> {
  const map = new Map<string, ReadMessage[]>();
  for (const message of list) {
    const rendition = message.headers[VideoHeaders.rendition];
    map.set(rendition, [...(map.get(rendition) ?? []), message]);
  }
  return map;
}

const sequences = (list: ReadMessage[]) => list.map((m) => Number(m.headers[VideoHeaders.mediaSequence]));
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

beforeAll(async () => {
  kafka = kafkaFor(brokers);
  dir = await mkdtemp(join(tmpdir(), 'video-e2e-'));
  const ingestPort = await freePort();
  ingest = await startService('ingest', {
    port: ingestPort,
    env: { KAFKA_BROKERS: brokers, TOPIC_PREFIX: prefix, LOG_LEVEL: 'warn' },
  });
  const { port, env } = await transcoderEnv();
  transcoder = await startService('transcoder', { port, env });
  tap = await new TopicTap(kafka, [topic(Topics.videoSegments), topic(Topics.streamStatus), topic(Topics.videoFrames)]).start();
}, 180_000);

afterAll(async () => {
  await tap?.stop();
  await transcoder?.stop();
  await ingest?.stop();
  await rm(dir, { recursive: true, force: true });
});

it('transcodes a 720p publish into three aligned renditions with consecutive media sequences', async () => {
  const id = `main-${randomUUID().slice(0, 6)}`;
  const key = await createStream(ingest.url, id);
  const publisher = publishTestPattern(`${ingest.url}/live/${key}`, { size: '1280x720', rate: 5, seconds: 20 });
  expect((await publisher.done).code).toBe(0);
  await tap.waitFor(transcoderEnded(id), 240_000, `transcoder ended for ${id}`);

  const reports = statuses(tap.messages, id);
  const live = reports.find((s) => s.reporter === 'transcoder' && s.state === 'live');
  expect(live?.renditions?.map((r) => `${r.name}:${r.width}x${r.height}`)).toEqual(['720p:1280x720', '480p:854x480', '360p:640x360']);
  expect(live?.renditions?.every((r) => r.bandwidth_bps > 0 && /^avc1\.[0-9a-f]{6},mp4a\.40\.2$/.test(r.codecs))).toBe(true);
  expect(reports.at(-1)).toMatchObject({ reporter: 'transcoder', state: 'ended' });

  const renditions = byRendition(segments(tap.messages, id));
  expect([...renditions.keys()].sort()).toEqual(['360p', '480p', '720p']);
  for (const [name, list] of renditions) {
    expect(list.length).toBeGreaterThanOrEqual(8); // ~20 s of 2 s segments
    expect(sequences(list)).toEqual(range(list.length));
    for (const segment of list) {
      expect(segment.headers[VideoHeaders.segmentKind]).toBe('media');
      expect(segment.headers[VideoHeaders.contentType]).toBe('video/mp2t');
      expect(segment.headers[VideoHeaders.discontinuity]).toBe('0');
      expect(Number(segment.headers[VideoHeaders.durationSeconds])).toBeGreaterThan(0);
      expect(Number(segment.headers[VideoHeaders.durationSeconds])).toBeLessThanOrEqual(2.6);
      expect(Number.isNaN(Date.parse(segment.headers[VideoHeaders.programTime]))).toBe(false);
      expect(segment.headers[VideoHeaders.transcodeSession]).toBeTruthy();
      expect(segment.headers.traceparent).toBeTruthy();
    }
    const file = join(dir, `${id}-${name}.ts`);
    await writeFile(file, list[1].value!);
    const { stdout } = await run(FFPROBE_BIN, ['-v', 'error', '-show_entries', 'stream=codec_name,width,height', '-of', 'json', file]);
    const streams = (JSON.parse(stdout) as { streams: { codec_name: string; width?: number; height?: number }[] }).streams;
    const expected = live!.renditions!.find((r) => r.name === name)!;
    expect(streams.find((s) => s.codec_name === 'h264')).toMatchObject({ width: expected.width, height: expected.height });
    expect(streams.some((s) => s.codec_name === 'aac')).toBe(true);
  }
  // Aligned keyframes: every rendition has the same number of segments with the same durations.
  const durations = [...renditions.values()].map((list) => list.map((m) => m.headers[VideoHeaders.durationSeconds]).join(','));
  expect(new Set(durations).size).toBe(1);

  const thumbnails = tap.messages.filter((m) => m.topic === topic(Topics.videoFrames) && m.key === id);
  expect(thumbnails.length).toBeGreaterThan(0);
  expect(thumbnails[0].headers[VideoHeaders.frameKind]).toBe('thumbnail');
  expect(thumbnails[0].value!.subarray(0, 2).equals(Buffer.from([0xff, 0xd8]))).toBe(true);
}, 300_000);

it('marks a garbage stream error while a concurrent good stream keeps producing segments', async () => {
  const bad = `bad-${randomUUID().slice(0, 6)}`;
  const good = `good-${randomUUID().slice(0, 6)}`;
  const badKey = await createStream(ingest.url, bad);
  const goodKey = await createStream(ingest.url, good, { segment_duration_seconds: 1 });
  const publisher = publishTestPattern(`${ingest.url}/live/${goodKey}`, { size: '640x360', rate: 10, seconds: 10 });
  await new Promise((resolve) => setTimeout(resolve, 2000));
  // 1 MiB of random bytes framed as TS packets (ingest refuses a body without sync bytes; this one
  // passes as MPEG-TS and only the transcoder can tell it is not decodable).
  const garbage = randomBytes(188 * 5600);
  for (let at = 0; at < garbage.length; at += 188) garbage[at] = 0x47;
  const response = await fetch(`${ingest.url}/live/${badKey}`, { method: 'POST', body: garbage });
  expect(response.status).toBe(200);

  const error = await tap.waitFor(
    (messages) => statuses(messages, bad).find((s) => s.reporter === 'transcoder' && s.state === 'error'),
    120_000,
    `error status for ${bad}`,
  );
  expect(error.reason).toMatch(/not decodable video/);
  expect(segments(tap.messages, bad)).toHaveLength(0);

  expect((await publisher.done).code).toBe(0);
  await tap.waitFor(transcoderEnded(good), 180_000, `transcoder ended for ${good}`);
  expect(statuses(tap.messages, good).at(-1)).toMatchObject({ reporter: 'transcoder', state: 'ended' });
  const list = segments(tap.messages, good);
  expect(list.length).toBeGreaterThanOrEqual(7); // ~10 s of 1 s segments (one 360p rendition)
  expect(sequences(list)).toEqual(range(list.length));
}, 300_000);

it('resumes a stream on another transcoder after a SIGKILL with discontinuity and no repeated sequence', async () => {
  const id = `kill-${randomUUID().slice(0, 6)}`;
  const key = await createStream(ingest.url, id);
  const publisher = publishTestPattern(`${ingest.url}/live/${key}`, { size: '640x360', rate: 10, seconds: 24 });
  await tap.waitFor((messages) => segments(messages, id).length >= 2, 120_000, `first segments of ${id}`);
  const firstSession = segments(tap.messages, id)[0].headers[VideoHeaders.transcodeSession];
  await transcoder.kill();
  const { port, env } = await transcoderEnv();
  transcoder = await startService('transcoder', { port, env });
  expect((await publisher.done).code).toBe(0);
  await tap.waitFor(transcoderEnded(id), 240_000, `transcoder ended for ${id} after takeover`);

  const list = segments(tap.messages, id);
  const resumed = list.filter((m) => m.headers[VideoHeaders.transcodeSession] !== firstSession);
  expect(resumed.length).toBeGreaterThan(0);
  expect(resumed[0].headers[VideoHeaders.discontinuity]).toBe('1');
  expect(list.filter((m) => m.headers[VideoHeaders.discontinuity] === '1')).toHaveLength(1); // one rendition (360p)
  // Continuing numbering: each sequence exactly once, in order, no gap and no step back.
  expect(sequences(list)).toEqual(range(list.length));
}, 400_000);
