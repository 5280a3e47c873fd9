/**
 * What each service does on Kafka: the topics it reads and writes and the consumer groups it
 * joins. Part of the contract because two things outside the services depend on it: the Helm
 * chart's least-privilege `KafkaUser` ACLs (generated into helm/tributary/files/kafka-access.json
 * by tools/scripts/helm-contracts.ts) and KEDA's lag triggers (`ScaledConsumerGroups`).
 * test/kafka-access.e2e.ts checks this declaration against the services' code.
 */
import { type BaseTopic, deadLetterTopicOf, Topics, topicName } from './topics';

export const KafkaServices = ['ingest', 'transcoder', 'viewer-api', 'event-gateway', 'operator'] as const;
export type KafkaService = (typeof KafkaServices)[number];

/** A consumer group (or family of groups sharing a name prefix) a service joins. */
export interface GroupAccess {
  /** The group id, or its leading part for `match: 'prefix'` (per-replica groups end in a random id). */
  readonly name: string;
  readonly match: 'literal' | 'prefix';
  /** True when the code puts the group under TOPIC_PREFIX like the topics (`acme.` + name). */
  readonly underTopicPrefix: boolean;
  /** The service deletes these groups itself when done (admin deleteGroups). */
  readonly deletes: boolean;
}

export interface ServiceKafkaAccess {
  readonly consumes: readonly BaseTopic[];
  readonly produces: readonly BaseTopic[];
  /** Consumed topics whose invalid messages this service moves to `<topic>.dlq`. */
  readonly deadLetters: readonly BaseTopic[];
  readonly groups: readonly GroupAccess[];
  /**
   * Read without consuming: topics whose offsets and groups whose committed offsets the service
   * looks at (the operator's lag per stream). Granted Describe only.
   */
  readonly observes?: { readonly topics: readonly BaseTopic[]; readonly groups: readonly GroupAccess[] };
  /** Transactional producer ids (Kafka transactions), by prefix; `deletes` is unused for these. */
  readonly transactionalIds?: readonly GroupAccess[];
}

/** The transcoder's shared group on video.ingest (TRANSCODER_GROUP_ID); replicas split the partitions. */
export const TRANSCODER_GROUP = 'transcoder';
/** The stats processor's shared group on playback.events (event-gateway `stats` role). */
export const STATS_PROCESSOR_GROUP = 'stats-processor';

/** A consumer group a service joins: its id is built by libs/kafka `consumerGroupId()`, nowhere else. */
export interface ConsumerGroup extends GroupAccess {
  readonly service: KafkaService;
}

/** A group the replicas share (they split its partitions): `<prefix>.<name>`. */
const shared = (service: KafkaService, name: string): ConsumerGroup => ({ service, name, match: 'literal', underTopicPrefix: true, deletes: false });

/**
 * A group per replica (or per reader), `<prefix>.<service>.<purpose>.<member>`: every replica must
 * see every message (or reads on its own). `deletes`: the code deletes the group when done.
 */
const perReplica = (service: KafkaService, purpose: string, deletes = false): ConsumerGroup => ({
  service,
  name: `${service}.${purpose}.`,
  match: 'prefix',
  underTopicPrefix: true,
  deletes,
});

/**
 * Every consumer group of the platform, under TOPIC_PREFIX like the topics (so one prefixed ACL
 * pattern per group family covers a tenant on a shared cluster). test/kafka-access.e2e.ts checks
 * that the services build group ids only from these.
 */
export const ConsumerGroups = {
  ingestRegistry: perReplica('ingest', 'registry', true),
  ingestClaims: perReplica('ingest', 'claims'),
  transcoder: shared('transcoder', TRANSCODER_GROUP),
  transcoderStatus: perReplica('transcoder', 'status'),
  transcoderRegistry: perReplica('transcoder', 'registry', true),
  transcoderSegmentTail: perReplica('transcoder', 'tail', true),
  viewerApiCatalog: perReplica('viewer-api', 'catalog'),
  viewerApiSegments: perReplica('viewer-api', 'segments'),
  viewerApiFrames: perReplica('viewer-api', 'frames'),
  viewerApiReplay: perReplica('viewer-api', 'replay'),
  viewerApiStats: perReplica('viewer-api', 'stats'),
  eventGatewayFanout: perReplica('event-gateway', 'fanout'),
  eventGatewayRegistry: perReplica('event-gateway', 'registry', true),
  eventGatewayResume: perReplica('event-gateway', 'resume'),
  eventGatewayStatsFeed: perReplica('event-gateway', 'stats-feed'),
  statsProcessor: shared('event-gateway', STATS_PROCESSOR_GROUP),
  operatorRegistry: perReplica('operator', 'registry', true),
  operatorStatus: perReplica('operator', 'status', true),
  operatorStats: perReplica('operator', 'stats', true),
} as const satisfies Record<string, ConsumerGroup>;
export type ConsumerGroupKey = keyof typeof ConsumerGroups;

const groupsOf = (service: KafkaService): ConsumerGroup[] => Object.values(ConsumerGroups).filter((group) => group.service === service);

