import { type LogLine, parseJsonLines } from './json-lines';

/**
 * What a child process printed, kept for assertions and failure messages with a bound: once the
 * text passes `limit` characters only the last `kept` stay, and `dropped` counts what went, so a
 * reader that needs the start can tell instead of reading a silently shortened log.
 */
export class ProcessOutput {
  private buffer = '';
  private droppedChars = 0;

  constructor(
    /** Who printed it, for error messages. */
    private readonly name: string,
    private readonly limit = 1_000_000,
    private readonly kept = 500_000,
  ) {}

  append(chunk: Buffer | string): void {
    this.buffer += chunk.toString();
    if (this.buffer.length > this.limit) {
      this.droppedChars += this.buffer.length - this.kept;
      this.buffer = this.buffer.slice(-this.kept);
    }
  }

  /** The output kept: all of it, or its last `kept` characters once it passed `limit`. */
  get text(): string {
    return this.buffer;
  }

  /** Characters of the earliest output dropped so far (0: all of it is kept). */
  get dropped(): number {
    return this.droppedChars;
  }

  /** The kept output's JSON object lines, parsed. `fromStart`: every line since the start is needed, so it throws if some were dropped. */
  jsonLines<T extends object = LogLine>(options: { fromStart?: boolean } = {}): T[] {
    if (options.fromStart && this.droppedChars > 0) {
      throw new Error(
        `${this.name}: the first ${this.droppedChars} characters of its output were dropped (only the last ${this.kept} are kept once it passes ${this.limit}), ` +
          'so its log lines from the start are incomplete; log less (LOG_LEVEL) or read the lines sooner',
      );
    }
    return parseJsonLines<T>(this.buffer);
  }
}
