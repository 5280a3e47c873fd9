import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * A stream's temp folder on this transcoder: one sub-folder per ffmpeg run with one folder per
 * rendition, created on first use and removed with everything in it when the stream stops.
 */
export class StreamWorkDir {
  private base?: string;

  constructor(
    private readonly root: string,
    private readonly streamId: string,
  ) {}

  /** Creates `run-<id>/<rendition>` for each rendition and returns the run's folder. */
  async runDir(id: number, renditions: readonly string[]): Promise<string> {
    if (!this.base) {
      await mkdir(this.root, { recursive: true });
      this.base = await mkdtemp(join(this.root, `${this.streamId}-`));
    }
    const dir = join(this.base, `run-${id}`);
    for (const rendition of renditions) await mkdir(join(dir, rendition), { recursive: true });
    return dir;
  }

  /** Removes the stream's folder (best effort: a leftover temp folder must not fail the stream). */
  async remove(): Promise<void> {
    if (this.base) await rm(this.base, { recursive: true, force: true }).catch(() => undefined);
  }
}
