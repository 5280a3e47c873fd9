import { randomUUID } from 'node:crypto';
import * as HLS from 'hls-parser';
import type { MediaPlaylist, Segment } from 'hls-parser/types';
import { Topics, topicName } from '@tributary/contracts';
import type { LogLine } from '@tributary/devkit';
import { createStream, startVideoStack, until, type VideoStack } from './support/video-stack';
import { type FfmpegRun, kafkaFor, publishTestPattern, TopicTap } from './support/video-topics';

/**
 * Issue 14: a skip to the newest keyframe done in place (the running ffmpeg keeps reading, no
 * restart), as a viewer sees it in viewer-api's real media playlist. One real-time 640x360 stream
 * (a one-rendition ladder at the shedding preset: skipping is its first step), bound 2 segments.
 * Once it produced segments, its ffmpeg (a child of the transcoder this test started) is paused
 * with SIGSTOP, as a starved node would stall it: its input queues up, the transcoder decides
 * `skip_to_live`, ffmpeg is resumed and the skip takes effect. The live media playlist, read
 * every 500 ms until EXT-X-ENDLIST and parsed by hls-parser in strict mode each time (its window
 * is shorter than the stream), must carry EXT-X-DISCONTINUITY on the first segment after the
 * jump, with a PROGRAM-DATE-TIME moved on by about the media skipped (the skipped chunks' share of
 * the publish). That is less than the pause: what the transcoder had written to ffmpeg's stdin
 * before the skip is transcoded, and at this bitrate the stdin socket's buffer alone holds seconds.
 * Build first: `npx tsc -b services/ingest services/transcoder services/viewer-api`.
 */
const brokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const prefix = `t-${randomUUID().slice(0, 8)}`;
const PAUSE_MS = 8_000;
const PUBLISH_SECONDS = 30;

let stack: VideoStack;
let tap: TopicTap;
let publisher: FfmpegRun | undefined;
let paused: number | undefined;

HLS.setOptions({ strictMode: true, silent: true });

beforeAll(async () => {
  stack = await startVideoStack({
    brokers,
    prefix,
    transcoderEnv: { LOG_LEVEL: 'info', TRANSCODER_SHEDDING: 'on', TRANSCODER_LIVE_MAX_TRAIL_SEGMENTS: '2' },
  });
  tap = await new TopicTap(kafkaFor(brokers), [topicName(Topics.streamStatus, prefix)]).start();
}, 240_000);

afterAll(async () => {
  // Resumed if the test failed while its ffmpeg was paused, so the transcoder can stop.
  if (paused !== undefined) resume(paused);
  publisher?.kill();
  await tap?.stop();
  await stack?.stop();
});

function resume(pid: number): void {
  try {
    process.kill(pid, 'SIGCONT');
  } catch {
    // gone already
  }
  paused = undefined;
}

/** The transcoder's JSON log lines about `streamId` with message `msg`, since it started. */
function logged(streamId: string, msg: string): LogLine[] {
  return stack.transcoder.jsonLines({ fromStart: true }).filter((line) => line.streamId === streamId && line.msg === msg);
}

