import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { buildLowLatencyArgs, buildTranscodeArgs, type MediaTools, type PlannedRendition } from '@tributary/media';

/**
 * The low-latency phase of bench:video (issue 12), in the same run as the others:
 * - CPU: bare ffmpeg on the same ladder and file in real time (`-re`), standard (HLS/MPEG-TS,
 *   buildTranscodeArgs) and low-latency (fMP4 per rendition on pipes, buildLowLatencyArgs, as the
 *   transcoder runs them) side by side; each ffmpeg's CPU seconds as read by the `sh` that waited
 *   for it (exact). The transcoder's Node side (box parsing, transactions) is not in it.
 * - produce delay: a live `latency_mode: low` stream through ingest, Kafka and the transcoder; the
 *   transcoder's `tributary_ll_part_produce_delay_seconds{kind="part"}` (ffmpeg wrote the part →
 *   Kafka acknowledged it) between two scrapes, with the PART-TARGET viewer-api reports for it.
 */
export interface LowLatencyCpuRow {
  mode: 'standard' | 'low';
  cpuSeconds: number;
  wallSeconds: number;
}

export interface LowLatencyDelay {
  parts: number;
  meanMs: number;
  within50: number;
  within100: number;
  p50: string;
  p95: string;
  partTargetSeconds?: number;
}

const CLOCK_TICKS = 100; // Linux USER_HZ

function ffmpegCpu(ffmpeg: string, args: readonly string[], extraFds: number): Promise<{ cpuSeconds: number; wallSeconds: number; code: number | null }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const stdio: ('ignore' | 'pipe')[] = ['ignore', 'pipe', 'ignore'];
    // The rendition pipes (fd 3…) must be open: read and dropped, as fast as ffmpeg writes.
    for (let i = 0; i < extraFds; i += 1) stdio.push('pipe');
    // ffmpeg's stdout (thumbnails) to /dev/null; then sh prints its own stat: cutime + cstime = ffmpeg's CPU.
    const child = spawn('sh', ['-c', '"$@" >/dev/null; code=$?; cat /proc/$$/stat; exit $code', 'sh', ffmpeg, ...args], { stdio });
    let out = '';
    child.stdout?.on('data', (data: Buffer) => (out += data.toString()));
    for (let i = 0; i < extraFds; i += 1) child.stdio[3 + i]?.on('data', () => undefined);
    child.once('error', reject);
    child.once('close', (code) => {
      const fields = out.slice(out.lastIndexOf(')') + 2).split(' ');
      // After the command name: state is index 0; cutime and cstime are indexes 13 and 14.
      resolve({ cpuSeconds: (Number(fields[13]) + Number(fields[14])) / CLOCK_TICKS, wallSeconds: (performance.now() - started) / 1000, code });
    });
  });
}

export async function lowLatencyCpu(options: {
  tools: MediaTools;
  file: string;
  renditions: PlannedRendition[];
  hasAudio: boolean;
  frameRate: number;
  preset: string;
  threads: number;
  thumbnails: number;
  segmentSeconds: number;
  partSeconds: number;
  workDir: string;
}): Promise<LowLatencyCpuRow[]> {
  const common = {
    renditions: options.renditions,
    hasAudio: options.hasAudio,
    frameRate: options.frameRate,
    preset: options.preset,
    threads: options.threads,
    thumbnailIntervalSeconds: options.thumbnails,
    inputArgs: ['-re', '-i', options.file],
  };
  const outputDir = join(options.workDir, 'll-cpu-standard');
  for (const rendition of options.renditions) mkdirSync(join(outputDir, rendition.name), { recursive: true });
  const standard = buildTranscodeArgs({ ...common, outputDir, segmentDurationSeconds: options.segmentSeconds });
  const low = buildLowLatencyArgs({ ...common, partSeconds: options.partSeconds, gopSeconds: Math.min(1, options.segmentSeconds) });
  const [s, l] = await Promise.all([ffmpegCpu(options.tools.ffmpeg, standard, 0), ffmpegCpu(options.tools.ffmpeg, low, options.renditions.length)]);
  if (s.code !== 0 || l.code !== 0) throw new Error(`ffmpeg exited ${s.code} (standard) / ${l.code} (low-latency)`);
  return [
    { mode: 'standard', cpuSeconds: s.cpuSeconds, wallSeconds: s.wallSeconds },
    { mode: 'low', cpuSeconds: l.cpuSeconds, wallSeconds: l.wallSeconds },
  ];
}

interface Histogram {
  count: number;
  sum: number;
  buckets: Map<string, number>;
}

