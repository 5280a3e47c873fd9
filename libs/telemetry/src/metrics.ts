import { collectDefaultMetrics, Counter, Gauge, Histogram, type Metric, register, type Registry } from 'prom-client';

/**
 * Prometheus metrics, with prom-client (not the OpenTelemetry Prometheus exporter) because:
 * - it is the de-facto Node client: default process/GC/event-loop-lag metrics built in, native
 *   histograms/counters with Prometheus semantics (names, `_total`, `le` buckets) and no
 *   translation layer (the OTel exporter renames units/suffixes and its Node SDK metrics API was
 *   still marked experimental for Node 20's 0.2xx line);
 * - a scrape reads current values synchronously, so gauges such as consumer lag or socket clients
 *   are exactly what the process holds at scrape time.
 *
 * One registry per process: prom-client's default `register`, so metrics a service registers
 * directly with prom-client (without `registers: [...]`) are scraped too. Naming: `tributary_<what>_<unit>` with `_seconds`, `_bytes`,
 * `_total`; labels are low-cardinality only (topic, group, partition, route template, rendition)
 * — never session, user, event or stream ids.
 */
export const registry: Registry = register;

let defaultsCollected = false;

/** Labels on every series (service name); call once at start-up. */
export function initMetrics(service: string): Registry {
  if (!defaultsCollected) {
    defaultsCollected = true;
    registry.setDefaultLabels({ service });
    collectDefaultMetrics({ register: registry });
  }
  return registry;
}

/** Gets or creates a metric by name, so libraries and services share one instance. */
function once<M extends Metric>(name: string, create: () => M): M {
  return (registry.getSingleMetric(name) as M | undefined) ?? create();
}

const SECONDS_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

// ---------------------------------------------------------------------------------------- HTTP

export function httpRequestDuration(): Histogram<'method' | 'route' | 'status_class'> {
  return once(
    'tributary_http_request_duration_seconds',
    () =>
      new Histogram({
        name: 'tributary_http_request_duration_seconds',
        help: 'HTTP request duration by method, route template (never the raw path) and status class (2xx…).',
        labelNames: ['method', 'route', 'status_class'] as const,
        buckets: SECONDS_BUCKETS,
        registers: [registry],
      }),
  );
}

/** `2xx`, `4xx`… */
export function statusClass(status: number): string {
  return `${Math.floor(status / 100)}xx`;
}

// --------------------------------------------------------------------------------------- Kafka

export const kafkaMetrics = {
  produced: () =>
    once(
      'tributary_kafka_produced_messages_total',
      () =>
        new Counter({
          name: 'tributary_kafka_produced_messages_total',
          help: 'Messages acknowledged by Kafka (acks=all), per topic.',
          labelNames: ['topic'] as const,
          registers: [registry],
        }),
    ),
  produceErrors: () =>
    once(
      'tributary_kafka_produce_errors_total',
      () =>
        new Counter({
          name: 'tributary_kafka_produce_errors_total',
          help: 'Messages whose send failed after the client retries, per topic.',
          labelNames: ['topic'] as const,
          registers: [registry],
        }),
    ),
  producedBytes: () =>
    once(
      'tributary_kafka_produced_bytes_total',
      () =>
        new Counter({
          name: 'tributary_kafka_produced_bytes_total',
          help: 'Value bytes acknowledged by Kafka, per topic.',
          labelNames: ['topic'] as const,
          registers: [registry],
        }),
    ),
  consumed: () =>
    once(
      'tributary_kafka_consumed_messages_total',
      () =>
        new Counter({
          name: 'tributary_kafka_consumed_messages_total',
          help: 'Messages processed by a consumer group, per topic.',
          labelNames: ['group', 'topic'] as const,
          registers: [registry],
        }),
    ),
  batchDuration: () =>
    once(
      'tributary_kafka_consume_batch_duration_seconds',
      () =>
        new Histogram({
          name: 'tributary_kafka_consume_batch_duration_seconds',
          help: 'Time to process one fetched batch (eachMessage calls or one eachBatch), per group and topic.',
          labelNames: ['group', 'topic'] as const,
          buckets: SECONDS_BUCKETS,
          registers: [registry],
        }),
    ),
  lag: () =>
    once(
      'tributary_kafka_consumer_lag_messages',
      () =>
        new Gauge({
          name: 'tributary_kafka_consumer_lag_messages',
          help: 'Log-end offset minus the group committed offset, per group/topic/partition (sampled on a timer).',
          labelNames: ['group', 'topic', 'partition'] as const,
          registers: [registry],
        }),
    ),
  lagScrapeErrors: () =>
    once(
      'tributary_kafka_consumer_lag_errors_total',
      () =>
        new Counter({
          name: 'tributary_kafka_consumer_lag_errors_total',
          help: 'Failed consumer-lag samples (admin requests that failed).',
          labelNames: ['group'] as const,
          registers: [registry],
        }),
    ),
};

