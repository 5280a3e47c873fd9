import { Controller, Get, Inject, NotFoundException, Param } from '@nestjs/common';
import { StreamCatalogService } from './stream-catalog.service';
import type { StreamView } from './stream-catalog';
import { parseStreamId } from './stream-id';
import { VIEWER_COUNTS, type ViewerCountProvider } from './viewer-count';

/** What viewers may see of a stream (never the key hash). */
export interface PublicStream {
  id: string;
  title: string;
  state: StreamView['state'];
  renditions: { name: string; width: number; height: number; bandwidth_bps: number; codecs: string }[];
  started_at: string | null;
  ended_at: string | null;
  viewers: number | null;
  reason: string | null;
  /** `signed`: the media needs a playback token; such a stream is listed without its media URLs. */
  playback: StreamView['playback'];
  /**
   * The transcoder's latency detail for the current publish: `mode` live/backlog, the edge delay
   * and speed it last reported, what it shed (`shed_level`, `dropped_renditions`, `preset`) and
   * chunks skipped (a recorded gap); null until it reported any.
   */
  transcode: StreamView['transcode'];
  /** `low`: LL-HLS (parts, blocking playlist reload); players turn their low-latency mode on. */
  latency_mode: StreamView['latency_mode'];
  urls: { watch: string; master?: string; vod?: string; thumbnail?: string; preview?: string };
}

@Controller('v1/streams')
export class StreamsController {
  constructor(
    private readonly catalog: StreamCatalogService,
    @Inject(VIEWER_COUNTS) private readonly viewerCounts: ViewerCountProvider,
  ) {}

  @Get()
  list(): { streams: PublicStream[] } {
    return { streams: this.catalog.list().map((stream) => this.toPublic(stream)) };
  }

  @Get(':id')
  get(@Param('id') rawId: string): PublicStream {
    const id = parseStreamId(rawId);
    const stream = this.catalog.get(id);
    if (!stream) throw new NotFoundException(`stream ${id} is not known`);
    return this.toPublic(stream);
  }

  private toPublic(stream: StreamView): PublicStream {
    return {
      id: stream.id,
      title: stream.title,
      state: stream.state,
      renditions: stream.renditions.map(({ name, width, height, bandwidth_bps, codecs }) => ({ name, width, height, bandwidth_bps, codecs })),
      started_at: stream.started_at,
      ended_at: stream.ended_at,
      viewers: this.viewerCounts.viewers(stream.id),
      reason: stream.reason,
      playback: stream.playback,
      transcode: stream.transcode,
      latency_mode: stream.latency_mode,
      // A signed stream is listed (it exists, its state is shown) but not where its media is: the
      // holder of a token was given the URLs with it (ingest's playback-tokens answer).
      urls:
        stream.playback === 'signed'
          ? { watch: `/watch/${stream.id}` }
          : {
              master: `/live/${stream.id}/master.m3u8`,
              vod: `/vod/${stream.id}/master.m3u8`,
              watch: `/watch/${stream.id}`,
              thumbnail: `/live/${stream.id}/thumbnail.jpg`,
              preview: `/live/${stream.id}/preview.mjpeg`,
            },
    };
  }
}
