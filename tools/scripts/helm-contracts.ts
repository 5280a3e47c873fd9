/**
 * Writes the chart's copies of the Kafka contract, so the chart never keeps a second hand-written
 * list of topics or ACLs:
 *   helm/tributary/files/topics.json        every topic of topicSpecs() (libs/contracts)
 *   helm/tributary/files/kafka-access.json  each service's topics and consumer groups (ServiceKafkaAccess)
 * Names are base names; the chart applies TOPIC_PREFIX the way topicName() does. Partition counts
 * that follow KAFKA_EVENT_PARTITIONS / KAFKA_VIDEO_PARTITIONS are recorded by the knob's name.
 *
 *   npx tsc -b tools && node tools/dist/scripts/helm-contracts.js
 *
 * tools/scripts/helm-contracts.spec.ts fails when the committed files are stale.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  deadLetterTopicOf,
  KafkaServices,
  ScaledConsumerGroups,
  ServiceKafkaAccess,
  topicSpecs,
} from '@tributary/contracts';

/** Partition counts no real sizing uses, to tell which knob a topic's count follows. */
const EVENT_SENTINEL = 100_003;
const VIDEO_SENTINEL = 100_019;

export interface ChartTopic {
  name: string;
  /** A fixed count, or the sizing knob (`eventPartitions` / `videoPartitions`) it follows. */
  partitions: number | 'eventPartitions' | 'videoPartitions';
  configs: Record<string, string>;
}

export function chartTopics(): ChartTopic[] {
  return topicSpecs('', { eventPartitions: EVENT_SENTINEL, videoPartitions: VIDEO_SENTINEL }).map((spec) => ({
    name: spec.name,
    partitions:
      spec.partitions === EVENT_SENTINEL ? 'eventPartitions' : spec.partitions === VIDEO_SENTINEL ? 'videoPartitions' : spec.partitions,
    configs: { ...spec.configs },
  }));
}

export function chartKafkaAccess() {
  const services = Object.fromEntries(
    KafkaServices.map((service) => {
      const access = ServiceKafkaAccess[service];
      return [
        service,
        {
          consumes: [...access.consumes],
          produces: [...access.produces],
          deadLetters: access.deadLetters.map((topic) => deadLetterTopicOf(topic)),
          groups: access.groups.map(({ name, match, underTopicPrefix, deletes }) => ({ name, match, underTopicPrefix, deletes })),
          transactionalIds: (access.transactionalIds ?? []).map((id) => ({ ...id })),
          // Describe only (the operator's per-stream lag): topics by base name, groups like `groups`.
          observes: {
            topics: [...(access.observes?.topics ?? [])],
            groups: (access.observes?.groups ?? []).map(({ name, match, underTopicPrefix, deletes }) => ({ name, match, underTopicPrefix, deletes })),
          },
        },
      ];
    }),
  );
  return { services, scaledConsumerGroups: ScaledConsumerGroups };
}

/** The repository root (from tools/scripts in tests, tools/dist/scripts when compiled). */
function repoRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'nx.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no repository root (nx.json) above ${from}`);
  }
}

export const CHART_DIR = join(repoRoot(__dirname), 'helm', 'tributary');

/** File path (relative to the chart) → exact content. */
export function helmContractFiles(): Record<string, string> {
  const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
  return {
    'files/topics.json': json(chartTopics()),
    'files/kafka-access.json': json(chartKafkaAccess()),
  };
}

if (require.main === module) {
  for (const [file, content] of Object.entries(helmContractFiles())) {
    writeFileSync(join(CHART_DIR, file), content);
    process.stdout.write(`wrote helm/tributary/${file}\n`);
  }
}
