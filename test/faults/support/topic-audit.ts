import * as contracts from '@tributary/contracts';
import { DEAD_LETTER_SUFFIX, FRAME_KINDS, Headers, SEGMENT_KINDS, TS_PACKET_SIZE, type Validator, VideoHeaders } from '@tributary/contracts';
import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import type { TopicRecord } from '../../support/playback-events';

/**
 * Every committed record of a topic. Done when each partition reached its high watermark, or
 * after `idleMs` without a record: transactional topics end in commit markers, which are offsets
 * no consumer ever sees, so "offset + 1 = high" may never happen there.
 */
async function readCommitted(kafka: Kafka, topic: string, idleMs = 3_000, timeoutMs = 60_000): Promise<TopicRecord[]> {
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const remaining = new Map(offsets.filter((o) => o.high !== o.low).map((o) => [o.partition, BigInt(o.high)]));
  const records: TopicRecord[] = [];
  if (remaining.size === 0) return records;
  const consumer = kafka.consumer({ groupId: `fault-audit-${randomUUID()}`, maxBytesPerPartition: 16 * 1024 * 1024 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    let lastAt = Date.now();
    await consumer.run({
      eachMessage: ({ partition, message }) => {
        lastAt = Date.now();
        records.push({
          partition,
          message,
          key: message.key?.toString(),
          value: message.value?.toString(),
          headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([name, value]) => [name, String(value)])),
        });
        const high = remaining.get(partition);
        if (high !== undefined && BigInt(message.offset) + 1n >= high) remaining.delete(partition);
        return Promise.resolve();
      },
    });
    const deadline = Date.now() + timeoutMs;
    while (remaining.size > 0 && Date.now() < deadline && !(records.length > 0 && Date.now() - lastAt > idleMs) && !(records.length === 0 && Date.now() - lastAt > idleMs * 4)) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  } finally {
    await consumer.disconnect();
  }
  return records;
}

/** Every validator libs/contracts exports, by the schema id its messages carry in `tributary-schema` (the strict one first). */
function validatorsBySchemaId(): Map<string, Validator<unknown>> {
  const found = new Map<string, Validator<unknown>>();
  for (const value of Object.values(contracts as Record<string, unknown>)) {
    const candidate = value as Partial<Validator<unknown>> | undefined;
    const id = (candidate?.schema as { $id?: unknown } | undefined)?.$id;
    if (typeof id === 'string' && typeof candidate?.validate === 'function' && !found.has(id)) found.set(id, candidate as Validator<unknown>);
  }
  return found;
}

function checkVideo(base: string, record: TopicRecord): string | undefined {
  const value = record.message.value;
  if (!value || value.length === 0) return 'empty value';
  if (!record.key || !contracts.isStreamId(record.key)) return `key ${JSON.stringify(record.key)} is not a stream id`;
  if (base === contracts.Topics.videoIngest) {
    if (value.length % TS_PACKET_SIZE !== 0) return `${value.length} bytes is not whole 188-byte packets`;
    for (let at = 0; at < value.length; at += TS_PACKET_SIZE) if (value[at] !== 0x47) return `no MPEG-TS sync byte at ${at}`;
    if (!/^\d+$/.test(record.headers[VideoHeaders.chunkSequence] ?? '')) return 'no chunk sequence header';
    if (!record.headers[VideoHeaders.publishSession]) return 'no publish session header';
    return undefined;
  }
  if (base === contracts.Topics.videoSegments) {
    const kind = record.headers[VideoHeaders.segmentKind] ?? '';
    if (!(SEGMENT_KINDS as readonly string[]).includes(kind)) return `segment kind ${JSON.stringify(kind)}`;
    if (!/^[a-z0-9][a-z0-9_-]{0,31}$/.test(record.headers[VideoHeaders.rendition] ?? '')) return 'bad rendition header';
    if (kind === 'media') {
      if (!/^\d+$/.test(record.headers[VideoHeaders.mediaSequence] ?? '')) return 'no media sequence';
      if (!(Number(record.headers[VideoHeaders.durationSeconds]) > 0)) return 'no duration';
    }
    return undefined;
  }
  if (base === contracts.Topics.videoFrames) {
    const kind = record.headers[VideoHeaders.frameKind] ?? '';
    if (!(FRAME_KINDS as readonly string[]).includes(kind)) return `frame kind ${JSON.stringify(kind)}`;
    if (value[0] !== 0xff || value[1] !== 0xd8) return 'not a JPEG (no SOI marker)';
    return undefined;
  }
  return 'unknown video topic';
}

export interface AuditResult {
  readonly topics: number;
  readonly records: number;
  readonly invalid: string[];
}

/**
 * Reads every topic under the prefix to its end and checks every record against libs/contracts:
 * JSON messages with the validator their schema header names, video messages structurally
 * (whole MPEG-TS packets, JPEG frames, segment headers), dead letters carry their reason.
 */
export async function auditTopics(kafka: Kafka, prefix: string): Promise<AuditResult> {
  const validators = validatorsBySchemaId();
  const admin = kafka.admin();
  await admin.connect();
  const topics = (await admin.listTopics()).filter((topic) => topic.startsWith(`${prefix}.`));
  await admin.disconnect();
  const videoTopics: string[] = [contracts.Topics.videoIngest, contracts.Topics.videoSegments, contracts.Topics.videoFrames];
  const invalid: string[] = [];
  let records = 0;
  for (const topic of topics) {
    const base = topic.slice(prefix.length + 1);
    for (const record of await readCommitted(kafka, topic)) {
      records += 1;
      const where = `${base}[${record.partition}@${record.message.offset}]`;
      if (base.endsWith(DEAD_LETTER_SUFFIX)) {
        if (!record.headers[Headers.deadLetterReason]) invalid.push(`${where}: dead letter without a reason`);
        continue;
      }
      if (videoTopics.includes(base)) {
        const problem = checkVideo(base, record);
        if (problem) invalid.push(`${where}: ${problem}`);
        continue;
      }
      if (record.message.value === null) continue; // tombstone (compacted topics)
      const schemaId = record.headers[Headers.schema];
      const validator = schemaId ? validators.get(schemaId) : undefined;
      if (!validator) {
        invalid.push(`${where}: no validator for schema ${JSON.stringify(schemaId)}`);
        continue;
      }
      let value: unknown;
      try {
        value = JSON.parse(record.value ?? '');
      } catch {
        invalid.push(`${where}: not JSON`);
        continue;
      }
      const result = validator.validate(value);
      if (!result.ok) invalid.push(`${where}: ${contracts.formatIssues(result.issues)}`);
    }
  }
  return { topics: topics.length, records, invalid };
}
