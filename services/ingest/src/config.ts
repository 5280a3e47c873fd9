import { type ConfigOf, type Env, parseEnv, port } from '@tributary/config';
import { parseKafkaConfig } from '@tributary/kafka';

const ingestEnvSpec = {
  port: port('INGEST_PORT', 8081),
};

export type IngestConfig = ConfigOf<typeof ingestEnvSpec> & { kafka: ReturnType<typeof parseKafkaConfig> };

/** Publishers push live video (MPEG-TS over HTTP) and JPEG frames Configuration, validated at start-up. */
export function loadIngestConfig(env: Env): IngestConfig {
  return { ...parseEnv(ingestEnvSpec, env), kafka: parseKafkaConfig(env) };
}
