import { randomUUID } from 'node:crypto';
import type { ServiceProcess } from '@tributary/devkit';
import { publishTestPattern } from './support/video-topics';
import { ffmpegRead } from './support/video-fixture';
import { createStream, parseManifest as parse, startVideoStack, until, type VideoStack } from './support/video-stack';

/**
 * The whole video path as a viewer sees it: ffmpeg publishes to ingest, the real transcoder cuts
 * HLS segments into Kafka, and viewer-api serves them live, as a replay and as a thumbnail.
 * (test/video-pipeline.e2e.ts, owned by the transcoder, checks the Kafka side.)
 */
const brokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const prefix = `t-${randomUUID().slice(0, 8)}`;
let stack: VideoStack;
let ingest: ServiceProcess;
let viewer: ServiceProcess;

beforeAll(async () => {
  stack = await startVideoStack({
    brokers,
    prefix,
    transcoderEnv: { TRANSCODER_THREADS: '1', TRANSCODER_THUMBNAIL_INTERVAL_SECONDS: '2' },
  });
  ({ ingest, viewer } = stack);
}, 180_000);

afterAll(async () => {
  await stack?.stop();
});

it('serves a real publish live, ends it with ENDLIST, and replays it from Kafka', async () => {
  const id = `pipe-${randomUUID().slice(0, 6)}`;
  const streamKey = await createStream(ingest.url, id, { title: 'Pipeline' });
  const publisher = publishTestPattern(`${ingest.url}/live/${streamKey}`, { size: '640x360', rate: 10, seconds: 14 });

  // Live: the master lists what the transcoder reported; the media playlist grows.
  const master = await until('a live master playlist', async () => {
    const response = await fetch(`${viewer.url}/live/${id}/master.m3u8`);
    return response.ok ? parse(await response.text()) : undefined;
  }, 60_000);
  expect(master.playlists.length).toBeGreaterThanOrEqual(1);
  expect(master.playlists[0].attributes.RESOLUTION).toEqual({ width: 640, height: 360 });
  expect(master.playlists[0].attributes.CODECS).toMatch(/^avc1\./);
  const live = (await (await fetch(`${viewer.url}/v1/streams/${id}`)).json()) as { state: string };
  expect(live.state).toBe('live');

  expect((await publisher.done).code).toBe(0);
  const rendition = master.playlists[0].uri.split('/')[0];
  const ended = await until('ENDLIST after the publish ended', async () => {
    const response = await fetch(`${viewer.url}/live/${id}/${rendition}/index.m3u8`);
    const manifest = response.ok ? parse(await response.text()) : undefined;
    return manifest?.endList ? manifest : undefined;
  }, 60_000);
  expect(ended.segments.length).toBeGreaterThanOrEqual(1);
  const liveRead = await ffmpegRead(`${viewer.url}/live/${id}/master.m3u8`);
  expect(liveRead.code).toBe(0);

  const vodMaster = parse(await (await fetch(`${viewer.url}/vod/${id}/master.m3u8`)).text());
  const vod = parse(await (await fetch(`${viewer.url}${vodMaster.playlists[0].uri}`)).text());
  expect(vod.playlistType).toBe('VOD');
  expect(vod.endList).toBe(true);
  const total = vod.segments.reduce((sum, segment) => sum + segment.duration, 0);
  expect(total).toBeGreaterThan(10); // the whole 14 s publish, not just the live window
  const replay = await ffmpegRead(`${viewer.url}/vod/${id}/master.m3u8`);
  expect(replay.stderr.trim()).toBe('');
  expect(replay.code).toBe(0);

  const thumbnail = await fetch(`${viewer.url}/live/${id}/thumbnail.jpg`);
  expect(thumbnail.status).toBe(200);
  expect(thumbnail.headers.get('content-type')).toBe('image/jpeg');
});
