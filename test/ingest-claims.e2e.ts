import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { Topics, topicName, VideoHeaders } from '@tributary/contracts';
import { freePort, type ServiceProcess, startService } from '@tributary/devkit';
import type { Kafka } from 'kafkajs';
import { createStream, until } from './support/video-stack';
import { kafkaFor, TopicTap } from './support/video-topics';

/**
 * One publisher per stream across ingest replicas: two replicas of the built ingest on the real
 * broker (run `npx tsc -b services/ingest` first), publishers racing through both of them.
 */
const brokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const prefix = `t-${randomUUID().slice(0, 8)}`;
const topic = (base: string) => topicName(base, prefix);
const LEASE_MS = 3_000;

let a: ServiceProcess;
let b: ServiceProcess;
let kafka: Kafka;

async function startIngest(): Promise<ServiceProcess> {
  const port = await freePort();
  return startService('ingest', {
    port,
    env: {
      KAFKA_BROKERS: brokers,
      TOPIC_PREFIX: prefix,
      LOG_LEVEL: 'warn',
      KAFKA_VIDEO_PARTITIONS: '2',
      KAFKA_EVENT_PARTITIONS: '1',
      CLAIM_LEASE_MS: String(LEASE_MS),
      CLAIM_HEARTBEAT_MS: '500',
    },
  });
}

/** A publisher that keeps sending MPEG-TS-sized packets until ended; `settled` tells how the request ended. */
interface RawPublisher {
  /** The answer (a refusal comes at once; an accepted publish answers when its body ends), or the connection error. */
  readonly settled: Promise<{ status?: number; body: string; error?: string }>;
  /** Whether `settled` has resolved. */
  done(): boolean;
  end(): void;
  destroy(): void;
}

function rawPublish(url: string): RawPublisher {
  let finished = false;
  const packets = Buffer.alloc(188 * 40, 0x47);
  const request = httpRequest(url, { method: 'POST', headers: { 'content-type': 'video/mp2t' } });
  const timer = setInterval(() => request.write(packets), 100);
  const settled = new Promise<{ status?: number; body: string; error?: string }>((resolve) => {
    let status: number | undefined;
    let body = '';
    request.on('response', (response) => {
      status = response.statusCode;
      clearInterval(timer);
      response.on('data', (data: Buffer) => (body += data.toString()));
      response.on('end', () => resolve({ status, body }));
      // A refusal closes the connection right after the answer: keep what was read.
      response.on('error', (error) => resolve({ status, body, error: error.message }));
    });
    request.on('error', (error) => resolve({ status, body, error: error.message }));
  }).finally(() => {
    finished = true;
    clearInterval(timer);
  });
  request.write(packets);
  return {
    settled,
    done: () => finished,
    end: () => {
      clearInterval(timer);
      request.end();
    },
    destroy: () => request.destroy(),
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Creates a stream on `a` and waits until `b` has read it from the registry. */
async function newStream(name: string): Promise<{ id: string; key: string }> {
  const id = `${name}-${randomUUID().slice(0, 6)}`;
  const key = await createStream(a.url, id);
  await until(`stream ${id} on replica b`, async () => ((await fetch(`${b.url}/v1/streams/${id}`)).ok ? true : undefined), 15_000, 100);
  return { id, key };
}

async function isLive(replica: ServiceProcess, id: string): Promise<boolean> {
  return ((await (await fetch(`${replica.url}/v1/streams/${id}`)).json()) as { live: boolean }).live;
}

beforeAll(async () => {
  kafka = kafkaFor(brokers);
  a = await startIngest();
  b = await startIngest();
}, 120_000);

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
});

