import { startLocalKafka } from '@tributary/devkit';

/**
 * Starts one real Kafka broker for the whole run, unless KAFKA_BROKERS points at one already.
 * Workers inherit KAFKA_BROKERS from this process's environment.
 */
export default async function globalSetup(): Promise<void> {
  if (process.env.KAFKA_BROKERS) {
    process.stdout.write(`\nusing Kafka at KAFKA_BROKERS=${process.env.KAFKA_BROKERS}\n`);
    return;
  }
  const kafka = await startLocalKafka({ log: (line) => process.stdout.write(`\n[local-kafka] ${line}`) });
  process.stdout.write(`\n[local-kafka] ready at ${kafka.brokers}\n`);
  process.env.KAFKA_BROKERS = kafka.brokers;
  (globalThis as { __localKafka?: typeof kafka }).__localKafka = kafka;
}
