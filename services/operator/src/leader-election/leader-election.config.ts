import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { KubeConfig } from '@kubernetes/client-node';
import { bool, ConfigError, type ConfigOf, int, optionalStr, str } from '@tributary/config';

/** Leader election settings (merged into the operator's env spec in config.ts). */
export const leaderElectionEnvSpec = {
  /** false = no Lease: this replica always acts (one replica only, e.g. a developer's `npm run operator`). */
  leaderElection: bool('OPERATOR_LEADER_ELECTION', { default: true }),
  leaseName: str('OPERATOR_LEASE_NAME', { default: 'tributary-operator', pattern: /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/ }),
  /** Namespace of the Lease; unset = POD_NAMESPACE, else the kubeconfig context's namespace, else `default`. */
  leaseNamespace: optionalStr('OPERATOR_LEASE_NAMESPACE'),
  /** This replica's identity in the Lease; the chart sets the pod name (downward API). Unset = host name + random suffix. */
  podName: optionalStr('POD_NAME'),
  podNamespace: optionalStr('POD_NAMESPACE'),
  /** Others take the Lease over once it has not changed for this long. */
  leaseDurationSeconds: int('OPERATOR_LEASE_DURATION_SECONDS', { default: 15, min: 2, max: 600 }),
  /** The leader stops acting when it could not renew for this long (must be below the lease duration). */
  renewDeadlineMs: int('OPERATOR_LEASE_RENEW_DEADLINE_MS', { default: 10_000, min: 200, max: 590_000 }),
  /** Time between renewals (and between acquisition attempts of the others). */
  retryPeriodMs: int('OPERATOR_LEASE_RETRY_PERIOD_MS', { default: 2_000, min: 50, max: 60_000 }),
};

export type LeaderElectionConfig = ConfigOf<typeof leaderElectionEnvSpec>;

export interface LeaseSettings {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

type NamespaceSource = Pick<KubeConfig, 'getContextObject' | 'getCurrentContext'>;

/** The operator's own namespace: POD_NAMESPACE, else the kubeconfig context's, else `default`. */
export function operatorNamespace(config: Pick<LeaderElectionConfig, 'podNamespace'>, kubeConfig: NamespaceSource): string {
  return config.podNamespace || kubeConfig.getContextObject(kubeConfig.getCurrentContext())?.namespace || 'default';
}

/** The Lease to use and this replica's identity; a ConfigError names the variables when the timings cannot be safe. */
export function leaseSettings(config: LeaderElectionConfig, kubeConfig: NamespaceSource): LeaseSettings {
  const leaseDurationMs = config.leaseDurationSeconds * 1000;
  if (!(config.retryPeriodMs < config.renewDeadlineMs && config.renewDeadlineMs < leaseDurationMs)) {
    throw new ConfigError([
      `OPERATOR_LEASE_RETRY_PERIOD_MS (${config.retryPeriodMs}) < OPERATOR_LEASE_RENEW_DEADLINE_MS (${config.renewDeadlineMs}) < OPERATOR_LEASE_DURATION_SECONDS (${config.leaseDurationSeconds} s) must hold: a leader has to stop acting before its lease may be taken over`,
    ]);
  }
  return {
    namespace: config.leaseNamespace || operatorNamespace(config, kubeConfig),
    name: config.leaseName,
    identity: config.podName || `${hostname()}-${randomUUID().slice(0, 8)}`,
    leaseDurationMs,
    renewDeadlineMs: config.renewDeadlineMs,
    retryPeriodMs: config.retryPeriodMs,
  };
}