it('marks a skip in place with EXT-X-DISCONTINUITY and a program date time moved on by the skipped media in the live playlist', async () => {
  const id = `skip-${randomUUID().slice(0, 6)}`;
  const key = await createStream(stack.ingest.url, id);
  publisher = publishTestPattern(`${stack.ingest.url}/live/${key}`, { size: '640x360', rate: 25, seconds: PUBLISH_SECONDS });
  const playlistUrl = `${stack.viewer.url}/live/${id}/360p/index.m3u8`;
  // Every segment the live playlist listed, by media sequence, as first listed (the first segment
  // of a window carries its discontinuity in EXT-X-DISCONTINUITY-SEQUENCE, not as a tag); a
  // playlist hls-parser rejects fails the test.
  const listed = new Map<number, Segment>();
  let parsed = 0;
  const poll = (async () => {
    for (const deadline = Date.now() + 150_000; Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 500))) {
      const response = await fetch(playlistUrl);
      if (!response.ok) continue;
      const playlist = HLS.parse(await response.text()) as MediaPlaylist;
      parsed += 1;
      for (const segment of playlist.segments) if (!listed.has(segment.mediaSequenceNumber)) listed.set(segment.mediaSequenceNumber, segment);
      if (playlist.endlist) return;
    }
    throw new Error('no EXT-X-ENDLIST within 150 s');
  })();

  // Producing: two segments listed. Then its ffmpeg stands still while the input queues up.
  await until('two segments listed', async () => listed.size >= 2, 60_000);
  const [started] = logged(id, 'ffmpeg started');
  const pid = started.pid as number;
  process.kill(pid, 'SIGSTOP');
  paused = pid;
  const pausedAt = Date.now();
  await until('a skip_to_live decision', async () => logged(id, 'live stream trails its latency bound: shedding work').find((line) => line.action === 'skip_to_live'), 30_000);
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, pausedAt + PAUSE_MS - Date.now())));
  resume(pid);
  const pauseSeconds = (Date.now() - pausedAt) / 1000;
  const [skip] = await until(
    'the skip taking effect',
    async () => {
      const lines = logged(id, 'skipped to the newest keyframe without restarting ffmpeg');
      return lines.length > 0 ? lines : undefined;
    },
    30_000,
  );

  await publisher.done;
  await poll;
  // One ffmpeg run throughout: the skip did not restart it.
  expect(logged(id, 'ffmpeg started')).toHaveLength(1);
  // The publish's chunk count (ingest's `ended`): the media a chunk holds on average.
  const ended = await tap.waitFor(
    () =>
      tap
        .statuses(topicName(Topics.streamStatus, prefix))
        .find((status) => status.stream_id === id && status.reporter === 'ingest' && status.state === 'ended' && status.last_chunk_sequence !== undefined),
    30_000,
    "ingest's ended with its last chunk sequence",
  );
  const chunkSeconds = PUBLISH_SECONDS / (ended.last_chunk_sequence! + 1);
  const expectedJump = Number(skip.skippedChunks) * chunkSeconds;

  const segments = [...listed.values()].sort((a, b) => a.mediaSequenceNumber - b.mediaSequenceNumber);
  expect(segments.every((segment, i) => i === 0 || segment.mediaSequenceNumber === segments[i - 1].mediaSequenceNumber + 1)).toBe(true);
  const jumps = segments.flatMap((segment, i) => {
    if (i === 0 || !segment.discontinuity) return [];
    const previous = segments[i - 1];
    expect(segment.discontinuitySequence).toBe(previous.discontinuitySequence + 1);
    const expected = previous.programDateTime!.getTime() + previous.duration * 1000;
    return [{ sequence: segment.mediaSequenceNumber, jumpSeconds: (segment.programDateTime!.getTime() - expected) / 1000 }];
  });
  console.log(
    `paused ${pauseSeconds.toFixed(1)} s; skipped ${String(skip.skippedChunks)} chunks in place (≈ ${expectedJump.toFixed(2)} s at ${chunkSeconds.toFixed(2)} s a chunk); ` +
      `${segments.length} segments listed, ${parsed} playlists parsed; discontinuities: ${jumps.map((jump) => `#${jump.sequence} PDT +${jump.jumpSeconds.toFixed(2)} s`).join(', ') || 'none'}`,
  );
  // One skip, one jump: forward, by about the media skipped (chunks differ in length: ±25 % or a
  // chunk), never by more than the pause.
  expect(jumps).toHaveLength(1);
  expect(jumps[0].jumpSeconds).toBeGreaterThan(1);
  expect(Math.abs(jumps[0].jumpSeconds - expectedJump)).toBeLessThanOrEqual(Math.max(0.25 * expectedJump, chunkSeconds));
  expect(jumps[0].jumpSeconds).toBeLessThan(pauseSeconds + 1);
  // Every segment has a program date time, and they run forward.
  for (let i = 1; i < segments.length; i += 1) expect(segments[i].programDateTime!.getTime()).toBeGreaterThan(segments[i - 1].programDateTime!.getTime());
}, 240_000);
