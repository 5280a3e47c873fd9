import { Counter, Gauge } from 'prom-client';
import { registry } from './metrics';

function once<M>(name: string, create: () => M): M {
  return (registry.getSingleMetric(name) as M | undefined) ?? create();
}

/** ingest's RTMP/RTMPS server. Labels: `transport` (rtmp, rtmps) and a fixed set of reasons; never stream ids or keys. */
export const rtmpMetrics = {
  /** Open RTMP connections (handshaking, connected or publishing). */
  sessions: () =>
    once(
      'tributary_ingest_rtmp_sessions',
      () =>
        new Gauge({
          name: 'tributary_ingest_rtmp_sessions',
          help: 'Open RTMP/RTMPS connections on this ingest replica, by transport.',
          labelNames: ['transport'] as const,
          registers: [registry],
        }),
    ),
  /** Bytes read from RTMP sockets (after TLS), before remuxing. */
  bytesIn: () =>
    once(
      'tributary_ingest_rtmp_received_bytes_total',
      () =>
        new Counter({
          name: 'tributary_ingest_rtmp_received_bytes_total',
          help: 'Bytes received from RTMP/RTMPS publishers (RTMP chunk stream, after TLS), by transport.',
          labelNames: ['transport'] as const,
          registers: [registry],
        }),
    ),
  /** Publishes refused at `publish` or cut for their media (unknown-key, disabled, busy, capacity, unavailable, codec). */
  refused: () =>
    once(
      'tributary_ingest_rtmp_refused_publishes_total',
      () =>
        new Counter({
          name: 'tributary_ingest_rtmp_refused_publishes_total',
          help: 'RTMP publishes refused, by reason (unknown-key, disabled, busy, capacity, unavailable, codec).',
          labelNames: ['reason'] as const,
          registers: [registry],
        }),
    ),
  /** Connections closed for breaking the protocol or its limits, or for timeouts. */
  protocolErrors: () =>
    once(
      'tributary_ingest_rtmp_closed_connections_total',
      () =>
        new Counter({
          name: 'tributary_ingest_rtmp_closed_connections_total',
          help: 'RTMP connections closed by ingest, by cause (protocol, timeout).',
          labelNames: ['cause'] as const,
          registers: [registry],
        }),
    ),
};
