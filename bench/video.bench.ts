/**
 * Video benchmark (issue 3): `npm run bench:video`.
 *
 *   1. transcode speed  one MPEG-TS file pushed to ingest as fast as ingest takes it, through Kafka
 *                       and the transcoder, until its last segment is in video.segments; versus bare
 *                       ffmpeg running the same ladder (libs/media buildTranscodeArgs, the same
 *                       preset, threads and thumbnails as the transcoder) on the same file, in the
 *                       same run. Speed = media seconds / wall seconds; ratio = pipeline / bare.
 *   2. glass-to-glass   a live publisher (ffmpeg -re) per segment duration (1 s, 2 s): for each
 *                       segment, the time from its first frame entering ingest (the chunk's
 *                       tributary-ingest-time-ms header, matched by PTS) to the segment being
 *                       listed in viewer-api's media playlist (polled every 100 ms). p50/p95.
 *   3. memory           VmRSS of viewer-api and of the transcoder (node + its ffmpeg children)
 *                       with 1 and then 3 live streams; per stream = (3 streams − 1 stream) / 2.
 *   5. ingest           RTMP vs HTTP push (issue 13), same file, same run, published by the bench
 *                       itself: ingest CPU per publisher and per Mbit/s, and per video frame the time
 *                       from the bench writing it to the video.ingest chunk holding it (the latency
 *                       the RTMP path adds before the transcoder). See lib/ingest-transports.ts.
 *   6. low-latency      (issue 12, bench/lib/low-latency.ts) bare ffmpeg CPU for the same ladder and
 *                       file in real time, standard vs low-latency (fMP4 parts) side by side; and a
 *                       live latency_mode low stream: the produce delay per part (ffmpeg wrote it →
 *                       Kafka acknowledged it) and the PART-TARGET reported.
 *   7. g2g            (issue 12, bench/lib/latency-modes.ts) a standard and then a low-latency live
 *                       stream, same source and segment duration: glass-to-glass p50/p95 from the
 *                       ingest-time header to the part (segment) listed in a blocking-reload answer,
 *                       and to hls.js's playing position in Chromium; start-up (publisher started →
 *                       master + a media playlist listing ≥ 1 segment/part) and its steps (lib/
 *                       startup-timeline.ts; with BENCH_SERVICE_LOG_LEVEL=info also ffprobe and
 *                       ffmpeg's spawn from the transcoder's log); the PART-TARGET used;
 *                       and a breakdown (ingest→Kafka, →part produced, →listed, →played); and the
 *                       transcoder's CPU per stream in each mode (its node process + the ffmpeg runs
 *                       it reaped, /proc utime..cstime, over the publishing time), low ÷ standard.
 *   4. concurrency      1, 2, 3, 4 simultaneous live 720p publishers (issue 14): per row the time
 *                       from a publish starting to its first listed segment, the edge trailing
 *                       (wall time since the publish started − media listed so far, every 500 ms)
 *                       p50/p95, and the transcoder's shed actions; beside bare ffmpeg's real-time
 *                       capacity for the same ladder in the same run (its speed in phase 1).
 *
 * Not a test: it exits non-zero only when the harness fails.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createReadStream, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { type ConfigOf, int, list, optionalStr, parseEnv, processEnv, str } from '@tributary/config';
import { DEFAULT_LADDER, topicName, Topics, VideoHeaders } from '@tributary/contracts';
import { freePort, launchChromium, type LocalKafka, type ServiceProcess, startLocalKafka, startService } from '@tributary/devkit';
import { createKafkaClient, headerString, parseKafkaConfig } from '@tributary/kafka';
import { buildTranscodeArgs, resolveMediaTools, selectLadder, type SourceInfo } from '@tributary/media';
import type { Consumer, Kafka, KafkaMessage } from 'kafkajs';
import { type IngestTransportRow, runIngestTransports } from './lib/ingest-transports';
import { type LowLatencyCpuRow, type LowLatencyDelay, lowLatencyCpu, lowLatencyDelay } from './lib/low-latency';
import { benchKafkaLogger } from './lib/kafka-logger';
import { IngestClock } from './lib/ingest-clock';
import { type ModeLatency, runLatencyMode } from './lib/latency-modes';
import { cpuSecondsWithEndedChildren, fmt, machineConditions, percentile, rssBytes, sleep, table, treeRssBytes } from './lib/report';

const videoEnvSpec = {
  kafkaBrokers: optionalStr('KAFKA_BROKERS'),
  /** Length of the file in the speed test. */
  fileSeconds: int('BENCH_VIDEO_FILE_SECONDS', { default: 20, min: 4, max: 600 }),
  fileSize: str('BENCH_VIDEO_FILE_SIZE', { default: '1280x720', pattern: /^\d+x\d+$/ }),
  /** Source size of the live publishers (the ladder keeps the rungs at or below it). */
  liveSize: str('BENCH_VIDEO_LIVE_SIZE', { default: '854x480', pattern: /^\d+x\d+$/ }),
  liveSeconds: int('BENCH_VIDEO_LIVE_SECONDS', { default: 30, min: 10, max: 600 }),
  segmentDurations: list('BENCH_VIDEO_SEGMENTS', { default: ['1', '2'] }),
  memoryStreams: int('BENCH_VIDEO_MEMORY_STREAMS', { default: 3, min: 2, max: 10 }),
  preset: str('TRANSCODER_PRESET', { default: 'veryfast' }),
  threads: int('TRANSCODER_THREADS', { default: 2, min: 0, max: 64 }),
  thumbnails: int('TRANSCODER_THUMBNAIL_INTERVAL_SECONDS', { default: 5, min: 0, max: 600 }),
  phases: list('BENCH_PHASES', { default: ['speed', 'latency', 'memory', 'concurrency', 'ingest', 'lowlatency', 'g2g'] }),
  /** The g2g phase (standard vs low-latency glass-to-glass and start-up): seconds sampled per mode (≥ 60 for the issue's figures). */
  g2gSeconds: int('BENCH_VIDEO_G2G_SECONDS', { default: 60, min: 5, max: 600 }),
  g2gSegmentSeconds: int('BENCH_VIDEO_G2G_SEGMENT_SECONDS', { default: 1, min: 1, max: 2 }),
  chromiumPath: str('CHROMIUM_PATH', { default: '/usr/bin/chromium' }),
  /** The low-latency phase: length of its live stream and its CPU comparison file; part target (s). */
  lowLatencySeconds: int('BENCH_VIDEO_LL_SECONDS', { default: 30, min: 10, max: 600 }),
  lowLatencyPartSeconds: str('TRANSCODER_LL_PART_SECONDS', { default: '0.2', pattern: /^\d+(\.\d+)?$/ }),
  /** The RTMP-vs-HTTP ingest phase: its file's size and length. */
  ingestSize: str('BENCH_VIDEO_INGEST_SIZE', { default: '1280x720', pattern: /^\d+x\d+$/ }),
  ingestSeconds: int('BENCH_VIDEO_INGEST_SECONDS', { default: 20, min: 5, max: 600 }),
  /** Simultaneous live publishers per row of the concurrency phase. */
  concurrency: list('BENCH_VIDEO_CONCURRENCY', { default: ['1', '2', '3', '4'] }),
  concurrencySize: str('BENCH_VIDEO_CONCURRENCY_SIZE', { default: '1280x720', pattern: /^\d+x\d+$/ }),
  concurrencySeconds: int('BENCH_VIDEO_CONCURRENCY_SECONDS', { default: 30, min: 10, max: 600 }),
  serviceLogLevel: str('BENCH_SERVICE_LOG_LEVEL', { default: 'warn' }),
  /** The same ffmpeg/ffprobe the transcoder resolves (FFMPEG_PATH, else PATH, else the npm build). */
  ffmpegPath: optionalStr('FFMPEG_PATH'),
  ffprobePath: optionalStr('FFPROBE_PATH'),
  searchPath: optionalStr('PATH'),
};
type VideoConfig = ConfigOf<typeof videoEnvSpec>;

