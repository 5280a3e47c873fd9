import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { Topics, topicName, VideoHeaders } from '@tributary/contracts';
import { freePort, type ServiceProcess, startService } from '@tributary/devkit';
import { partitionForKey } from '@tributary/kafka';
import type { Kafka } from 'kafkajs';
import { createStream, parseManifest, until } from './support/video-stack';
import { kafkaFor, publishTestPattern, type ReadMessage, TopicTap } from './support/video-topics';
import { startTestTranscoder } from './support/test-transcoder';

/**
 * Zombie fencing end to end: two transcoders in one group on the real broker, a real ffmpeg
 * publisher through ingest, viewer-api serving the playlist. The transcoder that owns the stream
 * is frozen with SIGSTOP until the group gives its partition to the other one, then resumed
 * (SIGCONT) while its ffmpeg output is still pending. Whatever the zombie tries to publish, no
 * segment of it reaches video.segments (read committed) after the takeover, per (stream,
 * rendition) media sequences strictly increase, and viewer-api's playlists agree.
 * Build first: `npx tsc -b services/ingest services/transcoder services/viewer-api`.
 */
const run = promisify(execFile);
const brokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const prefix = `t-${randomUUID().slice(0, 8)}`;
const group = `${prefix}-transcoder`;
const topic = (base: string) => topicName(base, prefix);
const common = { KAFKA_BROKERS: brokers, TOPIC_PREFIX: prefix, LOG_LEVEL: 'warn', KAFKA_VIDEO_PARTITIONS: '2', KAFKA_EVENT_PARTITIONS: '1' };

let kafka: Kafka;
let ingest: ServiceProcess;
let viewer: ServiceProcess;
const transcoders: ServiceProcess[] = [];
let tap: TopicTap;
let frozen: ServiceProcess | undefined;

// Shedding stays off (testTranscoderEnv): a shed restarts ffmpeg in a new session, which this test reads as a takeover.
function startTranscoder(): Promise<ServiceProcess> {
  return startTestTranscoder({ ...common, LOG_LEVEL: 'info' }, group, { TRANSCODER_THREADS: '1', TRANSCODER_SESSION_TIMEOUT_MS: '6000' });
}

/** The transcoder running an ffmpeg child (the owner of the stream's partition). */
async function owner(): Promise<ServiceProcess | undefined> {
  for (const transcoder of transcoders) {
    const { stdout } = await run('ps', ['-o', 'comm=', '--ppid', String(transcoder.child.pid)]).catch(() => ({ stdout: '' }));
    if (stdout.split('\n').some((line) => line.trim() === 'ffmpeg')) return transcoder;
  }
  return undefined;
}

const segmentsOf = (id: string) => tap.messages.filter((m) => m.topic === topic(Topics.videoSegments) && m.key === id);
const session = (m: ReadMessage) => m.headers[VideoHeaders.transcodeSession];
const sequence = (m: ReadMessage) => Number(m.headers[VideoHeaders.mediaSequence]);

beforeAll(async () => {
  kafka = kafkaFor(brokers);
  const ingestPort = await freePort();
  ingest = await startService('ingest', { port: ingestPort, env: common });
  transcoders.push(await startTranscoder(), await startTranscoder());
  const viewerPort = await freePort();
  viewer = await startService('viewer-api', { port: viewerPort, env: common });
  tap = await new TopicTap(kafka, [topic(Topics.videoSegments), topic(Topics.streamStatus)]).start();
}, 240_000);

afterAll(async () => {
  if (frozen?.child.pid) process.kill(frozen.child.pid, 'SIGCONT');
  await tap?.stop();
  await Promise.all([viewer?.stop(), ...transcoders.map((t) => t.stop()), ingest?.stop()]);
});

