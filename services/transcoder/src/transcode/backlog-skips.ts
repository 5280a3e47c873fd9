/** The stream's current pipeline, as far as skipping its chunks is concerned. */
export interface RunningSession {
  readonly isFinished: boolean;
  readonly publishSessionId: string;
}

/**
 * Under TRANSCODER_BACKLOG_POLICY=skip: which chunks of backlog sessions are committed without
 * transcoding. A session is skipped from its first late chunk on (unless it is already being
 * transcoded), once per session; a fresh chunk of it means its publisher is back and ends the skip.
 */
export class BacklogSkips {
  /** stream → session being skipped and chunks skipped. */
  private readonly skipping = new Map<string, { session: string; chunks: number }>();

  /**
   * `first`: skip the chunk, and it starts skipping its session (report the gap once); `more`:
   * skip it; undefined: transcode it. `late`: its ingest is older than the backlog bound.
   */
  decide(streamId: string, session: string, late: boolean, running: RunningSession | undefined): 'first' | 'more' | undefined {
    const skipping = this.skipping.get(streamId);
    const isNew = !skipping || skipping.session !== session;
    if (!late || (isNew && running && !running.isFinished && running.publishSessionId === session)) {
      if (skipping?.session === session) this.skipping.delete(streamId);
      return undefined;
    }
    if (isNew) this.skipping.set(streamId, { session, chunks: 0 });
    this.skipping.get(streamId)!.chunks += 1;
    return isNew ? 'first' : 'more';
  }

  /** Chunks of the stream's skipped session so far. */
  skipped(streamId: string): number {
    return this.skipping.get(streamId)?.chunks ?? 0;
  }
}
