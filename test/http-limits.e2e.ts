import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { TS_PACKET_SIZE, Topics, topicName, topicSpecs, VideoHeaders } from '@tributary/contracts';
import { freePort, type ServiceName, type ServiceProcess, startService } from '@tributary/devkit';
import { ensureTopics, silentLogger } from '@tributary/kafka';
import type { Kafka } from 'kafkajs';
import { kafkaFor, publishTestPattern, type ReadMessage, TopicTap } from './support/video-topics';

/**
 * HTTP limits of the services (docs/reliability.md), against the built services, a real broker
 * and real ffmpeg publishers. The server timeouts are shortened through their env so the test
 * runs in seconds; a publish that outlives several of them proves that no overall request timeout
 * applies to `POST|PUT /live/:key`, while the same timeout does cut a slow non-publish request.
 */
const brokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const prefix = `limits-${randomUUID().slice(0, 8)}`;
const topic = (base: string) => topicName(base, prefix);
const HEADERS_TIMEOUT_MS = 1_000;
const REQUEST_TIMEOUT_MS = 2_000;
const IDLE_TIMEOUT_MS = 2_000;
const MAX_BITRATE_KBPS = 2_000;
const limitsEnv = { HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS), HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS) };

let ingest: ServiceProcess;
let kafka: Kafka;
let tap: TopicTap;

interface Status {
  reporter: string;
  state: string;
  publish_session_id?: string;
  reason?: string;
  last_chunk_sequence?: number;
}

async function newStream(id: string): Promise<string> {
  const response = await fetch(`${ingest.url}/v1/streams`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id, title: id }),
  });
  expect(response.status).toBe(201);
  return ((await response.json()) as { streamKey: string }).streamKey;
}

function statuses(messages: ReadMessage[], id: string): Status[] {
  return messages.filter((m) => m.topic === topic(Topics.streamStatus) && m.key === id).map((m) => JSON.parse(m.value!.toString()) as Status);
}

const endedStatus = (id: string) => (messages: ReadMessage[]) => statuses(messages, id).find((status) => status.state === 'ended');

interface RawExchange {
  /** Everything the server answered. */
  answer: Promise<string>;
  /** When the server closed the connection (ms after connecting). */
  closedAfterMs: Promise<number>;
  write(data: string | Buffer): boolean;
  destroy(): void;
}

/** A raw TCP client, so the test controls exactly when each byte is sent. */
function rawHttp(url: string): RawExchange {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  const started = Date.now();
  let received = '';
  socket.on('data', (data) => (received += data.toString('latin1')));
  socket.on('error', () => undefined);
  const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now() - started)));
  return {
    answer: closed.then(() => received),
    closedAfterMs: closed,
    write: (data) => socket.write(data),
    destroy: () => socket.destroy(),
  };
}

/** One chunked-transfer chunk of `packets` MPEG-TS-looking packets. */
function tsChunk(packets: number): Buffer {
  const body = Buffer.alloc(packets * TS_PACKET_SIZE, 0xff);
  for (let i = 0; i < packets; i += 1) body[i * TS_PACKET_SIZE] = 0x47;
  return Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n')]);
}

function publishHead(streamKey: string): string {
  return `POST /live/${streamKey} HTTP/1.1\r\nHost: test\r\nContent-Type: video/mp2t\r\nTransfer-Encoding: chunked\r\n\r\n`;
}

beforeAll(async () => {
  kafka = kafkaFor(brokers);
  // Topics made beforehand (as in production), so the services' start-up never races new topics' leaders.
  await ensureTopics(kafka, topicSpecs(prefix), { replicationFactor: 1, logger: silentLogger });
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const port = await freePort();
  ingest = await startService('ingest', {
    port,
    env: {
      KAFKA_BROKERS: brokers,
      TOPIC_PREFIX: prefix,
      LOG_LEVEL: 'info',
      ...limitsEnv,
      INGEST_IDLE_TIMEOUT_MS: String(IDLE_TIMEOUT_MS),
      INGEST_MAX_PUBLISHERS: '2',
      INGEST_MAX_BITRATE_KBPS: String(MAX_BITRATE_KBPS),
      INGEST_BITRATE_WINDOW_MS: '1000',
    },
  });
  tap = await new TopicTap(kafka, [topic(Topics.videoIngest), topic(Topics.streamStatus)]).start();
}, 120_000);

