import type { KafkaLogger } from '@tributary/kafka';

/**
 * The benchmarks' kafkajs logger: warnings and errors go to `log`, the rest is dropped. kafkajs
 * warns about libs/kafka's bounded retries on every idempotent producer: known, not news.
 */
export function benchKafkaLogger(log: (line: string) => void): KafkaLogger {
  return {
    debug: () => undefined,
    info: () => undefined,
    warn: (fields, message) => {
      if (!message.startsWith('Limiting retries')) log(`kafka warn: ${message} ${JSON.stringify(fields)}`);
    },
    error: (fields, message) => log(`kafka error: ${message} ${JSON.stringify(fields)}`),
  };
}
