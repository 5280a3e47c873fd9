import { int, optionalStr } from '@tributary/config';

/** Defaults that differ between the benchmarks driving POST /v1/events → Socket.IO load. */
export interface EventLoadDefaults {
  events: number;
  batch: number;
  latencyRate: number;
  latencySeconds: number;
}

/**
 * The environment of a playback-event load (broker, volume, batching, Socket.IO clients, latency
 * phase), shared by the events and tracing-overhead benchmarks; spread it into a parseEnv spec.
 */
export function eventLoadEnvSpec(defaults: EventLoadDefaults) {
  return {
    kafkaBrokers: optionalStr('KAFKA_BROKERS'),
    events: int('BENCH_EVENTS', { default: defaults.events, min: 1_000 }),
    batch: int('BENCH_BATCH', { default: defaults.batch, min: 1, max: 500 }),
    concurrency: int('BENCH_CONCURRENCY', { default: 4, min: 1, max: 64 }),
    clients: int('BENCH_CLIENTS', { default: 10, min: 1, max: 1_000 }),
    /** Worker threads the Socket.IO clients are spread over (decoding is the harness's main cost). */
    clientThreads: int('BENCH_CLIENT_THREADS', { default: 2, min: 1, max: 16 }),
    streams: int('BENCH_STREAMS', { default: 12, min: 1, max: 1_000 }),
    latencyRate: int('BENCH_LATENCY_RATE', { default: defaults.latencyRate, min: 10, max: 100_000 }),
    latencySeconds: int('BENCH_LATENCY_SECONDS', { default: defaults.latencySeconds, min: 3, max: 600 }),
    /** POSTs per second in the latency phase (events per POST = rate / this). */
    latencyTicks: int('BENCH_LATENCY_TICKS', { default: 20, min: 1, max: 1_000 }),
  };
}
