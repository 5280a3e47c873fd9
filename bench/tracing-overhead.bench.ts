/**
 * What 100 % trace sampling costs on the playback-event path: `node bench/dist/tracing-overhead.bench.js`.
 *
 * Runs the same load — batched POST /v1/events (viewer-api) → Kafka → event-gateway → Socket.IO
 * clients — against freshly started services in three modes:
 *   disabled   OTEL_SDK_DISABLED=true: no SDK, no instrumentation, no propagation (the baseline)
 *   no-export  SDK on, 100 % sampled, spans created and propagated but not exported (the default
 *              when no OTEL_EXPORTER_OTLP_ENDPOINT is set)
 *   exported-proto  SDK on, 100 % sampled (parentbased_always_on), batch span processor exporting
 *              OTLP/HTTP protobuf (the default protocol) to a receiver in this process
 *   exported-json   the same with OTEL_EXPORTER_OTLP_PROTOCOL=http/json (what the e2e tests use)
 * and prints, per mode, delivered events/s (throughput phase), POST→socket latency percentiles at
 * a fixed rate (latency phase), and the services' CPU µs per event, then the ratios to `disabled`.
 * CPU per event is the figure to trust on a shared machine; events/s and latency move with load.
 *
 * Reuses the playback-event benchmark's Socket.IO client fleet and report helpers (bench/lib).
 * Not a test: a missed figure is reported, not thrown.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { parseEnv, processEnv } from '@tributary/config';
import type { PlaybackEvent } from '@tributary/contracts';
import { freePort, type OtlpReceiver, type ServiceProcess, startLocalKafka, startOtlpReceiver, startService } from '@tributary/devkit';
import { ClientFleet } from './lib/client-fleet';
import { eventLoadEnvSpec } from './lib/event-load';
import { cpuPerEvent, CpuWatch, type CpuUse, fmt, machineConditions, percentile, pidListeningOn, sleep, table } from './lib/report';

const config = parseEnv(
  eventLoadEnvSpec({ events: 20_000, batch: 100, latencyRate: 500, latencySeconds: 10 }),
  processEnv(),
);

type Mode = 'disabled' | 'no-export' | 'exported-proto' | 'exported-json';
const MODES: Mode[] = ['disabled', 'no-export', 'exported-proto', 'exported-json'];
const runId = randomUUID().slice(0, 8);
let counter = 0;

function log(line: string): void {
  process.stderr.write(`[tracing-bench] ${line}\n`);
}

function makeEvent(): PlaybackEvent {
  const i = counter++;
  return {
    event_id: `${runId}-${i}`,
    session_id: `bench-session-${i % 500}`,
    user_id: `bench-user-${i % 2_000}`,
    stream_id: `bench-${runId}-${i % config.streams}`,
    event_type: 'position',
    position_seconds: (i % 7_200) + 0.25,
    bitrate_kbps: 4_500,
    device: 'web',
    ts: new Date().toISOString(),
  };
}

async function post(url: string, body: string): Promise<void> {
  const response = await fetch(`${url}/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  if (response.status !== 202) throw new Error(`POST /v1/events answered ${response.status}: ${(await response.text()).slice(0, 300)}`);
  await response.arrayBuffer();
}

async function untilDelivered(fleet: ClientFleet, expected: number, what: string): Promise<boolean> {
  let last = fleet.total;
  let lastChange = Date.now();
  while (fleet.min < expected) {
    await sleep(5);
    if (fleet.total !== last) {
      last = fleet.total;
      lastChange = Date.now();
    } else if (Date.now() - lastChange > 15_000) {
      log(`${what}: no progress for 15 s (min ${fleet.min}/${expected})`);
      return false;
    }
  }
  return true;
}

function modeEnv(mode: Mode, receiver: OtlpReceiver): Record<string, string> {
  if (mode === 'disabled') return { OTEL_SDK_DISABLED: 'true' };
  const sampled = { OTEL_TRACES_SAMPLER: 'parentbased_always_on' };
  if (mode === 'no-export') return sampled;
  const protocol = mode === 'exported-proto' ? 'http/protobuf' : 'http/json';
  return { ...sampled, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: protocol };
}

interface ModeResult {
  mode: Mode;
  eps: number;
  throughputCpu: CpuUse;
  p50: number;
  p99: number;
  latencyCpu: CpuUse;
  latencyEvents: number;
  /** Spans decoded (JSON mode only) and export requests received (any encoding). */
  spans: number;
  exportRequests: number;
}