// ----------------------------------------------------------------------------- Domain metrics
// Created on first use, so a service only exports the series it actually has.

let activeStreamsReader: (() => number) | undefined;

export const streamMetrics = {
  /**
   * ingest: publishers connected (inc/dec); transcoder: streams being transcoded (pass `read`,
   * evaluated at scrape time).
   */
  active: (read?: () => number) => {
    if (read) activeStreamsReader = read;
    return once(
      'tributary_active_streams',
      () =>
        new Gauge({
          name: 'tributary_active_streams',
          help: 'Streams currently active in this process (ingest: publishing, transcoder: transcoding).',
          registers: [registry],
          collect() {
            if (activeStreamsReader) this.set(activeStreamsReader());
          },
        }),
    );
  },
  ingestedBytes: () =>
    once(
      'tributary_ingest_bytes_total',
      () =>
        new Counter({
          name: 'tributary_ingest_bytes_total',
          help: 'Bytes received from publishers, by kind (video, frame).',
          labelNames: ['kind'] as const,
          registers: [registry],
        }),
    ),
};

export const transcodeMetrics = {
  segments: () =>
    once(
      'tributary_segments_produced_total',
      () =>
        new Counter({
          name: 'tributary_segments_produced_total',
          help: 'HLS segments produced and published, per rendition.',
          labelNames: ['rendition'] as const,
          registers: [registry],
        }),
    ),
  encodeSeconds: () =>
    once(
      'tributary_segment_encode_seconds',
      () =>
        new Histogram({
          name: 'tributary_segment_encode_seconds',
          help: 'Wall time from the first chunk of a segment entering ffmpeg to the segment being written, per rendition.',
          labelNames: ['rendition'] as const,
          buckets: [0.1, 0.25, 0.5, 1, 2, 3, 4, 6, 8, 12, 20],
          registers: [registry],
        }),
    ),
  speed: () =>
    once(
      'tributary_transcode_speed_ratio',
      () =>
        new Gauge({
          name: 'tributary_transcode_speed_ratio',
          help: 'Media seconds produced per wall-clock second (1 = real time; below 1 the transcoder falls behind), last segment, per rendition.',
          labelNames: ['rendition'] as const,
          registers: [registry],
        }),
    ),
  /** Edge delay of live streams, sampled once a second per stream (no stream label). */
  edgeDelay: () =>
    once(
      'tributary_transcode_edge_delay_seconds',
      () =>
        new Histogram({
          name: 'tributary_transcode_edge_delay_seconds',
          help: 'How long the oldest input of a live stream not yet covered by published output has waited since ingest, sampled every second per live stream.',
          buckets: [0.5, 1, 2, 3, 4, 6, 8, 12, 20, 30, 60, 120],
          registers: [registry],
        }),
    ),
  shedding: () =>
    once(
      'tributary_transcode_shedding_streams',
      () =>
        new Gauge({
          name: 'tributary_transcode_shedding_streams',
          help: 'Live streams transcoded with shed work, by level (1 = top rendition dropped, 2 = and a faster preset).',
          labelNames: ['level'] as const,
          registers: [registry],
        }),
    ),
  sheds: () =>
    once(
      'tributary_transcode_shed_actions_total',
      () =>
        new Counter({
          name: 'tributary_transcode_shed_actions_total',
          help: 'Work shed or restored to keep live streams within their latency bound, by action.',
          labelNames: ['action'] as const,
          registers: [registry],
        }),
    ),
  backlogSessions: () =>
    once(
      'tributary_transcode_backlog_streams',
      () =>
        new Gauge({
          name: 'tributary_transcode_backlog_streams',
          help: 'Publish sessions whose publisher is gone, held as backlog, by state (running = being transcoded, waiting).',
          labelNames: ['state'] as const,
          registers: [registry],
        }),
    ),
  backlogAge: () =>
    once(
      'tributary_transcode_backlog_oldest_seconds',
      () =>
        new Gauge({
          name: 'tributary_transcode_backlog_oldest_seconds',
          help: 'Age (since ingest) of the oldest backlog input not yet transcoded; 0 without backlog.',
          registers: [registry],
        }),
    ),
  skippedChunks: () =>
    once(
      'tributary_transcode_skipped_chunks_total',
      () =>
        new Counter({
          name: 'tributary_transcode_skipped_chunks_total',
          help: 'Input chunks never transcoded (a recorded gap), by reason (backlog_skipped, backlog_cut, skip_to_live).',
          labelNames: ['reason'] as const,
          registers: [registry],
        }),
    ),
  ffmpegRestarts: () =>
    once(
      'tributary_ffmpeg_restarts_total',
      () =>
        new Counter({
          name: 'tributary_ffmpeg_restarts_total',
          help: 'ffmpeg processes restarted after exiting unexpectedly.',
          labelNames: ['reason'] as const,
          registers: [registry],
        }),
    ),
  /** Low-latency HLS: from ffmpeg writing a part (or init segment) to Kafka acknowledging it (budget ~50 ms). */
  partProduceDelay: () =>
    once(
      'tributary_ll_part_produce_delay_seconds',
      () =>
        new Histogram({
          name: 'tributary_ll_part_produce_delay_seconds',
          help: 'Low-latency HLS: time from ffmpeg writing a part (kind part) or init segment (kind init) to Kafka acknowledging it on video.segments.',
          labelNames: ['kind'] as const,
          buckets: [0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1],
          registers: [registry],
        }),
    ),
  /** Low-latency HLS: media duration of each part produced (PART-TARGET is the longest, rounded up). */
  partDuration: () =>
    once(
      'tributary_ll_part_duration_seconds',
      () =>
        new Histogram({
          name: 'tributary_ll_part_duration_seconds',
          help: 'Low-latency HLS: media duration of the parts produced.',
          buckets: [0.05, 0.1, 0.15, 0.2, 0.22, 0.25, 0.3, 0.4, 0.5, 1],
          registers: [registry],
        }),
    ),
};

