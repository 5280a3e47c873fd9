import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { Topics, topicName } from '@tributary/contracts';
import { createStream, startVideoStack, type VideoStack } from './support/video-stack';
import { type FfmpegRun, kafkaFor, publishTestPattern, TopicTap } from './support/video-topics';
import { percentile } from './support/percentile';
import { parsePrometheusText, sampleValue } from './support/prometheus-text';

/**
 * Issue 14, overload: more 720p ladders than this 2-core machine transcodes in real time (three
 * 720p25 publishes, each a 720p/480p/360p ladder at `medium`, shed to `veryfast`, plus their
 * publishers; at `faster` a quiet machine sometimes kept up with all three, so nothing was
 * shed). Each live stream that trails its bound (2 segments = 4 s here) sheds work — the top
 * rendition first, then the faster preset, then skips to the newest keyframe — and says so in
 * stream.status (`detail`), viewer-api's /v1/streams, the log and the metrics. Once a stream's
 * shedding took hold (two bounds after its first shed action, and a bound after its first skip
 * if it needed the skip step: start-up and the backlog the shed restarts re-feed are before that),
 * its edge delay (the transcoder's own measure, one sample per second
 * from its debug log line `edge delay`) must stay within the bound plus one segment for most
 * samples of all shed streams together (≥ 75 %) and at least half of each one's, whichever step
 * it needed (how much overload is left depends on what else loads the machine: the skip step was
 * reached at load averages of 8–12, the top rendition was enough at 15–19 with this test niced);
 * the distribution is printed. The publishers stop one after another
 * (40, 50, 80 s): a stream gets headroom and its work comes back (`restore_*`; on a quiet machine
 * that can happen before the first stop).
 * Build first: `npx tsc -b services/ingest services/transcoder services/viewer-api`.
 */
const brokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const prefix = `t-${randomUUID().slice(0, 8)}`;
const topic = (base: string) => topicName(base, prefix);
const SEGMENT_MS = 2_000;
const BOUND_MS = 2 * SEGMENT_MS;
const LIMIT_MS = BOUND_MS + SEGMENT_MS;
const LENGTHS_S = [40, 50, 80];

let stack: VideoStack;
let tap: TopicTap;
const publishers: FfmpegRun[] = [];

const shedReportsOf = (id: string) => tap.statuses(topic(Topics.streamStatus), id).filter((s) => s.reporter === 'transcoder' && s.detail?.action);
const detailsOf = (id: string) => shedReportsOf(id).map((s) => s.detail!);

interface LogLine {
  time: string;
  msg: string;
  streamId?: string;
  action?: string;
  edgeDelayMs?: number;
}

const share = (values: number[], limit: number) => values.filter((value) => value <= limit).length / values.length;

beforeAll(async () => {
  stack = await startVideoStack({
    brokers,
    prefix,
    transcoderEnv: {
      // `debug`: one `edge delay` line per live stream per second (the per-stream samples).
      LOG_LEVEL: 'debug',
      TRANSCODER_PRESET: 'medium',
      TRANSCODER_SHED_PRESET: 'veryfast',
      TRANSCODER_THREADS: '1',
      TRANSCODER_SHEDDING: 'on',
      TRANSCODER_LIVE_MAX_TRAIL_SEGMENTS: String(BOUND_MS / SEGMENT_MS),
      TRANSCODER_SHED_RESTORE_MS: '8000',
    },
  });
  tap = await new TopicTap(kafkaFor(brokers), [topic(Topics.streamStatus)]).start();
}, 240_000);

afterAll(async () => {
  for (const publisher of publishers) publisher.kill();
  await tap?.stop();
  await stack?.stop();
});

