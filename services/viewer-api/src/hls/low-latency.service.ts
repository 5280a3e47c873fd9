import { Injectable, NotFoundException, ServiceUnavailableException } from '@nestjs/common';
import { isComplete, type StreamView } from '../streams/stream-catalog';
import { StreamCatalogService } from '../streams/stream-catalog.service';
import { checkNotTooFarAhead, type DeliveryDirectives, directivesSatisfied, PartWaiters, TooManyWaitersError, type WaitOutcome } from './blocking-reload';
import { LiveWindowService } from './live-window.service';
import { nextPartPosition, type RenditionReport, renditionReport, targetDuration, writeLowLatencyPlaylist } from './low-latency-playlist';
import { comparePositions, type RenditionWindow, type WindowPart } from './segment-window';

/** How long a blocking request may wait, in target durations (rfc8216bis §6.2.5.2: then 503). */
export const BLOCK_TARGETS = 3;

export interface LowLatencyPlaylistAnswer {
  body: string;
  /** Cache-Control max-age: blocking answers are cacheable keyed on their query; others briefly. */
  maxAgeSeconds: number;
}

/**
 * Low-latency HLS for renditions whose records are parts: playlists with blocking reload and
 * delta updates, and (blocking) part requests. Waiting requests hold a PartWaiters entry that is
 * re-checked once per new part of their rendition (never polled), and answer 503 after
 * BLOCK_TARGETS target durations.
 */
@Injectable()
export class LowLatencyHlsService {
  constructor(
    private readonly window: LiveWindowService,
    private readonly catalog: StreamCatalogService,
  ) {}

  async playlist(stream: StreamView, rendition: string, directives: DeliveryDirectives, signal: AbortSignal): Promise<LowLatencyPlaylistAnswer> {
    let window = this.requireWindow(stream.id, rendition);
    const target = targetDuration(window, stream.segment_duration_seconds);
    const blocking = directives.msn !== null && !isComplete(stream);
    if (blocking) {
      checkNotTooFarAhead(window, directives);
      const outcome = await this.wait(
        stream.id,
        rendition,
        () => {
          const current = this.window.rendition(stream.id, rendition);
          return current === undefined || current !== window || directivesSatisfied(current, directives) || this.ended(stream.id);
        },
        BLOCK_TARGETS * target,
        signal,
      );
      if (outcome === 'timeout') {
        throw new ServiceUnavailableException(
          `_HLS_msn=${directives.msn}${directives.part !== null ? ` _HLS_part=${directives.part}` : ''} is not available after ${BLOCK_TARGETS * target} s (${BLOCK_TARGETS} target durations); the stream may have stalled`,
        );
      }
      window = this.requireWindow(stream.id, rendition);
    }
    const endList = this.ended(stream.id);
    if (endList) window.completePending();
    const body = writeLowLatencyPlaylist(window, {
      targetDurationSeconds: stream.segment_duration_seconds,
      endList,
      skip: directives.skip,
      renditionReports: this.reports(stream, rendition),
      reportedPartTargetSeconds: this.catalog.get(stream.id)?.transcode?.part_target_seconds,
    });
    // A blocking answer names a fixed point of the stream (it holds at least that part): a CDN may
    // keep it keyed on the query. Without directives it changes with every part: the shortest max-age.
    return { body, maxAgeSeconds: endList ? 60 : blocking ? SKIP_CACHE_TARGETS * target : 1 };
  }

  /**
   * A part by position: at once when held; the next part (the one the playlist hints, or the
   * first of the next segment) is waited for; anything else absent is a 404.
   */
  async part(stream: StreamView, rendition: string, msn: number, index: number, signal: AbortSignal): Promise<WindowPart> {
    const window = this.requireWindow(stream.id, rendition);
    const held = window.findPart(msn, index);
    if (held) return held;
    const wanted = { msn, index };
    const next = nextPartPosition(window);
    const last = window.lastPart;
    const hinted =
      next !== null &&
      last !== null &&
      !this.ended(stream.id) &&
      (comparePositions(next, wanted) === 0 || (last.meta.sequence === msn && last.meta.part?.index === index - 1) || (msn === last.meta.sequence + 1 && index === 0));
    if (!hinted) throw this.partNotFound(stream.id, rendition, msn, index);
    const target = targetDuration(window, stream.segment_duration_seconds);
    const outcome = await this.wait(
      stream.id,
      rendition,
      () => {
        const current = this.window.rendition(stream.id, rendition);
        if (!current || current !== window || this.ended(stream.id)) return true;
        const newest = current.lastPart;
        return newest !== null && comparePositions({ msn: newest.meta.sequence, index: newest.meta.part?.index ?? 0 }, wanted) >= 0;
      },
      BLOCK_TARGETS * target,
      signal,
    );
    if (outcome === 'timeout') throw new ServiceUnavailableException(`part ${msn}.${index} was not produced within ${BLOCK_TARGETS * target} s; the stream may have stalled`);
    const found = this.window.rendition(stream.id, rendition)?.findPart(msn, index);
    if (!found) throw this.partNotFound(stream.id, rendition, msn, index);
    return found;
  }

  /** Whether this rendition's records are parts (else the standard playlist is served, as before). */
  isLowLatency(streamId: string, rendition: string): boolean {
    return this.window.rendition(streamId, rendition)?.lowLatency ?? false;
  }

  private ended(streamId: string): boolean {
    const stream = this.catalog.get(streamId);
    return stream === undefined || isComplete(stream);
  }

  private requireWindow(streamId: string, rendition: string): RenditionWindow {
    const window = this.window.rendition(streamId, rendition);
    if (!window?.hasMedia) throw new NotFoundException(`stream ${streamId} has no segments for rendition ${rendition} yet`);
    return window;
  }

  /** EXT-X-RENDITION-REPORT for the other renditions the master playlist advertises (not a shed one). */
  private reports(stream: StreamView, rendition: string): RenditionReport[] {
    const reports: RenditionReport[] = [];
    for (const name of this.window.store.renditionNames(stream.id).sort()) {
      if (name === rendition || (stream.renditions_reported && !stream.renditions.some((known) => known.name === name))) continue;
      const other = this.window.rendition(stream.id, name);
      const report = other?.lowLatency ? renditionReport(name, other) : null;
      if (report) reports.push(report);
    }
    return reports;
  }

  private async wait(streamId: string, rendition: string, ready: () => boolean, timeoutSeconds: number, signal: AbortSignal): Promise<WaitOutcome> {
    try {
      return await this.window.waiters.wait(PartWaiters.key(streamId, rendition), ready, timeoutSeconds * 1000, signal);
    } catch (error) {
      if (error instanceof TooManyWaitersError) {
        throw new ServiceUnavailableException(`too many blocking requests are waiting on this server (HLS_MAX_BLOCKING_REQUESTS): ${error.message}; retry`);
      }
      throw error;
    }
  }

  private partNotFound(streamId: string, rendition: string, msn: number, index: number): NotFoundException {
    return new NotFoundException(`part ${msn}.${index} of ${streamId}/${rendition} is not in the live window and is not the next part`);
  }
}

/** Blocking answers stay valid in a cache for this many target durations (they only ever grow staler). */
export const SKIP_CACHE_TARGETS = 6;
