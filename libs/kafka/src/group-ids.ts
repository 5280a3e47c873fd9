import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { type ConsumerGroup, groupName } from '@tributary/contracts';

/**
 * The one way to name a consumer group. Groups are declared in libs/contracts `ConsumerGroups`
 * (which the chart's ACLs are generated from); this builds the id the code joins:
 * `<prefix>.<name>` for a shared group, `<prefix>.<service>.<purpose>.<member>` for a group of
 * one replica or one reader. `member` defaults to this host plus a random id, so the group of a
 * restarted process never collides with its predecessor's and an operator can still tell whose
 * group it is.
 */
export function consumerGroupId(group: ConsumerGroup, topicPrefix = '', member: string = memberId()): string {
  const name = groupName(group, topicPrefix);
  return group.match === 'literal' ? name : `${name}${member}`;
}

/** `<host>.<8 hex>`: the host name (a pod's name on Kubernetes) kept to group-id-safe characters. */
export function memberId(): string {
  const host = hostname().replace(/[^a-zA-Z0-9-]/g, '').slice(0, 40) || 'host';
  return `${host}.${randomUUID().slice(0, 8)}`;
}
