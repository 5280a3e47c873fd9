import { execFile } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import {
  type Rendition,
  type StreamRecord,
  type StreamStatus,
  Topics,
  topicName,
  VideoHeaders,
} from '@tributary/contracts';
import { registerCompressionCodecs } from '@tributary/kafka';
import { MEDIA_TOOLS } from './media-tools';

/**
 * A stand-in transcoder for viewer tests: real H.264/AAC MPEG-TS segments cut by ffmpeg from
 * lavfi sources, produced to `video.segments` with the contract headers, plus registry/status
 * records and JPEG frames. Lets the viewer tests run without ingest + transcoder.
 */
const run = promisify(execFile);
export const FFMPEG = MEDIA_TOOLS.ffmpeg;
export const FFPROBE = MEDIA_TOOLS.ffprobe;

export interface FixtureRendition extends Rendition {
  bandwidth_bps: number;
  codecs: string;
}

export const FIXTURE_RENDITIONS: FixtureRendition[] = [
  { name: '360p', width: 640, height: 360, video_bitrate_kbps: 600, audio_bitrate_kbps: 64, bandwidth_bps: 800_000, codecs: 'avc1.42c01e,mp4a.40.2' },
  { name: '180p', width: 320, height: 180, video_bitrate_kbps: 200, audio_bitrate_kbps: 64, bandwidth_bps: 300_000, codecs: 'avc1.42c01e,mp4a.40.2' },
];

export interface FixtureSegment {
  durationSeconds: number;
  bytes: Buffer;
}