const execFileAsync = promisify(execFile);

function mediaTools(config: VideoConfig) {
  return resolveMediaTools({
    ...(config.ffmpegPath ? { ffmpegPath: config.ffmpegPath } : {}),
    ...(config.ffprobePath ? { ffprobePath: config.ffprobePath } : {}),
    ...(config.searchPath ? { searchPath: config.searchPath } : {}),
  });
}
const TARGET_RATIO = 0.9;
const TARGET_G2G: Record<number, number> = { 1: 5_000, 2: 8_000 };

const runId = randomUUID().slice(0, 8);
const prefix = `bench-${runId}`;
const log = (line: string) => process.stderr.write(`[bench:video] ${line}\n`);
const kafkaLogger = benchKafkaLogger(log);

function run(command: string, args: string[], what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${what} exited with ${code}: ${stderr}`))));
  });
}

// ---------------------------------------------------------------------------------------------
// Services

interface Services {
  /** ingest's RTMP port (INGEST_RTMP_ENABLED in the bench). */
  rtmpPort: number;
  ingest: ServiceProcess;
  transcoder: ServiceProcess;
  viewerApi: ServiceProcess;
}

async function startServices(config: VideoConfig, brokers: string, workDir: string): Promise<Services> {
  const [ingestPort, transcoderPort, viewerPort, rtmpPort] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  const common = { KAFKA_BROKERS: brokers, TOPIC_PREFIX: prefix, LOG_LEVEL: config.serviceLogLevel, NODE_ENV: 'production' };
  // Ingest creates the topics and the registry the others read; start it first.
  const ingest = await startService('ingest', {
    port: ingestPort,
    // ADMIN_AUTH=none: the harness creates its streams without a token (ingest refuses an open admin API in production otherwise).
    env: { ...common, ADMIN_AUTH: 'none', INGEST_MAX_BITRATE_KBPS: '0' /* the speed run pushes a file as fast as ingest takes it */, INGEST_PUBLIC_URL: `http://127.0.0.1:${ingestPort}`, VIEWER_PUBLIC_URL: `http://127.0.0.1:${viewerPort}`, INGEST_RTMP_ENABLED: 'true', INGEST_RTMP_PORT: String(rtmpPort) },
    readyTimeoutMs: 120_000,
  });
  const [transcoder, viewerApi] = await Promise.all([
    startService('transcoder', {
      port: transcoderPort,
      env: {
        ...common,
        TRANSCODER_GROUP_ID: `${prefix}-transcoder`,
        TRANSCODER_WORK_DIR: join(workDir, 'transcoder'),
        TRANSCODER_PRESET: config.preset,
        TRANSCODER_THREADS: String(config.threads),
        TRANSCODER_THUMBNAIL_INTERVAL_SECONDS: String(config.thumbnails),
        TRANSCODER_IDLE_TIMEOUT_MS: '10000',
      },
      readyTimeoutMs: 120_000,
    }),
    startService('viewer-api', { port: viewerPort, env: common, readyTimeoutMs: 120_000 }),
  ]);
  return { rtmpPort, ingest, transcoder, viewerApi };
}

async function createStream(ingestUrl: string, id: string, segmentSeconds: number, latencyMode?: 'standard' | 'low'): Promise<string> {
  const response = await fetch(`${ingestUrl}/v1/streams`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id, title: `bench ${id}`, segment_duration_seconds: segmentSeconds, ...(latencyMode ? { latency_mode: latencyMode } : {}) }),
  });
  const body = (await response.json()) as { streamKey?: string; message?: string };
  if (!response.ok || !body.streamKey) throw new Error(`POST /v1/streams answered ${response.status}: ${JSON.stringify(body)}`);
  return body.streamKey;
}

/** A consumer of one of our prefixed topics from the beginning, handing messages to `onMessage`. */
async function tap(kafka: Kafka, topic: string, onMessage: (message: KafkaMessage) => void): Promise<Consumer> {
  const consumer = kafka.consumer({ groupId: `${prefix}-tap-${topic}-${randomUUID().slice(0, 6)}`, allowAutoTopicCreation: false });
  const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      onMessage(message);
    },
  });
  await joined;
  return consumer;
}

// ---------------------------------------------------------------------------------------------
// 1. Transcode speed

/** ffprobe on a file (the transcoder probes a buffer on stdin; the bench has the whole file). */
async function probeFile(ffprobe: string, file: string): Promise<SourceInfo> {
  const { stdout } = await execFileAsync(ffprobe, ['-v', 'error', '-print_format', 'json', '-show_streams', file], { timeout: 120_000 });
  const streams = (JSON.parse(stdout) as { streams?: { codec_type?: string; width?: number; height?: number; avg_frame_rate?: string }[] }).streams ?? [];
  const video = streams.find((stream) => stream.codec_type === 'video');
  if (!video?.width || !video.height) throw new Error(`ffprobe found no video stream in ${file}`);
  const [num, den] = (video.avg_frame_rate ?? '30/1').split('/').map(Number);
  return {
    width: video.width,
    height: video.height,
    hasVideo: true,
    hasAudio: streams.some((stream) => stream.codec_type === 'audio'),
    ...(num && den ? { frameRate: num / den } : {}),
  };
}

