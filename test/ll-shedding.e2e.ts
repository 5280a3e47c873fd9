import { randomUUID } from 'node:crypto';
import { Topics, topicName, VideoHeaders } from '@tributary/contracts';
import { requireLowLatencyFfmpeg } from '../services/transcoder/src/low-latency/testing/fmp4-fixture';
import { checkLowLatencyPlaylist } from '../services/viewer-api/src/hls/testing/ll-hls-conformance';
import { createStream, parseManifest, SMALL_LADDER, startVideoStack, until, type VideoStack } from './support/video-stack';
import { type FfmpegRun, kafkaFor, publishTestPattern, type ReadMessage, TopicTap } from './support/video-topics';

/**
 * Low-latency shedding end to end: a `latency_mode: low` stream (360p + 180p) through the real
 * ingest, transcoder (shedding on, bound 2 segments, restored after 3 s of headroom) and
 * viewer-api. The stream is starved of CPU the way an overloaded node would: each of its ffmpeg
 * runs is paused (SIGSTOP, a child of the transcoder this test started) once it made parts, until
 * the stream skipped to live. It must shed in the documented order (stream.status details), the
 * master playlist must drop 360p while it is shed and bring it back once restored, and the
 * remaining renditions' LL playlists must keep passing the conformance rules (no rendition report
 * for the shed one). Build first: `npx tsc -b services/ingest services/transcoder services/viewer-api`.
 */
const brokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const prefix = `lls-${randomUUID().slice(0, 8)}`;
const topic = (base: string) => topicName(base, prefix);

let stack: VideoStack;
let tap: TopicTap;
let publisher: FfmpegRun | undefined;
const paused = new Set<number>();

beforeAll(async () => {
  requireLowLatencyFfmpeg();
  stack = await startVideoStack({
    brokers,
    prefix,
    transcoderEnv: {
      LOG_LEVEL: 'info',
      TRANSCODER_SHEDDING: 'on',
      TRANSCODER_LIVE_MAX_TRAIL_SEGMENTS: '2',
      TRANSCODER_SHED_RESTORE_MS: '3000',
      TRANSCODER_PRESET: 'veryfast',
      TRANSCODER_SHED_PRESET: 'ultrafast',
      TRANSCODER_THREADS: '1',
      TRANSCODER_LL_PART_SECONDS: '0.2',
    },
  });
  tap = await new TopicTap(kafkaFor(brokers), [topic(Topics.videoSegments), topic(Topics.streamStatus)]).start();
}, 180_000);

afterAll(async () => {
  publisher?.kill();
  // A run still paused (only if the test failed before its skip) goes on, so the transcoder can stop.
  for (const pid of paused) {
    try {
      process.kill(pid, 'SIGCONT');
    } catch {
      // gone already
    }
  }
  await tap?.stop();
  await stack?.stop();
});

const details = () =>
  tap
    .statuses(topic(Topics.streamStatus))
    .filter((s) => s.reporter === 'transcoder' && s.state === 'live' && s.detail?.action);
const actions = () => details().map((s) => s.detail!.action!);
const parts = (session?: string) =>
  tap.messages.filter(
    (m: ReadMessage) => m.topic === topic(Topics.videoSegments) && m.headers[VideoHeaders.segmentKind] === 'part' && (!session || m.headers[VideoHeaders.transcodeSession] === session),
  );

/** The transcoder's low-latency ffmpeg runs so far (its `low-latency ffmpeg started` log lines). */
function runs(): { pid: number; transcodeSession: string }[] {
  return stack.transcoder
    .jsonLines<{ msg?: string; pid: number; transcodeSession: string }>({ fromStart: true })
    .filter((line) => line.msg === 'low-latency ffmpeg started');
}

async function master(id: string): Promise<string[]> {
  const manifest = parseManifest(await (await fetch(`${stack.viewer.url}/live/${id}/master.m3u8`)).text());
  return manifest.playlists.map((playlist: { uri: string }) => playlist.uri.split('/')[0]);
}

