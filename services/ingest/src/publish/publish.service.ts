import { randomUUID } from 'node:crypto';
import { ConflictException, ForbiddenException, Inject, Injectable, ServiceUnavailableException } from '@nestjs/common';
import { publishingEnabledOf, Topics } from '@tributary/contracts';
import { KafkaProducer } from '@tributary/kafka';
import { ROOT_LOGGER } from '@tributary/nest-common';
import { TopicNames } from '@tributary/nest-kafka';
import type { Logger } from '@tributary/telemetry';
import { INGEST_CONFIG, type IngestConfig } from '../config';
import { type LivePublisher, LivePublishers } from '../streams/live-publishers';
import { StreamRegistryService } from '../streams/stream-registry.service';
import { PublishSession, type PublishSource, type PublishSummary } from './publish-session';
import { StreamStatusPublisher } from './stream-status.publisher';
import { type PublishClaim, PublishClaimsService } from '../claims/publish-claims.service';

/** 503: this replica already carries INGEST_MAX_PUBLISHERS publishers; the answer carries Retry-After. */
export class PublisherCapacityException extends ServiceUnavailableException {
  readonly retryAfterSeconds = 10;
}

/** How a publish's transport (HTTP body, RTMP connection) takes part in it. */
export interface PublishHooks {
  /** Cuts the publisher (claim lost, stream deleted, shutdown); default: destroy the source. */
  disconnect?: (reason: string) => void;
  /** Called once the stream is claimed and reported live, just before the source is read. */
  onLive?: () => void;
}

export interface PublishResult extends PublishSummary {
  stream_id: string;
  publish_session_id: string;
}

@Injectable()
export class PublishService {
  private readonly logger: Logger;
  private readonly topic: string;

  constructor(
    @Inject(INGEST_CONFIG) private readonly config: IngestConfig,
    private readonly registry: StreamRegistryService,
    private readonly publishers: LivePublishers,
    private readonly status: StreamStatusPublisher,
    private readonly claims: PublishClaimsService,
    private readonly producer: KafkaProducer,
    topics: TopicNames,
    @Inject(ROOT_LOGGER) rootLogger: Logger,
  ) {
    this.logger = rootLogger.child({ component: 'publish' });
    this.topic = topics.resolve(Topics.videoIngest);
  }

  /** The stream a key publishes to; 403 (nothing written) when no stream has this key or publishing to it is disabled. */
  authorize(streamKey: string): string {
    const record = this.registry.findByStreamKey(streamKey);
    if (!record) throw new ForbiddenException('unknown stream key');
    if (!publishingEnabledOf(record)) {
      throw new ForbiddenException(`publishing to stream ${record.id} is disabled (publishing_enabled: false in its registry entry; for a LiveStream, spec.publishing.enabled)`);
    }
    return record.id;
  }

  /**
   * Runs one publish from connect to disconnect, whatever the transport: claim, `live`, the
   * source's MPEG-TS into video.ingest chunks, `ended`. 409 when the stream already has a
   * publisher (on any replica), 503 at capacity or when the claim cannot be confirmed.
   */
  async publish(streamId: string, request: PublishSource, hooks: PublishHooks = {}): Promise<PublishResult> {
    const sessionId = randomUUID();
    let disconnectReason: string | undefined;
    const publisher: LivePublisher = {
      sessionId,
      disconnect: (reason) => {
        disconnectReason ??= reason;
        this.logger.info({ streamId, publishSessionId: sessionId, reason }, 'disconnecting publisher');
        if (hooks.disconnect) hooks.disconnect(reason);
        else request.destroy();
      },
    };
    if (!this.publishers.claim(streamId, publisher)) {
      throw new ConflictException(`stream ${streamId} already has a live publisher`);
    }
    if (this.publishers.count > this.config.maxPublishers) {
      this.publishers.release(streamId, publisher);
      this.logger.warn({ streamId, maxPublishers: this.config.maxPublishers }, 'publish refused: this replica is at INGEST_MAX_PUBLISHERS');
      throw new PublisherCapacityException(`this ingest replica is at its limit of ${this.config.maxPublishers} concurrent publishers; retry later or elsewhere`);
    }
    const log = this.logger.child({ streamId, publishSessionId: sessionId });
    let claim: PublishClaim | undefined;
    try {
      // Cluster-wide: 409 when another replica's publisher holds the stream. Nothing of the body
      // is read and nothing is written to video.ingest before the claim has won.
      claim = await this.claims.acquire(streamId, sessionId, (reason) => publisher.disconnect(reason));
      await this.status.report({ stream_id: streamId, state: 'live', publish_session_id: sessionId });
      log.info('publisher connected');
      hooks.onLive?.();
      const session = new PublishSession({
        streamId,
        sessionId,
        topic: this.topic,
        producer: this.producer,
        chunkBytes: this.config.chunkBytes,
        chunkMaxMs: this.config.chunkMaxMs,
        maxInFlight: this.config.maxInFlightChunks,
        idleTimeoutMs: this.config.publishIdleTimeoutMs,
        maxBitrateKbps: this.config.maxBitrateKbps,
        bitrateWindowMs: this.config.bitrateWindowMs,
        logger: log,
      });
      const summary = await session.run(request);
      if (summary.reason !== undefined) log.warn({ ...summary }, `publisher disconnected by ingest: ${summary.reason}`);
      else log.info({ ...summary }, 'publisher disconnected');
      await this.status
        .report({
          stream_id: streamId,
          state: 'ended',
          publish_session_id: sessionId,
          last_chunk_sequence: summary.chunks - 1,
          ...(summary.reason !== undefined
            ? { reason: summary.reason }
            : summary.outcome === 'aborted'
              ? { reason: summary.error ?? disconnectReason ?? 'publisher connection closed before the end of the body' }
              : {}),
        })
        .catch((error: unknown) => log.error({ err: error }, 'could not report stream ended'));
      return { stream_id: streamId, publish_session_id: sessionId, ...summary };
    } finally {
      this.publishers.release(streamId, publisher);
      await claim?.release();
    }
  }
}
