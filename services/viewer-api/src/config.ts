import { type ConfigOf, type Env, parseEnv, port } from '@tributary/config';
import { parseKafkaConfig } from '@tributary/kafka';

const viewer_apiEnvSpec = {
  port: port('VIEWER_API_PORT', 8080),
};

export type ViewerApiConfig = ConfigOf<typeof viewer_apiEnvSpec> & { kafka: ReturnType<typeof parseKafkaConfig> };

/** What viewers hit: HLS playlists and segments, the web player, MJPEG preview, stream listing, playback events. Configuration, validated at start-up. */
export function loadViewerApiConfig(env: Env): ViewerApiConfig {
  return { ...parseEnv(viewer_apiEnvSpec, env), kafka: parseKafkaConfig(env) };
}