it('a transcoder frozen across a rebalance never gets a segment into video.segments or a playlist after the takeover', async () => {
  const id = `zombie-${randomUUID().slice(0, 6)}`;
  const key = await createStream(ingest.url, id);
  const publisher = publishTestPattern(`${ingest.url}/live/${key}`, { size: '640x360', rate: 10, seconds: 60 });

  // Poll the playlist all along, as a player would.
  const playlists: { mediaSequence: number; count: number }[] = [];
  let polling = true;
  const poller = (async () => {
    while (polling) {
      const response = await fetch(`${viewer.url}/live/${id}/360p/index.m3u8`).catch(() => undefined);
      if (response?.status === 200) {
        const manifest = parseManifest(await response.text());
        playlists.push({ mediaSequence: manifest.mediaSequence ?? 0, count: manifest.segments.length });
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  })();

  await tap.waitFor(() => segmentsOf(id).length >= 3 || undefined, 120_000, `first segments of ${id}`);
  frozen = await until('the owning transcoder (ffmpeg child)', owner, 30_000);
  const survivor = transcoders.find((t) => t !== frozen)!;
  const staleSessions = new Set(segmentsOf(id).map(session));
  process.kill(frozen.child.pid!, 'SIGSTOP');
  // The group evicts the frozen member after its session timeout; the survivor takes over.
  const takeover = await tap.waitFor(
    () => segmentsOf(id).find((m) => !staleSessions.has(session(m))),
    90_000,
    `segments of ${id} from the surviving transcoder`,
  );
  await tap.waitFor(() => segmentsOf(id).filter((m) => !staleSessions.has(session(m))).length >= 3 || undefined, 60_000, 'more takeover segments');
  process.kill(frozen.child.pid!, 'SIGCONT');
  const resumed = frozen;
  frozen = undefined;
  expect((await publisher.done).code).toBe(0);
  await tap.waitFor(
    () =>
      tap.messages.some((m) => m.topic === topic(Topics.streamStatus) && m.key === id && /"reporter":"transcoder".*"state":"ended"|"state":"ended".*"reporter":"transcoder"/.test(m.value?.toString() ?? '')) ||
      undefined,
    180_000,
    `transcoder ended for ${id}`,
  );
  polling = false;
  await poller;

  const list = segmentsOf(id);
  const byRendition = new Map<string, ReadMessage[]>();
  for (const m of list) byRendition.set(m.headers[VideoHeaders.rendition], [...(byRendition.get(m.headers[VideoHeaders.rendition]) ?? []), m]);
  expect([...byRendition.keys()]).toEqual(['360p']);
  for (const segments of byRendition.values()) {
    // The frozen transcoder's sessions are a prefix of the log: nothing of it after the takeover.
    const firstNew = segments.findIndex((m) => !staleSessions.has(session(m)));
    expect(firstNew).toBeGreaterThan(0);
    expect(segments.slice(firstNew).filter((m) => staleSessions.has(session(m)))).toEqual([]);
    // Media sequences strictly increase (never repeat, never go back).
    const numbers = segments.map(sequence);
    for (let i = 1; i < numbers.length; i += 1) expect(numbers[i]).toBeGreaterThan(numbers[i - 1]);
  }
  expect(list.indexOf(takeover)).toBeGreaterThan(0);
  // The survivor's log says it took over; the zombie's says it was fenced or restarted the partition.
  expect(survivor.output()).toMatch(/segment output fenced and owned/);
  // Its ffmpeg kept writing segments while it was frozen. On SIGCONT it either tries to publish them
  // (refused: fenced), or hears of the rebalance first and then either gets the stream's partition
  // back and finds it was owned meanwhile (restart), or is told the partition moved (release).
  const streamPartition = partitionForKey(topic(Topics.videoIngest), id, 2);
  const zombieLines = resumed.jsonLines<{ msg?: string; partition?: number; partitions?: number[]; lost?: number[] }>();
  const outcomes = zombieLines.filter(
    (line) =>
      (line.msg?.startsWith('fenced: another replica took this partition over') && line.partition === streamPartition) ||
      (line.msg?.startsWith('another replica owned these partitions meanwhile') && line.partitions?.includes(streamPartition)) ||
      (line.msg === 'video.ingest partitions assigned' && line.lost?.includes(streamPartition)),
  );
  expect(outcomes.map((line) => line.msg)).not.toEqual([]);

  // The playlist a player polls never goes back and never has a sequence the log does not have once.
  expect(playlists.length).toBeGreaterThan(5);
  for (let i = 1; i < playlists.length; i += 1) expect(playlists[i].mediaSequence).toBeGreaterThanOrEqual(playlists[i - 1].mediaSequence);
  const committed = new Set(list.map(sequence));
  const last = playlists.at(-1)!;
  for (let s = last.mediaSequence; s < last.mediaSequence + last.count; s += 1) expect(committed.has(s)).toBe(true);
}, 600_000);
