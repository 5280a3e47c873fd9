import type { Admin } from 'kafkajs';

/**
 * `admin.fetchTopicOffsets` with retries: right after a topic is created its partition leaders
 * may not be known yet ("not the leader for that topic-partition"), which is retriable.
 */
export async function fetchTopicOffsetsWithRetry(
  admin: Admin,
  topic: string,
  attempts = 40,
): Promise<Awaited<ReturnType<Admin['fetchTopicOffsets']>>> {
  let lastError: unknown;
  for (let attempt = 0; attempt < attempts; attempt += 1) {
    try {
      return await admin.fetchTopicOffsets(topic);
    } catch (error) {
      lastError = error;
      if ((error as { retriable?: boolean }).retriable === false) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 100 * (attempt + 1))));
    }
  }
  throw lastError;
}
