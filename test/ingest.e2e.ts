import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { TS_PACKET_SIZE, Topics, topicName, VideoHeaders } from '@tributary/contracts';
import { freePort, type ServiceProcess, startService } from '@tributary/devkit';
import type { Kafka } from 'kafkajs';
import { FFMPEG_BIN, kafkaFor, messageCount, publishTestPattern, TopicTap } from './support/video-topics';

/** ingest against a real broker and real ffmpeg publishers (the built service: run `npx tsc -b services/ingest` first). */
const run = promisify(execFile);
const brokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const prefix = `t-${randomUUID().slice(0, 8)}`;
const ADMIN_TOKEN = 'test-admin-token';
const topic = (base: string) => topicName(base, prefix);

let ingest: ServiceProcess;
let kafka: Kafka;
let dir: string;

async function createStream(id: string, token = ADMIN_TOKEN): Promise<Response> {
  return fetch(`${ingest.url}/v1/streams`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ id, title: `Test ${id}` }),
  });
}

async function newStream(id: string): Promise<{ id: string; streamKey: string }> {
  const response = await createStream(id);
  expect(response.status).toBe(201);
  return (await response.json()) as { id: string; streamKey: string };
}

beforeAll(async () => {
  kafka = kafkaFor(brokers);
  dir = await mkdtemp(join(tmpdir(), 'ingest-it-'));
  const port = await freePort();
  ingest = await startService('ingest', {
    port,
    env: {
      KAFKA_BROKERS: brokers,
      TOPIC_PREFIX: prefix,
      ADMIN_TOKEN,
      INGEST_PUBLIC_URL: 'http://ingest.example:8081',
      VIEWER_PUBLIC_URL: 'http://viewer.example',
      INGEST_CHUNK_BYTES: String(64 * 1024),
      FRAMES_MAX_BYTES: String(50_000),
      LOG_LEVEL: 'warn',
    },
  });
}, 120_000);