interface SpeedResult {
  mediaSeconds: number;
  bareSeconds: number;
  pipelineSeconds: number;
  renditions: string;
  segments: number;
}

async function runSpeed(config: VideoConfig, services: Services, kafka: Kafka, workDir: string): Promise<SpeedResult> {
  const tools = mediaTools(config);
  const file = join(workDir, 'input.ts');
  const [width, height] = config.fileSize.split('x').map(Number) as [number, number];
  log(`speed: making a ${config.fileSeconds} s ${config.fileSize} test file…`);
  await run(
    tools.ffmpeg,
    [
      '-hide_banner', '-loglevel', 'error', '-y',
      '-f', 'lavfi', '-i', `testsrc2=size=${width}x${height}:rate=30`,
      '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
      '-t', String(config.fileSeconds),
      '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '30', '-pix_fmt', 'yuv420p', '-b:v', '6000k',
      '-c:a', 'aac', '-b:a', '128k',
      '-f', 'mpegts', file,
    ],
    'making the test file',
  );
  const source = await probeFile(tools.ffprobe, file);
  const renditions = selectLadder(DEFAULT_LADDER, source, { preset: config.preset });
  const segmentSeconds = 2;

  // Bare ffmpeg: the transcoder's own argument builder, reading the file instead of stdin.
  const bareDir = join(workDir, 'bare');
  for (const rendition of renditions) mkdirSync(join(bareDir, rendition.name), { recursive: true });
  const args = buildTranscodeArgs({
    renditions,
    outputDir: bareDir,
    segmentDurationSeconds: segmentSeconds,
    hasAudio: source.hasAudio,
    ...(source.frameRate ? { frameRate: source.frameRate } : {}),
    inputArgs: ['-i', file],
    preset: config.preset,
    threads: config.threads,
    thumbnailIntervalSeconds: config.thumbnails,
  });
  log(`speed: bare ffmpeg, ${renditions.map((rendition) => rendition.name).join('+')}, preset ${config.preset}, threads ${config.threads}…`);
  const bareStart = performance.now();
  await run(tools.ffmpeg, args, 'bare ffmpeg');
  const bareSeconds = (performance.now() - bareStart) / 1000;
  log(`speed: bare ${fmt(bareSeconds, 1)} s`);

  // Through the pipeline.
  const streamId = `speed-${runId}`;
  const key = await createStream(services.ingest.url, streamId, segmentSeconds);
  let lastSegmentAt = 0;
  let segments = 0;
  const mediaByRendition = new Map<string, number>();
  const segmentsTap = await tap(kafka, topicName(Topics.videoSegments, prefix), (message) => {
    if (message.key?.toString() !== streamId) return;
    if (headerString(message.headers, VideoHeaders.segmentKind) !== 'media') return;
    const rendition = headerString(message.headers, VideoHeaders.rendition) ?? '?';
    const duration = Number(headerString(message.headers, VideoHeaders.durationSeconds) ?? 0);
    mediaByRendition.set(rendition, (mediaByRendition.get(rendition) ?? 0) + duration);
    segments += 1;
    lastSegmentAt = performance.now();
  });
  try {
    log(`speed: pushing the file to ingest as fast as it takes it…`);
    const started = performance.now();
    const response = await fetch(`${services.ingest.url}/live/${key}`, {
      method: 'POST',
      headers: { 'content-type': 'video/mp2t' },
      body: Readable.toWeb(createReadStream(file)) as ReadableStream,
      duplex: 'half',
    });
    if (!response.ok) throw new Error(`publishing answered ${response.status}: ${await response.text()}`);
    await response.arrayBuffer();
    // Done when every rendition has (nearly) the whole duration and nothing new came for 8 s.
    const complete = () =>
      renditions.every((rendition) => (mediaByRendition.get(rendition.name) ?? 0) >= config.fileSeconds - segmentSeconds - 0.1);
    const deadline = Date.now() + Math.max(300_000, config.fileSeconds * 20_000);
    while (Date.now() < deadline) {
      if (complete() && performance.now() - lastSegmentAt > 8_000) break;
      await sleep(200);
    }
    if (!complete()) {
      throw new Error(`the pipeline delivered ${JSON.stringify(Object.fromEntries(mediaByRendition))} s of ${config.fileSeconds} s per rendition`);
    }
    return {
      mediaSeconds: config.fileSeconds,
      bareSeconds,
      pipelineSeconds: (lastSegmentAt - started) / 1000,
      renditions: renditions.map((rendition) => rendition.name).join('+'),
      segments,
    };
  } finally {
    await segmentsTap.disconnect();
  }
}

// ---------------------------------------------------------------------------------------------
// 2 + 3. Live: glass-to-glass and memory

interface LivePublisher {
  streamId: string;
  child: ChildProcess;
  /** Resolves when ffmpeg has published its `-t` seconds and exited. */
  finished: Promise<void>;
  stop(): Promise<void>;
}

