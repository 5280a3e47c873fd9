/** What to do with a chunk, given the publish sessions already seen for its stream. */
export type SessionVerdict = 'current' | 'new' | 'stale';

/**
 * The "never go back" rule for publish sessions. Kafka keeps a stream's chunks in order on its
 * partition, so the order in which sessions first appear there is the order they started. Once a
 * stream's chunks switch to a newer session, chunks of any earlier session (a zombie ingest
 * replica still writing) are stale: they are skipped and never flip the stream back.
 * Remembers the current session and a bounded number of retired ones per stream.
 */
export class PublishSessionGate {
  private readonly streams = new Map<string, { current: string; retired: string[] }>();

  constructor(
    private readonly maxStreams = 10_000,
    private readonly retiredPerStream = 16,
  ) {}

  /** Classifies a chunk of `session` and, for a new session, makes it the stream's current one. */
  admit(streamId: string, session: string): SessionVerdict {
    const known = this.streams.get(streamId);
    if (!known) {
      this.remember(streamId, { current: session, retired: [] });
      return 'new';
    }
    if (known.current === session) return 'current';
    if (known.retired.includes(session)) return 'stale';
    known.retired.push(known.current);
    if (known.retired.length > this.retiredPerStream) known.retired.shift();
    known.current = session;
    this.remember(streamId, known);
    return 'new';
  }

  /** The stream's current session, if any. */
  current(streamId: string): string | undefined {
    return this.streams.get(streamId)?.current;
  }

  /** Forgets streams (their partition moved to another transcoder, which learns from Kafka). */
  forget(streamIds: Iterable<string>): void {
    for (const streamId of streamIds) this.streams.delete(streamId);
  }

  private remember(streamId: string, entry: { current: string; retired: string[] }): void {
    this.streams.delete(streamId);
    this.streams.set(streamId, entry);
    if (this.streams.size > this.maxStreams) this.streams.delete(this.streams.keys().next().value!);
  }
}
