/**
 * bench:stats (issue 4): throughput of event-gateway's stats processor in events/s per core,
 * against a plain kafkajs consume-and-discard of the same topic in the same run.
 *
 * 1. BENCH_EVENTS realistic playback events (viewing sessions: play → position heartbeats,
 *    bitrate switches, buffering, pauses, seeks, stop; every one checked with
 *    playbackEventValidator) are produced into a fresh `<prefix>.playback.events`.
 * 2. baseline: a kafkajs consumer (eachBatch, no JSON parsing) reads the topic from the beginning
 *    and discards; CPU from process.cpuUsage() of this process.
 * 3. stats: the BUILT event-gateway is started as a process (the bench cannot import a service's
 *    source: bench/ compiles with rootDir bench and references libs only). Its Socket.IO fan-out
 *    consumer starts from the latest offset with a fresh group, so of the pre-produced events
 *    only the stats processor does work; it seeks back by timestamp and re-reads the topic.
 *    Progress = `tributary_stats_events_total` at /metrics; CPU = /proc/<pid>/stat of the gateway,
 *    over the window from the first counted event to the last.
 *
 * Figures: events/s (wall), cores used, events per CPU-second (= events/s per fully used core) and
 * the ratio stats / baseline of the latter.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { type ConfigOf, int, optionalStr, parseEnv, processEnv } from '@tributary/config';
import { DEVICES, type PlaybackEvent, type PlaybackEventType, playbackEventValidator } from '@tributary/contracts';
import { freePort, type LocalKafka, seededRandom, type ServiceProcess, startLocalKafka, startService } from '@tributary/devkit';
import { compressionType, createKafkaClient, parseKafkaConfig } from '@tributary/kafka';
import { type Kafka, Partitioners } from 'kafkajs';
import { cpuSeconds, fmt, machineConditions, pidListeningOn, sleep, table, treeCpuSeconds } from './lib/report';
import { preloadEnv } from './lib/service-preloads';
import { tracingEnv } from './lib/event-services';
import { benchKafkaLogger } from './lib/kafka-logger';
import { createEventsTopic, playbackEventMessage } from './lib/playback-load';

const benchEnvSpec = {
  kafkaBrokers: optionalStr('KAFKA_BROKERS'),
  events: int('BENCH_EVENTS', { default: 200_000, min: 1_000, max: 10_000_000 }),
  streams: int('BENCH_STREAMS', { default: 12, min: 1, max: 1_000 }),
  sessions: int('BENCH_SESSIONS', { default: 2_000, min: 1, max: 1_000_000 }),
  partitions: int('BENCH_PARTITIONS', { default: 6, min: 1, max: 64 }),
  batch: int('BENCH_BATCH', { default: 500, min: 1, max: 10_000 }),
  /** Writes a V8 CPU profile of the stats gateway here (bench/lib/cpu-profile-preload). */
  cpuProfDir: optionalStr('BENCH_CPU_PROF_DIR'),
  /** 1: a second stats gateway with OTEL_SDK_DISABLED=true, for the tracing overhead. */
  tracingCompare: int('BENCH_TRACING_COMPARE', { default: 1, min: 0, max: 1 }),
};
type BenchConfig = ConfigOf<typeof benchEnvSpec>;

const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);
const kafkaLogger = benchKafkaLogger(log);

const runId = randomUUID().slice(0, 8);
const prefix = `bench-${runId}`;

// ---------------------------------------------------------------------------------------------
// Events: a small viewing-session model (the shape of tools/scripts/simulator's sessions)

interface Session {
  id: string;
  user: string;
  stream: string;
  device: (typeof DEVICES)[number];
  position: number;
  bitrate: number;
  state: 'idle' | 'playing' | 'paused' | 'buffering';
}

const BITRATES = [800, 1_400, 2_800, 4_500, 6_000];

