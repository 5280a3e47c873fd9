/**
 * libs/contracts ServiceKafkaAccess (what the Helm chart's KafkaUser ACLs and KEDA triggers are
 * generated from) against the services' code: the topics each service names, the dead-letter
 * topics it writes, and every consumer group id it builds, inline or through its functions.
 */
import {
  groupName,
  type GroupAccess,
  KafkaServices,
  type KafkaService,
  ScaledConsumerGroups,
  ServiceKafkaAccess,
} from '@tributary/contracts';
import { loadTranscoderConfig } from '../services/transcoder/src/config';
import { replicaGroupId } from '../services/viewer-api/src/streams/replica-group';
import { loadStatsConfig, statsConsumerGroup } from '../services/event-gateway/src/stats/stats.config';
import { playbackConsumerGroup } from '../services/event-gateway/src/playback/playback.tokens';
import { groupLiterals, publishesDeadLetters, topicsReferenced, transactionalIdUse } from './support/kafka-access-scan';

const PREFIXES = ['', 'acme', 'acme.'];

/** The declared group (of the service) an actual group id falls under, if any. */
function coveringGroup(service: KafkaService, id: string, prefix: string): GroupAccess | undefined {
  return ServiceKafkaAccess[service].groups.find((group) => {
    const name = groupName(group, prefix);
    return group.match === 'literal' ? id === name : id.startsWith(name);
  });
}

describe('Kafka access declared in libs/contracts vs the services code', () => {
  it.each(KafkaServices)('%s: the topics it names are exactly the ones it is declared to read or write', (service) => {
    const access = ServiceKafkaAccess[service];
    const declared = new Set<string>([...access.consumes, ...access.produces]);
    expect([...topicsReferenced(service)].sort()).toEqual([...declared].sort());
    for (const topic of access.deadLetters) expect(access.consumes).toContain(topic);
    expect(access.deadLetters.length > 0).toBe(publishesDeadLetters(service));
  });

  it.each(KafkaServices)('%s: every group id written in its code falls under exactly its declared groups, and every declared group is used', (service) => {
    const literals = groupLiterals(service);
    const used = new Set<GroupAccess>();
    for (const literal of literals) {
      const match = ServiceKafkaAccess[service].groups.find(
        (group) =>
          group.underTopicPrefix === literal.underTopicPrefix &&
          (group.match === 'prefix' ? literal.head.startsWith(group.name) : literal.head === group.name && !literal.variableTail),
      );
      if (!match) throw new Error(`${literal.file}: group id "${literal.underTopicPrefix ? '<prefix>.' : ''}${literal.head}…" is not in ServiceKafkaAccess['${service}'].groups`);
      used.add(match);
    }
    // Ids built by functions and config: call the real code.
    for (const prefix of PREFIXES) {
      const ids: string[] = [];
      if (service === 'transcoder') ids.push(loadTranscoderConfig({ TOPIC_PREFIX: prefix, KAFKA_COMPRESSION: 'none' }).groupId);
      if (service === 'viewer-api') ids.push(...['catalog', 'segments', 'frames', 'replay'].map((purpose) => replicaGroupId(purpose, prefix)));
      if (service === 'event-gateway') {
        ids.push(statsConsumerGroup(loadStatsConfig({}), prefix || undefined));
        ids.push(playbackConsumerGroup('tv-event-gateway-fanout-7d9f-abcde-1a2b3c4d'));
      }
      for (const id of ids) {
        const group = coveringGroup(service, id, prefix);
        if (!group) throw new Error(`${service} joins group "${id}" (TOPIC_PREFIX="${prefix}"), which none of its declared groups covers`);
        used.add(group);
      }
    }
    const unused = ServiceKafkaAccess[service].groups.filter((group) => !used.has(group));
    expect(unused).toEqual([]);
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
