/**
 * Retries a Kafka admin call that can fail while a just-created topic's leaders are being elected
 * ("This server is not the leader for that topic-partition", which kafkajs' admin offsets calls
 * do not retry themselves). Non-retriable errors are thrown at once.
 */
export async function retryKafka<T>(call: () => Promise<T>, attempts = 30, delayMs = 250): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      const retriable = (error as { retriable?: boolean }).retriable === true || /leader|not available|unknown topic/i.test(String((error as Error).message));
      if (!retriable || attempt >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}