async function publishLive(
  config: VideoConfig,
  services: Services,
  streamId: string,
  segmentSeconds: number,
  seconds: number,
  size = config.liveSize,
  latencyMode?: 'standard' | 'low',
): Promise<LivePublisher> {
  const key = await createStream(services.ingest.url, streamId, segmentSeconds, latencyMode);
  const tools = mediaTools(config);
  const child = spawn(
    tools.ffmpeg,
    [
      '-hide_banner', '-loglevel', 'error', '-nostdin',
      '-re', '-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=30`,
      '-re', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
      '-t', String(seconds),
      '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '30', '-pix_fmt', 'yuv420p',
      '-c:a', 'aac', '-b:a', '96k',
      '-f', 'mpegts', `${services.ingest.url}/live/${key}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2000);
  });
  const exited = new Promise<void>((done) => child.once('exit', (code) => {
    if ((code !== 0 && code !== null && code !== 255) || stderr.trim() !== '') log(`publisher ${streamId} exited with ${code}: ${stderr}`);
    done();
  }));
  return {
    streamId,
    child,
    finished: exited,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
      await exited;
    },
  };
}

/** Polls a media playlist and records when each media sequence number was first listed. */
class PlaylistWatcher {
  readonly listedAt = new Map<number, number>();
  readonly durations = new Map<number, number>();
  lastAnswer = 'no answer yet';
  private stopped = false;
  private done: Promise<void>;

  constructor(url: string) {
    this.done = this.loop(url);
  }

  private async loop(url: string): Promise<void> {
    while (!this.stopped) {
      try {
        const response = await fetch(url);
        const now = Date.now();
        if (response.ok) {
          const text = await response.text();
          const sequence = Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(text)?.[1] ?? 0);
          let index = sequence;
          for (const match of text.matchAll(/#EXTINF:([\d.]+)/g)) {
            if (!this.listedAt.has(index)) {
              this.listedAt.set(index, now);
              this.durations.set(index, Number(match[1]));
            }
            index += 1;
          }
        } else {
          this.lastAnswer = `${response.status} ${(await response.text()).slice(0, 200)}`;
        }
      } catch (error) {
        this.lastAnswer = String(error);
      }
      await sleep(100);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }
}

interface GlassResult {
  segmentSeconds: number;
  samples: number[];
  rendition: string;
}

function glassToGlass(clock: IngestClock, watcher: PlaylistWatcher, skip: number): number[] {
  const samples: number[] = [];
  let start = 0;
  const sequences = [...watcher.listedAt.keys()].sort((a, b) => a - b);
  // Media start of each segment = sum of the durations before it (sequences start at 0 for a new stream).
  if (sequences[0] !== 0) log(`glass-to-glass: first listed sequence is ${sequences[0]}, not 0: media times are offset`);
  for (const sequence of sequences) {
    const listed = watcher.listedAt.get(sequence)!;
    const entered = clock.ingestTimeOf(start);
    if (sequence >= skip && entered !== undefined) samples.push(listed - entered);
    start += watcher.durations.get(sequence) ?? 0;
  }
  return samples;
}

async function runLive(
  config: VideoConfig,
  services: Services,
  kafka: Kafka,
  segmentSeconds: number,
): Promise<GlassResult> {
  const streamId = `live${segmentSeconds}-${runId}`;
  const clock = new IngestClock();
  const ingestTap = await tap(kafka, topicName(Topics.videoIngest, prefix), (message) => {
    if (message.key?.toString() === streamId) clock.add(message);
  });
  const rendition = selectLadder(DEFAULT_LADDER, {
    width: Number(config.liveSize.split('x')[0]),
    height: Number(config.liveSize.split('x')[1]),
    hasAudio: true,
  })[0].name;
  const watcher = new PlaylistWatcher(`${services.viewerApi.url}/live/${streamId}/${rendition}/index.m3u8`);
  const inKafka = new Map<string, number>();
  const segmentsTap = await tap(kafka, topicName(Topics.videoSegments, prefix), (message) => {
    if (message.key?.toString() !== streamId) return;
    const name = `${headerString(message.headers, VideoHeaders.rendition)}/${headerString(message.headers, VideoHeaders.segmentKind)}`;
    inKafka.set(name, (inKafka.get(name) ?? 0) + 1);
  });
  const publishers: LivePublisher[] = [];
  try {
    log(`live ${segmentSeconds} s segments: publishing ${config.liveSize} for ${config.liveSeconds} s…`);
    publishers.push(await publishLive(config, services, streamId, segmentSeconds, config.liveSeconds));
    await publishers[0].finished;
    // Let the tail through: until the playlist covers what was published, or 30 s without news.
    const published = () => clock.chunks[clock.chunks.length - 1]?.mediaEnd ?? 0;
    const listedMedia = () => [...watcher.durations.values()].reduce((sum, value) => sum + value, 0);
    let lastCount = watcher.listedAt.size;
    let lastChange = Date.now();
    while (listedMedia() < published() - segmentSeconds && Date.now() - lastChange < 30_000) {
      await sleep(250);
      if (watcher.listedAt.size !== lastCount) {
        lastCount = watcher.listedAt.size;
        lastChange = Date.now();
      }
    }
  } finally {
    await Promise.all(publishers.map((publisher) => publisher.stop()));
    await watcher.stop();
    await Promise.all([ingestTap.disconnect(), segmentsTap.disconnect()]);
  }
  if (watcher.listedAt.size === 0) {
    log(
      `live ${segmentSeconds} s: nothing listed in ${rendition}'s playlist (last answer: ${watcher.lastAnswer}); ` +
        `chunks in video.ingest: ${clock.chunks.length}; segments in video.segments: ${JSON.stringify(Object.fromEntries(inKafka))}; transcoder said:\n${services.transcoder.output().slice(-1500)}\ningest said:\n${services.ingest.output().slice(-3000)}`,
    );
  }
  // The first two segments include the transcoder's probe and ffmpeg start-up: reported apart.
  return { segmentSeconds, samples: glassToGlass(clock, watcher, 2), rendition };
}

interface ConcurrencyResult {
  streams: number;
  /** Seconds from each publish starting to its first listed segment. */
  firstPlaylist: number[];
  /** Edge trailing samples (s) of every stream while publishing. */
  trailing: number[];
  /** Shed actions the transcoder reported (stream.status detail), by action. */
  sheds: Record<string, number>;
}

async function runConcurrency(config: VideoConfig, services: Services, kafka: Kafka, streams: number): Promise<ConcurrencyResult> {
  const ids = Array.from({ length: streams }, (_, i) => `c${streams}-${i}-${runId}`);
  const [width, height] = config.concurrencySize.split('x').map(Number) as [number, number];
  const lowest = selectLadder(DEFAULT_LADDER, { width, height, hasAudio: true }).at(-1)!.name;
  const sheds: Record<string, number> = {};
  const statusTap = await tap(kafka, topicName(Topics.streamStatus, prefix), (message) => {
    if (!ids.includes(message.key?.toString() ?? '')) return;
    const action = (JSON.parse(message.value?.toString() ?? '{}') as { detail?: { action?: string } }).detail?.action;
    if (action) sheds[action] = (sheds[action] ?? 0) + 1;
  });
  const watchers = ids.map((id) => new PlaylistWatcher(`${services.viewerApi.url}/live/${id}/${lowest}/index.m3u8`));
  const publishers: LivePublisher[] = [];
  const trailing: number[] = [];
  try {
    log(`concurrency: ${streams} × ${config.concurrencySize} for ${config.concurrencySeconds} s…`);
    const started: number[] = [];
    for (const id of ids) {
      publishers.push(await publishLive(config, services, id, 2, config.concurrencySeconds, config.concurrencySize));
      started.push(Date.now());
    }
    let publishing = true;
    void Promise.all(publishers.map((publisher) => publisher.finished)).then(() => (publishing = false));
    while (publishing) {
      const now = Date.now();
      watchers.forEach((watcher, i) => {
        const listed = [...watcher.durations.values()].reduce((sum, value) => sum + value, 0);
        if (watcher.listedAt.size > 0) trailing.push((now - started[i]) / 1000 - listed);
      });
      await sleep(500);
    }
    return {
      streams,
      firstPlaylist: watchers.map((watcher, i) => (watcher.listedAt.size > 0 ? (Math.min(...watcher.listedAt.values()) - started[i]) / 1000 : Number.NaN)),
      trailing,
      sheds,
    };
  } finally {
    await Promise.all(publishers.map((publisher) => publisher.stop()));
    await Promise.all(watchers.map((watcher) => watcher.stop()));
    await statusTap.disconnect();
    // Let the transcoder finish these streams before the next row.
    await sleep(12_000);
  }
}

