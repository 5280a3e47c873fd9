import { Controller, Get, NotFoundException, Options, Param, Query, Res, UseGuards } from '@nestjs/common';
import type { Response } from 'express';
import { linkFromTraceparent, viewerMetrics, withSpan } from '@tributary/telemetry';
import { StreamCatalogService } from '../streams/stream-catalog.service';
import { deriveRendition, isComplete, type RenditionInfo, type StreamView } from '../streams/stream-catalog';
import { parseRendition, parseStreamId } from '../streams/stream-id';
import { ReplayPlaylists } from '../replay/replay-playlists';
import { allowAnyOrigin, parseFrom, parseLiveSegmentFile, sendPlaylist, sendSegment } from './http';
import { parseDeliveryDirectives } from './blocking-reload';
import { LiveWindowService } from './live-window.service';
import { LowLatencyHlsService } from './low-latency.service';
import { FirstMediaService } from './first-media';
import { writeMediaPlaylist, writeMultivariant } from './playlist-writer';
import { segmentExtension } from './segment-message';
import { PlaybackAuthGuard } from '../playback-auth/playback-auth.guard';

/** Live HLS from the in-memory window: `/live/:id/master.m3u8`, media playlists and segments. */
@Controller('live')
@UseGuards(PlaybackAuthGuard)
export class HlsController {
  constructor(
    private readonly catalog: StreamCatalogService,
    private readonly window: LiveWindowService,
    private readonly replay: ReplayPlaylists,
    private readonly lowLatency: LowLatencyHlsService,
    private readonly firstMedia: FirstMediaService,
  ) {
    viewerMetrics.windowBytes(() => this.window.store.bytes);
  }

  @Options('*path')
  preflight(@Res() response: Response): void {
    allowAnyOrigin(response);
    response.setHeader('Access-Control-Allow-Methods', 'GET, HEAD, OPTIONS');
    // `*` does not cover Authorization (Fetch spec): name it for players that send a playback token as a bearer.
    response.setHeader('Access-Control-Allow-Headers', '*, Authorization');
    response.setHeader('Access-Control-Max-Age', '86400');
    response.status(204).end();
  }

  @Get(':id/master.m3u8')
  async master(@Param('id') rawId: string, @Query('from') rawFrom: unknown, @Res() response: Response): Promise<void> {
    const id = parseStreamId(rawId);
    const from = parseFrom(rawFrom);
    const stream = this.stream(id);
    if (from !== null) {
      // Replay from a point in time: the same playlist as /vod/:id/master.m3u8?from=…
      sendPlaylist(response, await this.replay.master(stream, from), 0);
      return;
    }
    // A live stream whose first segments are not there yet: held until they are (bounded).
    await this.firstMedia.awaitStream(id, closedSignal(response));
    if (response.destroyed) return;
    const current = this.stream(id); // it may have ended while held
    const renditions = this.liveRenditions(current);
    if (renditions.length === 0 && (current.state === 'ended' || current.state === 'error')) {
      // The window of a finished stream was evicted: the replay has everything.
      sendPlaylist(response, await this.replay.master(current, 'start'), 0);
      return;
    }
    if (renditions.length === 0) {
      throw new NotFoundException(`stream ${id} has no segments yet (state: ${current.state}); retry in a few seconds`);
    }
    const body = writeMultivariant(
      renditions.map((rendition) => ({
        uri: `${rendition.name}/index.m3u8`,
        bandwidth: rendition.bandwidth_bps,
        width: rendition.width,
        height: rendition.height,
        codecs: rendition.codecs,
        name: rendition.name,
      })),
    );
    sendPlaylist(response, body, 1);
  }

  @Get(':id/:rendition/index.m3u8')
  async media(
    @Param('id') rawId: string,
    @Param('rendition') rawRendition: string,
    @Query() query: Record<string, unknown>,
    @Res() response: Response,
  ): Promise<void> {
    const id = parseStreamId(rawId);
    const rendition = parseRendition(rawRendition);
    await this.firstMedia.awaitRendition(id, rendition, closedSignal(response));
    if (response.destroyed) return;
    const stream = this.stream(id);
    if (this.lowLatency.isLowLatency(id, rendition)) {
      // Low-latency HLS: _HLS_msn/_HLS_part block, _HLS_skip asks for a delta update (other keys, e.g. CMCD, are ignored).
      const directives = parseDeliveryDirectives(query);
      const answer = await this.lowLatency.playlist(stream, rendition, directives, closedSignal(response));
      if (!response.writableEnded && !response.destroyed) sendPlaylist(response, answer.body, answer.maxAgeSeconds);
      return;
    }
    const window = this.window.rendition(id, rendition);
    if (!window || window.segments.length === 0) {
      throw new NotFoundException(`stream ${id} has no segments for rendition ${rendition} yet`);
    }
    const ended = isComplete(stream);
    const body = writeMediaPlaylist({
      mediaSequence: window.segments[0].meta.sequence,
      discontinuitySequence: window.discontinuitySequence,
      targetDurationSeconds: stream.segment_duration_seconds,
      endList: ended,
      segments: window.segments.map(({ meta }) => ({
        uri: `${meta.sequence}.${segmentExtension(meta)}`,
        durationSeconds: meta.durationSeconds,
        programTime: meta.programTime,
        discontinuity: meta.discontinuity,
        mapUri: window.init && meta.contentType !== 'video/mp2t' ? 'init.mp4' : null,
      })),
    });
    // An ended stream's playlist no longer changes.
    sendPlaylist(response, body, ended ? 60 : 1);
  }

