import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { VideoHeaders } from '@tributary/contracts';
import { headerString } from '@tributary/kafka';
import type { Consumer, Kafka, KafkaMessage } from 'kafkajs';
import { percentile } from './report';
import { type FlvTag, readFlvTags } from '@tributary/media';
import { BenchRtmpPublisher, isVideoFrame } from './rtmp-publisher';

/**
 * RTMP vs HTTP push into the same ingest, same input, same run (issue 13): one file (H.264 + AAC)
 * published in real time once as MPEG-TS over HTTP and once as FLV over RTMP, by the bench itself
 * (an HTTP request it writes, lib/rtmp-publisher.ts), so both paths are measured the same way:
 * - ingest CPU (its process plus the children it waited for, i.e. RTMP's ffmpeg remuxer) over the
 *   publish, as % of one core per publisher and per Mbit/s of input;
 * - ingest latency per video frame: frame k (the k-th H.264 frame in decode order: the k-th video
 *   tag of the FLV, the k-th video PES of the TS, the same frame since one file was remuxed into
 *   the other) is written by the bench when due (first frame's time + its DTS offset, i.e. what
 *   `ffmpeg -re` does) and its write time noted; latency = the tributary-ingest-time-ms of the
 *   video.ingest chunk holding the frame's last TS packet − that write time. Both clocks are this
 *   machine's; nothing is estimated. RTMP − HTTP is what the RTMP path adds (the remuxer); from
 *   the chunk on, both paths are the same code (transcoder, viewer-api). Frames of the first
 *   second are reported apart (start-up: the remuxer's probing), the rest as steady state. Both
 *   publishers write their first frame once the publish is live (HTTP: `live` on stream.status;
 *   RTMP: NetStream.Publish.Start, sent after the same `live`), so the claim is not in the figure.
 */
export interface IngestTransportRow {
  transport: 'http' | 'rtmp';
  mediaSeconds: number;
  inputMbps: number;
  cpuSeconds: number;
  chunks: number;
  frames: number;
  /** Latency of the first frame (start-up). */
  firstFrameMs: number;
  /** Steady state: frames after the first second. */
  latencyP50Ms: number;
  latencyP95Ms: number;
}

export interface IngestTransportOptions {
  ffmpeg: string;
  kafka: Kafka;
  ingestTopic: string;
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
const TS = 188;

/** utime + stime + cutime + cstime of a process, in seconds (children count once they were waited for). */
export function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields after the command: state is index 0, so utime (14th overall) is index 11.
  return fields.slice(11, 15).reduce((sum, value) => sum + Number(value), 0) / CLOCK_TICKS;
}

/** A unit of the publish: what is written at once at `dueMs` after the first frame; `frame` = it starts video frame number … */
interface Unit {
  dueMs: number;
  frame?: number;
  data: Buffer[] | FlvTag[];
}

/** Start of a video PES in a TS packet: its DTS (or PTS) in 90 kHz, else undefined. */
function videoPesStart(packet: Buffer): number | undefined {
  if (packet[0] !== 0x47 || (packet[1] & 0x40) === 0) return undefined;
  const afc = (packet[3] >> 4) & 3;
  if ((afc & 1) === 0) return undefined;
  const at = afc === 3 ? 5 + packet[4] : 4;
  if (at + 19 > TS || packet[at] !== 0 || packet[at + 1] !== 0 || packet[at + 2] !== 1 || (packet[at + 3] & 0xf0) !== 0xe0) return undefined;
  const flags = packet[at + 7] >> 6;
  const ts = (o: number) => (packet[o] & 0x0e) * 2 ** 29 + packet[o + 1] * 2 ** 22 + (packet[o + 2] >> 1) * 2 ** 15 + packet[o + 3] * 2 ** 7 + (packet[o + 4] >> 1);
  return flags === 3 ? ts(at + 14) : flags === 2 ? ts(at + 9) : 0;
}

function pidOf(packet: Buffer): number {
  return ((packet[1] & 0x1f) << 8) | packet[2];
}

