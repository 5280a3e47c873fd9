import { ConsumerGroups, kafkaAclsOf, ServiceKafkaAccess } from './access';
import { topicSpecs } from './topics';

describe('kafkaAclsOf', () => {
  it('grants read on consumed topics, write on produced and dead-letter topics, under the prefix', () => {
    const acls = kafkaAclsOf('ingest', 'acme');
    expect(acls).toContainEqual({ resource: { type: 'topic', name: 'acme.stream.registry', patternType: 'literal' }, operations: ['Read', 'Write', 'Describe'] });
    expect(acls).toContainEqual({ resource: { type: 'topic', name: 'acme.video.ingest', patternType: 'literal' }, operations: ['Write', 'Describe'] });
    expect(acls).toContainEqual({ resource: { type: 'group', name: 'acme.ingest.registry.', patternType: 'prefix' }, operations: ['Read', 'Describe', 'Delete'] });
    expect(kafkaAclsOf('viewer-api', 'acme.')).toContainEqual({
      resource: { type: 'topic', name: 'acme.video.frames.dlq', patternType: 'literal' },
      operations: ['Write', 'Describe'],
    });
  });

  it('grants each declared group family, under TOPIC_PREFIX, shared groups literally and per-replica groups by prefix', () => {
    const groups = (prefix?: string) =>
      kafkaAclsOf('event-gateway', prefix)
        .filter((rule) => rule.resource.type === 'group')
        .map((rule) => `${rule.resource.patternType}:${rule.resource.name}`);
    expect(groups()).toEqual([
      'prefix:event-gateway.fanout.',
      'prefix:event-gateway.registry.',
      'prefix:event-gateway.resume.',
      'prefix:event-gateway.stats-feed.',
      'literal:stats-processor',
    ]);
    expect(groups('acme')).toEqual(groups('acme.'));
    expect(groups('acme').every((group) => group.split(':')[1].startsWith('acme.'))).toBe(true);
  });

  it('grants the operator Describe only on what it observes (video.ingest offsets, the transcoder group), never Read', () => {
    const acls = kafkaAclsOf('operator', 'acme');
    expect(acls).toContainEqual({ resource: { type: 'topic', name: 'acme.video.ingest', patternType: 'literal' }, operations: ['Describe'] });
    expect(acls).toContainEqual({ resource: { type: 'group', name: 'acme.transcoder', patternType: 'literal' }, operations: ['Describe'] });
    expect(acls).toContainEqual({ resource: { type: 'topic', name: 'acme.stream.registry', patternType: 'literal' }, operations: ['Read', 'Write', 'Describe'] });
    expect(acls).toContainEqual({ resource: { type: 'group', name: 'acme.operator.status.', patternType: 'prefix' }, operations: ['Read', 'Describe', 'Delete'] });
  });

  it('declares every consumer group once, for one service', () => {
    const names = Object.values(ConsumerGroups).map((group) => group.name);
    expect(new Set(names).size).toBe(names.length);
    for (const service of Object.keys(ServiceKafkaAccess) as (keyof typeof ServiceKafkaAccess)[]) {
      expect(ServiceKafkaAccess[service].groups.every((group) => Object.values(ConsumerGroups).includes(group as (typeof ConsumerGroups)[keyof typeof ConsumerGroups]))).toBe(true);
    }
  });

  it('only names topics of the contract', () => {
    const known = new Set(topicSpecs('p').map((spec) => spec.name));
    for (const service of Object.keys(ServiceKafkaAccess) as (keyof typeof ServiceKafkaAccess)[]) {
      for (const rule of kafkaAclsOf(service, 'p').filter((r) => r.resource.type === 'topic')) {
        expect(known).toContain(rule.resource.name);
      }
    }
  });
});

describe('kafkaAclsOf transactional ids', () => {
  it('grants Write and Describe on the declared transactional id prefixes, under TOPIC_PREFIX when declared so', () => {
    const declared = ServiceKafkaAccess.transcoder.transactionalIds ?? [];
    const rules = kafkaAclsOf('transcoder', 'acme').filter((rule) => rule.resource.type === 'transactionalId');
    expect(rules).toEqual(
      declared.map((id) => ({
        resource: { type: 'transactionalId', name: id.underTopicPrefix ? `acme.${id.name}` : id.name, patternType: id.match },
        operations: ['Write', 'Describe'],
      })),
    );
  });
});
