/**
 * Playback-event benchmark (issue 2): `npm run bench:events`.
 *
 * For each Kafka codec (none, gzip, lz4, zstd) it measures, on one broker and in one run:
 *   1. baseline  raw kafkajs produce → consume on a topic sized like playback.events: the same
 *                JSON events and headers, the same batch size and concurrency, an idempotent
 *                acks=-1 producer (as KafkaProducer) and one consumer. Also counts produce-request
 *                bytes (= bytes on the wire to the broker).
 *   2. ingest    batched POST /v1/events (viewer-api) while one discarding consumer reads: the
 *                baseline's conditions with viewer-api as the producer (POST ÷ raw produce).
 *   3. e2e       batched POST /v1/events (viewer-api) → Kafka → event-gateway → N Socket.IO clients
 *                on /playback, with the stats processor reading too (its own process, as the
 *                chart runs it). Throughput = events delivered to *every* client per second.
 *   4. latency   POST send → socket receipt at a fixed rate with many clients: p50/p95/p99/max;
 *                repeated on fresh services with the Helm chart's sampler and with tracing off,
 *                for the tracing overhead (CPU per event, per delivery).
 * and prints the ratio e2e / baseline, plus which process used how much CPU in each phase (the
 * cores are shared, so that says what limits the figure).
 *
 * Not a test: it exits non-zero only when the harness itself fails (a service does not start,
 * Kafka is unreachable); a missed target is reported, not thrown.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { type ConfigOf, int, list, optionalStr, parseEnv, processEnv } from '@tributary/config';
import { type PlaybackEvent, topicName, topicSpecs, Topics } from '@tributary/contracts';
import { freePort, type LocalKafka, type ServiceProcess, startLocalKafka, startService } from '@tributary/devkit';
import {
  COMPRESSIONS,
  type Compression,
  compressionType,
  compressionUnavailableReason,
  createKafkaClient,
  parseKafkaConfig,
} from '@tributary/kafka';
import { type Consumer, type Kafka, type Message, Partitioners } from 'kafkajs';
import { parse as parseYaml } from 'yaml';
import { ClientFleet, verifyLightClients } from './lib/client-fleet';
import { type DelayHistogram, describeFanoutDelay, readFanoutDelay } from './lib/fanout-delay';
import { ServiceCpu } from './lib/process-cpu';
import { eventLoadEnvSpec } from './lib/event-load';
import { benchKafkaLogger } from './lib/kafka-logger';
import { cpuPerEvent, type CpuUse, CpuWatch, describeCpu, describePerEvent, fmt, machineConditions, percentile, pidListeningOn, sleep, table } from './lib/report';
import { benchEvent, playbackEventMessage } from './lib/playback-load';
import { preloadEnv } from './lib/service-preloads';

const benchEnvSpec = {
  ...eventLoadEnvSpec({ events: 60_000, batch: 500, latencyRate: 1_000, latencySeconds: 15 }),
  partitions: int('BENCH_PARTITIONS', { default: 6, min: 1, max: 64 }),
  latencyClients: int('BENCH_LATENCY_CLIENTS', { default: 100, min: 1, max: 2_000 }),
  /**
   * Seconds of the latency rate before measuring. Each latency phase starts fresh services (traced,
   * then untraced), so this is also how much of their start-up (JIT, consumer groups settling) is
   * left out of the tracing comparison.
   */
  latencyWarmupSeconds: int('BENCH_LATENCY_WARMUP_SECONDS', { default: 10, min: 1, max: 120 }),
  codecs: list('BENCH_CODECS', { default: [...COMPRESSIONS] }),
  /** Phases to run: baseline, ingest, e2e, latency. */
  phases: list('BENCH_PHASES', { default: ['baseline', 'ingest', 'e2e', 'latency'] }),
  /**
   * Run the latency phase again on fresh services with the Helm chart's sampler and with
   * OTEL_SDK_DISABLED=true, to compare with the first run (100 % sampled, the services' own default).
   */
  tracingCompare: int('BENCH_TRACING_COMPARE', { default: 1, min: 0, max: 1 }),
  /** Directory for --cpu-prof profiles of the services (unset = no profiling). */
  cpuProfDir: optionalStr('BENCH_CPU_PROF_DIR'),
};
type BenchConfig = ConfigOf<typeof benchEnvSpec>;

const TARGET_EPS = 10_000;
const TARGET_P99_MS = 100;
/** Issue 11's targets (ratios and per-unit costs measured in the same run). */
const TARGET_E2E_RATIO = 0.5;
const TARGET_POST_RATIO = 0.6;
const TARGET_GATEWAY_US_PER_DELIVERY = 2;
const TARGET_TRACING_RATIO = 1.15;

const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);
const kafkaLogger = benchKafkaLogger(log);

// ---------------------------------------------------------------------------------------------
// Events

const runId = randomUUID().slice(0, 8);
let eventCounter = 0;
const makeEvent = (streams: number): PlaybackEvent => benchEvent(runId, eventCounter++, streams, 'simulator');


function makeBatches(total: number, batchSize: number, streams: number): PlaybackEvent[][] {
  const batches: PlaybackEvent[][] = [];
  for (let sent = 0; sent < total; sent += batchSize) {
    batches.push(Array.from({ length: Math.min(batchSize, total - sent) }, () => makeEvent(streams)));
  }
  return batches;
}


