import type { Admin } from 'kafkajs';
import { retryKafka } from './retry';

/**
 * `admin.fetchTopicOffsets` with retries: right after a topic is created its partition leaders
 * may not be known yet ("not the leader for that topic-partition"), which is retriable.
 */
export function fetchTopicOffsetsWithRetry(admin: Admin, topic: string, attempts = 40): Promise<Awaited<ReturnType<Admin['fetchTopicOffsets']>>> {
  return retryKafka(() => admin.fetchTopicOffsets(topic), {
    attempts,
    delayMs: (attempt) => Math.min(1000, 100 * attempt),
    retriable: (error) => (error as { retriable?: boolean }).retriable !== false,
  });
}
