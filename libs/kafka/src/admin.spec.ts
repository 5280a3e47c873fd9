import type { TopicSpec } from '@tributary/contracts';
import { isKeyedHistoryTopic, PartitionGrowthRefusedError, planPartitionGrowth } from './admin';

const spec = (name: string, partitions: number): TopicSpec => ({ name, partitions, configs: {} });

describe(planPartitionGrowth.name, () => {
  it('grows event topics below their spec and leaves the rest alone', () => {
    const grown = planPartitionGrowth(
      [spec('acme.playback.events', 12), spec('acme.video.segments', 6)],
      new Map([
        ['acme.playback.events', 6],
        ['acme.video.segments', 6],
      ]),
      false,
    );
    expect(grown.map((entry) => entry.name)).toEqual(['acme.playback.events']);
  });

  it('refuses to grow keyed video topics (their history is found by partition) unless migrating', () => {
    const specs = [spec('acme.video.segments', 12), spec('video.ingest', 12), spec('playback.events', 6)];
    const current = new Map([
      ['acme.video.segments', 6],
      ['video.ingest', 6],
      ['playback.events', 6],
    ]);
    expect(() => planPartitionGrowth(specs, current, false)).toThrow(PartitionGrowthRefusedError);
    expect(() => planPartitionGrowth(specs, current, false)).toThrow(/acme\.video\.segments 6 → 12, video\.ingest 6 → 12.*KAFKA_VIDEO_PARTITION_MIGRATION/);
    expect(planPartitionGrowth(specs, current, true).map((entry) => entry.name)).toEqual(['acme.video.segments', 'video.ingest']);
  });

  it('recognises keyed video topics under any prefix, and nothing else', () => {
    expect(['video.segments', 't-1.video.ingest', 'a.b.video.frames'].every(isKeyedHistoryTopic)).toBe(true);
    expect(['playback.events', 'video.segments.dlq', 'myvideo.segments', 'stream.status'].some(isKeyedHistoryTopic)).toBe(false);
  });
});
