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
import { performance } from 'node:perf_hooks';
import { type ConfigOf, int, list, optionalStr, parseEnv, processEnv } from '@tributary/config';
import { type PlaybackEvent, topicName, Topics } from '@tributary/contracts';
import { type LocalKafka, startLocalKafka } from '@tributary/devkit';
import { COMPRESSIONS, type Compression, compressionUnavailableReason, createKafkaClient, parseKafkaConfig } from '@tributary/kafka';
import type { Kafka } from 'kafkajs';
import { ClientFleet, verifyLightClients } from './lib/client-fleet';
import { DiscardingConsumer } from './lib/discarding-consumer';
import { type CodecRow, type IngestResult, type LatencyResult, printEventsReport, type ThroughputResult } from './lib/events-report';
import { chartSampler, type EventServices, type EventServiceSettings, postEvents, startEventServices, startViewerApi, stopEventServices } from './lib/event-services';
import { type DelayHistogram, describeFanoutDelay, readFanoutDelay } from './lib/fanout-delay';
import { ServiceCpu } from './lib/process-cpu';
import { eventLoadEnvSpec } from './lib/event-load';
import { benchKafkaLogger } from './lib/kafka-logger';
import { pool, waitForProgress } from './lib/progress';
import { checkCodecInterop, runRawKafkaBaseline } from './lib/raw-kafka-baseline';
import { CpuWatch, describeCpu, fmt, machineConditions, percentile, pidListeningOn, sleep } from './lib/report';
import { benchEvent } from './lib/playback-load';

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
  /**
   * Runs per compared tracing mode. Per-event CPU differs by ±10–15 % between freshly started
   * services of the same mode (JIT, GC timing), more than the chart sampler's cost, so each mode is
   * measured this many times, alternating (chart, off, off, chart, …), and compared by the mean.
   */
  tracingRepeats: int('BENCH_TRACING_REPEATS', { default: 2, min: 1, max: 5 }),
  /** Directory for --cpu-prof profiles of the services (unset = no profiling). */
  cpuProfDir: optionalStr('BENCH_CPU_PROF_DIR'),
};
type BenchConfig = ConfigOf<typeof benchEnvSpec>;

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

interface Post {
  events: PlaybackEvent[];
  body: string;
}

/** `config.events` events in POST bodies of `config.batch`, serialised before the timed window. */
function preparePosts(config: BenchConfig): Post[] {
  return makeBatches(config.events, config.batch, config.streams).map((events) => ({ events, body: JSON.stringify(events) }));
}

/** POSTs every body, `concurrency` in flight. */
function postAll(url: string, posts: readonly Post[], concurrency: number): Promise<void> {
  return pool(posts, concurrency, ({ events, body }) => postEvents(url, events, body));
}

// ---------------------------------------------------------------------------------------------
// 2 + 3. End to end through viewer-api and event-gateway

/**
 * 2a. viewer-api alone: batched POSTs while one discarding consumer reads `playback.events` — the
 * baseline's conditions (its producer wrote while its consumer read), with viewer-api in place of
 * the raw producer. On topics of its own, so no later phase re-reads these events.
 */
async function runIngest(kafka: Kafka, config: BenchConfig, settings: EventServiceSettings, pids: ReadonlyMap<string, number>): Promise<IngestResult> {
  const ingestPrefix = `${settings.prefix}-ingest`;
  const { codec } = settings;
  const viewerApi = await startViewerApi({ ...settings, prefix: ingestPrefix });
  let consumer: DiscardingConsumer | undefined;
  try {
    consumer = await DiscardingConsumer.start(kafka, topicName(Topics.playbackEvents, ingestPrefix), `bench-${runId}-ingest-${codec}`);
    const warm = makeBatches(config.batch * 2, config.batch, config.streams);
    for (const batch of warm) await postEvents(viewerApi.url, batch);
    await consumer.waitFor(config.batch * 2, 'ingest warm-up');
    const posts = preparePosts(config);
    consumer.reset();
    const watch = new CpuWatch(new Map([...pids, ['viewer-api', viewerApi.child.pid!]]));
    const started = performance.now();
    await postAll(viewerApi.url, posts, config.concurrency);
    const posted = performance.now();
    const cpu = watch.stop();
    await consumer.waitFor(config.events, `ingest ${codec}`);
    return { postEps: config.events / ((posted - started) / 1000), cpu };
  } finally {
    await consumer?.stop();
    await viewerApi.stop();
  }
}