  @Get(':id/:rendition/:file')
  async segment(
    @Param('id') rawId: string,
    @Param('rendition') rawRendition: string,
    @Param('file') rawFile: string,
    @Res() response: Response,
  ): Promise<void> {
    const id = parseStreamId(rawId);
    const rendition = parseRendition(rawRendition);
    const file = parseLiveSegmentFile(rawFile);
    const window = this.window.rendition(id, rendition);
    if (file.kind === 'init') {
      if (!window?.init) throw new NotFoundException(`no init segment for ${id}/${rendition}`);
      sendSegment(response, window.init.bytes, 'video/mp4');
      return;
    }
    if (file.kind === 'part') {
      // A hinted part's request waits until the part exists; other absent parts are a 404.
      const part = await this.lowLatency.part(this.stream(id), rendition, file.sequence, file.index, closedSignal(response));
      if (!response.writableEnded && !response.destroyed) sendSegment(response, part.bytes, part.meta.contentType);
      viewerMetrics.segmentsServed().inc({ rendition, result: 'hit' });
      return;
    }
    if (window?.lowLatency && window.pending?.sequence === file.sequence && file.extension === 'm4s') {
      // The last segment of an ended low-latency stream is complete without a later part.
      const stream = this.catalog.get(id);
      if (stream && isComplete(stream)) window.completePending();
    }
    const found = window?.segments.find((segment) => segment.meta.sequence === file.sequence);
    if (!found || segmentExtension(found.meta) !== file.extension) {
      viewerMetrics.segmentsServed().inc({ rendition, result: 'miss' });
      throw new NotFoundException(`segment ${file.sequence} of ${id}/${rendition} is not in the live window (try /vod/${id}/master.m3u8)`);
    }
    // A child of this request's span, linked to the transcoder span that published the segment:
    // from a slow segment in a player you reach the encode (and the chunks) that made it.
    withSpan(
      'segment served',
      {
        links: [linkFromTraceparent(found.meta.traceparent ?? undefined)],
        attributes: {
          'tributary.stream_id': id,
          'tributary.rendition': rendition,
          'tributary.segment.sequence': found.meta.sequence,
          'tributary.segment.bytes': found.bytes.length,
          'tributary.segment.age_ms': Date.now() - found.meta.timestampMs,
        },
      },
      () => sendSegment(response, found.bytes, found.meta.contentType),
    );
    viewerMetrics.segmentsServed().inc({ rendition, result: 'hit' });
  }

  private stream(id: string): StreamView {
    const stream = this.catalog.get(id);
    if (!stream) throw new NotFoundException(`stream ${id} is not known`);
    return stream;
  }

  /**
   * The renditions to advertise: the catalogue's (transcoder-reported, else the ladder) that have
   * segments in the window, plus — until the transcoder reported its renditions — any rendition
   * with segments the catalogue does not describe. Once reported, a rendition the transcoder left
   * out (shed) is not advertised although its older segments are still in the window.
   */
  private liveRenditions(stream: StreamView): RenditionInfo[] {
    const present = new Set(
      this.window.store.renditionNames(stream.id).filter((name) => this.window.rendition(stream.id, name)?.hasMedia ?? false),
    );
    const known = stream.renditions.filter((rendition) => present.has(rendition.name));
    for (const name of stream.renditions_reported ? [] : present) {
      if (!known.some((rendition) => rendition.name === name)) {
        const height = Number(/^(\d+)p$/.exec(name)?.[1] ?? 0);
        known.push({
          ...deriveRendition({ name, width: 0, height: 0, video_bitrate_kbps: 1000, audio_bitrate_kbps: 128 }),
          width: height > 0 ? Math.round((height * 16) / 9 / 2) * 2 : 0,
          height,
        });
      }
    }
    return known.sort((a, b) => b.bandwidth_bps - a.bandwidth_bps);
  }
}

/** Aborted when the client goes away (a blocked request then stops waiting and frees its slot). */
function closedSignal(response: Response): AbortSignal {
  const controller = new AbortController();
  response.once('close', () => controller.abort());
  return controller.signal;
}
