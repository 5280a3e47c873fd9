/**
 * Operator leader election on a real kube-apiserver: two candidate processes (the operator's
 * LeaderElector, built) → only one leads; SIGKILL the leader (no release, no goodbye) → the other
 * takes over once the lease has expired, within the lease duration plus a retry period of when the
 * leader last renewed; a leader that stops cleanly releases the Lease and the other takes over at once.
 * Then the same with two operator processes (dist/main.js): only the leader reconciles LiveStreams;
 * SIGKILL it → the other reconciles the next one once it has taken the Lease over.
 * Needs the built operator (`npx tsc -b services/operator`), like the other e2e tests need dist/.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { freePort, type KubeApiServer, REPO_ROOT, type ServiceProcess, startKubeApiServer, startService } from '@tributary/devkit';
import { until } from './support/operator-kube';

const log = (line: string) => process.stdout.write(`[operator-leader] ${line}\n`);
const NAMESPACE = 'leader-test';
const LEASE = { LEASE_DURATION_MS: 3_000, RENEW_DEADLINE_MS: 2_000, RETRY_PERIOD_MS: 500 };

interface LeaderLine {
  event: 'running' | 'started' | 'stopped' | 'leader';
  identity: string;
  at: number;
  leader?: string | null;
  reason?: string;
}

interface Candidate {
  identity: string;
  child: ChildProcess;
  lines: LeaderLine[];
  leading(): boolean;
}

describe('operator leader election (real API server, candidate processes)', () => {
  let kube: KubeApiServer;
  const candidates: Candidate[] = [];

  const candidate = (identity: string, leaseName: string, timings: typeof LEASE = LEASE): Candidate => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'test', 'support', 'leader-candidate.cjs')], {
      env: {
        ...process.env,
        KUBECONFIG: kube.kubeconfigPath,
        IDENTITY: identity,
        LEASE_NAMESPACE: NAMESPACE,
        LEASE_NAME: leaseName,
        ...Object.fromEntries(Object.entries(timings).map(([name, value]) => [name, String(value)])),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const lines: LeaderLine[] = [];
    let buffered = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const complete = buffered.split('\n');
      buffered = complete.pop() ?? '';
      for (const line of complete) if (line.trim()) lines.push(JSON.parse(line) as LeaderLine);
    });
    const created: Candidate = {
      identity,
      child,
      lines,
      leading: () => {
        const changes = lines.filter((line) => line.event === 'started' || line.event === 'stopped');
        return changes[changes.length - 1]?.event === 'started';
      },
    };
    candidates.push(created);
    return created;
  };

  const holder = async (leaseName: string): Promise<string | undefined> => {
    const lease = await kube.request<{ spec?: { holderIdentity?: string } }>('GET', `/apis/coordination.k8s.io/v1/namespaces/${NAMESPACE}/leases/${leaseName}`);
    return lease.status === 200 ? lease.body.spec?.holderIdentity : undefined;
  };

  const exited = (child: ChildProcess) => new Promise<void>((done) => (child.exitCode !== null || child.signalCode !== null ? done() : child.once('exit', () => done())));

  beforeAll(async () => {
    kube = await startKubeApiServer({ log });
    await kube.createNamespace(NAMESPACE);
  }, 240_000);

  afterAll(async () => {
    for (const { child } of candidates) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited(child);
    }
    await kube?.stop();
  }, 60_000);

  it('lets one of two replicas lead; after SIGKILL of the leader the other takes over within the lease duration', async () => {
    const a = candidate('operator-a', 'crash');
    const b = candidate('operator-b', 'crash');
    await until('one replica to lead', async () => a.leading() || b.leading(), 30_000);
    // Several renewals later, still exactly one leader, and the Lease names it.
    await new Promise((wait) => setTimeout(wait, 2 * LEASE.LEASE_DURATION_MS));
    expect([a.leading(), b.leading()].filter(Boolean)).toHaveLength(1);
    const [leader, follower] = a.leading() ? [a, b] : [b, a];
    expect(await holder('crash')).toBe(leader.identity);
    expect(follower.lines.some((line) => line.event === 'leader' && line.leader === leader.identity)).toBe(true);
    expect(leader.lines.filter((line) => line.event === 'started')).toHaveLength(1);
    expect(follower.lines.filter((line) => line.event === 'started')).toHaveLength(0);

    // The Lease's renewTime before the kill bounds when the follower may take over.
    const before = await kube.request<{ spec: { renewTime: string } }>('GET', `/apis/coordination.k8s.io/v1/namespaces/${NAMESPACE}/leases/crash`);
    leader.child.kill('SIGKILL');
    const killedAt = Date.now();
    await exited(leader.child);
    await until(`${follower.identity} to take over`, async () => follower.leading(), 30_000, 50);
    const startedAt = follower.lines.find((line) => line.event === 'started')?.at ?? 0;
    const lastRenewal = Date.parse(before.body.spec.renewTime);
    log(`take-over ${startedAt - killedAt} ms after SIGKILL (lease ${LEASE.LEASE_DURATION_MS} ms, retry ${LEASE.RETRY_PERIOD_MS} ms)`);
    // Not before the lease expired (counted from a renewal no later than the kill)…
    expect(startedAt - lastRenewal).toBeGreaterThanOrEqual(LEASE.LEASE_DURATION_MS - LEASE.RETRY_PERIOD_MS);
    // …and promptly after it: within the lease duration of the kill, plus a retry period and scheduling slack on a busy machine.
    expect(startedAt - killedAt).toBeLessThanOrEqual(LEASE.LEASE_DURATION_MS + LEASE.RETRY_PERIOD_MS * 1.2 + 5_000);
    expect(await holder('crash')).toBe(follower.identity);
    const lease = await kube.request<{ spec: { leaseTransitions: number } }>('GET', `/apis/coordination.k8s.io/v1/namespaces/${NAMESPACE}/leases/crash`);
    expect(lease.body.spec.leaseTransitions).toBe(1);
  }, 120_000);

  it('runs two operator processes of which only the leader reconciles; after SIGKILL of the leader the other reconciles', async () => {
    const namespace = 'operators';
    const api = '/apis/streaming.tributary.io/v1alpha1';
    await kube.installCrds([join(REPO_ROOT, 'k8s', 'crds', 'livestream.yaml')]);
    await kube.createNamespace(namespace);
    const prefix = `e2e-leader-${randomUUID().slice(0, 8)}`;
    const start = async (identity: string): Promise<ServiceProcess<'operator'>> => {
      const port = await freePort();
      return startService('operator', {
        port,
        env: {
          KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '',
          TOPIC_PREFIX: prefix,
          KAFKA_VIDEO_PARTITIONS: '2',
          KAFKA_EVENT_PARTITIONS: '1',
          KUBECONFIG: kube.kubeconfigPath,
          OPERATOR_NAMESPACE: namespace,
          POD_NAMESPACE: namespace,
          POD_NAME: identity,
          OPERATOR_LEASE_DURATION_SECONDS: String(LEASE.LEASE_DURATION_MS / 1000),
          OPERATOR_LEASE_RENEW_DEADLINE_MS: String(LEASE.RENEW_DEADLINE_MS),
          OPERATOR_LEASE_RETRY_PERIOD_MS: String(LEASE.RETRY_PERIOD_MS),
          LOG_LEVEL: 'warn',
        },
      });
    };
    const scrape = async (operator: ServiceProcess<'operator'>, series: string): Promise<number> => {
      const text = await (await fetch(`${operator.url}/metrics`)).text();
      const values = [...text.matchAll(new RegExp(`^${series}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))].map((match) => Number(match[1]));
      return values.reduce((sum, value) => sum + value, 0);
    };
    const ready = async (name: string): Promise<boolean> => {
      const response = await kube.request<{ metadata: { generation: number }; status?: { observedGeneration?: number; conditions?: { type: string; status: string }[] } }>(
        'GET',
        `${api}/namespaces/${namespace}/livestreams/${name}`,
      );
      const status = response.body.status;
      return response.status === 200 && status?.observedGeneration === response.body.metadata.generation && Boolean(status.conditions?.some((entry) => entry.type === 'Ready' && entry.status === 'True'));
    };
    const createLiveStream = async (name: string) => {
      const response = await kube.request('POST', `${api}/namespaces/${namespace}/livestreams`, { apiVersion: 'streaming.tributary.io/v1alpha1', kind: 'LiveStream', metadata: { name }, spec: { title: name } });
      expect(response.status).toBe(201);
    };

    const operators = await Promise.all([start('operator-1'), start('operator-2')]);
    try {
      await until('one operator to lead', async () => (await Promise.all(operators.map((operator) => scrape(operator, 'tributary_operator_leader')))).filter((value) => value === 1).length === 1, 60_000);
      const gauges = await Promise.all(operators.map((operator) => scrape(operator, 'tributary_operator_leader')));
      const [leader, standby] = gauges[0] === 1 ? [operators[0], operators[1]] : [operators[1], operators[0]];
      await createLiveStream('first');
      await until('first to be Ready', () => ready('first'), 60_000);
      // The reconcile is counted when it returns, just after its status write made the stream Ready.
      await until('the leader to count its reconcile', async () => (await scrape(leader, 'tributary_operator_reconciles_total')) > 0, 10_000, 50);
      expect(await scrape(standby, 'tributary_operator_reconciles_total')).toBe(0);
      expect(await scrape(standby, 'tributary_operator_leader')).toBe(0);

      await leader.kill();
      const killedAt = Date.now();
      await createLiveStream('second');
      await until('the standby to lead', async () => (await scrape(standby, 'tributary_operator_leader')) === 1, 30_000, 100);
      const tookOverAfter = Date.now() - killedAt;
      await until('second to be Ready (reconciled by the new leader)', () => ready('second'), 60_000);
      log(`operator take-over ${tookOverAfter} ms after SIGKILL; second Ready ${Date.now() - killedAt} ms after it`);
      expect(tookOverAfter).toBeLessThanOrEqual(LEASE.LEASE_DURATION_MS + LEASE.RETRY_PERIOD_MS * 1.2 + 5_000);
      await until('the new leader to count its reconciles', async () => (await scrape(standby, 'tributary_operator_reconciles_total')) > 0, 10_000, 50);
    } finally {
      await Promise.all(operators.map((operator) => operator.stop()));
    }
  }, 180_000);

  it('hands over at once when the leader stops cleanly (it releases the Lease)', async () => {
    // A long lease: without the release, the take-over would wait ~15 s.
    const long = { LEASE_DURATION_MS: 15_000, RENEW_DEADLINE_MS: 10_000, RETRY_PERIOD_MS: 500 };
    const a = candidate('operator-c', 'graceful', long);
    await until('operator-c to lead', async () => a.leading(), 30_000);
    const b = candidate('operator-d', 'graceful', long);
    await until('operator-d to see operator-c lead', async () => b.lines.some((line) => line.event === 'leader' && line.leader === 'operator-c'), 30_000);
    a.child.kill('SIGTERM');
    const stoppedAt = Date.now();
    await exited(a.child);
    expect(a.lines.some((line) => line.event === 'stopped' && line.reason === 'stopping')).toBe(true);
    await until('operator-d to take over', async () => b.leading(), 30_000, 50);
    const startedAt = b.lines.find((line) => line.event === 'started')?.at ?? 0;
    log(`take-over ${startedAt - stoppedAt} ms after a clean stop`);
    // A released Lease is taken on the next attempt, not after the lease duration.
    expect(startedAt - stoppedAt).toBeLessThan(long.LEASE_DURATION_MS / 2);
    expect(await holder('graceful')).toBe('operator-d');
  }, 120_000);
});
