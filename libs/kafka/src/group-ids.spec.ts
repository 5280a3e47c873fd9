import { ConsumerGroups } from '@tributary/contracts';
import { consumerGroupId, memberId } from './group-ids';

describe('consumerGroupId', () => {
  it('names a shared group by its declared name under TOPIC_PREFIX, the same on every replica', () => {
    expect(consumerGroupId(ConsumerGroups.transcoder)).toBe('transcoder');
    expect(consumerGroupId(ConsumerGroups.transcoder, 'acme')).toBe('acme.transcoder');
    expect(consumerGroupId(ConsumerGroups.statsProcessor, 'acme.')).toBe('acme.stats-processor');
  });

  it('gives a per-replica group <prefix>.<service>.<purpose>.<member>, a new member each time unless given', () => {
    expect(consumerGroupId(ConsumerGroups.eventGatewayFanout, 'acme', 'gw-0')).toBe('acme.event-gateway.fanout.gw-0');
    const a = consumerGroupId(ConsumerGroups.viewerApiSegments);
    const b = consumerGroupId(ConsumerGroups.viewerApiSegments);
    expect(a).toMatch(/^viewer-api\.segments\.[a-zA-Z0-9-]+\.[0-9a-f]{8}$/);
    expect(a).not.toBe(b);
  });

  it('member ids keep to group-id-safe characters', () => {
    expect(memberId()).toMatch(/^[a-zA-Z0-9-]+\.[0-9a-f]{8}$/);
  });
});
