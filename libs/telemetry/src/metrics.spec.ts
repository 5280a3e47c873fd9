import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { propagation } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { Kafka } from 'kafkajs';
import { ConsumerLagMonitor, type LagAdmin } from './kafka-metrics';
import { SegmentLinkTracker } from './media-tracing';
import {
  gatewayMetrics,
  httpRequestDuration,
  initMetrics,
  kafkaMetrics,
  registry,
  statusClass,
  streamMetrics,
  transcodeMetrics,
  viewerMetrics,
} from './metrics';

const traceparent = (span: string) => `00-${'a'.repeat(32)}-${span.padStart(16, '0')}-01`;

describe('metric definitions', () => {
  beforeAll(() => {
    initMetrics('spec');
    for (const group of [kafkaMetrics, streamMetrics, transcodeMetrics, viewerMetrics, gatewayMetrics]) {
      for (const create of Object.values(group)) (create as () => unknown)();
    }
    httpRequestDuration();
  });

  it('names every metric with a unit or _total and never labels by ids', async () => {
    const metrics = await registry.getMetricsAsJSON();
    const ours = metrics.filter((metric) => metric.name.startsWith('tributary_'));
    expect(ours.length).toBeGreaterThanOrEqual(19);
    for (const metric of ours) {
      if (metric.type === ('counter' as never)) expect(metric.name).toMatch(/_total$/);
      else expect(metric.name).toMatch(/_(seconds|bytes|messages|ratio|streams|clients)$/);
    }
    const text = await registry.metrics();
    expect(text).not.toMatch(/(session|user|event_id|stream_id)=/);
  });

  it('returns the same instance on every call (services and libraries share series)', () => {
    expect(kafkaMetrics.lag()).toBe(kafkaMetrics.lag());
    expect(httpRequestDuration()).toBe(httpRequestDuration());
  });

  it('groups status codes into classes', () => {
    expect([200, 204, 404, 503].map(statusClass)).toEqual(['2xx', '2xx', '4xx', '5xx']);
  });

  it('defines every series the Grafana dashboard queries', async () => {
    const dashboard = JSON.parse(
      readFileSync(join(__dirname, '../../../helm/tributary/dashboards/tributary.json'), 'utf8'),
    ) as { panels: { targets?: { expr: string }[] }[] };
    const defined = new Set((await registry.getMetricsAsJSON()).map((metric) => metric.name));
    const queried = new Set<string>();
    for (const panel of dashboard.panels) {
      for (const target of panel.targets ?? []) {
        for (const [, name] of target.expr.matchAll(/\b((?:tributary|process|nodejs)_[a-z0-9_]+)\{/g)) {
          queried.add(name.replace(/_(bucket|count|sum)$/, ''));
        }
      }
    }
    expect(queried.size).toBeGreaterThan(15);
    expect([...queried].filter((name) => !defined.has(name))).toEqual([]);
  });
});

describe(SegmentLinkTracker.name, () => {
  // What the SDK registers in services (here without starting it).
  beforeAll(() => propagation.setGlobalPropagator(new W3CTraceContextPropagator()));
  afterAll(() => propagation.disable());

  it('links each rendition’s segment to the chunks written since that rendition’s previous segment', () => {
    const tracker = new SegmentLinkTracker();
    tracker.chunkWritten({ traceparent: traceparent('1') }, 1_000);
    tracker.chunkWritten({ traceparent: traceparent('2') }, 2_000);
    const first720 = tracker.segmentDone('720p');
    expect(first720.links.map((link) => link.context.spanId)).toEqual([traceparent('1').slice(36, 52), traceparent('2').slice(36, 52)]);
    expect(first720.firstWrittenAt).toBe(1_000);
    tracker.chunkWritten({ traceparent: traceparent('3') }, 3_000);
    // 360p has not produced yet: its segment covers all three chunks; 720p's next only the third.
    expect(tracker.segmentDone('360p').links).toHaveLength(3);
    const second720 = tracker.segmentDone('720p');
    expect(second720.links.map((link) => link.context.spanId)).toEqual([traceparent('3').slice(36, 52)]);
    expect(second720.firstWrittenAt).toBe(3_000);
    expect(tracker.segmentDone('720p')).toEqual({ links: [], firstWrittenAt: undefined });
  });

  it('skips chunks without trace context and keeps at most maxLinks, the most recent', () => {
    const tracker = new SegmentLinkTracker(2);
    tracker.chunkWritten(undefined);
    for (const span of ['1', '2', '3']) tracker.chunkWritten({ traceparent: traceparent(span) });
    tracker.chunkWritten({ traceparent: 'garbage' });
    const { links, firstWrittenAt } = tracker.segmentDone('r');
    expect(links.map((link) => link.context.spanId)).toEqual([traceparent('2').slice(36, 52), traceparent('3').slice(36, 52)]);
    expect(firstWrittenAt).toEqual(expect.any(Number)); // encode time works without trace context
  });
});

describe(ConsumerLagMonitor.name, () => {
  function fakeAdmin(committed: Record<number, string>, ends: Record<number, string>): LagAdmin & { connects: number } {
    const admin = {
      connects: 0,
      connect: () => {
        admin.connects += 1;
        return Promise.resolve();
      },
      disconnect: () => Promise.resolve(),
      fetchOffsets: () =>
        Promise.resolve([
          { topic: 't', partitions: Object.entries(committed).map(([partition, offset]) => ({ partition: Number(partition), offset, metadata: null })) },
        ]),
      fetchTopicOffsets: () =>
        Promise.resolve(Object.entries(ends).map(([partition, high]) => ({ partition: Number(partition), offset: high, high, low: '0' }))),
    };
    return admin;
  }

  async function lagOf(group: string): Promise<Record<string, number>> {
    const metric = await kafkaMetrics.lag().get();
    return Object.fromEntries(
      metric.values.filter((value) => value.labels.group === group).map((value) => [String(value.labels.partition), value.value]),
    );
  }

  it('reports end − committed per partition, skips partitions never committed, and removes a group’s series on untrack', async () => {
    const admin = fakeAdmin({ 0: '10', 1: '-1', 2: '7' }, { 0: '25', 1: '40', 2: '7' });
    const monitor = new ConsumerLagMonitor(60_000, () => admin);
    monitor.track({} as Kafka, 'g1', ['t']);
    await monitor.sampleOnce();
    expect(await lagOf('g1')).toEqual({ 0: 15, 2: 0 });
    await monitor.sampleOnce();
    expect(admin.connects).toBe(1);
    await monitor.untrack('g1');
    expect(await lagOf('g1')).toEqual({});
    await monitor.close();
  });

  it('counts a failed sample and reconnects next time', async () => {
    const admin = fakeAdmin({ 0: '1' }, { 0: '2' });
    let fail = true;
    const original = admin.fetchOffsets;
    admin.fetchOffsets = (async (...args: Parameters<LagAdmin['fetchOffsets']>) => {
      if (fail) throw new Error('broker down');
      return original(...args);
    });
    const monitor = new ConsumerLagMonitor(60_000, () => admin);
    monitor.track({} as Kafka, 'g2', ['t']);
    await monitor.sampleOnce();
    expect((await kafkaMetrics.lagScrapeErrors().get()).values.find((value) => value.labels.group === 'g2')?.value).toBe(1);
    fail = false;
    await monitor.sampleOnce();
    expect(await lagOf('g2')).toEqual({ 0: 1 });
    expect(admin.connects).toBe(2);
    await monitor.close();
  });
});