afterAll(async () => {
  await tap?.stop();
  await ingest?.stop();
});

describe('ingest publish timeouts', () => {
  it('a publish outlives several request/header timeouts and ends `ended` with every chunk in order', async () => {
    const id = `long-${randomUUID().slice(0, 6)}`;
    const streamKey = await newStream(id);
    const seconds = (3 * REQUEST_TIMEOUT_MS) / 1000 + 2;
    const started = Date.now();
    const publisher = publishTestPattern(`${ingest.url}/live/${streamKey}`, { size: '160x120', rate: 10, seconds });
    const result = await publisher.done;
    expect(result).toMatchObject({ code: 0 });
    expect(Date.now() - started).toBeGreaterThan(3 * REQUEST_TIMEOUT_MS);

    const ended = await tap.waitFor(endedStatus(id), 20_000, 'ended status');
    expect(ended.reason).toBeUndefined();
    expect(statuses(tap.messages, id).map((s) => `${s.reporter}:${s.state}`)).toEqual(['ingest:live', 'ingest:ended']);
    const chunks = tap.messages.filter((m) => m.topic === topic(Topics.videoIngest) && m.key === id);
    expect(chunks.length).toBeGreaterThan(seconds);
    expect(chunks.map((chunk) => chunk.headers[VideoHeaders.chunkSequence])).toEqual(chunks.map((_, index) => String(index)));
    expect(ended.last_chunk_sequence).toBe(chunks.length - 1);
    expect(ingest.output()).toMatch(new RegExp(`"streamId":"${id}".*"outcome":"completed".*"msg":"publisher disconnected"`));
  }, 60_000);

  it('still cuts a non-publish request whose body does not arrive within HTTP_REQUEST_TIMEOUT_MS (408)', async () => {
    const client = rawHttp(ingest.url);
    client.write('POST /v1/streams HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"id":');
    const trickle = setInterval(() => client.write(' '), 200);
    try {
      const closedAfter = await client.closedAfterMs;
      expect(await client.answer).toMatch(/^HTTP\/1\.1 408 /);
      expect(closedAfter).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 100);
      expect(closedAfter).toBeLessThan(REQUEST_TIMEOUT_MS + 3_000);
    } finally {
      clearInterval(trickle);
      client.destroy();
    }
  });

  it('ends a silent publisher after the idle timeout: 408, and stream.status `ended` with the reason', async () => {
    const id = `idle-${randomUUID().slice(0, 6)}`;
    const streamKey = await newStream(id);
    const client = rawHttp(ingest.url);
    client.write(publishHead(streamKey));
    client.write(tsChunk(20));
    const closedAfter = await client.closedAfterMs;
    expect(closedAfter).toBeGreaterThanOrEqual(IDLE_TIMEOUT_MS - 100);
    expect(closedAfter).toBeLessThan(IDLE_TIMEOUT_MS + 5_000);
    const answer = await client.answer;
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(answer).toContain('idle timeout');
    const ended = await tap.waitFor(endedStatus(id), 20_000, 'ended status');
    expect(ended.reason).toMatch(/sent no data .*idle timeout 2000 ms/);
    expect(ended.last_chunk_sequence).toBe(0);
  }, 30_000);
});

