import { retryKafka as retry } from '@tributary/kafka';

/**
 * Retries a Kafka admin call that can fail while a just-created topic's leaders are being elected
 * ("This server is not the leader for that topic-partition", which kafkajs' admin offsets calls
 * do not retry themselves). Non-retriable errors are thrown at once. (libs/kafka's retryKafka.)
 */
export function retryKafka<T>(call: () => Promise<T>, attempts = 30, delayMs = 250): Promise<T> {
  return retry(call, { attempts, delayMs });
}