afterAll(async () => {
  await ingest?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('ingest stream registry API', () => {
  it('creates a stream with a one-time key and URLs, and requires the admin token', async () => {
    const id = `reg-${randomUUID().slice(0, 6)}`;
    const anonymous = await fetch(`${ingest.url}/v1/streams`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id, title: 't' }),
    });
    expect(anonymous.status).toBe(401);
    expect((await createStream(id, 'wrong')).status).toBe(403);

    const created = await createStream(id);
    expect(created.status).toBe(201);
    const body = (await created.json()) as Record<string, string>;
    expect(body.id).toBe(id);
    expect(body.streamKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(body.ingestUrl).toBe(`http://ingest.example:8081/live/${body.streamKey}`);
    expect(body.playbackUrl).toBe(`http://viewer.example/watch/${id}`);

    // Read-your-writes on the same replica, and no key material in the read.
    const read = await fetch(`${ingest.url}/v1/streams/${id}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(read.status).toBe(200);
    const record = await read.text();
    expect(record).not.toContain('sha256');
    expect(record).not.toContain(body.streamKey);
    expect(JSON.parse(record)).toMatchObject({ id, live: false, segment_duration_seconds: 2 });

    expect((await createStream(id)).status).toBe(409);
  });

  it('rejects an invalid stream id naming the field', async () => {
    const response = await createStream('Not_Valid!');
    expect(response.status).toBe(400);
    const body = (await response.json()) as { issues: { field: string }[] };
    expect(body.issues.map((issue) => issue.field)).toContain('id');
  });

  it('deletes a stream (404 afterwards)', async () => {
    const { id } = await newStream(`del-${randomUUID().slice(0, 6)}`);
    const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
    expect((await fetch(`${ingest.url}/v1/streams/${id}`, { method: 'DELETE', headers: auth })).status).toBe(204);
    expect((await fetch(`${ingest.url}/v1/streams/${id}`, { headers: auth })).status).toBe(404);
  });
});

describe('ingest publishing', () => {
  it('refuses an unknown stream key with 403 and writes nothing', async () => {
    const response = await fetch(`${ingest.url}/live/not-a-key`, { method: 'POST', body: Buffer.alloc(188 * 10, 0x47) });
    expect(response.status).toBe(403);
    const publisher = publishTestPattern(`${ingest.url}/live/also-not-a-key`, { size: '160x120', rate: 10, seconds: 2, realtime: false });
    const result = await publisher.done;
    expect(result.code).not.toBe(0);
    expect(await messageCount(kafka, topic(Topics.videoIngest))).toBe(0);
  });

  it('cuts an ffmpeg publish into whole-packet chunks with increasing sequence headers and reports live/ended', async () => {
    const { id, streamKey } = await newStream(`pub-${randomUUID().slice(0, 6)}`);
    const tap = await new TopicTap(kafka, [topic(Topics.videoIngest), topic(Topics.streamStatus)]).start();
    try {
      const publisher = publishTestPattern(`${ingest.url}/live/${streamKey}`, { size: '320x240', rate: 15, seconds: 3 });
      expect((await publisher.done).code).toBe(0);
      const statuses = await tap.waitFor(
        (messages) => {
          const mine = messages
            .filter((m) => m.topic === topic(Topics.streamStatus) && m.key === id)
            .map((m) => JSON.parse(m.value!.toString()) as { reporter: string; state: string; publish_session_id: string; last_chunk_sequence?: number });
          return mine.some((s) => s.state === 'ended') ? mine : undefined;
        },
        30_000,
        'ingest ended status',
      );
      expect(statuses.map((s) => `${s.reporter}:${s.state}`)).toEqual(['ingest:live', 'ingest:ended']);
      const session = statuses[0].publish_session_id;
      expect(statuses[1].publish_session_id).toBe(session);

      const chunks = tap.messages.filter((m) => m.topic === topic(Topics.videoIngest) && m.key === id);
      expect(chunks.length).toBeGreaterThan(1);
      expect(statuses[1].last_chunk_sequence).toBe(chunks.length - 1);
      chunks.forEach((chunk, index) => {
        expect(chunk.value!.length % TS_PACKET_SIZE).toBe(0);
        expect(chunk.value![0]).toBe(0x47);
        expect(chunk.headers[VideoHeaders.chunkSequence]).toBe(String(index));
        expect(chunk.headers[VideoHeaders.publishSession]).toBe(session);
        expect(Number(chunk.headers[VideoHeaders.ingestTimeMs])).toBeGreaterThan(Date.now() - 120_000);
        expect(chunk.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
      });
      // All on one partition (keyed by stream id), so they are in order.
      expect(new Set(chunks.map((chunk) => chunk.partition)).size).toBe(1);
    } finally {
      await tap.stop();
    }
  });

  it('ends a publish whose body is not MPEG-TS with 400 naming the bad packet, writing none of it', async () => {
    const { id, streamKey } = await newStream(`nts-${randomUUID().slice(0, 6)}`);
    const tap = await new TopicTap(kafka, [topic(Topics.videoIngest), topic(Topics.streamStatus)]).start();
    try {
      // Three good packets, then one without the sync byte: the whole chunk is refused.
      const body = Buffer.alloc(188 * 400, 0x47);
      body[188 * 3] = 0x00;
      const response = await fetch(`${ingest.url}/live/${streamKey}`, { method: 'POST', body });
      expect(response.status).toBe(400);
      const answer = (await response.json()) as { message: string; outcome: string };
      expect(answer.outcome).toBe('not-mpegts');
      expect(answer.message).toMatch(/not MPEG-TS: the packet at byte 564 /);
      const ended = await tap.waitFor(
        (messages) => messages.find((m) => m.topic === topic(Topics.streamStatus) && m.key === id && m.value?.toString().includes('"ended"')),
        20_000,
        `ended status for ${id}`,
      );
      expect(ended.value?.toString()).toContain('not MPEG-TS');
      expect(tap.messages.filter((m) => m.topic === topic(Topics.videoIngest) && m.key === id)).toHaveLength(0);
    } finally {
      await tap.stop();
    }
  });

  it('refuses a second concurrent publisher with 409, and DELETE disconnects the live one', async () => {
    const { id, streamKey } = await newStream(`dup-${randomUUID().slice(0, 6)}`);
    const first = publishTestPattern(`${ingest.url}/live/${streamKey}`, { size: '160x120', rate: 10, seconds: 30 });
    try {
      const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline) {
        const view = (await (await fetch(`${ingest.url}/v1/streams/${id}`, { headers: auth })).json()) as { live: boolean };
        if (view.live) break;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      const second = await fetch(`${ingest.url}/live/${streamKey}`, { method: 'PUT', body: Buffer.alloc(188 * 4, 0x47) });
      expect(second.status).toBe(409);
      expect((await fetch(`${ingest.url}/v1/streams/${id}`, { method: 'DELETE', headers: auth })).status).toBe(204);
      const result = await Promise.race([first.done, new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 15_000).unref())]);
      expect(result).not.toBe('timeout');
    } finally {
      first.kill();
    }
  });
});

describe('ingest frames', () => {
  let streamKey: string;
  let streamId: string;

  beforeAll(async () => {
    ({ id: streamId, streamKey } = await newStream(`frm-${randomUUID().slice(0, 6)}`));
  });

  it('accepts a real JPEG and produces it to video.frames as a published frame', async () => {
    const file = join(dir, 'frame.jpg');
    await run(FFMPEG_BIN, ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=size=320x240', '-frames:v', '1', '-y', file]);
    const jpeg = await readFile(file);
    const response = await fetch(`${ingest.url}/live/${streamKey}/frames`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: jpeg });
    expect(response.status).toBe(202);
    const tap = await new TopicTap(kafka, [topic(Topics.videoFrames)]).start();
    try {
      const frame = await tap.waitFor((messages) => messages.find((m) => m.key === streamId), 20_000, 'the frame on video.frames');
      expect(frame.value!.equals(jpeg)).toBe(true);
      expect(frame.headers[VideoHeaders.frameKind]).toBe('published');
      expect(frame.headers[VideoHeaders.contentType]).toBe('image/jpeg');
      expect(Number(frame.headers[VideoHeaders.frameTimeMs])).toBeGreaterThan(0);
      expect(frame.headers.traceparent).toBeDefined();
    } finally {
      await tap.stop();
    }
  });

  it('rejects a PNG, garbage, a truncated JPEG, a wrong content type, an oversized body and an unknown key', async () => {
    const png = join(dir, 'frame.png');
    await run(FFMPEG_BIN, ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=size=64x48', '-frames:v', '1', '-y', png]);
    const post = (body: Buffer, type = 'image/jpeg', key = streamKey) =>
      fetch(`${ingest.url}/live/${key}/frames`, { method: 'POST', headers: { 'content-type': type }, body });

    const asJpeg = await post(await readFile(png));
    expect(asJpeg.status).toBe(400);
    expect(((await asJpeg.json()) as { message: string }).message).toMatch(/not a JPEG/);
    expect((await post(Buffer.from('hello, not an image'))).status).toBe(400);
    const truncated = await post(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4]));
    expect(((await truncated.json()) as { message: string }).message).toMatch(/incomplete/);
    expect((await post(await readFile(png), 'image/png')).status).toBe(415);
    const big = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(60_000), Buffer.from([0xff, 0xd9])]);
    expect((await post(big)).status).toBe(413);
    expect((await post(Buffer.from([0xff, 0xd8, 0xff, 0xd9]), 'image/jpeg', 'unknown-key')).status).toBe(403);
  });
});