async function runMode(mode: Mode, brokers: string, receiver: OtlpReceiver): Promise<ModeResult> {
  const prefix = `bench-trace-${runId}-${mode}`;
  const env = { KAFKA_BROKERS: brokers, TOPIC_PREFIX: prefix, LOG_LEVEL: 'warn', NODE_ENV: 'production', ...modeEnv(mode, receiver) };
  const viewerPort = await freePort();
  const gatewayPort = await freePort();
  const services: ServiceProcess[] = [];
  const spansBefore = receiver.spans.length;
  const requestsBefore = receiver.requests;
  try {
    services.push(await startService('viewer-api', { port: viewerPort, env, readyTimeoutMs: 120_000 }));
    services.push(
      await startService('event-gateway', {
        port: gatewayPort,
        env: { ...env, EVENT_GATEWAY_INSTANCE_ID: `bench-${runId}-${mode}` },
        readyTimeoutMs: 120_000,
      }),
    );
    const [viewerApi, gateway] = services as [ServiceProcess, ServiceProcess];
    const pids = new Map<string, number>([
      ['viewer-api', pidListeningOn(viewerPort) ?? viewerApi.child.pid!],
      ['event-gateway', pidListeningOn(gatewayPort) ?? gateway.child.pid!],
    ]);

    // Throughput: everything posted as fast as `concurrency` allows; time until every client has all.
    const fleet = await ClientFleet.start(gateway.url, config.clients, config.clientThreads, false, { kind: 'socket.io' });
    let eps = Number.NaN;
    let throughputCpu: CpuUse;
    try {
      await post(viewerApi.url, JSON.stringify(Array.from({ length: config.batch }, makeEvent)));
      await untilDelivered(fleet, config.batch, 'warm-up');
      await fleet.reset();
      const bodies: string[] = [];
      for (let sent = 0; sent < config.events; sent += config.batch) {
        bodies.push(JSON.stringify(Array.from({ length: Math.min(config.batch, config.events - sent) }, makeEvent)));
      }
      const watch = new CpuWatch(pids);
      const started = performance.now();
      let next = 0;
      await Promise.all(
        Array.from({ length: config.concurrency }, async () => {
          while (next < bodies.length) await post(viewerApi.url, bodies[next++]);
        }),
      );
      const delivered = await untilDelivered(fleet, config.events, 'throughput');
      const finished = performance.now();
      throughputCpu = watch.stop();
      if (delivered) eps = config.events / ((finished - started) / 1000);
    } finally {
      await fleet.close();
    }

    // Latency at a fixed rate: POST time (the event's ts) → receipt at each client.
    const latencyFleet = await ClientFleet.start(gateway.url, config.clients, config.clientThreads, true, { kind: 'socket.io' });
    let latencyCpu: CpuUse = { wallSeconds: 1, seconds: new Map() };
    let sorted: number[] = [];
    let latencyEvents = 0;
    try {
      const perTick = Math.max(1, Math.round(config.latencyRate / config.latencyTicks));
      const interval = 1000 / config.latencyTicks;
      const warmupMs = 2_000;
      const ticks = Math.ceil(((config.latencySeconds * 1000 + warmupMs) / 1000) * config.latencyTicks);
      const inFlight = new Set<Promise<void>>();
      const start = performance.now();
      let watch: CpuWatch | undefined;
      for (let tick = 0; tick < ticks; tick++) {
        const wait = start + tick * interval - performance.now();
        if (wait > 0) await sleep(wait);
        if (!watch && performance.now() - start >= warmupMs) {
          await latencyFleet.reset(Date.now());
          watch = new CpuWatch(pids);
        }
        const body = JSON.stringify(Array.from({ length: perTick }, makeEvent));
        if (watch) latencyEvents += perTick;
        const request = post(viewerApi.url, body)
          .catch((error: Error) => log(`latency POST failed: ${error.message}`))
          .finally(() => inFlight.delete(request));
        inFlight.add(request);
      }
      await Promise.all(inFlight);
      const deadline = Date.now() + 10_000;
      while (latencyFleet.total < latencyEvents * config.clients && Date.now() < deadline) await sleep(20);
      if (watch) latencyCpu = watch.stop();
      sorted = Array.from((await latencyFleet.collect()).latencies).sort((a, b) => a - b);
    } finally {
      await latencyFleet.close();
    }
    // Let the batch span processor flush before counting what arrived.
    if (mode.startsWith('exported')) await sleep(6_000);
    return {
      mode,
      eps,
      throughputCpu,
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      latencyCpu,
      latencyEvents,
      spans: receiver.spans.length - spansBefore,
      exportRequests: receiver.requests - requestsBefore,
    };
  } finally {
    for (const service of services.reverse()) await service.stop();
  }
}

function servicesMicrosPerEvent(use: CpuUse, events: number): number {
  return [...cpuPerEvent(use, events).values()].reduce((sum, micros) => sum + micros, 0);
}

async function main(): Promise<void> {
  log(machineConditions());
  const local = config.kafkaBrokers ? undefined : await startLocalKafka({ log: (line) => log(`local-kafka: ${line}`) });
  const brokers = config.kafkaBrokers ?? local!.brokers;
  const receiver = await startOtlpReceiver();
  // The receiver keeps spans in memory; keep only a count per run to bound memory.
  const results: ModeResult[] = [];
  try {
    for (const mode of MODES) {
      log(`mode ${mode}…`);
      results.push(await runMode(mode, brokers, receiver));
      receiver.spans.length = 0;
    }
  } finally {
    await receiver.close();
    await local?.stop();
  }
  const base = results[0];
  const rows = results.map((result) => {
    const cpu = servicesMicrosPerEvent(result.throughputCpu, config.events);
    const baseCpu = servicesMicrosPerEvent(base.throughputCpu, config.events);
    const perService = [...cpuPerEvent(result.throughputCpu, config.events)].map(([name, micros]) => `${name} ${fmt(micros, 1)}`).join(', ');
    return [
      result.mode,
      fmt(result.eps),
      fmt(result.eps / base.eps, 2),
      `${fmt(cpu, 1)} (${perService})`,
      fmt(cpu / baseCpu, 2),
      `${fmt(result.p50, 1)} / ${fmt(result.p99, 1)}`,
      fmt(result.p99 / base.p99, 2),
      `${result.exportRequests} / ${result.spans || '-'}`,
    ];
  });
  process.stdout.write(
    `\nTracing overhead on the event path (${config.events} events in batches of ${config.batch}, ${config.clients} Socket.IO clients; latency at ${config.latencyRate} events/s for ${config.latencySeconds} s)\n` +
      `${machineConditions()}\n\n` +
      table(['mode', 'events/s', '× disabled', 'services CPU µs/event', '× disabled', 'latency p50 / p99 ms', 'p99 × disabled', 'export requests / spans decoded'], rows) +
      '\n',
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`tracing-overhead bench failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
