import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { topicName } from '@tributary/contracts';

/**
 * A consumer group of its own for this replica. Every viewer-api replica must see every stream
 * (catalogue, segments, frames), so replicas do not share a group; the group never commits
 * offsets (autoCommit off), so the broker drops it once it is empty (no committed offsets to keep).
 */
export function replicaGroupId(purpose: string, prefix = ''): string {
  const host = hostname().replace(/[^a-zA-Z0-9-]/g, '').slice(0, 40) || 'host';
  // Under TOPIC_PREFIX like the topics, so prefixed ACLs on a shared cluster cover the groups too.
  return topicName(`viewer-api.${purpose}.${host}.${randomUUID().slice(0, 8)}`, prefix);
}
