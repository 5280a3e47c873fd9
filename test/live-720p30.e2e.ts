import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import type { ServiceProcess } from '@tributary/devkit';
import { publishTestPattern } from './support/video-topics';
import { FFPROBE, ffmpegRead } from './support/video-fixture';
import { createStream, expectEndedAndReplayable, parseManifest as parse, startVideoStack, until, type VideoStack } from './support/video-stack';

/**
 * The video issue's acceptance scenario, literally: ffmpeg publishes 20 s of 720p30 test video →
 * viewer-api's master playlist lists the three renditions within 15 s of the publish starting;
 * ffprobe confirms each rendition's resolution and codecs; an independent HLS client (ffmpeg) reads
 * the stream to the end without errors; EXT-X-ENDLIST appears after the publisher stops; and the
 * replay of the ended stream returns every segment from the start. Real broker, ffmpeg, services.
 */
const run = promisify(execFile);
const brokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const prefix = `t-${randomUUID().slice(0, 8)}`;
let stack: VideoStack;
let ingest: ServiceProcess;
let viewer: ServiceProcess;

interface ProbedStream {
  codec_type: string;
  codec_name: string;
  width?: number;
  height?: number;
}

async function probeUrl(url: string): Promise<ProbedStream[]> {
  const { stdout } = await run(FFPROBE, ['-v', 'error', '-print_format', 'json', '-show_streams', url], { timeout: 30_000 });
  return (JSON.parse(stdout) as { streams: ProbedStream[] }).streams;
}

beforeAll(async () => {
  // ultrafast keeps three renditions of 720p30 within one of CI's two cores.
  stack = await startVideoStack({ brokers, prefix });
  ({ ingest, viewer } = stack);
}, 180_000);

afterAll(async () => {
  await stack?.stop();
});

it('publishes 20 s of 720p30 and serves three renditions live, to the end, and as a replay', async () => {
  const id = `hd-${randomUUID().slice(0, 6)}`;
  const streamKey = await createStream(ingest.url, id, { title: '720p30 acceptance' });

  const publishStarted = Date.now();
  const publisher = publishTestPattern(`${ingest.url}/live/${streamKey}`, { size: '1280x720', rate: 30, seconds: 20 });
  const master = await until(
    'a master playlist with three renditions',
    async () => {
      const response = await fetch(`${viewer.url}/live/${id}/master.m3u8`);
      const manifest = response.ok ? parse(await response.text()) : undefined;
      return manifest && manifest.playlists.length === 3 ? manifest : undefined;
    },
    60_000,
  );
  const listedAfterMs = Date.now() - publishStarted;
  expect(listedAfterMs).toBeLessThanOrEqual(15_000);
  expect(master.playlists.map((playlist) => playlist.attributes.RESOLUTION)).toEqual([
    { width: 1280, height: 720 },
    { width: 854, height: 480 },
    { width: 640, height: 360 },
  ]);
  for (const playlist of master.playlists) {
    expect(playlist.attributes.BANDWIDTH).toBeGreaterThan(0);
    expect(playlist.attributes.CODECS).toMatch(/^avc1\.[0-9a-f]{6},mp4a\.40\.2$/);
  }

  // Each rendition's first segment, as served to players: H.264 at the rendition's size, plus AAC.
  for (const playlist of master.playlists) {
    const mediaUrl = `${viewer.url}/live/${id}/${playlist.uri}`;
    const media = await until('a segment in the media playlist', async () => {
      const manifest = parse(await (await fetch(mediaUrl)).text());
      return manifest.segments.length > 0 ? manifest : undefined;
    }, 30_000);
    const segmentUrl = new URL(media.segments[0].uri, mediaUrl).toString();
    const streams = await probeUrl(segmentUrl);
    const video = streams.find((stream) => stream.codec_type === 'video');
    expect(video).toMatchObject({ codec_name: 'h264', width: playlist.attributes.RESOLUTION?.width, height: playlist.attributes.RESOLUTION?.height });
    expect(streams.find((stream) => stream.codec_type === 'audio')?.codec_name).toBe('aac');
  }

  expect((await publisher.done).code).toBe(0);
  const topMediaUrl = `${viewer.url}/live/${id}/${master.playlists[0].uri}`;
  // Ended live, read whole by ffmpeg, and a replay from Kafka from media sequence 0 covering the whole 20 s publish.
  await expectEndedAndReplayable(viewer.url, id, topMediaUrl, 3, 18);
  const replayRead = await ffmpegRead(`${viewer.url}/vod/${id}/master.m3u8`);
  expect(replayRead.stderr.trim()).toBe('');
  expect(replayRead.code).toBe(0);
});
