/**
 * Runs tasks one at a time in submission order (a failed task does not stop the ones after it).
 * A pipeline's input, end and ffmpeg-exit handling all go through one queue, so they never
 * interleave.
 */
export class SerialQueue {
  private tail: Promise<void> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}
