import type { TranscodeMode } from '@tributary/contracts';
import type { BacklogGate } from './backlog-scheduler';

/**
 * Whether a session is `live` or `backlog` (publisher gone), and a backlog session's turn from the
 * BacklogGate: it transcodes only while it holds a turn, and writes input only with the gate's
 * permit (no live stream trails). Without a gate a backlog session runs like a live one.
 */
export class SessionMode {
  private current: TranscodeMode;
  private held = false;

  constructor(
    mode: TranscodeMode,
    private readonly gate: BacklogGate | undefined,
    /** Who asks the gate (the pipeline). */
    private readonly owner: object,
  ) {
    this.current = mode;
  }

  get mode(): TranscodeMode {
    return this.current;
  }

  get isLive(): boolean {
    return this.current === 'live';
  }

  get holdsTurn(): boolean {
    return this.held;
  }

  /** A backlog session without a turn (it must wait for one before transcoding). */
  get waitsForTurn(): boolean {
    return this.current === 'backlog' && !this.held && this.gate !== undefined;
  }

  /**
   * Waits for a turn if the session needs one. A wait that ended without one (the session went
   * live, or is stopping) leaves it without. False when `stopped()` says the caller must return.
   */
  async awaitTurn(stopped: () => boolean): Promise<boolean> {
    if (!this.waitsForTurn) return true;
    const granted = await this.gate!.turn(this.owner);
    if (stopped()) return false;
    this.held = granted && this.current === 'backlog';
    return true;
  }

  /** Before a write of backlog input: waits until no live stream trails its bound. */
  async permit(): Promise<void> {
    if (this.current === 'backlog' && this.held && this.gate) await this.gate.permit(this.owner);
  }

  /** Gives the turn back (or stops waiting for one). */
  end(): void {
    this.gate?.end(this.owner);
    this.held = false;
  }

  /** The publisher is there after all: live, and any turn is given back. */
  goLive(): void {
    this.current = 'live';
    this.end();
  }

  /** The publisher left while the output trails: the rest is backlog (it waits for a turn). */
  toBacklog(): void {
    this.current = 'backlog';
  }
}