/** Runs `worker` over `items` with at most `concurrency` in flight. */
async function pool<T>(items: readonly T[], concurrency: number, worker: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const runners = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++];
      await worker(item);
    }
  });
  await Promise.all(runners);
}

/** Resolves when `done()` is true; rejects when nothing progressed for `stallMs`. */
async function waitFor(done: () => boolean, progress: () => number, stallMs: number, what: string): Promise<void> {
  let last = progress();
  let lastChange = Date.now();
  while (!done()) {
    await sleep(5);
    const now = progress();
    if (now !== last) {
      last = now;
      lastChange = Date.now();
    } else if (Date.now() - lastChange > stallMs) {
      throw new Error(`${what}: no progress for ${stallMs} ms (at ${now})`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// 1. Baseline: raw kafkajs

/**
 * A kafkajs consumer that only counts what it reads (eachBatch), from the beginning of its topic:
 * the baseline's consumer, and the reader beside viewer-api in the ingest phase.
 */
class DiscardingConsumer {
  consumed = 0;
  /** Bytes of Fetch responses (kafkajs reports each response's size): the record batches as the broker stores them. */
  wireBytes = 0;

  private constructor(private readonly consumer: Consumer) {}

  static async start(kafka: Kafka, topic: string, groupId: string): Promise<DiscardingConsumer> {
    const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false });
    const counter = new DiscardingConsumer(consumer);
    consumer.on(consumer.events.REQUEST, ({ payload }) => {
      if (payload.apiName === 'Fetch') counter.wireBytes += payload.size;
    });
    const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        counter.consumed += batch.messages.length;
      },
    });
    await joined;
    return counter;
  }

  reset(): void {
    this.consumed = 0;
    this.wireBytes = 0;
  }

  waitFor(count: number, what: string): Promise<void> {
    return waitFor(() => this.consumed >= count, () => this.consumed, 30_000, what);
  }

  stop(): Promise<void> {
    return this.consumer.disconnect();
  }
}

interface BaselineResult {
  produceEps: number;
  endToEndEps: number;
  wireBytesPerEvent: number;
  valueBytesPerEvent: number;
  cpu: CpuUse;
}

async function runBaseline(kafka: Kafka, config: BenchConfig, codec: Compression, pids: Map<string, number>): Promise<BaselineResult> {
  const topic = topicName(`bench.baseline.${codec}`, `bench-${runId}`);
  const spec = topicSpecs('').find((candidate) => candidate.name === Topics.playbackEvents)!;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      {
        topic,
        numPartitions: config.partitions,
        replicationFactor: -1,
        configEntries: Object.entries(spec.configs).map(([name, value]) => ({ name, value })),
      },
    ],
  });
  await admin.disconnect();

  // The same producer settings as KafkaProducer (libs/kafka/src/producer.ts), on raw kafkajs so the
  // produce-request sizes can be counted.
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 5, allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();

  const consumer = await DiscardingConsumer.start(kafka, topic, `bench-${runId}-baseline-${codec}`);

  const send = (messages: Message[]) => producer.send({ topic, messages, acks: -1, compression: compressionType(codec) });
  // Warm-up: connections, metadata, JIT.
  const warm = makeBatches(config.batch * 2, config.batch, config.streams).map((batch) => batch.map(playbackEventMessage));
  for (const messages of warm) await send(messages);
  await consumer.waitFor(config.batch * 2, 'baseline warm-up');

  const batches = makeBatches(config.events, config.batch, config.streams).map((batch) => batch.map(playbackEventMessage));
  const valueBytes = batches.flat().reduce((sum, message) => sum + Buffer.byteLength(message.value as string), 0);
  consumer.reset();
  const watch = new CpuWatch(pids);
  const started = performance.now();
  await pool(batches, config.concurrency, async (messages) => {
    await send(messages);
  });
  const produced = performance.now();
  await consumer.waitFor(config.events, `baseline ${codec}`);
  const finished = performance.now();
  const cpu = watch.stop();
  const { wireBytes } = consumer;

  await consumer.stop();
  await producer.disconnect();
  return {
    produceEps: config.events / ((produced - started) / 1000),
    endToEndEps: config.events / ((finished - started) / 1000),
    wireBytesPerEvent: wireBytes / config.events,
    valueBytesPerEvent: valueBytes / config.events,
    cpu,
  };
}

/**
 * Proves the codec against the broker's own implementation (lz4-java, zstd-jni): our batches
 * into a topic with compression.type=gzip (Kafka must decompress them to recompress), and plain
 * batches into a topic with compression.type=<codec> (Kafka compresses, we decompress).
 */