describe('publish claims across ingest replicas', () => {
  it('accepts exactly one of two publishers racing through two replicas; video.ingest holds only the winner', async () => {
    const { id, key } = await newStream('race');
    const publishers = [rawPublish(`${a.url}/live/${key}`), rawPublish(`${b.url}/live/${key}`)];
    try {
      const loserAnswer = await Promise.race(publishers.map((publisher) => publisher.settled));
      expect(loserAnswer.status).toBe(409);
      expect(loserAnswer.body).toContain('already has a live publisher');
      // The other one is still publishing a while later.
      await sleep(2_000);
      const open = publishers.filter((publisher) => !publisher.done());
      expect(open).toHaveLength(1);
      const winner = open[0];
      winner.end();
      const answer = await winner.settled;
      expect(answer.status).toBe(200);
      const session = (JSON.parse(answer.body) as { publish_session_id: string; chunks: number }).publish_session_id;

      const tap = await new TopicTap(kafka, [topic(Topics.videoIngest)]).start();
      try {
        const chunks = await tap.waitFor(
          (messages) => {
            const mine = messages.filter((message) => message.key === id);
            return mine.length > 0 ? mine : undefined;
          },
          20_000,
          'the winner’s chunks',
        );
        await sleep(1_000);
        const sessions = new Set(tap.messages.filter((message) => message.key === id).map((message) => message.headers[VideoHeaders.publishSession]));
        expect(chunks.length).toBeGreaterThan(0);
        expect([...sessions]).toEqual([session]);
      } finally {
        await tap.stop();
      }
    } finally {
      publishers.forEach((publisher) => publisher.destroy());
    }
  }, 60_000);

  it('DELETE on one replica ends a publish held by the other', async () => {
    const { id, key } = await newStream('del');
    const publisher = rawPublish(`${b.url}/live/${key}`);
    const tap = await new TopicTap(kafka, [topic(Topics.streamStatus)]).start();
    try {
      // Replica a knows the stream is live only through the claims b wrote.
      await until('the publish seen as live on replica a', async () => ((await isLive(a, id)) ? true : undefined), 15_000, 100);
      expect(publisher.done()).toBe(false);
      const deleted = await fetch(`${a.url}/v1/streams/${id}`, { method: 'DELETE' });
      expect(deleted.status).toBe(204);
      const ended = await Promise.race([publisher.settled, sleep(10_000).then(() => 'timeout' as const)]);
      expect(ended).not.toBe('timeout');
      const status = await tap.waitFor(
        (messages) =>
          messages
            .filter((message) => message.key === id)
            .map((message) => JSON.parse(message.value!.toString()) as { state: string; reason?: string })
            .find((value) => value.state === 'ended'),
        15_000,
        'the ended status',
      );
      expect(status.reason).toBe('stream deleted');
    } finally {
      publisher.destroy();
      await tap.stop();
    }
  }, 60_000);

  it('frees the stream after the lease when the holding replica is killed, so another replica accepts a new publish', async () => {
    const { id, key } = await newStream('kill');
    const held = rawPublish(`${b.url}/live/${key}`);
    try {
      await until('the publish seen as live on replica a', async () => ((await isLive(a, id)) ? true : undefined), 15_000, 100);
      await b.kill();
      const killedAt = Date.now();
      let refusals = 0;
      let accepted: RawPublisher | undefined;
      while (!accepted && Date.now() - killedAt < LEASE_MS + 15_000) {
        const attempt = rawPublish(`${a.url}/live/${key}`);
        const answer = await Promise.race([attempt.settled, sleep(1_500).then(() => undefined)]);
        if (answer === undefined) {
          accepted = attempt;
        } else {
          expect(answer.status).toBe(409);
          refusals += 1;
          attempt.destroy();
          await sleep(250);
        }
      }
      const acceptedAfterMs = Date.now() - killedAt;
      // Refused while the dead holder's lease ran, accepted once it ran out.
      expect(refusals).toBeGreaterThan(0);
      expect(accepted).toBeDefined();
      expect(acceptedAfterMs).toBeGreaterThanOrEqual(LEASE_MS - 1_000);
      accepted!.end();
      expect((await accepted!.settled).status).toBe(200);
    } finally {
      held.destroy();
    }
  }, 90_000);
});