describe('ingest publish caps', () => {
  it('refuses a second publisher of the same key (409) and more than INGEST_MAX_PUBLISHERS on the replica (503 + Retry-After)', async () => {
    const keys = await Promise.all([1, 2, 3].map((n) => newStream(`cap${n}-${randomUUID().slice(0, 6)}`)));
    const holders = keys.slice(0, 2).map((key) => {
      const client = rawHttp(ingest.url);
      client.write(publishHead(key));
      client.write(tsChunk(10));
      return client;
    });
    const feed = setInterval(() => holders.forEach((client) => client.write(tsChunk(2))), 200);
    try {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const sameKey = await fetch(`${ingest.url}/live/${keys[0]}`, { method: 'PUT', body: Buffer.alloc(188 * 4, 0x47) });
      expect(sameKey.status).toBe(409);
      const body = await sameKey.text();
      expect(body).not.toContain(keys[0]);

      const third = await fetch(`${ingest.url}/live/${keys[2]}`, { method: 'POST', body: Buffer.alloc(188 * 4, 0x47) });
      expect(third.status).toBe(503);
      expect(third.headers.get('retry-after')).toBe('10');
      expect(((await third.json()) as { message: string }).message).toContain('limit of 2 concurrent publishers');
    } finally {
      clearInterval(feed);
      holders.forEach((client) => client.destroy());
    }
    // Once they are gone (their `ended` written, slots released), the replica takes publishers again.
    let again = 0;
    for (let attempt = 0; attempt < 40 && again !== 200; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      again = (await fetch(`${ingest.url}/live/${keys[2]}`, { method: 'POST', body: Buffer.alloc(188 * 4, 0x47) })).status;
    }
    expect(again).toBe(200);
  }, 30_000);

  it('disconnects a publisher above INGEST_MAX_BITRATE_KBPS: 429, a log line, and stream.status `ended` with the reason', async () => {
    const id = `rate-${randomUUID().slice(0, 6)}`;
    const streamKey = await newStream(id);
    const client = rawHttp(ingest.url);
    client.write(publishHead(streamKey));
    // ~4,500 kbps: 50 chunks/s of 60 packets (11,280 bytes).
    const pump = setInterval(() => client.write(tsChunk(60)), 20);
    try {
      const closedAfter = await client.closedAfterMs;
      expect(closedAfter).toBeLessThan(5_000);
      expect(await client.answer).toMatch(/^HTTP\/1\.1 429 [\s\S]*bitrate cap of 2000 kbps/);
    } finally {
      clearInterval(pump);
      client.destroy();
    }
    const ended = await tap.waitFor(endedStatus(id), 20_000, 'ended status');
    expect(ended.reason).toMatch(/exceeded the ingest bitrate cap of 2000 kbps/);
    expect(ingest.output()).toMatch(new RegExp(`"level":"warn".*"streamId":"${id}".*publisher disconnected by ingest: the publisher exceeded the ingest bitrate cap`));
  }, 30_000);

  it('a real ffmpeg publisher under the cap is not affected by it', async () => {
    // The long publish above ran at ~100-300 kbps under the 2,000 kbps cap and ended `completed`.
    const id = `under-${randomUUID().slice(0, 6)}`;
    const streamKey = await newStream(id);
    const result = await publishTestPattern(`${ingest.url}/live/${streamKey}`, { size: '160x120', rate: 10, seconds: 3 }).done;
    expect(result.code).toBe(0);
    expect((await tap.waitFor(endedStatus(id), 20_000, 'ended status')).reason).toBeUndefined();
  }, 30_000);
});

describe('slowloris headers', () => {
  const others: ServiceProcess[] = [];

  afterAll(async () => {
    await Promise.all(others.map((service) => service.stop()));
  });

  it.each(['ingest', 'viewer-api', 'event-gateway', 'transcoder'] as ServiceName[])(
    '%s closes a connection whose headers do not complete within HTTP_HEADERS_TIMEOUT_MS (408)',
    async (name) => {
      let service = ingest;
      if (name !== 'ingest') {
        const port = await freePort();
        service = await startService(name, {
          port,
          env: {
            KAFKA_BROKERS: brokers,
            TOPIC_PREFIX: prefix,
            LOG_LEVEL: 'warn',
            TRANSCODER_GROUP_ID: `${prefix}-transcoder`,
            EVENT_GATEWAY_INSTANCE_ID: `${prefix}-gw`,
            ...limitsEnv,
          },
        });
        others.push(service);
      }
      const client = rawHttp(service.url);
      client.write('GET /healthz HTTP/1.1\r\nHost: test\r\n');
      const trickle = setInterval(() => client.write('X-Slow: 1\r\n'), 100);
      try {
        const closedAfter = await client.closedAfterMs;
        expect(await client.answer).toMatch(/^HTTP\/1\.1 408 /);
        expect(closedAfter).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 100);
        expect(closedAfter).toBeLessThan(HEADERS_TIMEOUT_MS + 2_000);
      } finally {
        clearInterval(trickle);
        client.destroy();
      }
    },
    120_000,
  );
});
