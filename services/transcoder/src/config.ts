import { type ConfigOf, type Env, parseEnv, port } from '@tributary/config';
import { parseKafkaConfig } from '@tributary/kafka';

const transcoderEnvSpec = {
  port: port('TRANSCODER_PORT', 8083),
};

export type TranscoderConfig = ConfigOf<typeof transcoderEnvSpec> & { kafka: ReturnType<typeof parseKafkaConfig> };

/** Consumes raw video per stream and runs ffmpeg into an ABR HLS ladder Configuration, validated at start-up. */
export function loadTranscoderConfig(env: Env): TranscoderConfig {
  return { ...parseEnv(transcoderEnvSpec, env), kafka: parseKafkaConfig(env) };
}
