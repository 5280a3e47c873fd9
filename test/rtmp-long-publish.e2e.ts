import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Topics, topicName, topicSpecs, VideoHeaders } from '@tributary/contracts';
import { freePort, type ServiceProcess, startService } from '@tributary/devkit';
import { ensureTopics, silentLogger } from '@tributary/kafka';
import type { Kafka } from 'kafkajs';
import { FFPROBE } from './support/video-fixture';
import { kafkaFor, type ReadMessage, runFfmpeg, TopicTap } from './support/video-topics';

/**
 * "A publish longer than 5 minutes stays up", with time sped up honestly: every timer that could
 * end an RTMP(S) publish is shortened through its env to ≤ 4 s (RTMP setup and no-media timeouts,
 * ingest's idle timeout on the remuxer's output, the cluster claim's lease and heartbeat, and the
 * HTTP server's header/request/keep-alive timeouts, which do not apply to RTMP at all), and a real
 * ffmpeg publish over RTMP and one over RTMPS, side by side, run for more than three times the
 * longest of them while media keeps flowing. If any of those timers capped a session's total
 * length (rather than its silence), it would cut the publish at least three times over; none does,
 * so a publish of any length (5 minutes, 5 hours) stays up. What else a long publish meets (the
 * sockets: no socket.setTimeout in the RTMP path, net/tls servers have no overall deadline; the
 * remuxer: no deadline until its input ends) is the same for 15 s as for 5 minutes. See
 * docs/video.md ("RTMP and RTMPS ingest").
 */
const run = promisify(execFile);
const brokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const prefix = `rtmplong-${randomUUID().slice(0, 8)}`;
const ingestTopic = topicName(Topics.videoIngest, prefix);
const statusTopic = topicName(Topics.streamStatus, prefix);
/** Every timeout that could apply to a publish, shortened; the longest is the claim lease. */
const TIMEOUTS = {
  INGEST_RTMP_SETUP_TIMEOUT_MS: 2_000,
  INGEST_RTMP_MEDIA_TIMEOUT_MS: 2_000,
  INGEST_IDLE_TIMEOUT_MS: 2_000,
  CLAIM_LEASE_MS: 4_000,
  CLAIM_HEARTBEAT_MS: 500,
  HTTP_HEADERS_TIMEOUT_MS: 1_000,
  HTTP_REQUEST_TIMEOUT_MS: 2_000,
  HTTP_KEEP_ALIVE_TIMEOUT_MS: 1_000,
};
const LONGEST_MS = Math.max(...Object.values(TIMEOUTS));
const PUBLISH_SECONDS = (3 * LONGEST_MS) / 1000 + 3;

let ingest: ServiceProcess;
let kafka: Kafka;
let tap: TopicTap;
let dir: string;
let rtmpPort: number;
let rtmpsPort: number;

interface Status {
  reporter: string;
  state: string;
  publish_session_id?: string;
  reason?: string;
  last_chunk_sequence?: number;
}

const statusesOf = (id: string, messages: ReadMessage[]) =>
  messages.filter((m) => m.topic === statusTopic && m.key === id && m.value).map((m) => JSON.parse(m.value!.toString()) as Status);
const chunksOf = (id: string, messages: ReadMessage[]) => messages.filter((m) => m.topic === ingestTopic && m.key === id);

async function newStream(id: string): Promise<string> {
  // HTTP_REQUEST_TIMEOUT_MS is 2 s here: on a loaded machine the body of this small request can
  // miss it (408). Nothing was created then (the handler runs once the body is in), so retry.
  let response: Response | undefined;
  for (let attempt = 0; attempt < 5 && (!response || response.status === 408); attempt += 1) {
    response = await fetch(`${ingest.url}/v1/streams`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id, title: id }),
    });
  }
  if (!response) throw new Error('no answer to POST /v1/streams');
  expect(response.status).toBe(201);
  return ((await response.json()) as { streamKey: string }).streamKey;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rtmp-long-'));
  await run('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
  ]);
  kafka = kafkaFor(brokers);
  await ensureTopics(kafka, topicSpecs(prefix), { replicationFactor: 1, logger: silentLogger });
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const [port, rtmp, rtmps] = [await freePort(), await freePort(), await freePort()];
  [rtmpPort, rtmpsPort] = [rtmp, rtmps];
  ingest = await startService('ingest', {
    port,
    env: {
      KAFKA_BROKERS: brokers,
      TOPIC_PREFIX: prefix,
      LOG_LEVEL: 'info',
      INGEST_RTMP_ENABLED: 'true',
      INGEST_RTMP_PORT: String(rtmpPort),
      INGEST_RTMPS_PORT: String(rtmpsPort),
      INGEST_RTMPS_CERT_FILE: join(dir, 'cert.pem'),
      INGEST_RTMPS_KEY_FILE: join(dir, 'key.pem'),
      ...Object.fromEntries(Object.entries(TIMEOUTS).map(([name, ms]) => [name, String(ms)])),
    },
  });
  tap = await new TopicTap(kafka, [ingestTopic, statusTopic]).start();
}, 120_000);