/** Cuts `seconds` of test pattern + tone into ~2 s TS segments per rendition. */
export async function makeSegments(
  renditions: readonly Rendition[],
  seconds: number,
  segmentSeconds = 2,
): Promise<Map<string, FixtureSegment[]>> {
  const dir = await mkdtemp(join(tmpdir(), 'tributary-segments-'));
  try {
    const result = new Map<string, FixtureSegment[]>();
    for (const rendition of renditions) {
      const out = join(dir, rendition.name);
      await run('mkdir', ['-p', out]);
      await run(FFMPEG, [
        '-hide_banner', '-loglevel', 'error', '-nostdin',
        '-f', 'lavfi', '-i', `testsrc2=size=${rendition.width}x${rendition.height}:rate=25`,
        '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100',
        '-t', String(seconds),
        '-c:v', 'libx264', '-preset', 'ultrafast', '-profile:v', 'baseline', '-pix_fmt', 'yuv420p',
        '-b:v', `${rendition.video_bitrate_kbps}k`, '-g', String(25 * segmentSeconds), '-keyint_min', String(25 * segmentSeconds),
        '-sc_threshold', '0', '-threads', '1',
        '-c:a', 'aac', '-b:a', `${rendition.audio_bitrate_kbps}k`, '-ac', '2',
        '-f', 'hls', '-hls_time', String(segmentSeconds), '-hls_list_size', '0',
        '-hls_segment_filename', join(out, 'seg%05d.ts'), join(out, 'index.m3u8'),
      ]);
      const playlist = await readFile(join(out, 'index.m3u8'), 'utf8');
      const durations = [...playlist.matchAll(/#EXTINF:([\d.]+),/g)].map((m) => Number(m[1]));
      const files = (await readdir(out)).filter((f) => f.endsWith('.ts')).sort();
      const segments: FixtureSegment[] = [];
      for (const [index, file] of files.entries()) {
        segments.push({ durationSeconds: durations[index] ?? segmentSeconds, bytes: await readFile(join(out, file)) });
      }
      result.set(rendition.name, segments);
    }
    return result;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** fMP4 (CMAF) HLS segments: one init segment and ~2 s media segments. */
export async function makeFmp4Segments(rendition: Rendition, seconds: number): Promise<{ init: Buffer; segments: FixtureSegment[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'tributary-fmp4-'));
  try {
    await run(FFMPEG, [
      '-hide_banner', '-loglevel', 'error', '-nostdin',
      '-f', 'lavfi', '-i', `testsrc2=size=${rendition.width}x${rendition.height}:rate=25`,
      '-f', 'lavfi', '-i', 'sine=frequency=330:sample_rate=44100',
      '-t', String(seconds),
      '-c:v', 'libx264', '-preset', 'ultrafast', '-profile:v', 'baseline', '-pix_fmt', 'yuv420p', '-g', '50', '-keyint_min', '50',
      '-sc_threshold', '0', '-threads', '1', '-c:a', 'aac', '-b:a', '64k', '-ac', '2',
      '-f', 'hls', '-hls_time', '2', '-hls_list_size', '0', '-hls_segment_type', 'fmp4',
      '-hls_fmp4_init_filename', 'init.mp4', '-hls_segment_filename', join(dir, 'seg%05d.m4s'), join(dir, 'index.m3u8'),
    ]);
    const playlist = await readFile(join(dir, 'index.m3u8'), 'utf8');
    const durations = [...playlist.matchAll(/#EXTINF:([\d.]+),/g)].map((m) => Number(m[1]));
    const files = (await readdir(dir)).filter((f) => f.endsWith('.m4s')).sort();
    const segments: FixtureSegment[] = [];
    for (const [index, file] of files.entries()) {
      segments.push({ durationSeconds: durations[index] ?? 2, bytes: await readFile(join(dir, file)) });
    }
    return { init: await readFile(join(dir, 'init.mp4')), segments };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function makeJpegs(count: number): Promise<Buffer[]> {
  const dir = await mkdtemp(join(tmpdir(), 'tributary-frames-'));
  try {
    await run(FFMPEG, [
      '-hide_banner', '-loglevel', 'error', '-nostdin',
      '-f', 'lavfi', '-i', 'testsrc2=size=160x90:rate=5', '-frames:v', String(count), '-q:v', '5', join(dir, 'f%03d.jpg'),
    ]);
    const files = (await readdir(dir)).filter((f) => f.endsWith('.jpg')).sort();
    return Promise.all(files.map((f) => readFile(join(dir, f))));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export class VideoFixture {
  readonly kafka: Kafka;
  private producer?: Producer;

  constructor(
    brokers: string[],
    readonly prefix: string,
  ) {
    // The services produce with KAFKA_COMPRESSION (lz4 by default): readers need the codecs.
    registerCompressionCodecs();
    this.kafka = new Kafka({ clientId: 'viewer-fixture', brokers, logLevel: logLevel.NOTHING });
  }

  topic(base: string): string {
    return topicName(base, this.prefix);
  }

  async connect(): Promise<void> {
    this.producer = this.kafka.producer({ idempotent: true, allowAutoTopicCreation: false });
    await this.producer.connect();
  }

  async disconnect(): Promise<void> {
    await this.producer?.disconnect();
  }

  async register(id: string, renditions: readonly Rendition[] = FIXTURE_RENDITIONS, createdAt = new Date()): Promise<StreamRecord> {
    const record: StreamRecord = {
      id,
      title: `Test stream ${id}`,
      ladder: renditions.map(({ name, width, height, video_bitrate_kbps, audio_bitrate_kbps }) => ({
        name, width, height, video_bitrate_kbps, audio_bitrate_kbps,
      })),
      segment_duration_seconds: 2,
      stream_key_sha256: createHash('sha256').update(randomUUID()).digest('hex'),
      created_at: createdAt.toISOString(),
    };
    await this.producer!.send({ topic: this.topic(Topics.streamRegistry), acks: -1, messages: [{ key: id, value: JSON.stringify(record) }] });
    return record;
  }

  async deleteStream(id: string): Promise<void> {
    await this.producer!.send({ topic: this.topic(Topics.streamRegistry), acks: -1, messages: [{ key: id, value: null }] });
  }

  async status(status: StreamStatus): Promise<void> {
    await this.producer!.send({ topic: this.topic(Topics.streamStatus), acks: -1, messages: [{ key: status.stream_id, value: JSON.stringify(status) }] });
  }

  async live(id: string, session: string, renditions: readonly FixtureRendition[] = FIXTURE_RENDITIONS): Promise<void> {
    await this.status({ stream_id: id, state: 'live', reporter: 'ingest', publish_session_id: session, ts: new Date().toISOString() });
    await this.status({
      stream_id: id, state: 'live', reporter: 'transcoder', publish_session_id: session, ts: new Date().toISOString(),
      renditions: renditions.map((r) => ({ ...r })),
    });
  }

  /** The publisher left (ingest), then — as the real transcoder does after its last segment — the output is complete. */
  async ended(id: string, session: string): Promise<void> {
    await this.status({ stream_id: id, state: 'ended', reporter: 'ingest', publish_session_id: session, ts: new Date().toISOString() });
    await this.status({ stream_id: id, state: 'ended', reporter: 'transcoder', publish_session_id: session, ts: new Date().toISOString() });
  }

  async segment(
    id: string,
    rendition: string,
    sequence: number,
    segment: FixtureSegment,
    options: { programTime: Date; session?: string; discontinuity?: boolean; kind?: 'media' | 'init'; contentType?: string },
  ): Promise<void> {
    await this.producer!.send({
      topic: this.topic(Topics.videoSegments),
      acks: -1,
      messages: [
        {
          key: id,
          value: segment.bytes,
          headers: {
            [VideoHeaders.rendition]: rendition,
            [VideoHeaders.segmentKind]: options.kind ?? 'media',
            [VideoHeaders.mediaSequence]: String(sequence),
            [VideoHeaders.durationSeconds]: segment.durationSeconds.toFixed(3),
            [VideoHeaders.programTime]: options.programTime.toISOString(),
            [VideoHeaders.transcodeSession]: options.session ?? 'fixture',
            [VideoHeaders.contentType]: options.contentType ?? 'video/mp2t',
            ...(options.discontinuity ? { [VideoHeaders.discontinuity]: '1' } : {}),
          },
        },
      ],
    });
  }

  /** Produces segments `from`..`to-1` of every rendition, program times starting at `start`. */
  async segments(id: string, all: Map<string, FixtureSegment[]>, from: number, to: number, start: Date, session = 'fixture'): Promise<void> {
    for (let sequence = from; sequence < to; sequence++) {
      for (const [rendition, list] of all) {
        const segment = list[sequence % list.length];
        const offsetMs = list.slice(0, sequence % list.length).reduce((sum, s) => sum + s.durationSeconds * 1000, 0);
        await this.segment(id, rendition, sequence, segment, { programTime: new Date(start.getTime() + offsetMs), session });
      }
    }
  }

  async frame(id: string, jpeg: Buffer, kind: 'published' | 'thumbnail' = 'thumbnail'): Promise<void> {
    await this.producer!.send({
      topic: this.topic(Topics.videoFrames),
      acks: -1,
      messages: [
        {
          key: id,
          value: jpeg,
          headers: {
            [VideoHeaders.contentType]: 'image/jpeg',
            [VideoHeaders.frameKind]: kind,
            [VideoHeaders.frameTimeMs]: String(Date.now()),
          },
        },
      ],
    });
  }
}

export async function probe(path: string): Promise<{ streams: { codec_type: string; codec_name: string }[] }> {
  const { stdout } = await run(FFPROBE, ['-v', 'error', '-print_format', 'json', '-show_streams', path]);
  return JSON.parse(stdout) as { streams: { codec_type: string; codec_name: string }[] };
}

export async function ffmpegRead(url: string): Promise<{ code: number; stderr: string }> {
  try {
    const { stderr } = await run(FFMPEG, ['-hide_banner', '-nostdin', '-v', 'error', '-i', url, '-map', '0', '-f', 'null', '-'], {
      timeout: 120_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    return { code: 0, stderr };
  } catch (error) {
    const failure = error as { code?: number; stderr?: string };
    return { code: typeof failure.code === 'number' ? failure.code : 1, stderr: failure.stderr ?? String(error) };
  }
}
