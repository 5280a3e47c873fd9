import { Partitioners } from 'kafkajs';

const murmur2 = Partitioners.DefaultPartitioner();

/**
 * The partition Tributary's producers (kafkajs' default partitioner: murmur2, like the Java
 * client) put `key` on, in a topic of `partitions` partitions. The one stream → partition lookup
 * for readers of a stream's history (segment tail, replay).
 */
export function partitionForKey(topic: string, key: string, partitions: number): number {
  return murmur2({
    topic,
    partitionMetadata: Array.from({ length: partitions }, (_, partitionId) => ({ partitionId, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] })),
    message: { key, value: null },
  });
}