let windowBytesReader: (() => number) | undefined;

export const viewerMetrics = {
  /** The gauge reads `read()` at scrape time (the window store's byte count). */
  windowBytes: (read?: () => number) => {
    if (read) windowBytesReader = read;
    return once(
      'tributary_viewer_window_bytes',
      () =>
        new Gauge({
          name: 'tributary_viewer_window_bytes',
          help: 'Bytes held in the in-memory live HLS window (segments kept for serving).',
          registers: [registry],
          collect() {
            if (windowBytesReader) this.set(windowBytesReader());
          },
        }),
    );
  },
  eventsRefused: () =>
    once(
      'tributary_events_refused_total',
      () =>
        new Counter({
          name: 'tributary_events_refused_total',
          help: 'POST /v1/events requests answered 503 by admission control (EVENTS_MAX_IN_FLIGHT_BYTES reached).',
          registers: [registry],
        }),
    ),
  segmentsServed: () =>
    once(
      'tributary_segments_served_total',
      () =>
        new Counter({
          name: 'tributary_segments_served_total',
          help: 'HLS segments served to viewers, per rendition and result (hit, miss).',
          labelNames: ['rendition', 'result'] as const,
          registers: [registry],
        }),
    ),
};

export const gatewayMetrics = {
  clients: () =>
    once(
      'tributary_socket_clients',
      () =>
        new Gauge({
          name: 'tributary_socket_clients',
          help: 'Socket.IO clients connected to this gateway.',
          registers: [registry],
        }),
    ),
  emitted: () =>
    once(
      'tributary_events_emitted_total',
      () =>
        new Counter({
          name: 'tributary_events_emitted_total',
          help: 'Events emitted to Socket.IO rooms, per event name (one count per emit, not per client).',
          labelNames: ['event'] as const,
          registers: [registry],
        }),
    ),
  dropped: () =>
    once(
      'tributary_events_dropped_total',
      () =>
        new Counter({
          name: 'tributary_events_dropped_total',
          help: 'Events not delivered to Socket.IO clients, per reason (invalid: dead-lettered, emit_failed, redelivered: re-read after a rebalance and already delivered).',
          labelNames: ['reason'] as const,
          registers: [registry],
        }),
    ),
};