/** `count` events of `sessions` interleaved sessions; event time spreads over the last ~20 s. */
function makeEvents(config: BenchConfig): PlaybackEvent[] {
  // Seeded: the same mix of events every run.
  const rand = seededRandom(4);
  const sessions: Session[] = Array.from({ length: config.sessions }, (_, index) => ({
    id: `s-${runId}-${index}`,
    user: `u-${index % Math.max(1, Math.floor(config.sessions * 0.8))}`,
    stream: `bench-${runId}-${index % config.streams}`,
    device: DEVICES[index % DEVICES.length],
    position: 0,
    bitrate: BITRATES[index % BITRATES.length],
    state: 'idle',
  }));
  const events: PlaybackEvent[] = [];
  const start = Date.now() - 20_000;
  for (let index = 0; index < config.events; index++) {
    const session = sessions[Math.floor(rand() * sessions.length)];
    const roll = rand();
    let type: PlaybackEventType;
    if (session.state === 'idle') type = 'play';
    else if (session.state === 'buffering') type = 'buffer_end';
    else if (session.state === 'paused') type = roll < 0.8 ? 'play' : 'stop';
    else if (roll < 0.8) type = 'position';
    else if (roll < 0.86) type = 'bitrate';
    else if (roll < 0.92) type = 'buffer_start';
    else if (roll < 0.96) type = 'pause';
    else if (roll < 0.98) type = 'seek';
    else type = 'stop';
    switch (type) {
      case 'play':
        session.state = 'playing';
        break;
      case 'stop':
        session.state = 'idle';
        session.position = 0;
        break;
      case 'pause':
        session.state = 'paused';
        break;
      case 'buffer_start':
        session.state = 'buffering';
        break;
      case 'buffer_end':
        session.state = 'playing';
        break;
      case 'seek':
        session.position = Math.floor(rand() * 3_600);
        break;
      case 'bitrate':
        session.bitrate = BITRATES[Math.floor(rand() * BITRATES.length)];
        break;
      default:
        session.position += 2;
    }
    const event: PlaybackEvent = {
      event_id: `${runId}-${index}`,
      session_id: session.id,
      user_id: session.user,
      stream_id: session.stream,
      event_type: type,
      position_seconds: session.position,
      bitrate_kbps: session.bitrate,
      device: session.device,
      ts: new Date(start + Math.floor((index / config.events) * 20_000)).toISOString(),
      source: 'player',
      buffer_length_ms: session.state === 'buffering' ? 0 : 8_000 + Math.floor(rand() * 20_000),
      throughput_kbps: session.bitrate * (2 + rand() * 4),
      playback_rate: 1,
    };
    const checked = playbackEventValidator.validate(event);
    if (!checked.ok) throw new Error(`generated an invalid event: ${JSON.stringify(checked.issues)}`);
    events.push(event);
  }
  return events;
}


// ---------------------------------------------------------------------------------------------


async function produce(kafka: Kafka, topic: string, events: readonly PlaybackEvent[], config: BenchConfig, compression: ReturnType<typeof compressionType>): Promise<number> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 5, allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const started = performance.now();
  try {
    const inFlight = new Set<Promise<unknown>>();
    for (let offset = 0; offset < events.length; offset += config.batch) {
      const messages = events.slice(offset, offset + config.batch).map(playbackEventMessage);
      const sent = producer.send({ topic, messages, acks: -1, compression }).finally(() => inFlight.delete(sent));
      inFlight.add(sent);
      if (inFlight.size >= 4) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
  } finally {
    await producer.disconnect();
  }
  return events.length / ((performance.now() - started) / 1000);
}

interface Measured {
  events: number;
  wallSeconds: number;
  cpuSeconds: number;
  kafkaCpuSeconds: number;
}

/** A consumer that parses nothing: what reading the topic costs a kafkajs process at all. */
async function runBaseline(kafka: Kafka, topic: string, total: number, brokerPid: number | undefined): Promise<Measured> {
  const consumer = kafka.consumer({ groupId: `${prefix}.bench-baseline`, allowAutoTopicCreation: false });
  let consumed = 0;
  let windowStart: { at: number; cpu: NodeJS.CpuUsage; kafka: number; consumed: number } | undefined;
  let done: (() => void) | undefined;
  const finished = new Promise<void>((resolve) => (done = resolve));
  let end: { at: number; cpu: NodeJS.CpuUsage; kafka: number } | undefined;
  // The window opens when the group is joined (before the first fetch), so every event's fetch,
  // decompression and decoding is inside it; the join itself costs little CPU.
  consumer.on(consumer.events.GROUP_JOIN, () => {
    windowStart ??= { at: performance.now(), cpu: process.cpuUsage(), kafka: brokerPid ? treeCpuSeconds(brokerPid) : Number.NaN, consumed };
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      windowStart ??= { at: performance.now(), cpu: process.cpuUsage(), kafka: brokerPid ? treeCpuSeconds(brokerPid) : Number.NaN, consumed };
      consumed += batch.messages.length;
      if (consumed >= total && !end) {
        end = { at: performance.now(), cpu: process.cpuUsage(windowStart.cpu), kafka: brokerPid ? treeCpuSeconds(brokerPid) : Number.NaN };
        done?.();
      }
    },
  });
  const timeout = setTimeout(() => done?.(), 300_000);
  await finished;
  clearTimeout(timeout);
  await consumer.disconnect();
  if (!end || !windowStart) throw new Error(`baseline: consumed ${consumed} of ${total} in 300 s`);
  return {
    events: total - windowStart.consumed,
    wallSeconds: (end.at - windowStart.at) / 1000,
    cpuSeconds: (end.cpu.user + end.cpu.system) / 1e6,
    kafkaCpuSeconds: end.kafka - windowStart.kafka,
  };
}

