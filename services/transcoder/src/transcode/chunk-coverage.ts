/** An input chunk as the pipeline receives it (one video.ingest message). */
export interface InputChunk {
  offset: string;
  sequence: number;
  data: Buffer;
  traceparent?: string;
  /** When the chunk's first byte reached ingest (ms since epoch), if the header said so. */
  ingestTimeMs?: number;
}

interface PendingChunk extends InputChunk {
  /** Relative media time (s) of the latest PES start in the chunk, in the ffmpeg run it was fed to. */
  mediaEnd?: number;
  run?: number;
}

const PTS_WRAP = 2 ** 33;
const PTS_HZ = 90_000;

/**
 * Which input chunks are covered by durable output (PTS → offset accounting). Chunks wait here
 * from consumption until every rendition has acknowledged segments past their media time in the
 * ffmpeg run they were fed to; then their offsets are released (may be committed). A crashed run
 * re-feeds whatever is still pending. Pure bookkeeping: no ffmpeg, no Kafka, no clock.
 */
export class ChunkCoverage {
  private readonly pending: PendingChunk[] = [];
  private run?: { id: number; firstPts?: number; lastMediaTime: number; durations: Map<string, number> };

  /** Chunks not yet covered, oldest first. */
  get chunks(): readonly InputChunk[] {
    return this.pending;
  }

  get size(): number {
    return this.pending.length;
  }

  add(chunk: InputChunk): InputChunk {
    const entry: PendingChunk = { ...chunk };
    this.pending.push(entry);
    return entry;
  }

  /** A new ffmpeg run starts: media time restarts at its first PTS. */
  startRun(id: number): void {
    this.run = { id, lastMediaTime: 0, durations: new Map() };
  }

  /**
   * `chunk` (returned by add) is written to the current run; `pts` is its latest PES start (90 kHz),
   * if any; `skippedSeconds`: media the run's input left out so far (skipped in place), which its
   * output does not contain.
   */
  written(chunk: InputChunk, pts: number | undefined, skippedSeconds = 0): void {
    const run = this.run;
    if (!run) throw new Error('no ffmpeg run started');
    if (pts !== undefined) {
      if (run.firstPts === undefined) run.firstPts = pts;
      let relative = pts - run.firstPts;
      if (relative < -PTS_WRAP / 2) relative += PTS_WRAP;
      run.lastMediaTime = Math.max(run.lastMediaTime, relative / PTS_HZ - skippedSeconds);
    }
    const entry = chunk as PendingChunk;
    entry.run = run.id;
    entry.mediaEnd = run.lastMediaTime;
  }

  /**
   * A segment of `rendition` (`durationSeconds` long) made by run `runId` is durable. Returns the
   * offsets of chunks now covered by acknowledged output of every one of `renditions`.
   */
  segmentDurable(runId: number, rendition: string, durationSeconds: number, renditions: readonly string[]): string[] {
    const run = this.run;
    if (!run || run.id !== runId) return [];
    run.durations.set(rendition, (run.durations.get(rendition) ?? 0) + durationSeconds);
    const covered = Math.min(...renditions.map((name) => run.durations.get(name) ?? 0));
    const released: string[] = [];
    while (this.pending.length > 0) {
      const head = this.pending[0];
      if (head.run !== run.id || head.mediaEnd === undefined || head.mediaEnd >= covered) break;
      this.pending.shift();
      released.push(head.offset);
    }
    return released;
  }

  /** Releases the pending chunks before chunk `sequence` (skipped: a newer keyframe is where ffmpeg restarts). */
  releaseBefore(sequence: number): string[] {
    const released: string[] = [];
    while (this.pending.length > 0 && this.pending[0].sequence < sequence) released.push(this.pending.shift()!.offset);
    return released;
  }

  /** Releases every pending chunk (the stream ended or failed: nothing more will be made of them). */
  releaseAll(): string[] {
    return this.pending.splice(0).map((entry) => entry.offset);
  }
}
