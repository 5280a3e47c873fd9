import { createHash, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import { ConsumerGroups, type PlaybackSocketError, playbackModeOf, Topics, verifyPlaybackToken } from '@tributary/contracts';
import { consumerGroupId, type KafkaConfig, StreamRegistryView } from '@tributary/kafka';
import { ReadinessRegistry, ROOT_LOGGER } from '@tributary/nest-common';
import { KAFKA_CLIENT, KAFKA_CONFIG, TopicNames } from '@tributary/nest-kafka';
import type { Logger } from '@tributary/telemetry';

export interface StreamAccessOptions {
  /** PLAYBACK_SIGNING_KEY: verifies the playback tokens of signed streams; unset = their events are refused. */
  signingKey: string | undefined;
  /** FIREHOSE_TOKEN: when set, every-stream subscriptions, history and resume need it. */
  firehoseToken: string | undefined;
}
export const STREAM_ACCESS_OPTIONS = Symbol('STREAM_ACCESS_OPTIONS');

export type AccessRefusal = Pick<PlaybackSocketError, 'code' | 'message'>;

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/**
 * Who may receive which events: the stream registry (read in full, like viewer-api) says which
 * streams are signed; their events need the stream's playback token. The firehose (every stream)
 * and replays (history, resume) need FIREHOSE_TOKEN when it is configured; without it the firehose
 * leaves signed streams out.
 */
@Injectable()
export class StreamAccessService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly registry: StreamRegistryView;
  private readonly logger: Logger;

  constructor(
    @Inject(STREAM_ACCESS_OPTIONS) private readonly options: StreamAccessOptions,
    @Inject(KAFKA_CLIENT) kafka: Kafka,
    @Inject(KAFKA_CONFIG) kafkaConfig: KafkaConfig,
    topics: TopicNames,
    readiness: ReadinessRegistry,
    @Inject(ROOT_LOGGER) rootLogger: Logger,
  ) {
    this.logger = rootLogger.child({ component: 'stream-access' });
    this.registry = new StreamRegistryView(kafka, {
      topic: topics.resolve(Topics.streamRegistry),
      groupId: consumerGroupId(ConsumerGroups.eventGatewayRegistry, kafkaConfig.topicPrefix),
      logger: this.logger,
    });
    readiness.register('stream-registry', () => this.registry.caughtUp);
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.registry.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.registry.stop();
  }

  get firehoseProtected(): boolean {
    return this.options.firehoseToken !== undefined;
  }

  isSigned(streamId: string): boolean {
    const record = this.registry.get(streamId);
    return record !== undefined && playbackModeOf(record) === 'signed';
  }

  /** Whether an event of this stream may go to every-stream (firehose) clients. */
  inFirehose(streamId: string): boolean {
    return this.firehoseProtected || !this.isSigned(streamId);
  }

  /** Every-stream subscriptions, history and resume: undefined = allowed. */
  checkFirehose(token: unknown): AccessRefusal | undefined {
    const expected = this.options.firehoseToken;
    if (expected === undefined) return undefined;
    if (typeof token !== 'string' || token === '') {
      return { code: 'unauthorized', message: 'every-stream subscriptions, history and resume need the firehose token (auth: { token })' };
    }
    if (!timingSafeEqual(digest(token), digest(expected))) return { code: 'forbidden', message: 'the firehose token is not valid' };
    return undefined;
  }

  /** The signed streams among these need a playback token valid for each: undefined = allowed. */
  async checkStreams(streamIds: readonly string[], token: unknown): Promise<AccessRefusal | undefined> {
    for (const streamId of streamIds) {
      if (!this.isSigned(streamId)) continue;
      const check = await verifyPlaybackToken(this.options.signingKey, typeof token === 'string' && token !== '' ? token : undefined, streamId, 'events');
      if (check.ok) continue;
      if (check.reason === 'no-signing-key') {
        this.logger.error({ streamId }, 'a signed stream was subscribed to but PLAYBACK_SIGNING_KEY is not set: refused until the key (the same as on ingest) is configured');
        return { code: 'unavailable', message: `stream ${streamId} requires signed playback, which is not configured on this server` };
      }
      return { code: check.reason === 'missing' ? 'unauthorized' : 'forbidden', message: `${check.message} (auth or subscribe payload: { streamId, token })` };
    }
    return undefined;
  }
}
