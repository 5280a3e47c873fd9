import { Injectable } from '@nestjs/common';
import { StreamCatalogService } from '../streams/stream-catalog.service';
import { PartWaiters, TooManyWaitersError } from './blocking-reload';
import { LiveWindowService } from './live-window.service';

/** How long a playlist request of a live stream without media yet is held (s); then the 404 as before. */
export const FIRST_MEDIA_HOLD_SECONDS = 5;

/**
 * Start-up of a live stream (issue 12): a player that opens it between the publisher connecting
 * (state `live`) and the transcoder's first segment or part used to get a 404 for the master or
 * media playlist, which hls.js treats as fatal (our player then retried 2 s later). Such a request
 * is held instead until the first media of its rendition (the master: of every rendition the
 * transcoder reported) is in the window, the stream stops being live, or FIRST_MEDIA_HOLD_SECONDS
 * pass; then it is answered as before. A media playlist is held only while the stream has no media
 * at all (later a rendition without media is answered at once); the master until every reported
 * rendition has media, since the renditions come out of one ffmpeg milliseconds apart and a master
 * answered in between would list one. The wait is a PartWaiters entry (bounded by
 * HLS_MAX_BLOCKING_REQUESTS, never polled), re-checked when the window gets a record of the stream.
 */
@Injectable()
export class FirstMediaService {
  constructor(
    private readonly window: LiveWindowService,
    private readonly catalog: StreamCatalogService,
  ) {}

  /**
   * Resolves once every rendition the catalogue lists has media (a player reads the master once:
   * answered at the first rendition's first segment it would never learn of the others, which come
   * out of the same ffmpeg milliseconds later), or the request should be answered anyway.
   */
  awaitStream(streamId: string, signal: AbortSignal): Promise<void> {
    const allHaveMedia = () => {
      const stream = this.catalog.get(streamId);
      // Until the transcoder reported its renditions the catalogue lists the ladder, which may hold
      // rungs above the source that never come: then the first media of any rendition is enough.
      if (!stream?.renditions_reported) return this.streamHasMedia(streamId);
      return stream.renditions.every((info) => this.window.rendition(streamId, info.name)?.hasMedia ?? false);
    };
    return this.hold(streamId, PartWaiters.streamKey(streamId), allHaveMedia, signal);
  }

  /** Resolves once `rendition` has media, or the request should be answered anyway. */
  awaitRendition(streamId: string, rendition: string, signal: AbortSignal): Promise<void> {
    const known = this.catalog.get(streamId)?.renditions.some((info) => info.name === rendition) ?? false;
    // Start-up only: once the stream has media, a rendition without any (unknown, or just restored)
    // is answered at once.
    if (!known || this.streamHasMedia(streamId)) return Promise.resolve();
    return this.hold(streamId, PartWaiters.key(streamId, rendition), () => this.window.rendition(streamId, rendition)?.hasMedia ?? false, signal);
  }

  private async hold(streamId: string, key: string, ready: () => boolean, signal: AbortSignal): Promise<void> {
    if (!this.live(streamId) || ready()) return;
    try {
      await this.window.waiters.wait(key, () => ready() || !this.live(streamId), FIRST_MEDIA_HOLD_SECONDS * 1000, signal);
    } catch (error) {
      // Too many requests already waiting: answer now, as before the hold existed.
      if (!(error instanceof TooManyWaitersError)) throw error;
    }
  }

  private live(streamId: string): boolean {
    return this.catalog.get(streamId)?.state === 'live';
  }

  private streamHasMedia(streamId: string): boolean {
    return this.window.store.renditionNames(streamId).some((name) => this.window.rendition(streamId, name)?.hasMedia ?? false);
  }
}
