import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseMediaPlaylist } from './hls-playlist';

export interface FinishedSegment {
  rendition: string;
  /** ffmpeg's media sequence (from 0 for each ffmpeg process). */
  sequence: number;
  durationSeconds: number;
  programTime?: string;
  data: Buffer;
}

export interface SegmentWatcherOptions {
  outputDir: string;
  renditions: readonly string[];
  pollIntervalMs?: number;
  /** Called once per finished segment, in sequence order per rendition; awaited (backpressure). */
  onSegment: (segment: FinishedSegment) => Promise<void>;
  onError?: (error: unknown) => void;
}

/**
 * Finds finished HLS segments by reading each rendition's playlist: ffmpeg lists a segment only
 * after closing it (and with `temp_file` it appears under its final name only then), so a listed
 * segment is complete. Polling (not fs.watch) is portable and cheap at segment rates (~1/s).
 * Each segment is handed over once, in order, then deleted from disk.
 */
export class SegmentWatcher {
  private readonly next = new Map<string, number>();
  private timer?: NodeJS.Timeout;
  private scanning?: Promise<void>;
  private stopped = false;

  constructor(private readonly options: SegmentWatcherOptions) {
    for (const rendition of options.renditions) this.next.set(rendition, 0);
  }

  start(): void {
    const tick = () => {
      if (this.stopped) return;
      this.scanning = this.scan()
        .catch((error) => this.options.onError?.(error))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, this.options.pollIntervalMs ?? 200);
        });
    };
    this.timer = setTimeout(tick, this.options.pollIntervalMs ?? 200);
  }

  /** Stops polling, then hands over whatever the playlists list now (after ffmpeg exited). */
  async finish(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.scanning;
    await this.scan();
  }

  /** Stops without a final scan (the stream is being abandoned). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.scanning?.catch(() => undefined);
  }

  private async scan(): Promise<void> {
    for (const rendition of this.options.renditions) {
      const dir = join(this.options.outputDir, rendition);
      let text: string;
      try {
        text = await readFile(join(dir, 'index.m3u8'), 'utf8');
      } catch {
        continue; // not written yet
      }
      const playlist = parseMediaPlaylist(text);
      for (const segment of playlist.segments) {
        const expected = this.next.get(rendition) ?? 0;
        if (segment.sequence < expected) continue;
        const path = join(dir, segment.uri);
        const data = await readFile(path);
        await this.options.onSegment({
          rendition,
          sequence: segment.sequence,
          durationSeconds: segment.durationSeconds,
          ...(segment.programTime ? { programTime: segment.programTime } : {}),
          data,
        });
        this.next.set(rendition, segment.sequence + 1);
        await rm(path, { force: true });
      }
    }
  }
}
