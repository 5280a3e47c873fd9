import { readFileSync } from 'node:fs';
import { Kafka, type KafkaConfig as KafkaJsConfig, logLevel, type LogEntry, type SASLOptions } from 'kafkajs';
import type { KafkaConfig } from './config';
import { registerCompressionCodecs } from './compression';
import type { KafkaLogger } from './logger';

/** kafkajs reports retriable coordinator states at ERROR while it retries them itself. */
const RETRIED_BY_KAFKAJS = [
  'The coordinator is loading',
  'The group coordinator is not available',
  'This is not the correct coordinator',
  'There is no leader for this topic-partition',
  'The group is rebalancing',
];

function logCreator(logger: KafkaLogger) {
  return () =>
    ({ namespace, level, log }: LogEntry) => {
      const { message, ...fields } = log;
      const data = { component: `kafkajs.${namespace}`, ...fields };
      const text = String(message);
      if (level === logLevel.ERROR) {
        const error = typeof fields.error === 'string' ? fields.error : '';
        if (RETRIED_BY_KAFKAJS.some((phrase) => error.startsWith(phrase))) logger.debug(data, text);
        else logger.error(data, text);
      } else if (level === logLevel.WARN) logger.warn(data, text);
      else if (level === logLevel.INFO) logger.info(data, text);
      else logger.debug(data, text);
    };
}

function sasl(config: KafkaConfig): SASLOptions | undefined {
  if (config.saslMechanism === 'none') return undefined;
  const credentials = { username: config.saslUsername ?? '', password: config.saslPassword ?? '' };
  return { mechanism: config.saslMechanism, ...credentials };
}

export function createKafkaClient(config: KafkaConfig, clientId: string, logger: KafkaLogger): Kafka {
  registerCompressionCodecs();
  const ssl: KafkaJsConfig['ssl'] = config.ssl
    ? config.sslCaFile
      ? { ca: [readFileSync(config.sslCaFile, 'utf8')] }
      : true
    : undefined;
  return new Kafka({
    clientId,
    brokers: config.brokers,
    ssl,
    sasl: sasl(config),
    logLevel: logLevel.INFO,
    logCreator: logCreator(logger),
    connectionTimeout: 5_000,
    requestTimeout: 30_000,
    retry: { initialRetryTime: 200, retries: 8 },
  });
}
