// One leader-election candidate in its own process (so a test can SIGKILL it): runs the operator's
// LeaderElector (built: services/operator/dist) against KUBECONFIG and prints one JSON line per change.
const { KubeConfig } = require('@kubernetes/client-node');
const { createLogger } = require('../../libs/telemetry/dist');
const { LeaderElector } = require('../../services/operator/dist/leader-election/leader-elector');
const { KubeLeaseApi } = require('../../services/operator/dist/leader-election/lease-api');

const env = process.env;
const kubeConfig = new KubeConfig();
kubeConfig.loadFromFile(env.KUBECONFIG);
const say = (event, extra = {}) => process.stdout.write(`${JSON.stringify({ event, identity: env.IDENTITY, at: Date.now(), ...extra })}\n`);
const elector = new LeaderElector({
  identity: env.IDENTITY,
  leaseDurationMs: Number(env.LEASE_DURATION_MS),
  renewDeadlineMs: Number(env.RENEW_DEADLINE_MS),
  retryPeriodMs: Number(env.RETRY_PERIOD_MS),
  api: new KubeLeaseApi(kubeConfig, env.LEASE_NAMESPACE, env.LEASE_NAME),
  logger: createLogger('leader-candidate', { LOG_LEVEL: 'silent' }),
});
elector.onStartedLeading(() => say('started'));
elector.onStoppedLeading((reason) => say('stopped', { reason }));
elector.onNewLeader((leader) => say('leader', { leader: leader ?? null }));
elector.start();
say('running');
process.on('SIGTERM', () => {
  void elector.stop().then(() => process.exit(0));
});
