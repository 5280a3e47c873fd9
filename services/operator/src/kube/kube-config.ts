import { KubeConfig } from '@kubernetes/client-node';
import { ConfigError } from '@tributary/config';
import type { OperatorConfig } from '../config';

/**
 * The cluster to talk to: KUBECONFIG's file (out of cluster) or the pod's service account (in
 * cluster). Fails at start-up, naming the variable, when neither is usable.
 */
export function loadKubeConfig(config: Pick<OperatorConfig, 'kubeconfig'>): KubeConfig {
  const kubeConfig = new KubeConfig();
  try {
    if (config.kubeconfig) kubeConfig.loadFromFile(config.kubeconfig);
    else kubeConfig.loadFromCluster();
  } catch (error) {
    throw new ConfigError([`KUBECONFIG: cannot load ${config.kubeconfig ?? 'the in-cluster service account'}: ${(error as Error).message}`]);
  }
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster?.server || cluster.server.includes('undefined')) {
    throw new ConfigError([
      'KUBECONFIG is not set and this is not a pod (KUBERNETES_SERVICE_HOST/PORT missing): set KUBECONFIG to a kubeconfig file, e.g. KUBECONFIG=~/.kube/config npm run operator',
    ]);
  }
  return kubeConfig;
}

/** Injection token for the loaded KubeConfig. */
export const KUBE_CONFIG = Symbol('KUBE_CONFIG');