interface MemoryResult {
  viewer: number[];
  transcoderNode: number[];
  transcoderTree: number[];
  streams: number[];
  /** Segments listed per stream when sampled. */
  listed: number[][];
}

function sampleMemory(services: Services): { viewer: number; transcoderNode: number; transcoderTree: number } {
  return {
    viewer: rssBytes(services.viewerApi.child.pid!),
    transcoderNode: rssBytes(services.transcoder.child.pid!),
    transcoderTree: treeRssBytes(services.transcoder.child.pid!),
  };
}

/** Media segments currently listed in a stream's media playlist (0 when it is not there yet). */
async function listedSegments(url: string): Promise<number> {
  try {
    const response = await fetch(url);
    const text = await response.text();
    return response.ok ? (text.match(/#EXTINF:/g) ?? []).length : 0;
  } catch {
    return 0;
  }
}

/**
 * Streams one at a time until each one's live window is full (HLS_WINDOW_SEGMENTS = 6 listed),
 * sampling RSS with 1 stream and with `memoryStreams` streams. A stream whose window does not
 * fill within 3 minutes is sampled anyway, and the report says how many segments it had.
 */
async function runMemory(config: VideoConfig, services: Services, segmentSeconds: number): Promise<MemoryResult> {
  const result: MemoryResult = { viewer: [], transcoderNode: [], transcoderTree: [], streams: [], listed: [] };
  const rendition = selectLadder(DEFAULT_LADDER, {
    width: Number(config.liveSize.split('x')[0]),
    height: Number(config.liveSize.split('x')[1]),
    hasAudio: true,
  })[0].name;
  const publishers: LivePublisher[] = [];
  const urls: string[] = [];
  const fillWindows = async () => {
    const deadline = Date.now() + 180_000;
    while (Date.now() < deadline) {
      const counts = await Promise.all(urls.map((url) => listedSegments(url)));
      if (counts.every((count) => count >= 6)) return counts;
      await sleep(500);
    }
    return Promise.all(urls.map((url) => listedSegments(url)));
  };
  const take = (listed: number[]) => {
    const sample = sampleMemory(services);
    result.viewer.push(sample.viewer);
    result.transcoderNode.push(sample.transcoderNode);
    result.transcoderTree.push(sample.transcoderTree);
    result.streams.push(listed.length);
    result.listed.push(listed);
    log(
      `memory with ${listed.length} stream(s) (segments listed ${listed.join('/')}): viewer-api ${fmt(sample.viewer / 2 ** 20, 1)} MiB, ` +
        `transcoder ${fmt(sample.transcoderNode / 2 ** 20, 1)} MiB, with ffmpeg ${fmt(sample.transcoderTree / 2 ** 20, 1)} MiB`,
    );
  };
  const add = async (index: number) => {
    const id = `mem${index}-${runId}`;
    publishers.push(await publishLive(config, services, id, segmentSeconds, 600));
    urls.push(`${services.viewerApi.url}/live/${id}/${rendition}/index.m3u8`);
  };
  try {
    log(`memory: 1 stream, then ${config.memoryStreams}, ${config.liveSize}, ${segmentSeconds} s segments…`);
    await add(0);
    take(await fillWindows());
    for (let index = 1; index < config.memoryStreams; index++) await add(index);
    take(await fillWindows());
  } finally {
    await Promise.all(publishers.map((publisher) => publisher.stop()));
  }
  return result;
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const config = parseEnv(videoEnvSpec, processEnv());
  const startedAt = new Date();
  log(`run ${runId}: ${machineConditions()}`);
  const workDir = mkdtempSync(join(tmpdir(), `tributary-bench-video-${runId}-`));
  let localKafka: LocalKafka | undefined;
  const brokers = config.kafkaBrokers ?? (localKafka = await startLocalKafka({ log })).brokers;
  log(`Kafka ${brokers}${localKafka ? ' (started by the bench)' : ' (KAFKA_BROKERS)'}`);
  const kafka = createKafkaClient(parseKafkaConfig({ KAFKA_BROKERS: brokers }), `bench-video-${runId}`, kafkaLogger);
  let services: Services | undefined;
  let speed: SpeedResult | undefined;
  const glass: GlassResult[] = [];
  let memory: MemoryResult | undefined;
  const concurrency: ConcurrencyResult[] = [];
  let ingestRows: IngestTransportRow[] = [];
  let llCpu: LowLatencyCpuRow[] = [];
  let llDelay: LowLatencyDelay | undefined;
  const modes: ModeLatency[] = [];
  const errors: string[] = [];
  try {
    services = await startServices(config, brokers, workDir);
    log(`services up: ingest ${services.ingest.url}, transcoder ${services.transcoder.url}, viewer-api ${services.viewerApi.url}`);
    const idle = sampleMemory(services);
    if (config.phases.includes('speed')) {
      try {
        speed = await runSpeed(config, services, kafka, workDir);
      } catch (error) {
        errors.push(`speed: ${(error as Error).message}`);
        log(errors[errors.length - 1]);
      }
    }
    const durations = config.segmentDurations.map(Number).filter((value) => value > 0);
    if (config.phases.includes('latency')) {
      for (const segmentSeconds of durations) {
        try {
          glass.push(await runLive(config, services, kafka, segmentSeconds));
        } catch (error) {
          errors.push(`live ${segmentSeconds} s: ${(error as Error).message}`);
          log(errors[errors.length - 1]);
        }
      }
    }
    if (config.phases.includes('memory')) {
      try {
        memory = await runMemory(config, services, durations[durations.length - 1] ?? 2);
      } catch (error) {
        errors.push(`memory: ${(error as Error).message}`);
        log(errors[errors.length - 1]);
      }
    }
    if (config.phases.includes('concurrency')) {
      for (const streams of config.concurrency.map(Number).filter((value) => value > 0)) {
        try {
          concurrency.push(await runConcurrency(config, services, kafka, streams));
        } catch (error) {
          errors.push(`concurrency ${streams}: ${(error as Error).message}`);
          log(errors[errors.length - 1]);
        }
      }
    }
    if (config.phases.includes('ingest')) {
      try {
        const running = services;
        const tools = mediaTools(config);
        ingestRows = await runIngestTransports({
          ffmpeg: tools.ffmpeg,
          kafka,
          ingestTopic: topicName(Topics.videoIngest, prefix),
          statusTopic: topicName(Topics.streamStatus, prefix),
          ingestUrl: running.ingest.url,
          rtmpPort: running.rtmpPort,
          ingestPid: running.ingest.child.pid ?? 0,
          workDir,
          size: config.ingestSize,
          seconds: config.ingestSeconds,
          createStream: (id) => createStream(running.ingest.url, id, 2),
          log,
        });
      } catch (error) {
        errors.push(`ingest: ${(error as Error).message}`);
        log(errors[errors.length - 1]);
      }
    }
    if (config.phases.includes('lowlatency')) {
      try {
        const running = services;
        const tools = mediaTools(config);
        const file = join(workDir, 'll-input.ts');
        const [width, height] = config.liveSize.split('x').map(Number) as [number, number];
        // prettier-ignore
        await run(tools.ffmpeg, [
          '-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=size=${config.liveSize}:rate=30`,
          '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-t', String(config.lowLatencySeconds),
          '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '30', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-f', 'mpegts', file,
        ], 'making the low-latency CPU file');
        const source: SourceInfo = { width, height, hasVideo: true, hasAudio: true, frameRate: 30 };
        log(`low-latency: ffmpeg CPU, standard vs low-latency side by side on ${config.lowLatencySeconds} s of ${config.liveSize}…`);
        llCpu = await lowLatencyCpu({
          tools,
          file,
          renditions: selectLadder(DEFAULT_LADDER, source, { preset: config.preset }),
          hasAudio: true,
          frameRate: 30,
          preset: config.preset,
          threads: config.threads,
          thumbnails: config.thumbnails,
          segmentSeconds: 2,
          partSeconds: Number(config.lowLatencyPartSeconds),
          workDir,
        });
        llDelay = await lowLatencyDelay({
          ffmpeg: tools.ffmpeg,
          ingestUrl: running.ingest.url,
          transcoderUrl: running.transcoder.url,
          viewerUrl: running.viewerApi.url,
          streamId: `ll-${runId}`,
          size: config.liveSize,
          seconds: config.lowLatencySeconds,
          log,
        });
      } catch (error) {
        errors.push(`lowlatency: ${(error as Error).message}`);
        log(errors[errors.length - 1]);
      }
    }
    if (config.phases.includes('g2g')) {
      try {
        const running = services;
        const [width, height] = config.liveSize.split('x').map(Number) as [number, number];
        const rendition = selectLadder(DEFAULT_LADDER, { width, height, hasAudio: true })[0].name;
        const chromium = await launchChromium(config.chromiumPath);
        try {
          const transcoderPid = running.transcoder.child.pid!;
          for (const mode of ['standard', 'low'] as const) {
            log(`g2g ${mode}: ${config.g2gSeconds} s sampled, ${config.g2gSegmentSeconds} s segments, ${config.liveSize}…`);
            const cpuBefore = cpuSecondsWithEndedChildren(transcoderPid);
            const publishedAt = Date.now();
            const row = await runLatencyMode({
                mode,
                streamId: `g2g-${mode}-${runId}`,
                segmentSeconds: config.g2gSegmentSeconds,
                rendition,
                seconds: config.g2gSeconds,
                viewerUrl: running.viewerApi.url,
                ingestTopic: topicName(Topics.videoIngest, prefix),
                segmentsTopic: topicName(Topics.videoSegments, prefix),
                statusTopic: topicName(Topics.streamStatus, prefix),
                browser: chromium.browser,
                tap: (topic, onMessage) => tap(kafka, topic, onMessage),
                transcoder: running.transcoder,
                publish: (id, seconds) => publishLive(config, running, id, config.g2gSegmentSeconds, seconds, config.liveSize, mode),
                log,
              });
            const publishedSeconds = (Date.now() - publishedAt) / 1000;
            // The transcoder ends the stream and its ffmpeg (idle timeout 10 s at most) before the
            // next mode, so the CPU of this mode's ffmpeg is counted here and only here.
            await sleep(12_000);
            row.transcoderCores = (cpuSecondsWithEndedChildren(transcoderPid) - cpuBefore) / publishedSeconds;
            modes.push(row);
          }
        } finally {
          await chromium.close();
        }
      } catch (error) {
        errors.push(`g2g: ${(error as Error).message}`);
        log(errors[errors.length - 1]);
      }
    }
    printReport(config, startedAt, brokers, speed, glass, memory, idle, errors, concurrency, ingestRows, llCpu, llDelay, modes);
  } finally {
    if (services) await Promise.all([services.ingest.stop(), services.transcoder.stop(), services.viewerApi.stop()]);
    await localKafka?.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
  if (!speed && glass.length === 0 && !memory && concurrency.length === 0 && ingestRows.length === 0 && llCpu.length === 0 && !llDelay && modes.length === 0) process.exitCode = 1;
}

function printReport(
  config: VideoConfig,
  startedAt: Date,
  brokers: string,
  speed: SpeedResult | undefined,
  glass: GlassResult[],
  memory: MemoryResult | undefined,
  idle: { viewer: number; transcoderNode: number; transcoderTree: number },
  errors: string[],
  concurrency: ConcurrencyResult[] = [],
  ingestRows: IngestTransportRow[] = [],
  llCpu: LowLatencyCpuRow[] = [],
  llDelay?: LowLatencyDelay,
  modes: ModeLatency[] = [],
): void {
  const mib = (bytes: number) => fmt(bytes / 2 ** 20, 1);
  const out: string[] = ['', `Tributary video benchmark — ${startedAt.toISOString()} — run ${runId}`];
  out.push(`machine: ${machineConditions()}; Kafka ${brokers}; ffmpeg ${mediaTools(config).ffmpeg}; preset ${config.preset}, ${config.threads} x264 threads, thumbnails every ${config.thumbnails} s`);
  out.push('');
  const summary: string[] = [];
  if (speed) {
    const bare = speed.mediaSeconds / speed.bareSeconds;
    const pipeline = speed.mediaSeconds / speed.pipelineSeconds;
    out.push(`Transcode speed (${speed.mediaSeconds} s ${config.fileSize} file, ladder ${speed.renditions}, 2 s segments):`);
    out.push(
      table(
        ['run', 'wall s', 'speed (× real time)'],
        [
          ['bare ffmpeg (same args)', fmt(speed.bareSeconds, 1), fmt(bare, 2)],
          [`pipeline ingest→Kafka→transcoder→video.segments (${speed.segments} segments)`, fmt(speed.pipelineSeconds, 1), fmt(pipeline, 2)],
        ],
      ),
    );
    out.push(`ratio pipeline / bare: ${fmt(pipeline / bare, 2)} (target ≥ ${TARGET_RATIO})`);
    out.push('');
    summary.push(`transcode ratio ${fmt(pipeline / bare, 2)} (${pipeline / bare >= TARGET_RATIO ? 'met' : 'MISSED'})`);
  }
  if (glass.length > 0) {
    out.push(`Glass-to-glass (first frame of a segment entering ingest → segment listed in viewer-api's media playlist; ${config.liveSize} source, -re, first 2 segments excluded):`);
    out.push(
      table(
        ['segment s', 'rendition', 'segments', 'p50 ms', 'p95 ms', 'max ms', 'target ms'],
        glass.map((result) => {
          const sorted = [...result.samples].sort((a, b) => a - b);
          return [
            String(result.segmentSeconds),
            result.rendition,
            String(sorted.length),
            fmt(percentile(sorted, 50)),
            fmt(percentile(sorted, 95)),
            fmt(sorted[sorted.length - 1] ?? Number.NaN),
            TARGET_G2G[result.segmentSeconds] ? fmt(TARGET_G2G[result.segmentSeconds]) : '-',
          ];
        }),
      ),
    );
    out.push('');
    for (const result of glass) {
      const p95 = percentile([...result.samples].sort((a, b) => a - b), 95);
      const target = TARGET_G2G[result.segmentSeconds];
      summary.push(`g2g p95 ${fmt(p95)} ms at ${result.segmentSeconds} s${target ? ` (${p95 <= target ? 'met' : 'MISSED'})` : ''}`);
    }
  }
  if (memory) {
    const last = memory.streams.length - 1;
    const extra = memory.streams[last] - memory.streams[0];
    const per = (values: number[]) => (values[last] - values[0]) / extra;
    out.push(`Memory (VmRSS; idle = before any stream; segments listed per stream when sampled: ${memory.listed.map((counts) => counts.join('/')).join(' then ')}):`);
    out.push(
      table(
        ['process', 'idle MiB', `1 stream MiB`, `${memory.streams[last]} streams MiB`, 'per stream MiB'],
        [
          ['viewer-api', mib(idle.viewer), mib(memory.viewer[0]), mib(memory.viewer[last]), mib(per(memory.viewer))],
          ['transcoder (node)', mib(idle.transcoderNode), mib(memory.transcoderNode[0]), mib(memory.transcoderNode[last]), mib(per(memory.transcoderNode))],
          ['transcoder + ffmpeg', mib(idle.transcoderTree), mib(memory.transcoderTree[0]), mib(memory.transcoderTree[last]), mib(per(memory.transcoderTree))],
        ],
      ),
    );
    out.push('');
    summary.push(`RSS per stream: viewer-api ${mib(per(memory.viewer))} MiB, transcoder+ffmpeg ${mib(per(memory.transcoderTree))} MiB`);
  }
  if (concurrency.length > 0) {
    // Bare ffmpeg's speed on the same ladder (phase 1) is how many such streams the machine could
    // transcode in real time with nothing else running (one stream at speed S ≈ S streams).
    const capacity = speed && config.fileSize === config.concurrencySize ? fmt(speed.mediaSeconds / speed.bareSeconds, 2) : '-';
    out.push(
      `Simultaneous live ${config.concurrencySize} streams (${config.concurrencySeconds} s each, -re, 2 s segments; bare ffmpeg real-time capacity for the same ladder in this run: ${capacity} streams):`,
    );
    out.push(
      table(
        ['streams', 'first playlist s p50', 'first playlist s max', 'edge trailing s p50', 'edge trailing s p95', 'sheds (drop/preset/skip)'],
        concurrency.map((row) => {
          const first = row.firstPlaylist.filter((value) => Number.isFinite(value)).sort((a, b) => a - b);
          const trailing = [...row.trailing].sort((a, b) => a - b);
          return [
            String(row.streams),
            fmt(percentile(first, 50), 1),
            fmt(first[first.length - 1] ?? Number.NaN, 1),
            fmt(percentile(trailing, 50), 1),
            fmt(percentile(trailing, 95), 1),
            `${row.sheds.drop_rendition ?? 0}/${row.sheds.faster_preset ?? 0}/${row.sheds.skip_to_live ?? 0}`,
          ];
        }),
      ),
    );
    out.push('');
    summary.push(`concurrency trailing p95 ${concurrency.map((row) => `${row.streams}: ${fmt(percentile([...row.trailing].sort((a, b) => a - b), 95), 1)} s`).join(', ')}`);
  }
  if (ingestRows.length > 0) {
    out.push('');
    out.push(`Ingest by transport (same ${config.ingestSeconds} s ${config.ingestSize} H.264+AAC file written in real time by the bench, one publisher at a time; CPU = ingest + its waited children, i.e. RTMP's remuxer; latency = frame written → video.ingest chunk holding it cut, same clock):`);
    out.push(
      table(
        ['transport', 'chunks', 'frames', 'input Mbit/s', 'ingest CPU s', 'CPU % of a core', 'CPU % per Mbit/s', 'first frame ms', 'latency p50 ms', 'latency p95 ms'],
        ingestRows.map((row) => {
          const percent = (row.cpuSeconds / row.mediaSeconds) * 100;
          return [
            row.transport,
            String(row.chunks),
            String(row.frames),
            fmt(row.inputMbps, 2),
            fmt(row.cpuSeconds, 2),
            fmt(percent, 1),
            fmt(percent / row.inputMbps, 2),
            fmt(row.firstFrameMs),
            fmt(row.latencyP50Ms),
            fmt(row.latencyP95Ms),
          ];
        }),
      ),
    );
    const http = ingestRows.find((row) => row.transport === 'http');
    const rtmp = ingestRows.find((row) => row.transport === 'rtmp');
    if (http && rtmp) {
      summary.push(
        `RTMP vs HTTP ingest: CPU ${fmt((rtmp.cpuSeconds / rtmp.mediaSeconds) * 100, 1)} % vs ${fmt((http.cpuSeconds / http.mediaSeconds) * 100, 1)} % of a core per publisher, added latency p50 ${fmt(rtmp.latencyP50Ms - http.latencyP50Ms)} ms, p95 ${fmt(rtmp.latencyP95Ms - http.latencyP95Ms)} ms, first frame ${fmt(rtmp.firstFrameMs - http.firstFrameMs)} ms (target ≤ +100 ms)`,
      );
    }
  }
  if (llCpu.length === 2) {
    const [standard, low] = llCpu;
    out.push('', `Low-latency mode (issue 12): bare ffmpeg, same ${config.liveSize} ladder and file in real time, side by side:`);
    out.push(table(['mode', 'ffmpeg CPU s', 'wall s'], llCpu.map((row) => [row.mode, fmt(row.cpuSeconds, 2), fmt(row.wallSeconds, 1)])));
    summary.push(`low-latency ffmpeg CPU ${fmt(low.cpuSeconds / standard.cpuSeconds, 2)}× standard (target ≤ 1.2×)`);
  }
  if (llDelay) {
    out.push(
      `Low-latency produce delay (ffmpeg wrote the part → Kafka acknowledged it), ${llDelay.parts} parts of a live ${config.lowLatencySeconds} s stream: mean ${fmt(llDelay.meanMs, 1)} ms, p50 ${llDelay.p50}, p95 ${llDelay.p95}, ${fmt(llDelay.within50 * 100, 0)} % within 50 ms, ${fmt(llDelay.within100 * 100, 0)} % within 100 ms; PART-TARGET ${llDelay.partTargetSeconds ?? 'not reported'} s`,
    );
    summary.push(`low-latency produce delay mean ${fmt(llDelay.meanMs, 0)} ms (${fmt(llDelay.within50 * 100, 0)} % ≤ 50 ms)`);
  }
  if (modes.length > 0) {
    const q = (values: number[], p: number, scale = 1) => (values.length > 0 ? fmt(percentile([...values].sort((a, b) => a - b), p) * scale) : '-');
    out.push(
      '',
      `Glass-to-glass by latency mode (issue 12; ${config.liveSize} source, -re, ${config.g2gSegmentSeconds} s segments, ${modes[0]?.sampledSeconds.toFixed(0) ?? '?'} s sampled per mode after the player started; ms from the ingest-time header of the frame's chunk; listed = first rendition, blocking reload in low mode, 100 ms polling in standard):`,
    );
    out.push(
      table(
        ['mode', 'listed n', 'listed p50', 'listed p95', 'played n', 'played p50', 'played p95', 'player PDT p50', 'hls.latency p50', 'stalls', 'start-up s', 'PART-TARGET s'],
        modes.map((row) => [
          row.mode,
          String(row.listed.length),
          q(row.listed, 50),
          q(row.listed, 95),
          String(row.played.length),
          q(row.played, 50),
          q(row.played, 95),
          q(row.playerPdtLatency, 50, 1000),
          q(row.hlsLatency, 50, 1000),
          String(row.stalls),
          row.startupSeconds !== undefined ? fmt(row.startupSeconds, 2) : '-',
          row.partTargetSeconds !== undefined ? String(row.partTargetSeconds) : '-',
        ]),
      ),
    );
    out.push('Breakdown (medians, ms; part = segment in standard mode):');
    out.push(
      table(
        ['mode', 'part s p50/max', 'ingest→chunk in Kafka', 'ingest→part produced', 'produced→listed', 'listed→played'],
        modes.map((row) => {
          const median = (values: number[]) => (values.length > 0 ? percentile([...values].sort((a, b) => a - b), 50) : Number.NaN);
          return [
            row.mode,
            `${fmt(median(row.partSeconds), 3)}/${fmt(Math.max(...row.partSeconds), 3)}`,
            fmt(median(row.ingestToKafka)),
            fmt(median(row.ingestToProduced)),
            fmt(median(row.producedToListed)),
            fmt(median(row.played) - median(row.listed)),
          ];
        }),
      ),
    );
    const cores = Object.fromEntries(modes.map((row) => [row.mode, row.transcoderCores ?? Number.NaN]));
    const cpuRatio = cores.low / cores.standard;
    out.push(
      `Transcoder CPU per stream (node + its ffmpeg runs, cores while publishing): standard ${fmt(cores.standard, 3)}, low ${fmt(cores.low, 3)}; low ÷ standard ${fmt(cpuRatio, 2)} (target ≤ 1.2)`,
    );
    if (Number.isFinite(cpuRatio)) summary.push(`g2g transcoder CPU low ÷ standard ${fmt(cpuRatio, 2)} (target ≤ 1.2: ${cpuRatio <= 1.2 ? 'met' : 'MISSED'})`);
    out.push('Start-up step by step (ms after the publisher was spawned, +Δ from the step before; ffprobe/ffmpeg steps only with BENCH_SERVICE_LOG_LEVEL=info):');
    for (const row of modes) out.push(`${row.mode}: ${row.startupSteps ?? '-'}`);
    for (const row of modes) {
      if (row.note) out.push(`note ${row.mode}: ${row.note}`);
      const sheds = Object.entries(row.sheds).map(([action, count]) => `${action} ×${count}`);
      out.push(`${row.mode}: transcoder sheds ${sheds.length > 0 ? sheds.join(', ') : 'none'}`);
      const p50 = row.played.length > 0 ? percentile([...row.played].sort((a, b) => a - b), 50) : Number.NaN;
      const p95 = row.played.length > 0 ? percentile([...row.played].sort((a, b) => a - b), 95) : Number.NaN;
      const startTarget = row.mode === 'low' ? 2 : 4;
      summary.push(
        `g2g ${row.mode} played p50 ${fmt(p50)} ms / p95 ${fmt(p95)} ms${row.mode === 'low' ? ` (targets 1500/2500: ${p50 <= 1500 && p95 <= 2500 ? 'met' : 'MISSED'})` : ''}, start-up ${row.startupSeconds !== undefined ? fmt(row.startupSeconds, 2) : '-'} s (target ≤ ${startTarget}: ${(row.startupSeconds ?? Infinity) <= startTarget ? 'met' : 'MISSED'})`,
      );
    }
  }
  for (const error of errors) out.push(`ERROR ${error}`);
  out.push(`SUMMARY: ${summary.length > 0 ? summary.join('; ') : 'nothing measured'}`);
  process.stdout.write(`${out.join('\n')}\n`);
}

main().catch((error: unknown) => {
  log(`harness failure: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(1);
});
