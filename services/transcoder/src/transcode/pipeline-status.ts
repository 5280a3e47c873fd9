import type { StreamStatus, TranscodeDetail } from '@tributary/contracts';
import type { PlannedRendition } from '@tributary/media';
import type { Logger } from '@tributary/telemetry';
import type { PipelineSink } from './pipeline-sink';

type StatusFields = Partial<Omit<StreamStatus, 'reporter' | 'ts' | 'stream_id' | 'state' | 'publish_session_id'>>;

/**
 * A pipeline's stream.status reports (`live` with the renditions it produces, `ended`, `error`).
 * They are informational (viewers follow segments), so a failed report is logged and the stream
 * goes on: a pipeline must never stay unfinished, holding its partition's commits, over a report.
 */
export class PipelineStatus {
  constructor(
    private readonly streamId: string,
    private readonly publishSessionId: string,
    private readonly sink: PipelineSink,
    private readonly logger: Logger,
  ) {}

  /** `detail`: the stream's latency (shedding), if this report is about it. */
  live(renditions: readonly PlannedRendition[], detail?: TranscodeDetail): Promise<void> {
    return this.report('live', {
      ...(detail ? { detail } : {}),
      renditions: renditions.map((rendition) => ({
        name: rendition.name,
        width: rendition.width,
        height: rendition.height,
        video_bitrate_kbps: rendition.video_bitrate_kbps,
        audio_bitrate_kbps: rendition.audio_bitrate_kbps,
        bandwidth_bps: rendition.bandwidth_bps,
        codecs: rendition.codecs,
      })),
    });
  }

  ended(detail?: TranscodeDetail, reason?: string): Promise<void> {
    return this.report('ended', { ...(detail ? { detail } : {}), ...(reason ? { reason } : {}) });
  }

  error(reason: string): Promise<void> {
    return this.report('error', { reason: reason.slice(0, 2000) });
  }

  private async report(state: 'live' | 'ended' | 'error', fields: StatusFields): Promise<void> {
    await this.sink
      .status({ ...fields, stream_id: this.streamId, state, publish_session_id: this.publishSessionId })
      .catch((error: unknown) => this.logger.error({ err: error }, `could not report stream ${state}`));
  }
}
