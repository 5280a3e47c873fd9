import { type ConfigOf, type Env, parseEnv, port } from '@tributary/config';
import { parseKafkaConfig } from '@tributary/kafka';

const event_gatewayEnvSpec = {
  port: port('EVENT_GATEWAY_PORT', 8082),
};

export type EventGatewayConfig = ConfigOf<typeof event_gatewayEnvSpec> & { kafka: ReturnType<typeof parseKafkaConfig> };

/** Streams playback events and live statistics from Kafka to browsers over Socket.IO. Configuration, validated at start-up. */
export function loadEventGatewayConfig(env: Env): EventGatewayConfig {
  return { ...parseEnv(event_gatewayEnvSpec, env), kafka: parseKafkaConfig(env) };
}
