/**
 * libs/contracts ServiceKafkaAccess (what the Helm chart's KafkaUser ACLs and KEDA triggers are
 * generated from) against the services' code: the topics each service names, the dead-letter
 * topics it writes, and every consumer group id it builds, inline or through its functions.
 */
import {
  type ConsumerGroupKey,
  ConsumerGroups,
  groupName,
  kafkaAclsOf,
  KafkaServices,
  type KafkaService,
  ScaledConsumerGroups,
  ServiceKafkaAccess,
  topicName,
} from '@tributary/contracts';
import { consumerGroupId } from '@tributary/kafka';
import { loadTranscoderConfig } from '../services/transcoder/src/config';
import { loadStatsConfig, statsConsumerGroup } from '../services/event-gateway/src/stats/stats.config';
import { playbackConsumerGroup } from '../services/event-gateway/src/playback/playback.tokens';
import { consumerGroupsReferenced, groupLiterals, publishesDeadLetters, topicsReferenced, transactionalIdUse } from './support/kafka-access-scan';

const PREFIXES = ['', 'acme', 'acme.'];

describe('Kafka access declared in libs/contracts vs the services code', () => {
  it.each(KafkaServices)('%s: the topics it names are exactly the ones it is declared to read or write', (service) => {
    const access = ServiceKafkaAccess[service];
    const declared = new Set<string>([...access.consumes, ...access.produces, ...(access.observes?.topics ?? [])]);
    expect([...topicsReferenced(service)].sort()).toEqual([...declared].sort());
    for (const topic of access.deadLetters) expect(access.consumes).toContain(topic);
    expect(access.deadLetters.length > 0).toBe(publishesDeadLetters(service));
  });

  it.each(KafkaServices)('%s: builds its group ids only from its declared ConsumerGroups, and uses every one of them', (service) => {
    // No group id spelled out in the code: libs/kafka consumerGroupId() is the one way to name one.
    expect(groupLiterals(service)).toEqual([]);
    const referenced = consumerGroupsReferenced(service);
    // Groups it only observes (committed offsets, Describe) are named too, but never joined.
    const observed = new Set<unknown>(ServiceKafkaAccess[service].observes?.groups ?? []);
    for (const [key, files] of referenced) {
      if (observed.has(ConsumerGroups[key])) {
        referenced.delete(key);
        continue;
      }
      if (ConsumerGroups[key].service !== service) throw new Error(`${files.join(', ')}: ${service} joins ConsumerGroups.${key}, declared for ${ConsumerGroups[key].service}`);
    }
    const declared = (Object.keys(ConsumerGroups) as ConsumerGroupKey[]).filter((key) => ConsumerGroups[key].service === service);
    expect([...referenced.keys()].sort()).toEqual(declared.sort());
    expect(new Set(ServiceKafkaAccess[service].groups)).toEqual(new Set(declared.map((key) => ConsumerGroups[key])));
  });

  it('every group id the services build falls under the ACL the chart grants for it', () => {
    for (const prefix of PREFIXES) {
      const built: [KafkaService, string][] = [
        ['transcoder', loadTranscoderConfig({ TOPIC_PREFIX: prefix, KAFKA_COMPRESSION: 'none' }).groupId],
        ['event-gateway', statsConsumerGroup(loadStatsConfig({}), prefix || undefined)],
        ['event-gateway', playbackConsumerGroup({ instanceId: 'tv-event-gateway-fanout-7d9f-abcde-1a2b3c4d', kafka: { topicPrefix: prefix } })],
        ...Object.values(ConsumerGroups).map((group): [KafkaService, string] => [group.service, consumerGroupId(group, prefix)]),
      ];
      for (const [service, id] of built) {
        const rules = kafkaAclsOf(service, prefix).filter((rule) => rule.resource.type === 'group');
        const covered = rules.some(({ resource }) => (resource.patternType === 'literal' ? id === resource.name : id.startsWith(resource.name)));
        if (!covered) throw new Error(`${service} joins group "${id}" (TOPIC_PREFIX="${prefix}"), which no group ACL of its KafkaUser covers`);
        // Under TOPIC_PREFIX like the topics: one tenant's groups never collide with another's.
        if (prefix) expect(id.startsWith(topicName('', prefix))).toBe(true);
      }
    }
  });

  it.each(KafkaServices)('%s: is declared transactional ids exactly when it uses Kafka transactions, covering the ids it builds', (service) => {
    const { used, templates } = transactionalIdUse(service);
    const declared = ServiceKafkaAccess[service].transactionalIds ?? [];
    if (used !== declared.length > 0) {
      throw new Error(
        used
          ? `${service} makes transactional producers but ServiceKafkaAccess['${service}'].transactionalIds is empty: declare the id prefix (the chart grants Write/Describe on it) and regenerate the chart files`
          : `ServiceKafkaAccess['${service}'].transactionalIds is declared but ${service} makes no transactional producer`,
      );
    }
    for (const prefix of PREFIXES) {
      const config = service === 'transcoder' ? loadTranscoderConfig({ TOPIC_PREFIX: prefix, KAFKA_COMPRESSION: 'none' }) : undefined;
      for (const { file, template } of templates) {
        // The id's fixed head, with the config's group id substituted (`${this.config.groupId}-…`).
        const resolved = config ? template.replace('${this.config.groupId}', config.groupId) : template;
        const head = resolved.split('${')[0];
        const covered = declared.some((id) => (id.match === 'prefix' ? head.startsWith(groupName(id, prefix)) : head === groupName(id, prefix)));
        if (!covered) throw new Error(`${file}: transactional id "${head}…" (TOPIC_PREFIX="${prefix}") is not covered by ServiceKafkaAccess['${service}'].transactionalIds`);
      }
    }
    // A service that uses transactions must build its ids where this scan can check them.
    if (used) expect(templates.map((found) => found.file)).not.toEqual([]);
  });

  it('KEDA scales exactly the shared groups the code joins on the topics it reads', () => {
    for (const prefix of PREFIXES) {
      expect(groupName(ServiceKafkaAccess.transcoder.groups.find((g) => g.name === ScaledConsumerGroups.transcoder.group)!, prefix)).toBe(
        loadTranscoderConfig({ TOPIC_PREFIX: prefix, KAFKA_COMPRESSION: 'none' }).groupId,
      );
      expect(groupName(ServiceKafkaAccess['event-gateway'].groups.find((g) => g.name === ScaledConsumerGroups.stats.group)!, prefix)).toBe(
        statsConsumerGroup(loadStatsConfig({}), prefix || undefined),
      );
    }
    expect(ServiceKafkaAccess.transcoder.consumes).toContain(ScaledConsumerGroups.transcoder.topic);
    expect(ServiceKafkaAccess['event-gateway'].consumes).toContain(ScaledConsumerGroups.stats.topic);
  });
});