async function checkCodecInterop(kafka: Kafka, codec: Compression): Promise<string> {
  if (codec === 'none' || codec === 'gzip') return 'built in';
  const admin = kafka.admin();
  await admin.connect();
  const cases: { topicCodec: string; producerCodec: Compression }[] = [
    { topicCodec: 'gzip', producerCodec: codec },
    { topicCodec: codec, producerCodec: 'none' },
  ];
  try {
    for (const { topicCodec, producerCodec } of cases) {
      const topic = topicName(`bench.interop.${producerCodec}-to-${topicCodec}`, `bench-${runId}`);
      await admin.createTopics({
        waitForLeaders: true,
        topics: [{ topic, numPartitions: 1, replicationFactor: -1, configEntries: [{ name: 'compression.type', value: topicCodec }] }],
      });
      const producer = kafka.producer({ idempotent: true, allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
      await producer.connect();
      const events = makeBatches(200, 200, 1)[0];
      await producer.send({ topic, messages: events.map(playbackEventMessage), acks: -1, compression: compressionType(producerCodec) });
      await producer.disconnect();
      const consumer = kafka.consumer({ groupId: `bench-${runId}-interop-${producerCodec}-${topicCodec}` });
      const seen: string[] = [];
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => {
          seen.push((JSON.parse(message.value!.toString()) as PlaybackEvent).event_id);
        },
      });
      await waitFor(() => seen.length >= events.length, () => seen.length, 20_000, `interop ${producerCodec}→${topicCodec}`);
      await consumer.disconnect();
      if (seen.join() !== events.map((event) => event.event_id).join()) {
        throw new Error(`interop ${producerCodec}→${topicCodec}: events differ after the round trip`);
      }
    }
    return `ok with Kafka's ${codec === 'lz4' ? 'lz4-java' : 'zstd-jni'} both ways`;
  } finally {
    await admin.disconnect();
  }
}

// ---------------------------------------------------------------------------------------------
// 2 + 3. End to end through viewer-api and event-gateway

interface Services {
  viewerApi: ServiceProcess;
  gateway: ServiceProcess;
  /** The stats processor (EVENT_GATEWAY_ROLES=stats), as the chart deploys it: not the fan-out's event loop. */
  stats?: ServiceProcess;
}

/**
 * How the services trace: `all` = every request sampled (the services' own default,
 * parentbased_always_on), `chart` = the sampler the Helm chart sets (otel.sampler/samplerArg in
 * helm/tributary/values.yaml), `off` = OTEL_SDK_DISABLED=true.
 */
type Tracing = 'all' | 'chart' | 'off';

/** OTEL_TRACES_SAMPLER and _ARG as a `helm install` with default values sets them. */
function chartSampler(): { sampler: string; arg: string } {
  const values = parseYaml(readFileSync(join(__dirname, '..', '..', 'helm', 'tributary', 'values.yaml'), 'utf8')) as { otel?: { sampler?: string; samplerArg?: string } };
  const { sampler, samplerArg } = values.otel ?? {};
  if (!sampler || samplerArg === undefined) throw new Error('helm/tributary/values.yaml has no otel.sampler / otel.samplerArg');
  return { sampler, arg: String(samplerArg) };
}

function tracingEnv(tracing: Tracing): Record<string, string> {
  if (tracing === 'off') return { OTEL_SDK_DISABLED: 'true' };
  if (tracing === 'all') return {};
  const { sampler, arg } = chartSampler();
  return { OTEL_TRACES_SAMPLER: sampler, OTEL_TRACES_SAMPLER_ARG: arg };
}

const tracingSuffix = (tracing: Tracing) => (tracing === 'all' ? '' : tracing === 'off' ? '-untraced' : '-chart-sampler');

function serviceEnv(config: BenchConfig, brokers: string, prefix: string, codec: Compression, name: string, tracing: Tracing = 'all'): Record<string, string> {
  const env: Record<string, string> = {
    ...tracingEnv(tracing),
    KAFKA_BROKERS: brokers,
    TOPIC_PREFIX: prefix,
    KAFKA_COMPRESSION: codec,
    KAFKA_EVENT_PARTITIONS: String(config.partitions),
    LOG_LEVEL: 'warn',
    NODE_ENV: 'production',
  };
  if (config.cpuProfDir) {
    Object.assign(env, preloadEnv({ cpuProfileFile: join(config.cpuProfDir, `${name}-${codec}${tracingSuffix(tracing)}-${runId}.cpuprofile`) }));
  }
  return env;
}

async function startViewerApi(config: BenchConfig, brokers: string, prefix: string, codec: Compression, tracing: Tracing = 'all'): Promise<ServiceProcess> {
  const port = await freePort();
  return startService('viewer-api', {
    port,
    env: serviceEnv(config, brokers, prefix, codec, 'viewer-api', tracing),
    readyTimeoutMs: 120_000,
  });
}

async function startGateway(config: BenchConfig, brokers: string, prefix: string, codec: Compression, tracing: Tracing = 'all', role = 'fanout'): Promise<ServiceProcess> {
  const port = await freePort();
  return startService('event-gateway', {
    port,
    env: {
      ...serviceEnv(config, brokers, prefix, codec, role === 'stats' ? 'stats' : 'event-gateway', tracing),
      // As the chart deploys it: the fan-out and the stats processor in processes of their own.
      EVENT_GATEWAY_ROLES: role,
      EVENT_GATEWAY_INSTANCE_ID: `bench-${runId}-${codec}${tracingSuffix(tracing)}-${role}`,
    },
    readyTimeoutMs: 120_000,
  });
}