/** Sum of `tributary_stats_events_total` over its `result` labels (applied, duplicate, late, …). */
async function statsCount(url: string): Promise<{ total: number; byResult: Record<string, number> }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const byResult: Record<string, number> = {};
  let total = 0;
  for (const line of text.split('\n')) {
    const match = /^tributary_stats_events_total\{[^}]*result="([^"]+)"[^}]*\}\s+(\S+)/.exec(line);
    if (!match) continue;
    byResult[match[1]] = Number(match[2]);
    total += Number(match[2]);
  }
  return { total, byResult };
}

async function runStats(gateway: ServiceProcess, total: number, brokerPid: number | undefined): Promise<Measured & { byResult: Record<string, number> }> {
  const pid = gateway.child.pid!;
  let start: { at: number; cpu: number; kafka: number; count: number } | undefined;
  let last = 0;
  let lastChange = Date.now();
  for (;;) {
    const { total: count, byResult } = await statsCount(gateway.url);
    const at = performance.now();
    if (count > 0 && !start) start = { at, cpu: cpuSeconds(pid), kafka: brokerPid ? treeCpuSeconds(brokerPid) : Number.NaN, count };
    if (count >= total && start) {
      return {
        events: count - start.count,
        wallSeconds: (at - start.at) / 1000,
        cpuSeconds: cpuSeconds(pid) - start.cpu,
        kafkaCpuSeconds: brokerPid ? treeCpuSeconds(brokerPid) - start.kafka : Number.NaN,
        byResult,
      };
    }
    if (count !== last) {
      last = count;
      lastChange = Date.now();
    } else if (Date.now() - lastChange > 60_000) {
      throw new Error(`stats processor: no progress for 60 s at ${count} of ${total} events (${JSON.stringify(byResult)})`);
    }
    // Each poll is a /metrics scrape the gateway pays for inside the window; events and CPU are
    // both counted between the same two polls, so a coarser poll costs precision, not bias.
    await sleep(STATS_POLL_MS);
  }
}

const STATS_POLL_MS = 500;

