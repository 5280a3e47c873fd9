import pino from 'pino';
import { LatencySweep, type SweptBacklog, type SweptPipeline } from './latency-sweep';

function pipeline(fields: Partial<SweptPipeline> & { delay?: number }): SweptPipeline & { checks: number[] } {
  const checks: number[] = [];
  return {
    isFinished: false,
    transcodeMode: 'live',
    oldestPendingMs: undefined,
    latencyBoundMs: 6000,
    shedLevel: 0,
    ...fields,
    checks,
    checkLatency: (now?: number) => {
      checks.push(now ?? 0);
      return fields.delay;
    },
  };
}

function backlog(): SweptBacklog & { pokes: number } {
  return {
    runningCount: 1,
    waitingCount: 2,
    pokes: 0,
    poke() {
      this.pokes += 1;
    },
  };
}

describe(LatencySweep.name, () => {
  const logger = pino({ level: 'silent' });

  it('checks every running live pipeline with the same clock and counts them per shedding level', () => {
    const sweep = new LatencySweep(logger);
    const live = [pipeline({ delay: 1000 }), pipeline({ delay: 2000, shedLevel: 2 }), pipeline({ delay: undefined })];
    const finished = pipeline({ delay: 50_000, isFinished: true });
    const result = sweep.sweep([...live, finished], backlog(), 42);
    expect(live.map((p) => p.checks)).toEqual([[42], [42], [42]]);
    expect(finished.checks).toEqual([]);
    expect(result).toEqual({ liveTrailing: false, shedding: [1, 0, 1] });
  });

  it('flags live streams trailing their bound (backlog waits) and pokes the backlog every sweep', () => {
    const sweep = new LatencySweep(logger);
    const queue = backlog();
    expect(sweep.sweep([pipeline({ delay: 7000 })], queue, 0).liveTrailing).toBe(true);
    expect(sweep.liveTrailing).toBe(true);
    expect(sweep.sweep([pipeline({ delay: 6000 })], queue, 0).liveTrailing).toBe(false);
    expect(sweep.liveTrailing).toBe(false);
    expect(queue.pokes).toBe(2);
  });

  it('does not judge backlog pipelines, only finds their oldest pending input', () => {
    const sweep = new LatencySweep(logger);
    const old = pipeline({ transcodeMode: 'backlog', oldestPendingMs: 500, delay: 99_000 });
    const older = pipeline({ transcodeMode: 'backlog', oldestPendingMs: 200 });
    const result = sweep.sweep([old, older, pipeline({ transcodeMode: 'backlog' })], backlog(), 1000);
    expect(old.checks).toEqual([]);
    expect(result).toEqual({ liveTrailing: false, shedding: [0, 0, 0], backlogOldestMs: 200 });
  });
});
