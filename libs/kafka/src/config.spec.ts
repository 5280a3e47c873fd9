import { ConfigError } from '@tributary/config';
import { parseKafkaConfig } from './config';

describe('parseKafkaConfig', () => {
  it('reads SCRAM-SHA-512 over TLS with a CA file, as the Helm chart sets it for Strimzi', () => {
    const config = parseKafkaConfig({
      KAFKA_BROKERS: 'tributary-kafka-kafka-bootstrap.ns.svc:9093',
      KAFKA_SSL: 'true',
      KAFKA_SSL_CA_FILE: '/etc/tributary/kafka-ca/ca.crt',
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: 'tributary-ingest',
      KAFKA_SASL_PASSWORD: 'secret',
      KAFKA_ENSURE_TOPICS: 'false',
      KAFKA_COMPRESSION: 'none',
    });
    expect(config).toMatchObject({
      brokers: ['tributary-kafka-kafka-bootstrap.ns.svc:9093'],
      ssl: true,
      sslCaFile: '/etc/tributary/kafka-ca/ca.crt',
      saslMechanism: 'scram-sha-512',
      saslUsername: 'tributary-ingest',
      saslPassword: 'secret',
      ensureTopics: false,
    });
  });

  it('ensures topics by default (no operator owns them)', () => {
    expect(parseKafkaConfig({ KAFKA_COMPRESSION: 'none' }).ensureTopics).toBe(true);
  });

  it('requires the credentials when a SASL mechanism is set', () => {
    expect(() => parseKafkaConfig({ KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_COMPRESSION: 'none' })).toThrow(
      'KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD are required when KAFKA_SASL_MECHANISM=scram-sha-512',
    );
  });

  it('names an unknown mechanism', () => {
    expect(() => parseKafkaConfig({ KAFKA_SASL_MECHANISM: 'scram-sha-1' })).toThrow(ConfigError);
  });
});
