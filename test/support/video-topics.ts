import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import type { StreamStatus } from '@tributary/contracts';
import { registerCompressionCodecs } from '@tributary/kafka';
import { Kafka, type KafkaMessage, logLevel } from 'kafkajs';
import { MEDIA_TOOLS } from './media-tools';

/** Helpers for tests of the video path (ingest, transcoder): read topics back, run ffmpeg. */
export const FFMPEG_BIN = MEDIA_TOOLS.ffmpeg;
export const FFPROBE_BIN = MEDIA_TOOLS.ffprobe;

export interface ReadMessage {
  topic: string;
  partition: number;
  key: string;
  value: Buffer | null;
  headers: Record<string, string>;
  offset: string;
}

function toRead(topic: string, partition: number, message: KafkaMessage): ReadMessage {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined) headers[name] = first.toString();
  }
  return { topic, partition, key: message.key?.toString() ?? '', value: message.value, headers, offset: message.offset };
}

/**
 * The stream.status reports among `messages` read from `statusTopic` (the prefixed stream.status
 * topic), in the order read; only those of stream `streamId` (the message key) if given.
 */
export function streamStatuses(messages: readonly ReadMessage[], statusTopic: string, streamId?: string): StreamStatus[] {
  return messages
    .filter((m) => m.topic === statusTopic && m.value && (streamId === undefined || m.key === streamId))
    .map((m) => JSON.parse(m.value!.toString()) as StreamStatus);
}

export function kafkaFor(brokers: string): Kafka {
  // The services compress with KAFKA_COMPRESSION (lz4 by default): a raw kafkajs reader needs the codecs.
  registerCompressionCodecs();
  return new Kafka({ brokers: brokers.split(','), clientId: `test-${randomUUID().slice(0, 6)}`, logLevel: logLevel.NOTHING });
}

/**
 * A live reader of topics from the beginning (own throw-away group): `messages` grows as they
 * arrive; `waitFor` polls a predicate over them.
 */
export class TopicTap {
  readonly messages: ReadMessage[] = [];
  private readonly consumer;

  constructor(kafka: Kafka, private readonly topics: string[]) {
    this.consumer = kafka.consumer({ groupId: `test-tap-${randomUUID()}`, maxBytesPerPartition: 16 * 1024 * 1024 });
  }

  async start(): Promise<this> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: this.topics, fromBeginning: true });
    await this.consumer.run({
      eachMessage: ({ topic, partition, message }) => {
        this.messages.push(toRead(topic, partition, message));
        return Promise.resolve();
      },
    });
    return this;
  }

  /** The stream.status reports read so far from `statusTopic` (see streamStatuses). */
  statuses(statusTopic: string, streamId?: string): StreamStatus[] {
    return streamStatuses(this.messages, statusTopic, streamId);
  }

  async waitFor<T>(probe: (messages: ReadMessage[]) => T | undefined | false, timeoutMs: number, what: string): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const result = probe(this.messages);
      if (result) return result;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (${this.messages.length} messages seen)`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }
}

/** Sum of high watermarks of a topic (how many messages were ever written). */
export async function messageCount(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((sum, entry) => sum + Number(entry.high) - Number(entry.low), 0);
  } finally {
    await admin.disconnect();
  }
}

export interface FfmpegRun {
  done: Promise<{ code: number | null; stderr: string }>;
  kill(): void;
}

export function runFfmpeg(args: string[]): FfmpegRun {
  const child = spawn(FFMPEG_BIN, ['-hide_banner', '-loglevel', 'error', '-nostdin', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (data: Buffer) => (stderr = (stderr + data.toString()).slice(-4000)));
  return {
    done: new Promise((resolve) => child.once('close', (code) => resolve({ code, stderr }))),
    kill: () => {
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

/** ffmpeg publishing a lavfi test pattern + tone as MPEG-TS over HTTP, like a real publisher. */
export function publishTestPattern(url: string, options: { size: string; rate: number; seconds: number; realtime?: boolean }): FfmpegRun {
  return runFfmpeg([
    ...(options.realtime === false ? [] : ['-re']),
    '-f', 'lavfi', '-i', `testsrc=size=${options.size}:rate=${options.rate}`,
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-t', String(options.seconds),
    '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', String(options.rate), '-threads', '1',
    '-c:a', 'aac', '-b:a', '64k',
    '-f', 'mpegts', url,
  ]);
}
