import { Parser } from 'm3u8-parser';
import type { StreamRecord } from '@tributary/contracts';
import { freePort, type ServiceProcess, startService } from '@tributary/devkit';
import { ffmpegRead } from './video-fixture';
import { until } from './until';
import { startTestTranscoder } from './test-transcoder';

export { until };

/** An HLS playlist parsed by an independent parser (m3u8-parser), as a player would read it. */
export function parseManifest(text: string) {
  const parser = new Parser();
  parser.push(text);
  parser.end();
  return parser.manifest;
}

export interface VideoStack {
  ingest: ServiceProcess;
  transcoder: ServiceProcess;
  viewer: ServiceProcess;
  stop(): Promise<void>;
}

/** ingest + transcoder + viewer-api on free ports, sharing one broker and TOPIC_PREFIX. */
export async function startVideoStack(options: {
  brokers: string;
  prefix: string;
  transcoderEnv?: Record<string, string>;
  ingestEnv?: Record<string, string>;
}): Promise<VideoStack> {
  const common = {
    KAFKA_BROKERS: options.brokers,
    TOPIC_PREFIX: options.prefix,
    LOG_LEVEL: 'warn',
    KAFKA_VIDEO_PARTITIONS: '2',
    KAFKA_EVENT_PARTITIONS: '1',
  };
  const ingestPort = await freePort();
  const ingest = await startService('ingest', { port: ingestPort, env: { ...common, ...options.ingestEnv } });
  // These stacks check what the full ladder looks like, without shedding (testTranscoderEnv);
  // latency tests turn it on with their own bound in transcoderEnv.
  const transcoder = await startTestTranscoder(common, `${options.prefix}-transcoder`, options.transcoderEnv);
  const viewerPort = await freePort();
  const viewer = await startService('viewer-api', { port: viewerPort, env: common });
  return {
    ingest,
    transcoder,
    viewer,
    stop: async () => {
      await Promise.all([viewer.stop(), transcoder.stop(), ingest.stop()]);
    },
  };
}

/** What a test stream is created with besides its id (absent: the title is the id, the rest ingest's defaults). */
export type StreamOptions = Partial<Pick<StreamRecord, 'title' | 'latency_mode' | 'segment_duration_seconds' | 'ladder'>>;

/** A two-rendition ladder (360p, 180p) small enough for a loaded test machine. */
export const SMALL_LADDER: StreamRecord['ladder'] = [
  { name: '360p', width: 640, height: 360, video_bitrate_kbps: 600, audio_bitrate_kbps: 64 },
  { name: '180p', width: 320, height: 180, video_bitrate_kbps: 200, audio_bitrate_kbps: 48 },
];

/** Creates a stream through ingest's API; resolves with its one-time key. */
export async function createStream(ingestUrl: string, id: string, options: StreamOptions = {}): Promise<string> {
  const created = await fetch(`${ingestUrl}/v1/streams`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id, title: id, ...options }),
  });
  if (created.status !== 201) throw new Error(`creating stream ${id} answered ${created.status}: ${await created.text()}`);
  return ((await created.json()) as { streamKey: string }).streamKey;
}

/**
 * What a finished live publish must leave behind, as a player sees it: the live playlist gets
 * EXT-X-ENDLIST, ffmpeg reads the whole ladder from the master playlist without an error, and the
 * replay from Kafka (`/vod`) has every rendition as a VOD playlist from media sequence 0 covering at
 * least `minSeconds`.
 */
export async function expectEndedAndReplayable(viewerUrl: string, id: string, topMediaUrl: string, renditions: number, minSeconds: number): Promise<void> {
  const ended = await until(
    'EXT-X-ENDLIST after the publisher stopped',
    async () => {
      const manifest = parseManifest(await (await fetch(topMediaUrl)).text());
      return manifest.endList ? manifest : undefined;
    },
    90_000,
  );
  expect(ended.segments.length).toBeGreaterThan(0);
  const independentRead = await ffmpegRead(`${viewerUrl}/live/${id}/master.m3u8`);
  expect(independentRead.stderr.trim()).toBe('');
  expect(independentRead.code).toBe(0);
  const vodMaster = parseManifest(await (await fetch(`${viewerUrl}/vod/${id}/master.m3u8`)).text());
  expect(vodMaster.playlists).toHaveLength(renditions);
  for (const playlist of vodMaster.playlists) {
    const vod = parseManifest(await (await fetch(`${viewerUrl}${playlist.uri}`)).text());
    expect(vod.playlistType).toBe('VOD');
    expect(vod.endList).toBe(true);
    expect(vod.mediaSequence ?? 0).toBe(0);
    expect(vod.segments.reduce((sum, segment) => sum + segment.duration, 0)).toBeGreaterThanOrEqual(minSeconds);
  }
}