it('keeps overloaded live streams within their bound plus a segment by shedding, in order, restores work when a stream stops, and reports it in status, API, log and metrics', async () => {
  const ids = ['a', 'b', 'c'].map((name) => `load-${name}-${randomUUID().slice(0, 4)}`);
  const endedAt = new Map<string, number>();
  for (const [i, id] of ids.entries()) {
    const key = await createStream(stack.ingest.url, id);
    const publisher = publishTestPattern(`${stack.ingest.url}/live/${key}`, { size: '1280x720', rate: 25, seconds: LENGTHS_S[i] });
    void publisher.done.then(() => endedAt.set(id, Date.now()));
    publishers.push(publisher);
  }

  // Overloaded: some live stream drops its top rendition, reported with its edge delay.
  const shed = await tap.waitFor(
    () => ids.map((id) => ({ id, detail: detailsOf(id).find((d) => d.action === 'drop_rendition') })).find((s) => s.detail),
    120_000,
    'a stream shedding its top rendition',
  );
  expect(shed.detail).toMatchObject({ mode: 'live', shed_level: 1, dropped_renditions: ['720p'] });
  expect(shed.detail!.edge_delay_ms).toBeGreaterThan(BOUND_MS);
  const shedNow = await fetch(`${stack.viewer.url}/v1/streams/${shed.id}`).then((r) => r.json() as Promise<{ transcode: { shed_level?: number } | null }>);
  expect(shedNow.transcode?.shed_level).toBeGreaterThanOrEqual(1);

  await Promise.all(publishers.map((publisher) => publisher.done));
  const firstEnd = Math.min(...endedAt.values());
  // The transcoder's JSON log lines since it started (the edge delay samples from shedding on).
  const lines = stack.transcoder.jsonLines<LogLine>({ fromStart: true });
  const at = (line: LogLine) => Date.parse(line.time);
  const actionsAt = (id: string) => lines.filter((line) => line.streamId === id && line.action && /shedding work|restoring work/.test(line.msg)).map((line) => ({ t: at(line), action: line.action! }));

  let measured = 0;
  const pooled: number[] = [];
  for (const id of ids) {
    const actions = actionsAt(id);
    console.log(`actions of ${id}: ${actions.map((a) => a.action).join(' → ') || 'none'}`);
    // The documented order, until work first comes back: the top rendition, then the preset, then skips.
    const firstRestore = actions.findIndex((a) => a.action.startsWith('restore'));
    const sheds = (firstRestore < 0 ? actions : actions.slice(0, firstRestore)).map((a) => a.action);
    const order = ['drop_rendition', 'faster_preset', 'skip_to_live'];
    for (let i = 1; i < sheds.length; i += 1) expect(order.indexOf(sheds[i])).toBeGreaterThanOrEqual(order.indexOf(sheds[i - 1]));

    // Once shedding took hold: from two bounds after its first action (a bound after its first
    // skip, if it got there) until the publisher stopped, later restarts (restores, shedding
    // again) and skips included.
    if (actions.length === 0) {
      console.log(`${id}: shed nothing (the machine kept up)`);
      continue;
    }
    const skipStep = actions.find((a) => a.action === 'skip_to_live');
    const from = Math.max(actions[0].t + 2 * BOUND_MS, skipStep ? skipStep.t + BOUND_MS : 0);
    const to = endedAt.get(id)!;
    const delays = lines.filter((line) => line.streamId === id && line.msg === 'edge delay' && at(line) >= from && at(line) < to).map((line) => line.edgeDelayMs!);
    if (delays.length < 5) {
      console.log(`${id}: only ${delays.length} samples once shedding took hold`);
      continue;
    }
    measured += 1;
    pooled.push(...delays);
    const within = share(delays, LIMIT_MS);
    console.log(
      `${id} once shedding took hold (${skipStep ? `skip step reached +${((skipStep.t - actions[0].t) / 1000).toFixed(0)} s` : 'no skip needed'}): ${delays.length} samples over ${((to - from) / 1000).toFixed(0)} s; edge delay p50 ${(percentile(delays, 50) / 1000).toFixed(1)} s, p90 ${(percentile(delays, 90) / 1000).toFixed(1)} s, max ${(Math.max(...delays) / 1000).toFixed(1)} s; ` +
        `≤ ${BOUND_MS / 1000} s: ${(share(delays, BOUND_MS) * 100).toFixed(0)} %, ≤ ${LIMIT_MS / 1000} s (bound + 1 segment): ${(within * 100).toFixed(0)} %, ≤ 8 s: ${(share(delays, 8_000) * 100).toFixed(0)} %; load average ${loadavg()[0].toFixed(1)}; ` +
        `samples (s): ${delays.map((delay) => (delay / 1000).toFixed(1)).join(' ')}`,
    );
    // At least half of each stream's samples within the bound plus one segment: a stream that
    // reached the skip step late may have few samples (9 in one CI run), the first of them still
    // the delay from before the skip took effect.
    expect(within).toBeGreaterThanOrEqual(0.5);
  }
  expect(measured).toBeGreaterThanOrEqual(1);
  // Most samples of all shed streams within the bound plus one segment; the rest is restarts (a
  // restore, shedding again) and what ffmpeg already holds when a loaded machine starves it (a
  // skip drops only queued input), so a generous share.
  const pooledWithin = share(pooled, LIMIT_MS);
  console.log(`all shed streams once shedding took hold: ${pooled.length} samples, ≤ ${LIMIT_MS / 1000} s: ${(pooledWithin * 100).toFixed(0)} %`);
  expect(pooledWithin).toBeGreaterThanOrEqual(0.75);

  // Work comes back once there is headroom: usually after the first publisher stopped, but on a
  // quieter machine dropping the top rendition already frees enough that a stream restores it
  // while all three still publish (CI saw every restore before the first stop), so any restore
  // after a shed counts; when it came relative to the first stop is printed.
  const restored = ids.flatMap((id) => actionsAt(id).filter((a) => a.action.startsWith('restore')).map((a) => ({ id, ...a })));
  console.log(`restores: ${restored.map((r) => `${r.id} ${r.action} ${r.t >= firstEnd ? '+' : '-'}${(Math.abs(r.t - firstEnd) / 1000).toFixed(0)} s from the first stop`).join(', ') || 'none'}`);
  expect(restored.length).toBeGreaterThanOrEqual(1);
  // The top rendition comes back: stream.status lists it again.
  const back = await tap.waitFor(
    () => ids.flatMap((id) => shedReportsOf(id)).find((s) => s.detail!.action === 'restore_rendition'),
    30_000,
    'a restore_rendition in stream.status',
  );
  expect(back.detail).toMatchObject({ shed_level: 0, dropped_renditions: [] });
  expect(back.renditions?.map((r) => r.name)).toContain('720p');

  // Log lines and low-cardinality metrics show it.
  expect(stack.transcoder.output()).toMatch(/live stream trails its latency bound: shedding work/);
  const families = parsePrometheusText(await (await fetch(`${stack.transcoder.url}/metrics`)).text());
  expect(sampleValue(families, 'tributary_transcode_shed_actions_total', { action: 'drop_rendition' })).toBeGreaterThanOrEqual(1);
  const restores = ['restore_preset', 'restore_rendition'].reduce((sum, action) => sum + (sampleValue(families, 'tributary_transcode_shed_actions_total', { action }) ?? 0), 0);
  expect(restores).toBeGreaterThanOrEqual(1);
  const histogram = families.find((f) => f.name === 'tributary_transcode_edge_delay_seconds')!;
  const count = histogram.samples.find((s) => s.name.endsWith('_count'))!.value;
  const bucket = (le: string) => histogram.samples.find((s) => s.name.endsWith('_bucket') && s.labels.le === le)!.value / count;
  const inPlace = lines.filter((line) => line.msg === 'skipped to the newest keyframe without restarting ffmpeg').length;
  console.log(
    `edge delay histogram (every live sample, start-up and shed restarts included): ${count} samples; ${['4', '6', '8', '12', '20', '30'].map((le) => `≤ ${le} s: ${(bucket(le) * 100).toFixed(0)} %`).join(', ')}; skips without an ffmpeg restart: ${inPlace}; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`,
  );
  expect(count).toBeGreaterThan(30);
  expect(histogram.samples.every((s) => !('stream_id' in s.labels))).toBe(true);
  // A skip to the newest keyframe drops the queued input while ffmpeg keeps running (no restart;
  // test/live-skip-discontinuity.e2e.ts provokes one and checks the playlist).
  const skips = lines.filter((line) => line.action === 'skip_to_live' && /shedding work/.test(line.msg)).length;
  if (skips > 0) expect(inPlace).toBeGreaterThan(0);
}, 300_000);
