import { ConfigError, parseEnv } from '@tributary/config';
import { lagAutoscalerEnvSpec, lagAutoscalerTarget } from './lag-autoscaler.config';

describe(lagAutoscalerTarget.name, () => {
  it("is off by default and measures the transcoder's group on video.ingest under TOPIC_PREFIX", () => {
    const config = parseEnv(lagAutoscalerEnvSpec, { OPERATOR_LAG_AUTOSCALER_DEPLOYMENT: 'tv-tributary-transcoder' });
    expect(config.lagAutoscaler).toBe(false);
    expect(config).toMatchObject({ lagThreshold: 50, activationLagThreshold: 0, offsetResetPolicy: 'earliest', allowIdleConsumers: false, minReplicas: 1, maxReplicas: 6, stabilizationSeconds: 300 });
    expect(lagAutoscalerTarget(config, 'acme', 'media')).toEqual({ namespace: 'media', deployment: 'tv-tributary-transcoder', group: 'acme.transcoder', topic: 'acme.video.ingest' });
    expect(lagAutoscalerTarget(config, undefined, 'media')).toMatchObject({ group: 'transcoder', topic: 'video.ingest' });
  });

  it('names the variables when the Deployment is missing or the bounds cannot hold', () => {
    const config = parseEnv(lagAutoscalerEnvSpec, { OPERATOR_LAG_AUTOSCALER: 'true', OPERATOR_LAG_AUTOSCALER_MIN_REPLICAS: '4', OPERATOR_LAG_AUTOSCALER_MAX_REPLICAS: '2' });
    expect(() => lagAutoscalerTarget(config, '', 'media')).toThrow(ConfigError);
    expect(() => lagAutoscalerTarget(config, '', 'media')).toThrow(/OPERATOR_LAG_AUTOSCALER_DEPLOYMENT[\s\S]*OPERATOR_LAG_AUTOSCALER_MIN_REPLICAS \(4\)/);
  });
});
