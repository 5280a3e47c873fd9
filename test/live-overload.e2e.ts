import { randomUUID } from 'node:crypto';
import { type StreamStatus, Topics, topicName } from '@tributary/contracts';
import { createStream, startVideoStack, type VideoStack } from './support/video-stack';
import { type FfmpegRun, kafkaFor, publishTestPattern, TopicTap } from './support/video-topics';
import { parsePrometheusText, sampleValue } from './support/prometheus-text';

/**
 * Issue 14, overload: more 720p ladders than this 2-core machine transcodes in real time (three
 * 720p25 publishes, each a 720p/480p/360p ladder at `superfast`, plus their publishers). Each live
 * stream that trails its bound (2 segments here) sheds work — the top rendition first, then the
 * faster preset, then a skip to the newest keyframe — and says so in stream.status (`detail`),
 * viewer-api's /v1/streams, the log and the metrics. Outcome-based (which actions, in which order,
 * visible where), not sub-second timings. Restoring work when load drops is covered by the
 * fake-clock unit tests (latency-governor.spec.ts, stream-pipeline.spec.ts): on this shared
 * machine (load averages of 10–20 on 2 cores) "headroom" cannot be produced on demand.
 * Build first: `npx tsc -b services/ingest services/transcoder services/viewer-api`.
 */
const brokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const prefix = `t-${randomUUID().slice(0, 8)}`;
const topic = (base: string) => topicName(base, prefix);

let stack: VideoStack;
let tap: TopicTap;
const publishers: FfmpegRun[] = [];

const detailsOf = (id: string) =>
  tap.messages
    .filter((m) => m.topic === topic(Topics.streamStatus) && m.key === id)
    .map((m) => JSON.parse(m.value!.toString()) as StreamStatus)
    .filter((s) => s.reporter === 'transcoder' && s.detail?.action)
    .map((s) => s.detail!);

beforeAll(async () => {
  stack = await startVideoStack({
    brokers,
    prefix,
    transcoderEnv: {
      LOG_LEVEL: 'info',
      TRANSCODER_PRESET: 'superfast',
      TRANSCODER_SHED_PRESET: 'ultrafast',
      TRANSCODER_THREADS: '1',
      TRANSCODER_SHEDDING: 'on',
      TRANSCODER_LIVE_MAX_TRAIL_SEGMENTS: '2',
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

it('sheds work of live streams that trail their bound, in order, and reports it in status, API, log and metrics', async () => {
  const ids = ['a', 'b', 'c'].map((name) => `load-${name}-${randomUUID().slice(0, 4)}`);
  for (const id of ids) {
    const key = await createStream(stack.ingest.url, id);
    publishers.push(publishTestPattern(`${stack.ingest.url}/live/${key}`, { size: '1280x720', rate: 25, seconds: 45 }));
  }

  // Overloaded: some live stream drops its top rendition, reported with its edge delay.
  const shed = await tap.waitFor(
    () => ids.map((id) => ({ id, detail: detailsOf(id).find((d) => d.action === 'drop_rendition') })).find((s) => s.detail),
    120_000,
    'a stream shedding its top rendition',
  );
  expect(shed.detail).toMatchObject({ mode: 'live', shed_level: 1, dropped_renditions: ['720p'] });
  expect(shed.detail!.edge_delay_ms).toBeGreaterThan(4_000);
  const shedNow = await fetch(`${stack.viewer.url}/v1/streams/${shed.id}`).then((r) => r.json() as Promise<{ transcode: { shed_level?: number } | null; renditions: { name: string }[] }>);
  expect(shedNow.transcode?.shed_level).toBeGreaterThanOrEqual(1);

  await Promise.all(publishers.map((publisher) => publisher.done));
  for (const id of ids) {
    const actions = detailsOf(id).map((d) => d.action!);
    console.log(`actions of ${id}: ${actions.join(' → ') || 'none'}`);
    // The documented order: the top rendition goes first, then the preset, then skips.
    const sheds = actions.filter((a) => !a.startsWith('restore'));
    const order = ['drop_rendition', 'faster_preset', 'skip_to_live'];
    for (let i = 1; i < sheds.length; i += 1) expect(order.indexOf(sheds[i])).toBeGreaterThanOrEqual(order.indexOf(sheds[i - 1]));
  }

  // Log lines and low-cardinality metrics show it.
  expect(stack.transcoder.output()).toMatch(/live stream trails its latency bound: shedding work/);
  const families = parsePrometheusText(await (await fetch(`${stack.transcoder.url}/metrics`)).text());
  expect(sampleValue(families, 'tributary_transcode_shed_actions_total', { action: 'drop_rendition' })).toBeGreaterThanOrEqual(1);
  const delays = families.find((f) => f.name === 'tributary_transcode_edge_delay_seconds')!;
  const count = delays.samples.find((s) => s.name.endsWith('_count'))!.value;
  const within = (le: string) => delays.samples.find((s) => s.name.endsWith('_bucket') && s.labels.le === le)!.value / count;
  const shares = ['4', '6', '8', '12', '20', '30', '60'].map((le) => `≤ ${le} s: ${(within(le) * 100).toFixed(0)} %`);
  const output = stack.transcoder.output();
  const inPlace = output.split('\n').filter((line) => line.includes('without restarting ffmpeg')).length;
  console.log(`edge delay samples: ${count}; ${shares.join(', ')}; skips without an ffmpeg restart: ${inPlace}; load average ${(await import('node:os')).loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  expect(count).toBeGreaterThan(30);
  expect(delays.samples.every((s) => !('stream_id' in s.labels))).toBe(true);
  // A skip to the newest keyframe drops the queued input while ffmpeg keeps running (no restart).
  const skips = ids.reduce((sum, id) => sum + detailsOf(id).filter((d) => d.action === 'skip_to_live').length, 0);
  if (skips > 0) expect(inPlace).toBeGreaterThan(0);
  // How close shedding keeps live streams to their edge depends on how loaded the machine is: at
  // load averages of 20–26 on 2 cores the streams' ffmpeg ran far below real time and the median
  // sample was 20–30 s, start-up included (see docs/video.md). Checked: the delay is measured and
  // does not drift into minutes with the streams' length (a viewer of the broken state saw a
  // picture 3 minutes old).
  expect(within('60')).toBeGreaterThan(0.9);
}, 300_000);
