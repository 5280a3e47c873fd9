import { randomBytes } from 'node:crypto';
import { BadRequestException, ConflictException, Inject, Injectable, NotFoundException, ServiceUnavailableException } from '@nestjs/common';
import {
  DEFAULT_LADDER,
  type LatencyMode,
  latencyModeOf,
  mintPlaybackToken,
  PLAYBACK_TOKEN_DEFAULT_TTL_SECONDS,
  type PlaybackMode,
  playbackModeOf,
  type StreamRecord,
  type ValidationIssue,
} from '@tributary/contracts';
import { PublishClaimsService } from '../claims/publish-claims.service';
import { INGEST_CONFIG, type IngestConfig } from '../config';
import { createStreamRequestValidator, fieldName, playbackTokenRequestValidator, updateStreamRequestValidator } from './create-stream.request';
import { LivePublishers } from './live-publishers';
import { sha256Hex, StreamRegistryService } from './stream-registry.service';

export interface CreatedStream {
  id: string;
  /** Shown once: only its sha256 is stored. */
  streamKey: string;
  ingestUrl: string;
  /** The RTMP server URL for OBS (Settings → Stream → Server; the key goes in Stream Key); only when RTMP is enabled. */
  rtmpUrl?: string;
  playbackUrl: string;
}

export interface PlaybackTokenView {
  token: string;
  expiresAt: string;
  /** The /watch page with the token, ready to share. */
  playbackUrl: string;
}

export interface StreamView {
  id: string;
  title: string;
  ladder: StreamRecord['ladder'];
  segment_duration_seconds: number;
  created_at: string;
  playback: PlaybackMode;
  latency_mode: LatencyMode;
  live: boolean;
  playbackUrl: string;
}

const trimSlash = (url: string): string => url.replace(/\/+$/, '');

@Injectable()
export class StreamsService {
  constructor(
    @Inject(INGEST_CONFIG) private readonly config: IngestConfig,
    private readonly registry: StreamRegistryService,
    private readonly publishers: LivePublishers,
    private readonly claims: PublishClaimsService,
  ) {}

  async create(body: unknown): Promise<CreatedStream> {
    const result = createStreamRequestValidator.validate(body);
    if (!result.ok) throw badRequest('invalid stream', result.issues);
    this.requireRegistry();
    const request = result.value;
    if (this.registry.get(request.id)) throw new ConflictException(`stream ${request.id} already exists`);
    const streamKey = randomBytes(32).toString('base64url');
    const record: StreamRecord = {
      id: request.id,
      title: request.title,
      ladder: request.ladder ?? DEFAULT_LADDER.map((rendition) => ({ ...rendition })),
      segment_duration_seconds: request.segment_duration_seconds ?? 2,
      stream_key_sha256: sha256Hex(streamKey),
      created_at: new Date().toISOString(),
      ...(request.playback ? { playback: request.playback } : {}),
      ...(request.latency_mode ? { latency_mode: request.latency_mode } : {}),
    };
    await this.registry.put(record);
    return {
      id: record.id,
      streamKey,
      ingestUrl: `${trimSlash(this.config.ingestPublicUrl)}/live/${streamKey}`,
      ...(this.config.rtmpEnabled ? { rtmpUrl: trimSlash(this.config.rtmpPublicUrl) } : {}),
      playbackUrl: this.playbackUrl(record.id),
    };
  }

  get(id: string): StreamView {
    this.requireRegistry();
    const record = this.registry.get(id);
    if (!record) throw new NotFoundException(`stream ${id} does not exist`);
    return {
      id: record.id,
      title: record.title,
      ladder: record.ladder,
      segment_duration_seconds: record.segment_duration_seconds,
      created_at: record.created_at,
      playback: playbackModeOf(record),
      latency_mode: latencyModeOf(record),
      // Live on any replica (the publish claims), or on this one.
      live: this.publishers.get(id) !== undefined || this.claims.isHeld(id),
      playbackUrl: this.playbackUrl(id),
    };
  }

  /** `PATCH /v1/streams/:id`: title and playback mode; the registry record is rewritten whole. */
  async update(id: string, body: unknown): Promise<StreamView> {
    const result = updateStreamRequestValidator.validate(body);
    if (!result.ok) throw badRequest('invalid stream update', result.issues);
    this.requireRegistry();
    const record = this.registry.get(id);
    if (!record) throw new NotFoundException(`stream ${id} does not exist`);
    const { title, playback } = result.value;
    await this.registry.put({ ...record, ...(title ? { title } : {}), ...(playback ? { playback } : {}) });
    return this.get(id);
  }

  /** `POST /v1/streams/:id/playback-tokens`: a JWT for one stream (also accepted for public streams, where it is simply not needed). */
  async mintPlaybackToken(id: string, body: unknown): Promise<PlaybackTokenView> {
    const result = playbackTokenRequestValidator.validate(body ?? {});
    if (!result.ok) throw badRequest('invalid playback token request', result.issues);
    const key = this.config.playbackSigningKey;
    if (!key) throw new ServiceUnavailableException('playback tokens are not configured: set PLAYBACK_SIGNING_KEY (≥ 32 bytes) on ingest, viewer-api and event-gateway');
    this.requireRegistry();
    if (!this.registry.get(id)) throw new NotFoundException(`stream ${id} does not exist`);
    const minted = await mintPlaybackToken(key, {
      streamId: id,
      ttlSeconds: result.value.ttlSeconds ?? PLAYBACK_TOKEN_DEFAULT_TTL_SECONDS,
      ...(result.value.scope ? { scope: result.value.scope } : {}),
    });
    return { ...minted, playbackUrl: `${this.playbackUrl(id)}?token=${encodeURIComponent(minted.token)}` };
  }

  async remove(id: string): Promise<void> {
    this.requireRegistry();
    if (!this.registry.get(id)) throw new NotFoundException(`stream ${id} does not exist`);
    await this.registry.remove(id);
    // Here at once; a publish held by another replica ends there when it reads the tombstone.
    this.publishers.get(id)?.disconnect('stream deleted');
  }

  private playbackUrl(id: string): string {
    return `${trimSlash(this.config.viewerPublicUrl)}/watch/${id}`;
  }

  private requireRegistry(): void {
    if (!this.registry.ready) throw new ServiceUnavailableException('the stream registry is still loading; retry shortly');
  }
}

function badRequest(what: string, validationIssues: readonly ValidationIssue[]): BadRequestException {
  const issues = validationIssues.map((issue) => ({ field: fieldName(issue.field), message: issue.message }));
  return new BadRequestException({ message: `${what}: ${issues.map((i) => `${i.field} ${i.message}`).join('; ')}`, issues });
}