async function runThroughput(services: EventServices, config: BenchConfig, servicePids: Map<string, number>): Promise<ThroughputResult> {
  // The light counter must see what socket.io-client sees (same ids, same order) before it counts anything.
  const verified = await verifyLightClients(services.gateway.url, async () => {
    const events = makeBatches(200, 200, config.streams)[0];
    await postEvents(services.viewerApi.url, events);
    return events.map((event) => event.event_id);
  });
  log(verified);
  const fleet = await ClientFleet.start(services.gateway.url, config.clients, config.clientThreads, false);
  const pids = fleet.addPidsTo(new Map(servicePids));
  try {
    const warm = makeBatches(config.batch, config.batch, config.streams);
    for (const batch of warm) await postEvents(services.viewerApi.url, batch);
    await waitForProgress(() => fleet.min >= config.batch, () => fleet.total, 30_000, 'e2e warm-up');
    await fleet.reset();

    const posts = preparePosts(config);
    const watch = new CpuWatch(pids);
    const started = performance.now();
    await postAll(services.viewerApi.url, posts, config.concurrency);
    const posted = performance.now();
    let stalled = false;
    await waitForProgress(() => fleet.min >= config.events, () => fleet.total, 15_000, 'e2e delivery').catch((error: Error) => {
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

async function runLatency(services: EventServices, config: BenchConfig, servicePids: Map<string, number>): Promise<LatencyResult> {
  const fleet = await ClientFleet.start(services.gateway.url, config.latencyClients, config.clientThreads, true);
  const pids = fleet.addPidsTo(new Map(servicePids));
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
    postTimes.sort((a, b) => a - b);
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
      postP50: percentile(postTimes, 50),
      postP99: percentile(postTimes, 99),
      viewerApiUsPerEvent: (viewerApiSeconds * 1e6) / Math.max(1, measuredEvents),
      gatewayDelay,
    };
  } finally {
    await fleet.close();
  }
}

// ---------------------------------------------------------------------------------------------

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
  let services: EventServices | undefined;
  const wantE2e = config.phases.includes('e2e') || config.phases.includes('latency');
  const prefix = `bench-${runId}`;
  const batchesOf = (total: number) => makeBatches(total, config.batch, config.streams);
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
        row.interop = await checkCodecInterop(kafka, codec, prefix, makeBatches(200, 200, 1)[0]);
      } catch (error) {
        row.interop = `FAILED: ${(error as Error).message}`;
        continue;
      }
      const settings: EventServiceSettings = { brokers, prefix, codec, partitions: config.partitions, runId, cpuProfDir: config.cpuProfDir };
      const pids = new Map<string, number>([['bench', process.pid]]);
      if (brokerPid) pids.set('kafka', brokerPid);
      if (config.phases.includes('baseline')) {
        // The broker is a fresh JVM: its C2 compiler thread took 25–80 % of a core through the first
        // minute of a run (top -H), so a first pass warms it, on topics of its own, unmeasured.
        // Before this, the baseline ran on a colder broker than the phases after it.
        log(`${codec}: warming the broker (raw kafkajs, ${fmt(config.events)} events, not measured)…`);
        await runRawKafkaBaseline(kafka, { ...config, prefix: `${prefix}-warm` }, codec, pids, batchesOf);
        log(`${codec}: baseline (raw kafkajs)…`);
        row.baseline = await runRawKafkaBaseline(kafka, { ...config, prefix }, codec, pids, batchesOf);
        log(`${codec}: baseline ${fmt(row.baseline.endToEndEps)} events/s (${describeCpu(row.baseline.cpu)})`);
      }
      if (config.phases.includes('ingest')) {
        log(`${codec}: ingest (viewer-api POSTs, one discarding consumer)…`);
        row.ingest = await runIngest(kafka, config, settings, pids);
        log(`${codec}: POST ${fmt(row.ingest.postEps)} events/s (${describeCpu(row.ingest.cpu)})`);
      }
      if (!wantE2e) continue;
      const pidsOf = (started: EventServices) =>
        new Map([...pids, ['viewer-api', started.viewerApi.child.pid!], ['event-gateway', started.gateway.child.pid!], ['stats', started.stats.child.pid!]]);
      try {
        // The gateway only consumes, so the codec matters for viewer-api's producer; both are
        // restarted per codec so each codec's run starts from the same state.
        log(`${codec}: starting viewer-api and event-gateway…`);
        services = await startEventServices(settings);
        if (config.phases.includes('e2e')) {
          log(`${codec}: e2e throughput with ${config.clients} clients…`);
          row.e2e = await runThroughput(services, config, pidsOf(services));
          log(`${codec}: e2e ${fmt(row.e2e.eps)} events/s to all clients (${describeCpu(row.e2e.cpu)})`);
        }
        if (config.phases.includes('latency')) {
          log(`${codec}: latency at ${config.latencyRate} events/s with ${config.latencyClients} clients for ${config.latencySeconds} s…`);
          row.latency = await runLatency(services, config, pidsOf(services));
          log(`${codec}: p99 ${fmt(row.latency.p99, 1)} ms (${describeCpu(row.latency.cpu)})`);
        }
        if (config.phases.includes('latency') && config.tracingCompare === 1) {
          // The same latency phase on freshly started services, with the chart's sampler and with tracing off.
          const order = Array.from({ length: config.tracingRepeats }, (_, index) => (index % 2 === 0 ? (['chart', 'off'] as const) : (['off', 'chart'] as const))).flat();
          for (const tracing of order) {
            await stopEventServices(services);
            services = undefined;
            log(`${codec}: latency again, tracing ${tracing === 'off' ? 'off (OTEL_SDK_DISABLED=true)' : `at the chart's sampler (${JSON.stringify(chartSampler())})`}…`);
            services = await startEventServices(settings, tracing);
            const result = await runLatency(services, config, pidsOf(services));
            if (tracing === 'off') (row.untraced ??= []).push(result);
            else (row.chartSampled ??= []).push(result);
            log(`${codec}: tracing ${tracing}: p99 ${fmt(result.p99, 1)} ms (${describeCpu(result.cpu)})`);
          }
        }
      } catch (error) {
        row.error = (error as Error).message;
        log(`${codec}: ${row.error}`);
      } finally {
        await stopEventServices(services);
        services = undefined;
      }
    }
  } finally {
    await stopEventServices(services);
    await localKafka?.stop();
  }

  printEventsReport({ ...config, runId }, rows, startedAt, brokers, localKafka !== undefined);
  if (rows.every((row) => row.error !== undefined || row.interop.startsWith('FAILED'))) process.exitCode = 1;
}

main().catch((error: unknown) => {
  log(`harness failure: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(1);
});