/** The `kind="part"` series of the produce-delay histogram in a /metrics text. */
export function partDelayHistogram(metricsText: string): Histogram {
  const histogram: Histogram = { count: 0, sum: 0, buckets: new Map() };
  for (const line of metricsText.split('\n')) {
    if (!line.startsWith('tributary_ll_part_produce_delay_seconds') || !line.includes('kind="part"')) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (line.startsWith('tributary_ll_part_produce_delay_seconds_bucket')) {
      const le = /le="([^"]+)"/.exec(line)?.[1];
      if (le) histogram.buckets.set(le, value);
    } else if (line.startsWith('tributary_ll_part_produce_delay_seconds_count')) histogram.count = value;
    else if (line.startsWith('tributary_ll_part_produce_delay_seconds_sum')) histogram.sum = value;
  }
  return histogram;
}

/** Between two scrapes: parts, mean, shares within 50/100 ms, p50/p95 as bucket bounds. */
export function delayBetween(before: Histogram, after: Histogram): Omit<LowLatencyDelay, 'partTargetSeconds'> {
  const parts = after.count - before.count;
  const within = (le: string) => (parts > 0 ? ((after.buckets.get(le) ?? 0) - (before.buckets.get(le) ?? 0)) / parts : 0);
  const bounds = [...after.buckets.keys()].filter((le) => le !== '+Inf').sort((a, b) => Number(a) - Number(b));
  const quantile = (q: number) => {
    const le = bounds.find((bound) => within(bound) >= q);
    return le === undefined ? `> ${Number(bounds.at(-1) ?? 1) * 1000} ms` : `≤ ${Number(le) * 1000} ms`;
  };
  return { parts, meanMs: parts > 0 ? ((after.sum - before.sum) / parts) * 1000 : 0, within50: within('0.05'), within100: within('0.1'), p50: quantile(0.5), p95: quantile(0.95) };
}

/** A live low-latency stream for `seconds`: the produce delay of its parts and its PART-TARGET. */
export async function lowLatencyDelay(options: {
  ffmpeg: string;
  ingestUrl: string;
  transcoderUrl: string;
  viewerUrl: string;
  streamId: string;
  size: string;
  seconds: number;
  log: (line: string) => void;
}): Promise<LowLatencyDelay> {
  const created = await fetch(`${options.ingestUrl}/v1/streams`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id: options.streamId, title: `bench ${options.streamId}`, segment_duration_seconds: 2, latency_mode: 'low' }),
  });
  const body = (await created.json()) as { streamKey?: string };
  if (!created.ok || !body.streamKey) throw new Error(`POST /v1/streams (latency_mode low) answered ${created.status}: ${JSON.stringify(body)}`);
  const scrape = async () => partDelayHistogram(await (await fetch(`${options.transcoderUrl}/metrics`)).text());
  const before = await scrape();
  options.log(`low-latency: publishing ${options.seconds} s of ${options.size} to ${options.streamId}…`);
  // prettier-ignore
  const publisher = spawn(options.ffmpeg, [
    '-hide_banner', '-loglevel', 'error', '-nostdin',
    '-re', '-f', 'lavfi', '-i', `testsrc2=size=${options.size}:rate=30`,
    '-re', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-t', String(options.seconds),
    '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '30', '-pix_fmt', 'yuv420p',
    '-c:a', 'aac', '-b:a', '96k', '-f', 'mpegts', `${options.ingestUrl}/live/${body.streamKey}`,
  ], { stdio: 'ignore' });
  let partTargetSeconds: number | undefined;
  const exited = new Promise<void>((resolve) => publisher.once('close', () => resolve()));
  // The PART-TARGET as viewer-api reports it (stream.status detail), while the stream is live.
  const poll = setInterval(() => {
    void fetch(`${options.viewerUrl}/v1/streams/${options.streamId}`)
      .then(async (response) => (response.ok ? ((await response.json()) as { transcode?: { part_target_seconds?: number } | null }) : undefined))
      .then((stream) => {
        const value = stream?.transcode?.part_target_seconds;
        if (value !== undefined) partTargetSeconds = value;
      })
      .catch(() => undefined);
  }, 1000);
  await exited;
  // The last parts (the transcoder flushes ffmpeg at the publisher's end).
  await new Promise((resolve) => setTimeout(resolve, 5000));
  clearInterval(poll);
  const after = await scrape();
  return { ...delayBetween(before, after), ...(partTargetSeconds !== undefined ? { partTargetSeconds } : {}) };
}
