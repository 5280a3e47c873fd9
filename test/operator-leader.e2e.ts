/**
 * Operator leader election on a real kube-apiserver: two candidate processes (the operator's
 * LeaderElector, built) → only one leads; SIGKILL the leader (no release, no goodbye) → the other
 * takes over once the lease has expired, within the lease duration plus a retry period of when the
 * leader last renewed; a leader that stops cleanly releases the Lease and the other takes over at once.
 * Needs the built operator (`npx tsc -b services/operator`), like the other e2e tests need dist/.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { type KubeApiServer, REPO_ROOT, startKubeApiServer } from '@tributary/devkit';
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
    await new Promise((wait) => setTimeout(wait, 3 * LEASE.LEASE_DURATION_MS));
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