async function postEvents(url: string, events: readonly PlaybackEvent[], body?: string): Promise<void> {
  const response = await fetch(`${url}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: body ?? JSON.stringify(events),
  });
  if (response.status !== 202) {
    throw new Error(`POST /v1/events answered ${response.status}: ${(await response.text()).slice(0, 500)}`);
  }
  await response.arrayBuffer();
}

interface IngestResult {
  postEps: number;
  cpu: CpuUse;
}

/**
 * 2a. viewer-api alone: batched POSTs while one discarding consumer reads `playback.events` — the
 * baseline's conditions (its producer wrote while its consumer read), with viewer-api in place of
 * the raw producer. On topics of its own, so no later phase re-reads these events.
 */
async function runIngest(kafka: Kafka, config: BenchConfig, brokers: string, prefix: string, codec: Compression, pids: ReadonlyMap<string, number>): Promise<IngestResult> {
  const ingestPrefix = `${prefix}-ingest`;
  const viewerApi = await startViewerApi(config, brokers, ingestPrefix, codec);
  let consumer: DiscardingConsumer | undefined;
  try {
    consumer = await DiscardingConsumer.start(kafka, topicName(Topics.playbackEvents, ingestPrefix), `bench-${runId}-ingest-${codec}`);
    const warm = makeBatches(config.batch * 2, config.batch, config.streams);
    for (const batch of warm) await postEvents(viewerApi.url, batch);
    await consumer.waitFor(config.batch * 2, 'ingest warm-up');
    const batches = makeBatches(config.events, config.batch, config.streams);
    const bodies = batches.map((batch) => JSON.stringify(batch));
    consumer.reset();
    const watch = new CpuWatch(new Map([...pids, ['viewer-api', viewerApi.child.pid!]]));
    const started = performance.now();
    await pool(
      bodies.map((body, index) => ({ body, index })),
      config.concurrency,
      async ({ body, index }) => postEvents(viewerApi.url, batches[index], body),
    );
    const posted = performance.now();
    const cpu = watch.stop();
    await consumer.waitFor(config.events, `ingest ${codec}`);
    return { postEps: config.events / ((posted - started) / 1000), cpu };
  } finally {
    await consumer?.stop();
    await viewerApi.stop();
  }
}

interface ThroughputResult {
  eps: number;
  postEps: number;
  delivered: number;
  expected: number;
  cpu: CpuUse;
  verified: string;
}

/** The light clients' processes, accounted as `clients-<n>` (not part of `bench`). */
function withFleet(pids: Map<string, number>, fleet: ClientFleet): Map<string, number> {
  const all = new Map(pids);
  fleet.pids.forEach((pid, index) => all.set(`clients-${index}`, pid));
  return all;
}

async function runThroughput(services: Services, config: BenchConfig, servicePids: Map<string, number>): Promise<ThroughputResult> {
  // The light counter must see what socket.io-client sees (same ids, same order) before it counts anything.
  const verified = await verifyLightClients(services.gateway.url, async () => {
    const events = makeBatches(200, 200, config.streams)[0];
    await postEvents(services.viewerApi.url, events);
    return events.map((event) => event.event_id);
  });
  log(verified);
  const fleet = await ClientFleet.start(services.gateway.url, config.clients, config.clientThreads, false);
  const pids = withFleet(servicePids, fleet);
  try {
    const warm = makeBatches(config.batch, config.batch, config.streams);
    for (const batch of warm) await postEvents(services.viewerApi.url, batch);
    await waitFor(() => fleet.min >= config.batch, () => fleet.total, 30_000, 'e2e warm-up');
    await fleet.reset();

    const batches = makeBatches(config.events, config.batch, config.streams);
    const bodies = batches.map((batch) => JSON.stringify(batch));
    const watch = new CpuWatch(pids);
    const started = performance.now();
    await pool(
      bodies.map((body, index) => ({ body, index })),
      config.concurrency,
      async ({ body, index }) => postEvents(services.viewerApi.url, batches[index], body),
    );
    const posted = performance.now();
    let stalled = false;
    await waitFor(() => fleet.min >= config.events, () => fleet.total, 15_000, 'e2e delivery').catch((error: Error) => {
      stalled = true;
      log(`e2e: ${error.message}`);
    });
    const finished = performance.now();
    const cpu = watch.stop();
    const { counts } = await fleet.collect();
    return {
      eps: stalled ? Number.NaN : config.events / ((finished - started) / 1000),
      postEps: config.events / ((posted - started) / 1000),
      delivered: Math.min(...counts),
      expected: config.events,
      cpu,
      verified,
    };
  } finally {
    await fleet.close();
  }
}

interface LatencyResult {
  p50: number;
  p95: number;
  p99: number;
  max: number;
  samples: number;
  missing: number;
  achievedRate: number;
  cpu: CpuUse;
  /** event-gateway's own CPU (process.cpuUsage via /metrics) per (event, client) receipt, µs. */
  gatewayUsPerDelivery: number;
  /** viewer-api's own CPU per event POSTed, µs. */
  viewerApiUsPerEvent: number;
  /** POST → 202 (acks=all) round trips, ms: what of the latency is viewer-api + Kafka's produce. */
  postP50: number;
  postP99: number;
  /** Where the time went inside event-gateway (tributary_fanout_delay_seconds over the phase). */
  gatewayDelay: string;
}

async function runLatency(services: Services, config: BenchConfig, servicePids: Map<string, number>): Promise<LatencyResult> {
  const fleet = await ClientFleet.start(services.gateway.url, config.latencyClients, config.clientThreads, true);
  const pids = withFleet(servicePids, fleet);
  try {
    const perTick = Math.max(1, Math.round(config.latencyRate / config.latencyTicks));
    const interval = 1000 / config.latencyTicks;
    const warmupMs = config.latencyWarmupSeconds * 1000;
    const ticks = Math.ceil(((config.latencySeconds * 1000 + warmupMs) / 1000) * config.latencyTicks);
    const inFlight = new Set<Promise<void>>();
    const postTimes: number[] = [];
    let measuredEvents = 0;
    let failures = 0;
    const start = performance.now();
    let watch: CpuWatch | undefined;
    let gatewayCpu: ServiceCpu | undefined;
    let viewerApiCpu: ServiceCpu | undefined;
    let measuredStart = 0;
    let delayBefore: DelayHistogram = new Map();
    for (let tick = 0; tick < ticks; tick++) {
      const due = start + tick * interval;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      if (!watch && performance.now() - start >= warmupMs) {
        // From here on, events (their ts) count; the fleet ignores earlier ones.
        await fleet.reset(Date.now());
        watch = new CpuWatch(pids);
        [gatewayCpu, viewerApiCpu] = await Promise.all([ServiceCpu.begin(services.gateway.url), ServiceCpu.begin(services.viewerApi.url)]);
        delayBefore = await readFanoutDelay(services.gateway.url);
        measuredStart = performance.now();
      }
      // makeEvent stamps ts = now: the send time the clients subtract from their receipt time.
      const events = Array.from({ length: perTick }, () => makeEvent(config.streams));
      if (watch) measuredEvents += events.length;
      const postedAt = performance.now();
      const measured = watch !== undefined;
      const request = postEvents(services.viewerApi.url, events)
        .then(() => {
          if (measured) postTimes.push(performance.now() - postedAt);
        })
        .catch((error: Error) => {
          failures += 1;
          log(`latency POST failed: ${error.message}`);
        })
        .finally(() => inFlight.delete(request));
      inFlight.add(request);
    }
    const measuredEnd = performance.now();
    await Promise.all(inFlight);
    const expected = measuredEvents * config.latencyClients;
    // Let the tail arrive (bounded).
    const deadline = Date.now() + 10_000;
    while (fleet.total < expected && Date.now() < deadline) await sleep(20);
    const cpu = watch ? watch.stop() : { wallSeconds: 1, seconds: new Map<string, number>() };
    const gatewaySeconds = gatewayCpu ? await gatewayCpu.end() : Number.NaN;
    const viewerApiSeconds = viewerApiCpu ? await viewerApiCpu.end() : Number.NaN;
    const gatewayDelay = describeFanoutDelay(delayBefore, await readFanoutDelay(services.gateway.url));
    if (failures > 0) log(`latency: ${failures} POSTs failed`);
    const { latencies } = await fleet.collect();
    const sorted = Array.from(latencies).sort((a, b) => a - b);
    return {
      p50: percentile(sorted, 50),
      p95: percentile(sorted, 95),
      p99: percentile(sorted, 99),
      max: sorted[sorted.length - 1] ?? Number.NaN,
      samples: sorted.length,
      missing: Math.max(0, expected - sorted.length),
      achievedRate: measuredEvents / ((measuredEnd - measuredStart) / 1000),
      cpu,
      gatewayUsPerDelivery: (gatewaySeconds * 1e6) / Math.max(1, sorted.length),
      postP50: percentile([...postTimes].sort((a, b) => a - b), 50),
      postP99: percentile([...postTimes].sort((a, b) => a - b), 99),
      viewerApiUsPerEvent: (viewerApiSeconds * 1e6) / Math.max(1, measuredEvents),
      gatewayDelay,
    };
  } finally {
    await fleet.close();
  }
}

// ---------------------------------------------------------------------------------------------

interface CodecRow {
  codec: Compression;
  interop: string;
  baseline?: BaselineResult;
  ingest?: IngestResult;
  e2e?: ThroughputResult;
  latency?: LatencyResult;
  /** The latency phase again with OTEL_SDK_DISABLED=true. */
  untraced?: LatencyResult;
  /** The latency phase again with the Helm chart's sampler. */
  chartSampled?: LatencyResult;
  error?: string;
}

async function main(): Promise<void> {
  const config = parseEnv(benchEnvSpec, processEnv());
  const codecs = config.codecs.map((name) => {
    if (!(COMPRESSIONS as readonly string[]).includes(name)) throw new Error(`BENCH_CODECS: unknown codec "${name}" (use ${COMPRESSIONS.join(', ')})`);
    return name as Compression;
  });
  const startedAt = new Date();
  log(`run ${runId}: ${machineConditions()}`);

  let localKafka: LocalKafka | undefined;
  const brokers = config.kafkaBrokers ?? (localKafka = await startLocalKafka({ log })).brokers;
  const brokerPort = Number(brokers.split(',')[0].split(':').pop());
  const brokerPid = localKafka?.pid ?? pidListeningOn(brokerPort);
  log(`Kafka ${brokers}${localKafka ? ' (started by the bench)' : ' (KAFKA_BROKERS)'}${brokerPid ? `, pid ${brokerPid}` : ''}`);

  const kafka = createKafkaClient(parseKafkaConfig({ KAFKA_BROKERS: brokers }), `bench-${runId}`, kafkaLogger);
  const rows: CodecRow[] = [];
  let gateway: ServiceProcess | undefined;
  let viewerApi: ServiceProcess | undefined;
  let stats: ServiceProcess | undefined;
  const wantE2e = config.phases.includes('e2e') || config.phases.includes('latency');
  const prefix = `bench-${runId}`;
  try {
    for (const codec of codecs) {
      const row: CodecRow = { codec, interop: '' };
      rows.push(row);
      const unavailable = compressionUnavailableReason(codec);
      if (unavailable) {
        row.interop = `unavailable: ${unavailable}`;
        continue;
      }
      try {
        row.interop = await checkCodecInterop(kafka, codec);
      } catch (error) {
        row.interop = `FAILED: ${(error as Error).message}`;
        continue;
      }
      const pids = new Map<string, number>([['bench', process.pid]]);
      if (brokerPid) pids.set('kafka', brokerPid);
      if (config.phases.includes('baseline')) {
        log(`${codec}: baseline (raw kafkajs)…`);
        row.baseline = await runBaseline(kafka, config, codec, pids);
        log(`${codec}: baseline ${fmt(row.baseline.endToEndEps)} events/s (${describeCpu(row.baseline.cpu)})`);
      }
      if (config.phases.includes('ingest')) {
        log(`${codec}: ingest (viewer-api POSTs, one discarding consumer)…`);
        row.ingest = await runIngest(kafka, config, brokers, prefix, codec, pids);
        log(`${codec}: POST ${fmt(row.ingest.postEps)} events/s (${describeCpu(row.ingest.cpu)})`);
      }
      if (!wantE2e) continue;
      try {
        // The gateway only consumes, so the codec matters for viewer-api's producer; both are
        // restarted per codec so each codec's run starts from the same state.
        log(`${codec}: starting viewer-api and event-gateway…`);
        [viewerApi, gateway, stats] = await Promise.all([
          startViewerApi(config, brokers, prefix, codec),
          startGateway(config, brokers, prefix, codec),
          startGateway(config, brokers, prefix, codec, 'all', 'stats'),
        ]);
        const services: Services = { viewerApi, gateway, stats };
        const servicePids = new Map(pids);
        servicePids.set('viewer-api', viewerApi.child.pid!);
        servicePids.set('event-gateway', gateway.child.pid!);
        servicePids.set('stats', stats.child.pid!);
        if (config.phases.includes('e2e')) {
          log(`${codec}: e2e throughput with ${config.clients} clients…`);
          row.e2e = await runThroughput(services, config, servicePids);
          log(`${codec}: e2e ${fmt(row.e2e.eps)} events/s to all clients (${describeCpu(row.e2e.cpu)})`);
        }
        if (config.phases.includes('latency')) {
          log(`${codec}: latency at ${config.latencyRate} events/s with ${config.latencyClients} clients for ${config.latencySeconds} s…`);
          row.latency = await runLatency(services, config, servicePids);
          log(`${codec}: p99 ${fmt(row.latency.p99, 1)} ms (${describeCpu(row.latency.cpu)})`);
        }
        if (config.phases.includes('latency') && config.tracingCompare === 1) {
          // The same latency phase on freshly started services, with the chart's sampler and with tracing off.
          for (const tracing of ['chart', 'off'] as const) {
            await Promise.all([viewerApi.stop(), gateway.stop(), stats.stop()]);
            log(`${codec}: latency again, tracing ${tracing === 'off' ? 'off (OTEL_SDK_DISABLED=true)' : `at the chart's sampler (${JSON.stringify(chartSampler())})`}…`);
            [viewerApi, gateway, stats] = await Promise.all([
              startViewerApi(config, brokers, prefix, codec, tracing),
              startGateway(config, brokers, prefix, codec, tracing),
              startGateway(config, brokers, prefix, codec, tracing, 'stats'),
            ]);
            const modePids = new Map(pids);
            modePids.set('viewer-api', viewerApi.child.pid!);
            modePids.set('event-gateway', gateway.child.pid!);
            modePids.set('stats', stats.child.pid!);
            const result = await runLatency({ viewerApi, gateway }, config, modePids);
            if (tracing === 'off') row.untraced = result;
            else row.chartSampled = result;
            log(`${codec}: tracing ${tracing}: p99 ${fmt(result.p99, 1)} ms (${describeCpu(result.cpu)})`);
          }
        }
      } catch (error) {
        row.error = (error as Error).message;
        log(`${codec}: ${row.error}`);
      } finally {
        await Promise.all([viewerApi?.stop(), gateway?.stop(), stats?.stop()]);
        viewerApi = undefined;
        gateway = undefined;
        stats = undefined;
      }
    }
  } finally {
    await Promise.all([viewerApi?.stop(), gateway?.stop(), stats?.stop()]);
    await localKafka?.stop();
  }

  printReport(config, rows, startedAt, brokers, localKafka !== undefined);
  if (rows.every((row) => row.error !== undefined || row.interop.startsWith('FAILED'))) process.exitCode = 1;
}

function printReport(config: BenchConfig, rows: readonly CodecRow[], startedAt: Date, brokers: string, ownBroker: boolean): void {
  const out: string[] = [];
  out.push('');
  out.push(`Tributary playback-event benchmark — ${startedAt.toISOString()} — run ${runId}`);
  out.push(`machine: ${machineConditions()}; Kafka ${brokers}${ownBroker ? ' (own broker)' : ' (shared broker)'}`);
  out.push(
    `throughput: ${fmt(config.events)} events in POSTs of ${config.batch}, ${config.concurrency} in flight, ${config.streams} streams over ${config.partitions} partitions, ${config.clients} clients; ` +
      `latency: ${fmt(config.latencyRate)} events/s in ${config.latencyTicks} POSTs/s, ${config.latencyClients} clients, ${config.latencySeconds} s after a ${config.latencyWarmupSeconds} s warm-up`,
  );
  out.push('');
  out.push(
    table(
      ['codec', 'baseline ev/s', 'e2e ev/s', 'e2e/baseline', 'POST ev/s', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'wire B/event', 'interop'],
      rows.map((row) => [
        row.codec,
        row.baseline ? fmt(row.baseline.endToEndEps) : '-',
        row.e2e ? (Number.isNaN(row.e2e.eps) ? `stalled ${fmt(row.e2e.delivered)}/${fmt(row.e2e.expected)}` : fmt(row.e2e.eps)) : '-',
        row.e2e && row.baseline ? fmt(row.e2e.eps / row.baseline.endToEndEps, 2) : '-',
        row.ingest ? fmt(row.ingest.postEps) : '-',
        row.latency ? fmt(row.latency.p50, 1) : '-',
        row.latency ? fmt(row.latency.p95, 1) : '-',
        row.latency ? fmt(row.latency.p99, 1) : '-',
        row.latency ? fmt(row.latency.max, 1) : '-',
        row.baseline ? `${fmt(row.baseline.wireBytesPerEvent, 1)} (${fmt((100 * row.baseline.wireBytesPerEvent) / row.baseline.valueBytesPerEvent)}%)` : '-',
        row.error ? `${row.interop}; ERROR ${row.error.slice(0, 120)}` : row.interop,
      ]),
    ),
  );
  out.push('');
  out.push('CPU (cores used, 1.00 = one core busy; 2 cores on this machine):');
  for (const row of rows) {
    if (row.baseline) out.push(`  ${row.codec.padEnd(5)} baseline: ${describeCpu(row.baseline.cpu)}`);
    if (row.baseline) {
      out.push(`  ${row.codec.padEnd(5)} baseline µs CPU per event: ${describePerEvent(cpuPerEvent(row.baseline.cpu, config.events))}`);
    }
    if (row.ingest) {
      out.push(`  ${row.codec.padEnd(5)} ingest:   ${describeCpu(row.ingest.cpu)}; µs CPU per event: ${describePerEvent(cpuPerEvent(row.ingest.cpu, config.events))}`);
    }
    if (row.e2e) {
      out.push(`  ${row.codec.padEnd(5)} e2e:      ${describeCpu(row.e2e.cpu)}; POSTs accepted during e2e (fan-out and stats reading on the same cores) ${fmt(row.e2e.postEps)} events/s`);
      const perEvent = cpuPerEvent(row.e2e.cpu, config.events);
      const system = [...perEvent].filter(([name]) => name !== 'bench').reduce((sum, [, micros]) => sum + micros, 0);
      out.push(
        `  ${row.codec.padEnd(5)} e2e µs CPU per event (all ${config.clients} clients): ${describePerEvent(perEvent)}; ` +
          `services + Kafka ${fmt(system, 1)} µs → at most ${fmt(2e6 / system)} events/s if they had both cores to themselves (a projection, not a measurement)`,
      );
    }
    if (row.latency) {
      out.push(
        `  ${row.codec.padEnd(5)} latency:  ${describeCpu(row.latency.cpu)}; ${fmt(row.latency.samples)} receipts, ${fmt(row.latency.missing)} missing, sent ${fmt(row.latency.achievedRate)} events/s; POST → 202 p50 ${fmt(row.latency.postP50, 1)} ms, p99 ${fmt(row.latency.postP99, 1)} ms; ${row.latency.gatewayDelay}`,
      );
    }
    if (row.chartSampled) {
      out.push(
        `  ${row.codec.padEnd(5)} chart sampler: ${describeCpu(row.chartSampled.cpu)}; ${fmt(row.chartSampled.samples)} receipts, ${fmt(row.chartSampled.missing)} missing, p50 ${fmt(row.chartSampled.p50, 1)} ms`,
      );
    }
    if (row.untraced) {
      out.push(
        `  ${row.codec.padEnd(5)} untraced: ${describeCpu(row.untraced.cpu)}; ${fmt(row.untraced.samples)} receipts, ${fmt(row.untraced.missing)} missing, p50 ${fmt(row.untraced.p50, 1)} ms`,
      );
    }
  }
  out.push('');
  out.push(`Issue 11 targets (ratios and per-unit costs from this run; event-gateway CPU is its own process.cpuUsage(), read from its /metrics):`);
  out.push(
    table(
      ['codec', 'figure', 'measured', 'target', ''],
      rows.flatMap((row) => {
        const lines: string[][] = [];
        const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');
        if (row.e2e && row.baseline) {
          const ratio = row.e2e.eps / row.baseline.endToEndEps;
          lines.push([row.codec, `e2e events/s to ${config.clients} clients ÷ raw kafkajs produce→consume`, `${fmt(ratio, 2)} (${fmt(row.e2e.eps)} / ${fmt(row.baseline.endToEndEps)})`, `≥ ${TARGET_E2E_RATIO}`, verdict(ratio >= TARGET_E2E_RATIO)]);
        }
        if (row.ingest && row.baseline) {
          const post = row.ingest.postEps / row.baseline.produceEps;
          lines.push([
            row.codec,
            `POST /v1/events accepted events/s (batches of ${config.batch}) ÷ raw kafkajs produce, each beside one discarding consumer`,
            `${fmt(post, 2)} (${fmt(row.ingest.postEps)} / ${fmt(row.baseline.produceEps)})`,
            `≥ ${TARGET_POST_RATIO}`,
            verdict(post >= TARGET_POST_RATIO),
          ]);
        }
        if (row.latency) {
          const l = row.latency;
          lines.push([row.codec, `event-gateway CPU per delivery, ${config.latencyClients} clients (µs per event per client)`, fmt(l.gatewayUsPerDelivery, 2), `≤ ${TARGET_GATEWAY_US_PER_DELIVERY}`, verdict(l.gatewayUsPerDelivery <= TARGET_GATEWAY_US_PER_DELIVERY)]);
          lines.push([row.codec, `p99 POST → socket at ${fmt(config.latencyRate)} events/s × ${config.latencyClients} clients (ms)`, `${fmt(l.p99, 1)} (${fmt(l.missing)} missing)`, `≤ ${TARGET_P99_MS}`, verdict(l.p99 <= TARGET_P99_MS && l.missing === 0)]);
        }
        if (row.latency && row.untraced) {
          const gw = row.latency.gatewayUsPerDelivery / row.untraced.gatewayUsPerDelivery;
          const va = row.latency.viewerApiUsPerEvent / row.untraced.viewerApiUsPerEvent;
          // 100 % sampling is reported; the target is for the sampler a chart install runs with.
          lines.push([row.codec, 'tracing 100 % sampled ÷ off: event-gateway CPU per delivery', `${fmt(gw, 2)} (${fmt(row.latency.gatewayUsPerDelivery, 2)} / ${fmt(row.untraced.gatewayUsPerDelivery, 2)} µs)`, 'reported', '']);
          lines.push([row.codec, 'tracing 100 % sampled ÷ off: viewer-api CPU per event', `${fmt(va, 2)} (${fmt(row.latency.viewerApiUsPerEvent, 1)} / ${fmt(row.untraced.viewerApiUsPerEvent, 1)} µs)`, 'reported', '']);
          if (row.chartSampled) {
            const { sampler, arg } = chartSampler();
            const chartGw = row.chartSampled.gatewayUsPerDelivery / row.untraced.gatewayUsPerDelivery;
            const chartVa = row.chartSampled.viewerApiUsPerEvent / row.untraced.viewerApiUsPerEvent;
            const name = `${sampler} ${arg}, the chart's default`;
            lines.push([row.codec, `tracing at ${name} ÷ off: event-gateway CPU per delivery`, `${fmt(chartGw, 2)} (${fmt(row.chartSampled.gatewayUsPerDelivery, 2)} / ${fmt(row.untraced.gatewayUsPerDelivery, 2)} µs)`, `< ${TARGET_TRACING_RATIO}`, verdict(chartGw < TARGET_TRACING_RATIO)]);
            lines.push([row.codec, `tracing at ${name} ÷ off: viewer-api CPU per event`, `${fmt(chartVa, 2)} (${fmt(row.chartSampled.viewerApiUsPerEvent, 1)} / ${fmt(row.untraced.viewerApiUsPerEvent, 1)} µs)`, `< ${TARGET_TRACING_RATIO}`, verdict(chartVa < TARGET_TRACING_RATIO)]);
          }
          lines.push([row.codec, 'p99 POST → socket with tracing off (ms)', fmt(row.untraced.p99, 1), `≤ ${TARGET_P99_MS}`, verdict(row.untraced.p99 <= TARGET_P99_MS && row.untraced.missing === 0)]);
        }
        return lines;
      }),
    ),
  );
  for (const row of rows) if (row.e2e) out.push(`  ${row.codec.padEnd(5)} harness check: ${row.e2e.verified}`);
  out.push('');
  const measured = rows.filter((row) => row.e2e && !Number.isNaN(row.e2e.eps));
  const best = measured.sort((a, b) => b.e2e!.eps - a.e2e!.eps)[0];
  // The headline is the default codec (KAFKA_COMPRESSION unset), else the fastest measured.
  const defaultCodec = parseKafkaConfig({}).compression;
  const preferred = rows.find((row) => row.codec === defaultCodec);
  const headline = preferred?.e2e && preferred.latency ? preferred : best;
  if (headline?.e2e) {
    const eps = headline.e2e.eps;
    const p99 = headline.latency?.p99 ?? Number.NaN;
    out.push(
      `SUMMARY (${headline.codec}): e2e ${fmt(eps)} events/s to ${config.clients} clients (target ≥ ${fmt(TARGET_EPS)}: ${eps >= TARGET_EPS ? 'met' : 'MISSED'}), ` +
        `${headline.baseline ? `${fmt(eps / headline.baseline.endToEndEps, 2)} of raw kafkajs ${fmt(headline.baseline.endToEndEps)} events/s, ` : ''}` +
        `p99 POST→socket ${fmt(p99, 1)} ms at ${fmt(config.latencyRate)} events/s × ${config.latencyClients} clients (target ≤ ${TARGET_P99_MS}: ${p99 <= TARGET_P99_MS ? 'met' : 'MISSED'})`,
    );
  } else if (rows.some((row) => row.baseline)) {
    out.push(`SUMMARY: baseline only: ${rows.map((row) => `${row.codec} ${row.baseline ? fmt(row.baseline.endToEndEps) : '-'} events/s`).join(', ')}`);
  } else {
    out.push('SUMMARY: nothing measured');
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

main().catch((error: unknown) => {
  log(`harness failure: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(1);
});