/** Where a delivery's time goes between Kafka and the sockets (event-gateway fan-out). */
export const fanoutDelayMetrics = {
  /** Kafka record timestamp (producer CreateTime) → written to the sockets, once per flush (its oldest event). */
  delay: () =>
    once(
      'tributary_fanout_delay_seconds',
      () =>
        new Histogram({
          name: 'tributary_fanout_delay_seconds',
          help: "Time from the Kafka record's timestamp (the producer's CreateTime) of the oldest event in a fan-out flush to that flush's socket writes, per stage (consumed: handed to the fan-out; written: written to every socket).",
          labelNames: ['stage'] as const,
          buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
          registers: [registry],
        }),
    ),
};

let queueDepthReader: (() => number) | undefined;
let leaderReader: (() => boolean) | undefined;

/** The LiveStream operator (services/operator). Labels never carry a LiveStream's name or namespace. */
export const operatorMetrics = {
  /** One count per finished reconcile, by result (`success`, `error`: threw and was retried with backoff, `requeue`: asked to run again later). */
  reconciles: () =>
    once(
      'tributary_operator_reconciles_total',
      () =>
        new Counter({
          name: 'tributary_operator_reconciles_total',
          help: 'LiveStream reconciles, by result (success, error, requeue).',
          labelNames: ['result'] as const,
          registers: [registry],
        }),
    ),
  reconcileDuration: () =>
    once(
      'tributary_operator_reconcile_duration_seconds',
      () =>
        new Histogram({
          name: 'tributary_operator_reconcile_duration_seconds',
          help: 'Wall time of one LiveStream reconcile, by result.',
          labelNames: ['result'] as const,
          buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
          registers: [registry],
        }),
    ),
  /** Keys waiting in the work queue; `read` is evaluated at scrape time (e.g. `() => queue.depth`). */
  queueDepth: (read?: () => number) => {
    if (read) queueDepthReader = read;
    return once(
      'tributary_operator_queue_depth',
      () =>
        new Gauge({
          name: 'tributary_operator_queue_depth',
          help: 'LiveStream keys waiting in the work queue (not counting delayed retries or keys being handled).',
          registers: [registry],
          collect() {
            if (queueDepthReader) this.set(queueDepthReader());
          },
        }),
    );
  },
  /** 1 while this replica holds the leader Lease, else 0; `read` is evaluated at scrape time. */
  leader: (read?: () => boolean) => {
    if (read) leaderReader = read;
    return once(
      'tributary_operator_leader',
      () =>
        new Gauge({
          name: 'tributary_operator_leader',
          help: '1 while this replica holds the leader Lease (and acts), 0 otherwise.',
          registers: [registry],
          collect() {
            if (leaderReader) this.set(leaderReader() ? 1 : 0);
          },
        }),
    );
  },
  leadershipChanges: () =>
    once(
      'tributary_operator_leadership_changes_total',
      () =>
        new Counter({
          name: 'tributary_operator_leadership_changes_total',
          help: 'Times this replica started or stopped leading, by change (started, stopped).',
          labelNames: ['change'] as const,
          registers: [registry],
        }),
    ),
  /** The lag fallback's last computation (only with the lag autoscaler on). */
  autoscalerLag: () =>
    once(
      'tributary_operator_autoscaler_lag_messages',
      () =>
        new Gauge({
          name: 'tributary_operator_autoscaler_lag_messages',
          help: 'Total lag of the scaled consumer group on its topic, as the lag autoscaler last read it (KEDA rules for uncommitted partitions).',
          labelNames: ['group', 'topic'] as const,
          registers: [registry],
        }),
    ),
  autoscalerDesiredReplicas: () =>
    once(
      'tributary_operator_autoscaler_desired_replicas',
      () =>
        new Gauge({
          name: 'tributary_operator_autoscaler_desired_replicas',
          help: 'Replicas the lag autoscaler last decided for its Deployment (after the stabilisation window).',
          labelNames: ['deployment'] as const,
          registers: [registry],
        }),
    ),
  autoscalerScales: () =>
    once(
      'tributary_operator_autoscaler_scales_total',
      () =>
        new Counter({
          name: 'tributary_operator_autoscaler_scales_total',
          help: 'Scale subresource writes by the lag autoscaler, by direction (up, down) and result (ok, error).',
          labelNames: ['deployment', 'direction', 'result'] as const,
          registers: [registry],
        }),
    ),
};

/** The registry as Prometheus text exposition format. */
export async function metricsText(): Promise<{ contentType: string; body: string }> {
  return { contentType: registry.contentType, body: await registry.metrics() };
}
