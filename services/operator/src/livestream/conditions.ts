import type { Condition, ConditionStatus } from './livestream.types';

export const ConditionTypes = {
  /** Everything the resource asks for exists: Secret and registry entry. */
  ready: 'Ready',
  /** The stream's entry in stream.registry matches the spec. */
  registered: 'Registered',
  /** The Secret with the stream key exists and is owned by this resource. */
  streamKey: 'StreamKey',
  /** Someone is publishing (from stream.status). */
  publishing: 'Publishing',
} as const;

export interface ConditionUpdate {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
}

/**
 * Sets one condition: `lastTransitionTime` moves only when the status changes (as
 * apimachinery's meta.SetStatusCondition does); reason, message and generation follow the update.
 */
export function setCondition(conditions: readonly Condition[], update: ConditionUpdate, now: Date, generation: number | undefined): Condition[] {
  const existing = conditions.find((condition) => condition.type === update.type);
  const next: Condition = {
    ...update,
    lastTransitionTime: existing && existing.status === update.status ? existing.lastTransitionTime : now.toISOString(),
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
  };
  return existing ? conditions.map((condition) => (condition.type === update.type ? next : condition)) : [...conditions, next];
}

/** Adds each listed condition as Unknown when absent (a new resource shows what will be checked). */
export function initialiseConditions(conditions: readonly Condition[] | undefined, types: readonly string[], now: Date, generation: number | undefined): Condition[] {
  let result = [...(conditions ?? [])];
  for (const type of types) {
    if (!result.some((condition) => condition.type === type)) {
      result = setCondition(result, { type, status: 'Unknown', reason: 'Reconciling', message: 'not checked yet' }, now, generation);
    }
  }
  return result;
}

export function conditionOf(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((condition) => condition.type === type);
}
