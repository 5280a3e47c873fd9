import { operatorMetrics } from '@tributary/telemetry';

export { operatorMetrics };

export type ReconcileResult = 'success' | 'error' | 'requeue';

/**
 * Times one reconcile and counts it by result: a throw counts as `error` (and is rethrown), a
 * `{ requeueAfterMs }` answer as `requeue`. Wrap the work queue's handler with it.
 */
export async function observeReconcile<T extends { requeueAfterMs?: number } | void>(work: () => Promise<T>): Promise<T> {
  const started = process.hrtime.bigint();
  let result: ReconcileResult = 'error';
  try {
    const answer = await work();
    result = answer && typeof answer === 'object' && answer.requeueAfterMs !== undefined ? 'requeue' : 'success';
    return answer;
  } finally {
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    operatorMetrics.reconciles().inc({ result });
    operatorMetrics.reconcileDuration().observe({ result }, seconds);
  }
}
