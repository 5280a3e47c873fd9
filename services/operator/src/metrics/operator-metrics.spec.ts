import { registry } from '@tributary/telemetry';
import { observeReconcile, operatorMetrics } from './operator-metrics';

async function count(result: string): Promise<number> {
  const values = (await operatorMetrics.reconciles().get()).values;
  return values.find((value) => value.labels.result === result)?.value ?? 0;
}

describe('operator metrics', () => {
  it('counts and times reconciles by result, rethrowing failures', async () => {
    const before = { success: await count('success'), error: await count('error'), requeue: await count('requeue') };
    await observeReconcile(async () => undefined);
    await observeReconcile(async () => ({ requeueAfterMs: 1000 }));
    await expect(observeReconcile(async () => Promise.reject(new Error('kafka down')))).rejects.toThrow('kafka down');
    expect(await count('success')).toBe(before.success + 1);
    expect(await count('requeue')).toBe(before.requeue + 1);
    expect(await count('error')).toBe(before.error + 1);
    const text = await registry.metrics();
    expect(text).toMatch(/tributary_operator_reconcile_duration_seconds_count\{result="error"\} \d+/);
  });

  it('reads the queue depth and the leader flag at scrape time', async () => {
    let depth = 3;
    let leading = false;
    operatorMetrics.queueDepth(() => depth);
    operatorMetrics.leader(() => leading);
    expect(await registry.metrics()).toMatch(/tributary_operator_queue_depth 3\n[\s\S]*tributary_operator_leader 0\n/);
    depth = 0;
    leading = true;
    const text = await registry.metrics();
    expect(text).toContain('tributary_operator_queue_depth 0\n');
    expect(text).toContain('tributary_operator_leader 1\n');
  });
});
