import { execFile, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { VideoHeaders } from '@tributary/contracts';
import { headerString } from '@tributary/kafka';
import { maxPts } from '@tributary/media';
import type { Consumer, Kafka, KafkaMessage } from 'kafkajs';
import { percentile } from './report';

/**
 * RTMP vs HTTP push into the same ingest, same input, same run (issue 13): one file (H.264 + AAC)
 * published in real time once as MPEG-TS over HTTP and once as FLV over RTMP. Per transport:
 * - ingest CPU (its process plus the children it waited for, i.e. RTMP's ffmpeg remuxer) over the
 *   publish, as % of one core per publisher and per Mbit/s of input;
 * - ingest lag per chunk: when the chunk was cut (tributary-ingest-time-ms) minus when its newest
 *   media was due, p50/p95. ffmpeg -re starts its clock once its output is open: for HTTP when it
 *   has sent the request (ingest then writes the publish claim: the claim's log time on
 *   stream.claims is the base), for RTMP when `publish` was accepted (ingest writes `live` to
 *   stream.status just before: that message's time is the base). Media with PTS p is due at base +
 *   (p − the stream's first PTS) / 90 ms. RTMP − HTTP is the latency the RTMP path adds before the
 *   transcoder; the rest of glass-to-glass is the same path. The bases are estimates (the claim is
 *   written a Kafka round trip after the request arrived; PTS offsets between the publisher's input
 *   and the muxed output differ by transport): a first run showed HTTP at p50 −186 ms, i.e. an
 *   error of the order of 200 ms, so the difference is indicative, not a verdict on the target.
 */
export interface IngestTransportRow {
  transport: 'http' | 'rtmp';
  mediaSeconds: number;
  inputMbps: number;
  cpuSeconds: number;
  chunks: number;
  lagP50Ms: number;
  lagP95Ms: number;
}

export interface IngestTransportOptions {
  ffmpeg: string;
  ffprobe: string;
  kafka: Kafka;
  ingestTopic: string;
  claimsTopic: string;
  statusTopic: string;
  ingestUrl: string;
  rtmpPort: number;
  ingestPid: number;
  workDir: string;
  size: string;
  seconds: number;
  createStream: (id: string) => Promise<string>;
  log: (line: string) => void;
}

const execFileAsync = promisify(execFile);
const CLOCK_TICKS = 100; // Linux USER_HZ

/** utime + stime + cutime + cstime of a process, in seconds (children count once they were waited for). */
export function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields after the command: state is index 0, so utime (14th overall) is index 11.
  return fields.slice(11, 15).reduce((sum, value) => sum + Number(value), 0) / CLOCK_TICKS;
}

