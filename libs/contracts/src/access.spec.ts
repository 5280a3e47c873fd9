import { kafkaAclsOf, ServiceKafkaAccess } from './access';
import { topicSpecs } from './topics';

describe('kafkaAclsOf', () => {
  it('grants read on consumed topics, write on produced and dead-letter topics, under the prefix', () => {
    const acls = kafkaAclsOf('ingest', 'acme');
    expect(acls).toContainEqual({ resource: { type: 'topic', name: 'acme.stream.registry', patternType: 'literal' }, operations: ['Read', 'Write', 'Describe'] });
    expect(acls).toContainEqual({ resource: { type: 'topic', name: 'acme.video.ingest', patternType: 'literal' }, operations: ['Write', 'Describe'] });
    expect(acls).toContainEqual({ resource: { type: 'group', name: 'ingest-registry-', patternType: 'prefix' }, operations: ['Read', 'Describe', 'Delete'] });
    expect(kafkaAclsOf('viewer-api', 'acme.')).toContainEqual({
      resource: { type: 'topic', name: 'acme.video.frames.dlq', patternType: 'literal' },
      operations: ['Write', 'Describe'],
    });
  });

  it('merges groups that resolve to the same name without a prefix', () => {
    const groups = kafkaAclsOf('event-gateway').filter((rule) => rule.resource.type === 'group');
    expect(groups.map((rule) => rule.resource.name)).toEqual(['event-gateway.', 'stats-processor']);
    expect(kafkaAclsOf('event-gateway', 'acme').filter((rule) => rule.resource.type === 'group').map((rule) => rule.resource.name)).toEqual([
      'event-gateway.',
      'acme.event-gateway.',
      'acme.stats-processor',
    ]);
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
