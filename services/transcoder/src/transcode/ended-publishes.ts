import { type StreamStatus, streamStatusValidator } from '@tributary/contracts';

export interface EndedPublish {
  session: string;
  lastChunkSequence?: number | undefined;
}

/**
 * The latest ingest `ended` report per stream (bounded, oldest forgotten first), for pipelines
 * created after the report arrived (a publish may end before this replica takes its partition).
 */
export class EndedPublishes {
  private readonly ended = new Map<string, EndedPublish>();

  constructor(private readonly max = 10_000) {}

  /** Records `status` if it is ingest's `ended`; returns what was recorded. */
  record(status: StreamStatus): { streamId: string; ended: EndedPublish } | undefined {
    if (status.reporter !== 'ingest' || status.state !== 'ended' || !status.publish_session_id) return undefined;
    const ended = { session: status.publish_session_id, lastChunkSequence: status.last_chunk_sequence };
    this.ended.delete(status.stream_id);
    this.ended.set(status.stream_id, ended);
    if (this.ended.size > this.max) this.ended.delete(this.ended.keys().next().value!);
    return { streamId: status.stream_id, ended };
  }

  /** The end of `session` of `streamId`, if ingest reported it. */
  of(streamId: string, session: string): EndedPublish | undefined {
    const ended = this.ended.get(streamId);
    return ended?.session === session ? ended : undefined;
  }
}

/** Parses and validates a stream.status value; the issues when it is not one. */
export function parseStreamStatus(value: Buffer | null): { status: StreamStatus } | { issues: unknown } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value?.toString('utf8') ?? 'null');
  } catch {
    parsed = undefined;
  }
  const result = streamStatusValidator.validate(parsed);
  return result.ok ? { status: result.value } : { issues: result.issues };
}
