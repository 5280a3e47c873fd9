/**
 * Where a stream's input ends. Ingest's `ended` names the last chunk sequence of the session, which
 * may still be on its way through the partition: the input is complete once that chunk was fed.
 */
export class InputEnd {
  private lastFed = -1;
  private endAfter?: number;

  /** The highest chunk sequence fed so far (-1: none). */
  get fedUpTo(): number {
    return this.lastFed;
  }

  fed(sequence: number): void {
    this.lastFed = Math.max(this.lastFed, sequence);
  }

  /** Records the last sequence; true when it was already fed (or none is named): end now. */
  endAfterSequence(lastSequence: number | undefined): boolean {
    if (lastSequence !== undefined && lastSequence > this.lastFed) {
      this.endAfter = lastSequence;
      return false;
    }
    return true;
  }

  /** The announced last chunk has been fed. */
  get reached(): boolean {
    return this.endAfter !== undefined && this.lastFed >= this.endAfter;
  }
}