afterAll(async () => {
  await tap?.stop();
  await ingest?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it(`RTMP and RTMPS publishes outlive three times every shortened timeout (${PUBLISH_SECONDS} s vs ≤ ${LONGEST_MS} ms) and end \`ended\` when the publisher stops`, async () => {
  const streams = await Promise.all(
    (['rtmp', 'rtmps'] as const).map(async (transport) => {
      const id = `long${transport}-${randomUUID().slice(0, 6)}`;
      return { transport, id, key: await newStream(id) };
    }),
  );
  const started = Date.now();
  const publishers = streams.map(({ transport, key }) =>
    runFfmpeg([
      '-re',
      '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=10',
      '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
      '-t', String(PUBLISH_SECONDS),
      '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '10', '-threads', '1',
      '-c:a', 'aac', '-b:a', '64k',
      '-f', 'flv', `${transport}://127.0.0.1:${transport === 'rtmp' ? rtmpPort : rtmpsPort}/live/${key}`,
    ]),
  );
  const results = await Promise.all(publishers.map((publisher) => publisher.done));
  const publishedMs = Date.now() - started;
  // Cut short: show why (the publishers' errors and ingest's last log lines).
  if (publishedMs <= 3 * LONGEST_MS) console.log(JSON.stringify(results), ingest.output().slice(-4000));
  expect(publishedMs).toBeGreaterThan(3 * LONGEST_MS);

  for (const [index, { id, transport }] of streams.entries()) {
    // The publisher ran to its end: no refusal, no cut connection on its side.
    expect({ transport, ...results[index] }).toEqual({ transport, code: 0, stderr: '' });
    const ended = await tap.waitFor(
      (messages) => {
        const end = statusesOf(id, messages).find((status) => status.reporter === 'ingest' && status.state === 'ended');
        return end && chunksOf(id, messages).length === (end.last_chunk_sequence ?? -1) + 1 ? end : undefined;
      },
      20_000,
      `${transport}: ended and every chunk`,
    );
    // Ended because the publisher stopped, not by any timeout (a timeout or a lost claim gives a reason).
    expect(ended.reason).toBeUndefined();
    expect(statusesOf(id, tap.messages).filter((s) => s.reporter === 'ingest').map((s) => s.state)).toEqual(['live', 'ended']);
    const chunks = chunksOf(id, tap.messages);
    expect(new Set(chunks.map((c) => c.headers[VideoHeaders.publishSession]))).toEqual(new Set([ended.publish_session_id]));
    expect(chunks.map((c) => c.headers[VideoHeaders.chunkSequence])).toEqual(chunks.map((_, i) => String(i)));
    // Media kept flowing through the whole publish: chunks were cut over more than 3 × the longest
    // timeout, and together they hold (nearly) all of it.
    const cutAt = chunks.map((c) => Number(c.headers[VideoHeaders.ingestTimeMs]));
    expect(Math.max(...cutAt) - Math.min(...cutAt)).toBeGreaterThan(3 * LONGEST_MS);
    const file = join(dir, `${transport}.ts`);
    writeFileSync(file, Buffer.concat(chunks.map((c) => c.value ?? Buffer.alloc(0))));
    const probed = await run(FFPROBE, ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', file]);
    expect(Number(probed.stdout.trim())).toBeGreaterThanOrEqual(PUBLISH_SECONDS - 0.5);
  }
  const output = ingest.output();
  expect(output).not.toMatch(/disconnecting publisher|publish claim lost|no audio or video for|idle timeout/);
  expect(output.match(/"msg":"RTMP connection closed"/g)).toHaveLength(2);
  expect(output).toMatch(/"reason":"the publisher unpublished"|"reason":"the publisher closed the connection"/);
}, 90_000);