it('sheds a starved low-latency stream in order, serves only its remaining renditions meanwhile, and restores them', async () => {
  const id = `lls-${randomUUID().slice(0, 6)}`;
  const streamKey = await createStream(stack.ingest.url, id, { latency_mode: 'low', segment_duration_seconds: 2, ladder: SMALL_LADDER });
  publisher = publishTestPattern(`${stack.ingest.url}/live/${streamKey}`, { size: '640x360', rate: 15, seconds: 120 });

  const starve = setInterval(() => {
    const run = runs().at(-1);
    if (!run || paused.has(run.pid) || actions().includes('skip_to_live') || parts(run.transcodeSession).length < 10) return;
    paused.add(run.pid);
    process.kill(run.pid, 'SIGSTOP');
  }, 200);
  try {
    await until('the stream to drop its top rendition', () => Promise.resolve(actions().includes('drop_rendition')), 90_000);
    // Only the remaining rendition is advertised (once viewer-api read the report), and its
    // playlist keeps the rules without a rendition report for the shed one.
    expect(await until('the master playlist without 360p', async () => ((await master(id)).join() === '180p' ? true : undefined), 15_000)).toBe(true);
    const shed = checkLowLatencyPlaylist(await (await fetch(`${stack.viewer.url}/live/${id}/180p/index.m3u8`)).text(), { otherRenditions: [] });
    expect(shed.playlist.renditionReports).toEqual([]);
    await until('the stream to skip to live', () => Promise.resolve(actions().includes('skip_to_live')), 90_000);
  } finally {
    clearInterval(starve);
  }
  await until('the stream to restore its top rendition', () => Promise.resolve(actions().includes('restore_rendition')), 90_000);
  console.log(`ll-shedding: ${actions().join(' → ')}; ${paused.size} runs paused; ${runs().length} runs`);
  expect(actions().slice(0, 3)).toEqual(['drop_rendition', 'faster_preset', 'skip_to_live']);
  expect(actions().slice(-2)).toEqual(['restore_preset', 'restore_rendition']);
  for (const status of details()) expect(status.detail).toMatchObject({ mode: 'live', latency_mode: 'low', part_target_seconds: expect.any(Number) as number });

  // Restored: both renditions advertised again, each with new parts, each playlist conformant and
  // reporting the other; a blocking reload for the next part of 360p is answered.
  const lastRun = runs().at(-1)!.transcodeSession;
  await until('new parts of both renditions', () => Promise.resolve(new Set(parts(lastRun).map((m) => m.headers[VideoHeaders.rendition])).size === 2), 30_000);
  expect(await until('the master playlist with 360p again', async () => ((await master(id)).sort().join() === '180p,360p' ? true : undefined), 15_000)).toBe(true);
  for (const [rendition, other] of [
    ['360p', '180p'],
    ['180p', '360p'],
  ]) {
    const checked = checkLowLatencyPlaylist(await (await fetch(`${stack.viewer.url}/live/${id}/${rendition}/index.m3u8`)).text(), { otherRenditions: [other] });
    expect(checked.parts.length).toBeGreaterThan(0);
    if (rendition === '360p') {
      const next = await fetch(`${stack.viewer.url}/live/${id}/360p/index.m3u8?_HLS_msn=${checked.lastMsn + 1}&_HLS_part=0`);
      expect(next.status).toBe(200);
      checkLowLatencyPlaylist(await next.text(), { otherRenditions: ['180p'] });
    }
  }
  // Each run's first part of each rendition follows a DISCONTINUITY and starts a segment.
  for (const run of runs().slice(1)) {
    for (const rendition of ['360p', '180p']) {
      const first = parts(run.transcodeSession).find((m) => m.headers[VideoHeaders.rendition] === rendition);
      if (!first) continue;
      expect([first.headers[VideoHeaders.discontinuity], first.headers[VideoHeaders.partIndex], first.headers[VideoHeaders.partIndependent]]).toEqual(['1', '0', '1']);
    }
  }
}, 300_000);