/** The TS file in units: packets before the first video frame, then one unit per video PES (with what follows it). */
function tsUnits(ts: Buffer): Unit[] {
  const units: Unit[] = [{ dueMs: 0, data: [] }];
  let firstDts: number | undefined;
  let frame = 0;
  for (let offset = 0; offset + TS <= ts.length; offset += TS) {
    const packet = ts.subarray(offset, offset + TS);
    const dts = videoPesStart(packet);
    if (dts !== undefined) {
      firstDts ??= dts;
      units.push({ dueMs: (dts - firstDts) / 90, frame: frame++, data: [] });
    }
    (units[units.length - 1].data as Buffer[]).push(packet);
  }
  return units;
}

function flvUnits(tags: FlvTag[]): Unit[] {
  const units: Unit[] = [{ dueMs: 0, data: [] }];
  let first: number | undefined;
  let frame = 0;
  for (const tag of tags) {
    if (isVideoFrame(tag)) {
      first ??= tag.timestamp;
      units.push({ dueMs: tag.timestamp - first, frame: frame++, data: [] });
    }
    (units[units.length - 1].data as FlvTag[]).push(tag);
  }
  return units;
}

/** Writes the units in real time (each at its due time after the first frame); returns each frame's write time. */
async function pace(units: Unit[], write: (unit: Unit) => void): Promise<number[]> {
  const written: number[] = [];
  let startedAt: number | undefined;
  for (const unit of units) {
    if (unit.frame !== undefined) {
      startedAt ??= Date.now();
      const wait = startedAt + unit.dueMs - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
    write(unit);
    if (unit.frame !== undefined) written[unit.frame] = Date.now();
  }
  return written;
}

/** For each video frame (decode order), the cut time of the chunk holding its last TS packet. */
function frameArrivals(chunks: KafkaMessage[]): number[] {
  const arrivals: number[] = [];
  let videoPid: number | undefined;
  let frame = -1;
  let lastVideoCut = 0;
  for (const chunk of chunks) {
    const cutAt = Number(headerString(chunk.headers, VideoHeaders.ingestTimeMs));
    const value = chunk.value ?? Buffer.alloc(0);
    for (let offset = 0; offset + TS <= value.length; offset += TS) {
      const packet = value.subarray(offset, offset + TS);
      if (videoPesStart(packet) !== undefined) {
        videoPid ??= pidOf(packet);
        if (frame >= 0) arrivals[frame] = lastVideoCut;
        frame += 1;
      }
      if (videoPid !== undefined && pidOf(packet) === videoPid) lastVideoCut = cutAt;
    }
  }
  if (frame >= 0) arrivals[frame] = lastVideoCut;
  return arrivals;
}

export async function runIngestTransports(options: IngestTransportOptions): Promise<IngestTransportRow[]> {
  const flvFile = join(options.workDir, 'ingest-transports.flv');
  const tsFile = join(options.workDir, 'ingest-transports.ts');
  await execFileAsync(options.ffmpeg, [
    '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', `testsrc2=size=${options.size}:rate=30`, '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-t', String(options.seconds), '-c:v', 'libx264', '-preset', 'veryfast', '-b:v', '3000k', '-g', '60', '-c:a', 'aac', '-b:a', '128k', '-f', 'flv', flvFile,
  ]);
  // The same elementary streams as MPEG-TS for HTTP push.
  await execFileAsync(options.ffmpeg, ['-hide_banner', '-loglevel', 'error', '-y', '-i', flvFile, '-c', 'copy', '-f', 'mpegts', tsFile]);
  const units = { http: tsUnits(readFileSync(tsFile)), rtmp: flvUnits(readFlvTags(readFileSync(flvFile))) };
  const frames = units.rtmp.filter((unit) => unit.frame !== undefined).length;
  if (units.http.filter((unit) => unit.frame !== undefined).length !== frames) throw new Error('the TS and FLV inputs hold different numbers of video frames');
  const rows: IngestTransportRow[] = [];
  for (const transport of ['http', 'rtmp'] as const) {
    const id = `bench-${transport}-${Date.now().toString(36)}`;
    const key = await options.createStream(id);
    const chunks: KafkaMessage[] = [];
    let live = false;
    const consumer = await tapTopics(options.kafka, [options.ingestTopic, options.statusTopic], (topic, message) => {
      if (message.key?.toString() !== id) return;
      if (topic === options.ingestTopic) chunks.push(message);
      else if (/"state":"live"/.test(message.value?.toString() ?? '')) live = true;
    });
    try {
      const cpuBefore = processCpuSeconds(options.ingestPid);
      let written: number[];
      if (transport === 'http') {
        const req = request(`${options.ingestUrl}/live/${key}`, { method: 'POST', headers: { 'content-type': 'video/mp2t', 'transfer-encoding': 'chunked' } });
        req.setNoDelay(true);
        const answered = new Promise<number>((resolve, reject) => {
          req.once('response', (response) => {
            response.resume();
            resolve(response.statusCode ?? 0);
          });
          req.once('error', reject);
        });
        req.flushHeaders();
        // Start writing once the publish is live (claimed), as the RTMP publisher does after
        // NetStream.Publish.Start: the claim's Kafka round trip is start-up of both, not latency.
        const deadline = Date.now() + 15_000;
        while (!live && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
        written = await pace(units.http, (unit) => req.write(Buffer.concat(unit.data as Buffer[])));
        req.end();
        const status = await answered;
        if (status !== 200) throw new Error(`the HTTP publish answered ${status}`);
      } else {
        const publisher = await BenchRtmpPublisher.publish(options.rtmpPort, key);
        written = await pace(units.rtmp, (unit) => (unit.data as FlvTag[]).forEach((tag) => publisher.sendTag(tag)));
        await publisher.close();
      }
      // The last chunk (and, for RTMP, the remuxer's exit) follows the publisher's end shortly.
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      const cpuSeconds = processCpuSeconds(options.ingestPid) - cpuBefore;
      const arrivals = frameArrivals(chunks);
      if (arrivals.length !== frames) options.log(`ingest ${transport}: ${arrivals.length} video frames in video.ingest, ${frames} published`);
      const latencies = written.map((at, frame) => (arrivals[frame] ?? Number.NaN) - at);
      const steady = latencies.filter((value, frame) => Number.isFinite(value) && written[frame] - written[0] >= 1_000).sort((a, b) => a - b);
      const bytes = chunks.reduce((sum, chunk) => sum + (chunk.value?.length ?? 0), 0);
      rows.push({
        transport,
        mediaSeconds: options.seconds,
        inputMbps: (bytes * 8) / options.seconds / 1e6,
        cpuSeconds,
        chunks: chunks.length,
        frames: arrivals.length,
        firstFrameMs: latencies[0],
        latencyP50Ms: percentile(steady, 50),
        latencyP95Ms: percentile(steady, 95),
      });
      options.log(`ingest ${transport}: ${chunks.length} chunks, ${cpuSeconds.toFixed(2)} CPU s, first frame ${latencies[0].toFixed(0)} ms, latency p50 ${percentile(steady, 50).toFixed(0)} ms p95 ${percentile(steady, 95).toFixed(0)} ms`);
    } finally {
      await consumer.disconnect();
    }
  }
  return rows;
}

async function tapTopics(kafka: Kafka, topics: string[], onMessage: (topic: string, message: KafkaMessage) => void): Promise<Consumer> {
  const consumer = kafka.consumer({ groupId: `bench-ingest-transports-${Date.now()}`, maxWaitTimeInMs: 50 });
  const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: false });
  await consumer.run({
    eachMessage: ({ topic, message }) => {
      onMessage(topic, message);
      return Promise.resolve();
    },
  });
  // Only what comes after the join (fromBeginning false): publish once the group has its partitions.
  await joined;
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  return consumer;
}
