import { ConfigError, parseEnv } from '@tributary/config';
import { leaderElectionEnvSpec, leaseSettings } from './leader-election.config';

const kubeConfig = (namespace?: string) => ({ getCurrentContext: () => 'ctx', getContextObject: () => (namespace ? { name: 'ctx', cluster: 'c', user: 'u', namespace } : null) });

describe(leaseSettings.name, () => {
  it('defaults to client-go timings, the pod name and the pod namespace', () => {
    const config = parseEnv(leaderElectionEnvSpec, { POD_NAME: 'operator-7d9-abc', POD_NAMESPACE: 'tributary' });
    expect(leaseSettings(config, kubeConfig('other'))).toEqual({
      namespace: 'tributary',
      name: 'tributary-operator',
      identity: 'operator-7d9-abc',
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
    });
  });

  it("falls back to the kubeconfig context's namespace, then default, and a unique identity", () => {
    const config = parseEnv(leaderElectionEnvSpec, {});
    expect(leaseSettings(config, kubeConfig('team-a')).namespace).toBe('team-a');
    const first = leaseSettings(config, kubeConfig());
    expect(first.namespace).toBe('default');
    expect(first.identity).not.toBe(leaseSettings(config, kubeConfig()).identity);
  });

  it('refuses timings where a leader could act after its lease may be taken over', () => {
    const config = parseEnv(leaderElectionEnvSpec, { OPERATOR_LEASE_DURATION_SECONDS: '5', OPERATOR_LEASE_RENEW_DEADLINE_MS: '6000' });
    expect(() => leaseSettings(config, kubeConfig())).toThrow(ConfigError);
    expect(() => leaseSettings(config, kubeConfig())).toThrow(/OPERATOR_LEASE_RENEW_DEADLINE_MS/);
  });
});
