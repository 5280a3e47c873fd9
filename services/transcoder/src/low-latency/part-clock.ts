/**
 * The program date time of one low-latency ffmpeg run's parts: the wall clock of media time 0 (the
 * ingest time of the first input chunk written to the run; ffmpeg starts its output timeline at
 * its first input packet) plus the part's media start (its `tfdt`). So consecutive parts' dates
 * differ by exactly their durations, and every rendition of the run dates the same media alike.
 *
 * Why not the wall clock when a part is cut: at start-up ffmpeg works through the probe buffer
 * faster than real time, and under load it lags, so those dates jitter and drift by up to seconds
 * against the media. hls.js aligns playlist refreshes and renditions by program date time; a
 * drifting date shifted its timeline against the buffered media, it took loaded parts for missing
 * ones and stopped loading (playback frozen for ~5 s at a time until its stall recovery jumped).
 */
export class PartClock {
  private inputStartMs?: number;
  private mediaZeroMs?: number;

  /** A chunk ingested at `ingestTimeMs` was written to the run (only the first one counts). */
  inputWritten(ingestTimeMs: number | undefined): void {
    if (ingestTimeMs !== undefined && Number.isFinite(ingestTimeMs) && ingestTimeMs > 0) this.inputStartMs ??= ingestTimeMs;
  }

  /**
   * The date (ms) of a part starting at media time `startSeconds` and lasting `durationSeconds`.
   * The first part fixes media time 0; without an input time (or with a start that cannot be
   * media time since the run's first input) it is dated from its own end, now.
   */
  programTimeMs(startSeconds: number, durationSeconds: number, now = Date.now()): number {
    if (this.mediaZeroMs === undefined) {
      const plausible = startSeconds >= 0 && startSeconds < 60;
      this.mediaZeroMs = this.inputStartMs !== undefined && plausible ? this.inputStartMs : now - (startSeconds + durationSeconds) * 1000;
    }
    return Math.round(this.mediaZeroMs + startSeconds * 1000);
  }
}
