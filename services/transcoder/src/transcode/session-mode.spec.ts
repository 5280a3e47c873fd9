import type { BacklogGate } from './backlog-scheduler';
import { SessionMode } from './session-mode';

/** A gate whose turns are granted (or ended) by the test. */
class ManualGate implements BacklogGate {
  grant?: (granted: boolean) => void;
  readonly permits: object[] = [];
  readonly ended: object[] = [];
  turn(): Promise<boolean> {
    return new Promise((resolve) => (this.grant = resolve));
  }
  permit(owner: object): Promise<void> {
    this.permits.push(owner);
    return Promise.resolve();
  }
  end(owner: object): void {
    this.ended.push(owner);
  }
}

describe(SessionMode.name, () => {
  const owner = {};

  it('lets a live session through without asking the gate', async () => {
    const gate = new ManualGate();
    const mode = new SessionMode('live', gate, owner);
    expect(mode.waitsForTurn).toBe(false);
    await expect(mode.awaitTurn(() => false)).resolves.toBe(true);
    await mode.permit();
    expect(gate.grant).toBeUndefined();
    expect(gate.permits).toEqual([]);
  });

  it('makes a backlog session wait for a turn, then ask for a permit before each write', async () => {
    const gate = new ManualGate();
    const mode = new SessionMode('backlog', gate, owner);
    expect(mode.waitsForTurn).toBe(true);
    const waiting = mode.awaitTurn(() => false);
    gate.grant!(true);
    await expect(waiting).resolves.toBe(true);
    expect(mode.holdsTurn).toBe(true);
    await mode.permit();
    expect(gate.permits).toEqual([owner]);
    mode.end();
    expect(gate.ended).toEqual([owner]);
    expect(mode.holdsTurn).toBe(false);
  });

  it('holds no turn when the session went live while it waited', async () => {
    const gate = new ManualGate();
    const mode = new SessionMode('backlog', gate, owner);
    const waiting = mode.awaitTurn(() => false);
    mode.goLive();
    gate.grant!(true);
    await expect(waiting).resolves.toBe(true);
    expect(mode.isLive).toBe(true);
    expect(mode.holdsTurn).toBe(false);
    expect(gate.ended).toEqual([owner]);
  });

  it('tells the caller to return when it stopped while waiting', async () => {
    const gate = new ManualGate();
    const mode = new SessionMode('backlog', gate, owner);
    const waiting = mode.awaitTurn(() => true);
    gate.grant!(true);
    await expect(waiting).resolves.toBe(false);
    expect(mode.holdsTurn).toBe(false);
  });

  it('runs a backlog session without a gate like a live one, and turns a live session into backlog', async () => {
    const mode = new SessionMode('backlog', undefined, owner);
    expect(mode.waitsForTurn).toBe(false);
    await expect(mode.awaitTurn(() => false)).resolves.toBe(true);
    const live = new SessionMode('live', new ManualGate(), owner);
    live.toBacklog();
    expect(live.mode).toBe('backlog');
    expect(live.waitsForTurn).toBe(true);
  });
});
