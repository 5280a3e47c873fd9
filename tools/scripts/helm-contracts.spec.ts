import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { topicSpecs } from '@tributary/contracts';
import { CHART_DIR, chartTopics, helmContractFiles } from './helm-contracts';

describe('helm-contracts', () => {
  it.each(Object.entries(helmContractFiles()))('the committed %s is what the generator writes from libs/contracts', (file, expected) => {
    const committed = readFileSync(join(CHART_DIR, file), 'utf8');
    if (committed !== expected) {
      throw new Error(`helm/tributary/${file} is stale: run \`npx tsc -b tools && node tools/dist/scripts/helm-contracts.js\``);
    }
  });

  it('records which sizing knob each topic follows', () => {
    const sizing = { eventPartitions: 12, videoPartitions: 3 };
    const resolved = chartTopics().map((topic) => ({
      name: topic.name,
      partitions: typeof topic.partitions === 'number' ? topic.partitions : sizing[topic.partitions],
      configs: topic.configs,
    }));
    expect(resolved).toEqual(topicSpecs('', sizing).map((spec) => ({ ...spec })));
  });
});