async function main(): Promise<void> {
  const config = parseEnv(benchEnvSpec, processEnv());
  const startedAt = new Date();
  const conditionsAtStart = machineConditions();
  log(`run ${runId}: ${conditionsAtStart}`);
  let localKafka: LocalKafka | undefined;
  const brokers = config.kafkaBrokers ?? (localKafka = await startLocalKafka({ log })).brokers;
  const brokerPid = localKafka?.pid ?? pidListeningOn(Number(brokers.split(',')[0].split(':').pop()));
  const kafkaConfig = parseKafkaConfig({ KAFKA_BROKERS: brokers });
  const kafka = createKafkaClient(kafkaConfig, `bench-${runId}`, kafkaLogger);
  let gateway: ServiceProcess | undefined;
  try {
    const topic = await createEventsTopic(kafka, prefix, config.partitions);
    log(`generating ${fmt(config.events)} events (${config.sessions} sessions, ${config.streams} streams)…`);
    const events = makeEvents(config);
    const valueBytes = events.reduce((sum, event) => sum + Buffer.byteLength(JSON.stringify(event)), 0) / events.length;
    const typeMix = new Map<string, number>();
    for (const event of events) typeMix.set(event.event_type, (typeMix.get(event.event_type) ?? 0) + 1);
    log(`producing into ${topic} (${kafkaConfig.compression})…`);
    const produceEps = await produce(kafka, topic, events, config, compressionType(kafkaConfig.compression));
    log(`produced at ${fmt(produceEps)} events/s; baseline consume…`);

    const baseline = await runBaseline(kafka, topic, config.events, brokerPid);
    log(`baseline ${fmt(baseline.events / baseline.wallSeconds)} events/s`);

    const loadBeforeStats = machineConditions();
    const runGateway = async (tracing: 'default' | 'off'): Promise<Measured & { byResult: Record<string, number> }> => {
      log(`starting event-gateway, tracing ${tracing} (its stats processor re-reads the topic)…`);
      const port = await freePort();
      gateway = await startService('event-gateway', {
        port,
        env: {
          KAFKA_BROKERS: brokers,
          TOPIC_PREFIX: prefix,
          KAFKA_EVENT_PARTITIONS: String(config.partitions),
          EVENT_GATEWAY_INSTANCE_ID: `bench-${runId}-${tracing}`,
          // A group per run: each gateway re-reads the whole topic into a fresh aggregator.
          STATS_CONSUMER_GROUP: `${prefix}.stats-processor.${tracing}`,
          // Every pre-produced event must be inside the re-read window and count as `applied`,
          // however long producing and the baseline took on a busy machine.
          STATS_ALLOWED_LATENESS_MS: '600000',
          // The stats role alone, as the chart deploys it (fan-out replicas run EVENT_GATEWAY_ROLES=fanout).
          EVENT_GATEWAY_ROLES: 'stats',
          LOG_LEVEL: 'warn',
          NODE_ENV: 'production',
          ...tracingEnv(tracing === 'off' ? 'off' : 'all'),
          ...(config.cpuProfDir ? preloadEnv({ cpuProfileFile: join(config.cpuProfDir, `stats-${tracing}-${runId}.cpuprofile`) }) : {}),
        },
        readyTimeoutMs: 120_000,
      });
      try {
        const measured = await runStats(gateway, config.events, brokerPid);
        log(`stats (tracing ${tracing}) ${fmt(measured.events / measured.wallSeconds)} events/s`);
        return measured;
      } finally {
        await gateway.stop();
        gateway = undefined;
      }
    };
    const stats = await runGateway('default');
    const untraced = config.tracingCompare ? await runGateway('off') : undefined;

    const row = (name: string, measured: Measured, extra: string): string[] => [
      name,
      fmt(measured.events),
      fmt(measured.wallSeconds, 2),
      fmt(measured.events / measured.wallSeconds),
      fmt(measured.cpuSeconds / measured.wallSeconds, 2),
      fmt(measured.events / measured.cpuSeconds),
      fmt((measured.cpuSeconds * 1e6) / measured.events, 1),
      fmt(measured.kafkaCpuSeconds / measured.wallSeconds, 2),
      extra,
    ];
    const perCore = (measured: Measured) => measured.events / measured.cpuSeconds;
    const ratio = perCore(stats) / perCore(baseline);
    const lines = [
      `Tributary stats-processor benchmark — ${startedAt.toISOString()} — run ${runId}`,
      `machine: ${conditionsAtStart}; at the stats phase: load avg ${loadBeforeStats.split('load avg 1 min ')[1]?.split(',')[0] ?? '?'}; Kafka ${brokers}${localKafka ? ' (started by the bench)' : ' (KAFKA_BROKERS)'}`,
      `events: ${fmt(config.events)} in ${config.sessions} sessions over ${config.streams} streams, ${config.partitions} partitions, ${kafkaConfig.compression}, ${fmt(valueBytes)} B JSON each; mix ${[...typeMix].map(([type, count]) => `${type} ${fmt((count * 100) / events.length)}%`).join(', ')}; produced at ${fmt(produceEps)} events/s`,
      '',
      table(
        ['consumer', 'events', 'wall s', 'events/s', 'cores used', 'events/s per core', 'µs CPU/event', 'kafka cores', 'notes'],
        [
          row('baseline: kafkajs eachBatch, discard', baseline, 'bench process (process.cpuUsage)'),
          row('stats processor (event-gateway)', stats, `gateway pid; results ${Object.entries(stats.byResult).map(([name, count]) => `${name} ${fmt(count)}`).join(' ')}`),
          ...(untraced ? [row('stats processor, OTEL_SDK_DISABLED', untraced, 'same, tracing off')] : []),
        ],
      ),
      '',
      `SUMMARY: stats processor ${fmt(perCore(stats))} events/s per core = ${fmt(ratio, 2)} of a discarding kafkajs consumer (${fmt(perCore(baseline))} events/s per core; issue 11 target ≥ ${TARGET_RATIO}: ${ratio >= TARGET_RATIO ? 'met' : 'MISSED'}); wall ${fmt(stats.events / stats.wallSeconds)} vs ${fmt(baseline.events / baseline.wallSeconds)} events/s`,
      ...(untraced
        ? [
            `TRACING: stats processor µs CPU per event with the default sampler ÷ tracing off = ${fmt(perCore(untraced) / perCore(stats), 2)} (target < 1.15: ${perCore(untraced) / perCore(stats) < 1.15 ? 'met' : 'MISSED'}); untraced ratio to the baseline ${fmt(perCore(untraced) / perCore(baseline), 2)}`,
          ]
        : []),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await gateway?.stop();
    await localKafka?.stop();
  }
}

/** Issue 11: stats processor events/s per core ÷ a discarding kafkajs consumer's. */
const TARGET_RATIO = 0.7;

main().catch((error: unknown) => {
  log(`FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
});