export const ServiceKafkaAccess: Readonly<Record<KafkaService, ServiceKafkaAccess>> = {
  ingest: {
    consumes: [Topics.streamRegistry, Topics.streamClaims],
    produces: [Topics.videoIngest, Topics.videoFrames, Topics.streamStatus, Topics.streamRegistry, Topics.streamClaims],
    deadLetters: [],
    groups: groupsOf('ingest'),
  },
  transcoder: {
    consumes: [Topics.videoIngest, Topics.streamStatus, Topics.streamRegistry, Topics.videoSegments],
    produces: [Topics.videoSegments, Topics.videoFrames, Topics.streamStatus],
    deadLetters: [Topics.videoIngest],
    groups: groupsOf('transcoder'),
    // Output transactions per input partition: `<transcoder group>-<video.ingest topic>-<partition>`.
    transactionalIds: [{ name: `${TRANSCODER_GROUP}-`, match: 'prefix', underTopicPrefix: true, deletes: false }],
  },
  'viewer-api': {
    consumes: [Topics.streamRegistry, Topics.streamStatus, Topics.videoSegments, Topics.videoFrames, Topics.playbackStats],
    produces: [Topics.playbackEvents],
    deadLetters: [Topics.streamRegistry, Topics.streamStatus, Topics.videoSegments, Topics.videoFrames, Topics.playbackStats],
    groups: groupsOf('viewer-api'),
  },
  'event-gateway': {
    // stream.registry: which streams are signed (their events need a playback token).
    consumes: [Topics.playbackEvents, Topics.playbackStats, Topics.streamRegistry],
    produces: [Topics.playbackStats],
    deadLetters: [Topics.playbackEvents, Topics.playbackStats],
    groups: groupsOf('event-gateway'),
  },
  operator: {
    // stream.registry: LiveStreams are written there (like ingest's admin API); stream.status and
    // playback.stats feed each LiveStream's status.
    consumes: [Topics.streamRegistry, Topics.streamStatus, Topics.playbackStats],
    produces: [Topics.streamRegistry],
    deadLetters: [],
    groups: groupsOf('operator'),
    // The lag of each stream's video.ingest partition in the transcoder group.
    observes: { topics: [Topics.videoIngest], groups: [ConsumerGroups.transcoder] },
  },
};

/** Consumer groups whose work divides by partition, so their lag measures their load (KEDA). */
export const ScaledConsumerGroups = {
  transcoder: { service: 'transcoder', group: TRANSCODER_GROUP, topic: Topics.videoIngest },
  stats: { service: 'event-gateway', group: STATS_PROCESSOR_GROUP, topic: Topics.playbackEvents },
} as const satisfies Record<string, { service: KafkaService; group: string; topic: BaseTopic }>;

export type AclOperation = 'Read' | 'Write' | 'Describe' | 'Delete';
export type AclResourceType = 'topic' | 'group' | 'transactionalId';

/** One Kafka ACL rule (Strimzi `KafkaUser` `simple` authorization shape). */
export interface KafkaAclRule {
  readonly resource: { readonly type: AclResourceType; readonly name: string; readonly patternType: 'literal' | 'prefix' };
  readonly operations: readonly AclOperation[];
}

/** The group id as the code builds it under an optional TOPIC_PREFIX. */
export function groupName(group: GroupAccess, prefix = ''): string {
  return group.underTopicPrefix ? topicName(group.name, prefix) : group.name;
}

/** The exact ACLs a service needs: topics it reads (Read, Describe), writes (Write, Describe), its groups. */
export function kafkaAclsOf(service: KafkaService, prefix = ''): KafkaAclRule[] {
  const access = ServiceKafkaAccess[service];
  const operations = new Map<string, Set<AclOperation>>();
  const grant = (topic: string, ...ops: AclOperation[]) => {
    const set = operations.get(topic) ?? new Set<AclOperation>();
    ops.forEach((op) => set.add(op));
    operations.set(topic, set);
  };
  access.consumes.forEach((topic) => grant(topic, 'Read', 'Describe'));
  access.produces.forEach((topic) => grant(topic, 'Write', 'Describe'));
  access.deadLetters.forEach((topic) => grant(deadLetterTopicOf(topic), 'Write', 'Describe'));
  for (const topic of access.observes?.topics ?? []) if (!operations.has(topic)) grant(topic, 'Describe');
  const order: AclOperation[] = ['Read', 'Write', 'Describe', 'Delete'];
  const topicRules: KafkaAclRule[] = [...operations].map(([topic, ops]) => ({
    resource: { type: 'topic', name: topicName(topic, prefix), patternType: 'literal' },
    operations: order.filter((op) => ops.has(op)),
  }));
  const groupRules = new Map<string, KafkaAclRule>();
  for (const group of access.groups) {
    const name = groupName(group, prefix);
    const key = `${group.match}:${name}`;
    const ops: AclOperation[] = group.deletes ? ['Read', 'Describe', 'Delete'] : ['Read', 'Describe'];
    const previous = groupRules.get(key);
    const merged = order.filter((op) => ops.includes(op) || (previous?.operations.includes(op) ?? false));
    groupRules.set(key, { resource: { type: 'group', name, patternType: group.match }, operations: merged });
  }
  const observedGroupRules: KafkaAclRule[] = (access.observes?.groups ?? []).map((group) => ({
    resource: { type: 'group', name: groupName(group, prefix), patternType: group.match },
    operations: ['Describe'],
  }));
  const transactionalRules: KafkaAclRule[] = (access.transactionalIds ?? []).map((id) => ({
    resource: { type: 'transactionalId', name: groupName(id, prefix), patternType: id.match },
    operations: ['Write', 'Describe'],
  }));
  return [...topicRules, ...groupRules.values(), ...observedGroupRules, ...transactionalRules];
}