export async function runIngestTransports(options: IngestTransportOptions): Promise<IngestTransportRow[]> {
  const flv = join(options.workDir, 'ingest-transports.flv');
  const ts = join(options.workDir, 'ingest-transports.ts');
  await execFileAsync(options.ffmpeg, [
    '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', `testsrc2=size=${options.size}:rate=30`, '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-t', String(options.seconds), '-c:v', 'libx264', '-preset', 'veryfast', '-b:v', '3000k', '-g', '60', '-c:a', 'aac', '-b:a', '128k', '-f', 'flv', flv,
  ]);
  // The same elementary streams as MPEG-TS for HTTP push.
  await execFileAsync(options.ffmpeg, ['-hide_banner', '-loglevel', 'error', '-y', '-i', flv, '-c', 'copy', '-f', 'mpegts', ts]);
  const rows: IngestTransportRow[] = [];
  for (const transport of ['http', 'rtmp'] as const) {
    const id = `bench-${transport}-${Date.now().toString(36)}`;
    const key = await options.createStream(id);
    const file = transport === 'http' ? ts : flv;
    const url = transport === 'http' ? `${options.ingestUrl}/live/${key}` : `rtmp://127.0.0.1:${options.rtmpPort}/live/${key}`;
    const chunks: KafkaMessage[] = [];
    let claimedAt: number | undefined;
    let liveAt: number | undefined;
    const consumer = await tapTopics(options.kafka, [options.ingestTopic, options.claimsTopic, options.statusTopic], (topic, message) => {
      if (message.key?.toString() !== id) return;
      const value = message.value?.toString() ?? '';
      if (topic === options.ingestTopic) chunks.push(message);
      else if (topic === options.claimsTopic && claimedAt === undefined && value.includes('"kind":"claim"')) claimedAt = Number(message.timestamp);
      else if (topic === options.statusTopic && liveAt === undefined && value.includes('"state":"live"') && value.includes('"reporter":"ingest"')) liveAt = Number(message.timestamp);
    });
    try {
      const cpuBefore = processCpuSeconds(options.ingestPid);
      const startedAt = Date.now();
      await publish(options.ffmpeg, ['-re', '-i', file, '-c', 'copy', '-f', transport === 'http' ? 'mpegts' : 'flv', url]);
      // The last chunk (and, for RTMP, the remuxer's exit) follows the publisher's end shortly.
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      const cpuSeconds = processCpuSeconds(options.ingestPid) - cpuBefore;
      // The stream's first PTS (ffprobe of its first chunks): media with PTS p was due, with -re,
      // at start + (p − first) / 90 ms; the chunk holding it was cut at tributary-ingest-time-ms.
      const head = join(options.workDir, `ingest-transports-${transport}-head.ts`);
      writeFileSync(head, Buffer.concat(chunks.slice(0, 4).map((chunk) => chunk.value ?? Buffer.alloc(0))));
      const probed = await execFileAsync(options.ffprobe, ['-v', 'error', '-show_entries', 'format=start_time', '-of', 'csv=p=0', head]);
      const firstPtsMs = Number(probed.stdout.trim()) * 1000;
      const base = (transport === 'http' ? claimedAt : liveAt) ?? startedAt;
      if ((transport === 'http' ? claimedAt : liveAt) === undefined) options.log(`ingest ${transport}: no claim/live message seen; lag measured from the publisher's spawn`);
      const lags: number[] = [];
      for (const chunk of chunks) {
        const pts = chunk.value ? maxPts(chunk.value) : undefined;
        const cutAt = Number(headerString(chunk.headers, VideoHeaders.ingestTimeMs));
        if (pts === undefined || !Number.isFinite(cutAt) || !Number.isFinite(firstPtsMs)) continue;
        lags.push(cutAt - base - (pts / 90 - firstPtsMs));
      }
      lags.sort((a, b) => a - b);
      const bytes = chunks.reduce((sum, chunk) => sum + (chunk.value?.length ?? 0), 0);
      rows.push({
        transport,
        mediaSeconds: options.seconds,
        inputMbps: (bytes * 8) / options.seconds / 1e6,
        cpuSeconds,
        chunks: chunks.length,
        lagP50Ms: percentile(lags, 50),
        lagP95Ms: percentile(lags, 95),
      });
      options.log(`ingest ${transport}: ${chunks.length} chunks, ${cpuSeconds.toFixed(2)} CPU s, lag p50 ${percentile(lags, 50).toFixed(0)} ms`);
    } finally {
      await consumer.disconnect();
    }
  }
  return rows;
}

async function publish(ffmpeg: string, args: string[]): Promise<void> {
  const child = spawn(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-nostdin', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (data: Buffer) => (stderr = (stderr + data.toString()).slice(-2000)));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  if (code !== 0) throw new Error(`the publisher exited ${code}: ${stderr.trim()}`);
}

async function tapTopics(kafka: Kafka, topics: string[], onMessage: (topic: string, message: KafkaMessage) => void): Promise<Consumer> {
  const consumer = kafka.consumer({ groupId: `bench-ingest-transports-${Date.now()}`, maxWaitTimeInMs: 50 });
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: false });
  await consumer.run({
    eachMessage: ({ topic, message }) => {
      onMessage(topic, message);
      return Promise.resolve();
    },
  });
  // Let the group settle before publishing (fromBeginning false: only what comes after).
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  return consumer;
}
