import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { EachMessagePayload, KafkaMessage } from 'kafkajs';
import type { StreamRecord } from '@tributary/contracts';
import { DeadLetterPublisher, isFencedError } from '@tributary/kafka';
import { ReadinessRegistry, ROOT_LOGGER } from '@tributary/nest-common';
import { type Logger, streamMetrics, transcodeMetrics } from '@tributary/telemetry';
import { TRANSCODER_CONFIG, type TranscoderConfig } from '../config';
import { BacklogScheduler } from './backlog-scheduler';
import { BacklogSkips } from './backlog-skips';
import { EndedPublishes, parseStreamStatus } from './ended-publishes';
import { type IngestChunk, parseIngestChunk } from './ingest-chunk';
import { InputBudget } from './input-budget';
import { LastSequenceStore } from './last-sequences';
import { LatencySweep } from './latency-sweep';
import { PartitionCommits } from './partition-commits';
import { PublishSessionGate } from './publish-sessions';
import type { OutgoingSegment, PipelineSink } from './pipeline-sink';
import { RebalanceFence } from './rebalance-fence';
import { type PipelineFactory, StreamPipelineFactory, type TranscodePipeline } from './stream-pipeline.factory';
import { type StatusChannel, StreamStatusRepository } from './stream-status.repository';
import { type TranscodeOutput, TranscodeOutputRepository } from './transcode-output.repository';
import { type IngestSource, VideoIngestRepository } from './video-ingest.repository';

/** The stream registry as the transcoder reads it (StreamRegistryView). */
export interface StreamRecords {
  readonly caughtUp: boolean;
  get(id: string): StreamRecord | undefined;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export const STREAM_RECORDS = Symbol('STREAM_RECORDS');

/**
 * Runs one pipeline per live stream on the partitions of `video.ingest` this replica owns
 * (consumer group `transcoder`: replicas scale by partitions), and commits input offsets only
 * when the output made from them is acknowledged.
 *
 * This class decides; its collaborators do one job each and hide Kafka and ffmpeg: the ingest
 * consumer (VideoIngestRepository), stream.status (StreamStatusRepository), the output topics
 * (TranscodeOutputRepository), the registry view, pipelines (StreamPipelineFactory), offset
 * commits (PartitionCommits), ingest `ended` reports (EndedPublishes), remembered numbering
 * (LastSequenceStore) and the fence that holds output through a rebalance (RebalanceFence).
 *
 * Live stays live: reading never waits on an ffmpeg (InputBudget bounds what is queued instead);
 * a session whose publisher is gone is backlog (BacklogScheduler: a few at a time, niced, only
 * while no live stream trails; or skipped with a recorded gap, BacklogSkips under
 * TRANSCODER_BACKLOG_POLICY=skip); every second each live pipeline checks its edge delay and
 * sheds or restores work (LatencySweep).
 */
@Injectable()
export class TranscoderService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger: Logger;
  private readonly commits: PartitionCommits;
  private readonly pipelines = new Map<string, TranscodePipeline>();
  /** Last media sequences of streams that finished here, while this replica keeps their partition. */
  private readonly lastSequences = new LastSequenceStore();
  private readonly ended = new EndedPublishes();
  private readonly sessions = new PublishSessionGate();
  private idleTimer?: NodeJS.Timeout;
  /** Closed while the group rebalances: no segment is produced until we know which partitions we keep. */
  private readonly fence = new RebalanceFence();
  private assigned = new Set<number>();
  /** Settles once the output of the assigned partitions is owned (their previous writers fenced). */
  private owning: Promise<void> = Promise.resolve();
  private readonly highestSeen = new Map<number, bigint>();
  private readonly idleEnded = new WeakSet<TranscodePipeline>();
  private readonly budget: InputBudget;
  private readonly backlog: BacklogScheduler;
  /** Backlog sessions skipped under TRANSCODER_BACKLOG_POLICY=skip. */
  private readonly skips = new BacklogSkips();
  private readonly latency: LatencySweep;

  constructor(
    @Inject(TRANSCODER_CONFIG) private readonly config: TranscoderConfig,
    @Inject(VideoIngestRepository) private readonly ingest: IngestSource,
    @Inject(StreamStatusRepository) private readonly status: StatusChannel,
    @Inject(TranscodeOutputRepository) private readonly output: TranscodeOutput,
    @Inject(STREAM_RECORDS) private readonly registry: StreamRecords,
    @Inject(StreamPipelineFactory) private readonly factory: PipelineFactory,
    private readonly deadLetters: DeadLetterPublisher,
    readiness: ReadinessRegistry,
    @Inject(ROOT_LOGGER) rootLogger: Logger,
  ) {
    this.logger = rootLogger.child({ component: 'transcoder' });
    this.commits = new PartitionCommits({
      commit: (partition, offset) => this.output.commitInput(partition, offset),
      owns: (partition) => this.assigned.has(partition),
      onError: (error, partition, offset) => this.logger.warn({ err: error, partition, offset }, 'offset commit failed (retried on the next one)'),
    });
    this.budget = new InputBudget(config.inputBufferBytes);
    this.latency = new LatencySweep(this.logger);
    this.backlog = new BacklogScheduler(config.backlogConcurrency, () => this.latency.liveTrailing);
    streamMetrics.active(() => [...this.pipelines.values()].filter((pipeline) => !pipeline.isFinished).length);
    readiness.register('stream-registry', () => this.registry.caughtUp);
    readiness.register('video-ingest-consumer', () => this.ingest.isJoined);
    readiness.register('stream-status-consumer', () => this.status.isJoined);
  }

  async onApplicationBootstrap(): Promise<void> {
    const tools = this.factory.init();
    this.logger.info({ ffmpeg: tools.ffmpeg, ffprobe: tools.ffprobe, preset: this.config.preset }, 'media tools');
    await this.registry.start();
    await this.status.start((message) => this.onStatus(message));
    await this.ingest.start({
      chunk: (payload) => this.onChunk(payload),
      rebalancing: () => this.fence.close(),
      assigned: (partitions) => this.onAssigned(partitions),
    });
    this.idleTimer = setInterval(() => {
      this.endIdleStreams();
      this.latency.sweep(this.pipelines.values(), this.backlog);
    }, 1000);
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.idleTimer) clearInterval(this.idleTimer);
    this.commits.stop();
    await this.ingest.stop();
    await this.status.stop();
    // Uncommitted input is re-read by the partition's next owner; stop ffmpeg without output.
    await Promise.all([...this.pipelines.values()].map((pipeline) => pipeline.abandon()));
    await this.registry.stop();
  }

  private onAssigned(partitions: Set<number>): Promise<void> {
    // One takeover at a time, each tried even if the previous one failed. onChunk waits for
    // `owning`; a failure fails the chunk, so kafkajs retries it and, in the end, restarts the
    // consumer, whose rejoin tries again.
    this.owning = this.owning.catch(() => undefined).then(() => this.takeOwnership(partitions));
    return this.owning.catch((error: unknown) => this.logger.error({ err: error }, 'could not take over the output of the assigned partitions'));
  }

  /**
   * A (re)join: let go of partitions that moved away, fence the previous writers of the ones we
   * got, and restart any kept partition that another replica owned in between (we were paused
   * or partitioned through a rebalance: our pipelines and positions there are stale).
   */
  private async takeOwnership(partitions: Set<number>): Promise<void> {
    const lost = [...this.assigned].filter((partition) => !partitions.has(partition));
    this.assigned = partitions;
    await this.release(lost);
    const lostMeanwhile = await this.output.own(partitions);
    if (lostMeanwhile.size > 0) {
      this.logger.warn({ partitions: [...lostMeanwhile] }, 'another replica owned these partitions meanwhile; restarting their streams from the committed input');
      await this.release([...lostMeanwhile]);
    }
    this.lastSequences.keepPartitions(partitions);
    this.logger.info({ partitions: [...partitions], lost }, 'video.ingest partitions assigned');
    this.fence.open();
  }

  /** Stops the streams of `partitions` without output and forgets their positions. */
  private async release(partitions: number[]): Promise<void> {
    const set = new Set(partitions);
    for (const [streamId, pipeline] of this.pipelines) {
      if (set.has(pipeline.partition)) {
        this.pipelines.delete(streamId);
        await pipeline.abandon();
      }
    }
    for (const partition of partitions) {
      this.commits.drop(partition);
      this.highestSeen.delete(partition);
    }
  }

  /** Our writer of `partition` was fenced: a newer owner exists, so this replica stops there at once. */
  private fenced(partition: number): void {
    if (!this.assigned.has(partition)) return;
    this.logger.warn({ partition }, 'fenced: another replica took this partition over; dropping its streams until the group says otherwise');
    this.assigned = new Set([...this.assigned].filter((owned) => owned !== partition));
    // Not awaited: the caller may be the pipeline's own segment publication.
    setImmediate(() => void this.release([partition]));
  }

  private async onChunk({ topic, partition, message }: EachMessagePayload): Promise<void> {
    await this.owning;
    // A partition we were fenced from (or never got): its owner handles it.
    if (!this.assigned.has(partition)) return;
    // After a rebalance kafkajs restarts a partition we kept from its committed offset, which
    // re-delivers chunks already fed to a running pipeline: feeding them twice would corrupt the
    // stream, so anything at or below the highest offset seen on the partition is skipped.
    const offset = BigInt(message.offset);
    const seen = this.highestSeen.get(partition);
    if (seen !== undefined && offset <= seen) return;
    this.highestSeen.set(partition, offset);
    this.commits.track(partition, message.offset);
    const parsed = parseIngestChunk(message);
    if ('problem' in parsed) {
      this.logger.warn({ partition, offset: message.offset, problem: parsed.problem }, 'invalid video.ingest message; dead-lettering it');
      await this.deadLetters.publish({ topic, partition, message, groupId: this.ingest.groupId }, parsed.problem);
      this.commits.done(partition, message.offset);
      return;
    }
    const { chunk } = parsed;
    if (this.sessions.admit(chunk.streamId, chunk.publishSessionId) === 'stale') {
      // The stream already moved on to a newer publish (a zombie ingest replica still writing).
      this.logger.warn(
        { streamId: chunk.streamId, publishSessionId: chunk.publishSessionId, current: this.sessions.current(chunk.streamId), offset: chunk.offset },
        'skipping a chunk of an older publish session',
      );
      this.commits.done(partition, message.offset);
      return;
    }
    const now = Date.now();
    const late = chunk.ingestTimeMs !== undefined && now - chunk.ingestTimeMs > this.config.backlogAfterMs;
    if (this.skipBacklog(chunk, partition, late)) return;
    const pipeline = await this.pipelineFor(chunk, partition, late);
    const { streamId: _streamId, publishSessionId: _session, ...input } = chunk;
    // Never wait for ffmpeg here (one slow or deferred stream would hold every partition back):
    // only for room in the input budget.
    await this.budget.take(input.data.length);
    pipeline
      .feed(input)
      .catch((error: unknown) => this.logger.error({ err: error, streamId: chunk.streamId, offset: chunk.offset }, 'feeding a chunk to its pipeline failed'))
      .finally(() => this.budget.give(input.data.length));
    // A fresh chunk of a backlog session ingest has not reported ended: its publisher is there after all.
    if (!late && pipeline.transcodeMode === 'backlog' && !this.ended.of(chunk.streamId, chunk.publishSessionId)) pipeline.goLive(chunk.sequence);
  }

  /**
   * Under TRANSCODER_BACKLOG_POLICY=skip, a backlog session's chunks are committed without
   * transcoding; the gap is reported once per session (stream.status `ended` with its detail).
   */
  private skipBacklog(chunk: IngestChunk, partition: number, late: boolean): boolean {
    if (this.config.backlogPolicy !== 'skip') return false;
    const { streamId, publishSessionId: session } = chunk;
    const skip = this.skips.decide(streamId, session, late, this.pipelines.get(streamId));
    if (!skip) return false;
    if (skip === 'first') {
      this.logger.warn({ streamId, publishSessionId: session, chunkSequence: chunk.sequence }, 'backlog session (publisher gone): skipping it, not transcoded (TRANSCODER_BACKLOG_POLICY=skip)');
      void this.reportStatus(partition, {
        stream_id: streamId,
        state: 'ended',
        publish_session_id: session,
        reason: 'backlog skipped: the publisher was gone before this session was transcoded (TRANSCODER_BACKLOG_POLICY=skip)',
        detail: { mode: 'backlog', action: 'backlog_skipped' },
      });
    }
    transcodeMetrics.skippedChunks().inc({ reason: 'backlog_skipped' });
    this.commits.done(partition, chunk.offset);
    return true;
  }

  private reportStatus(partition: number, status: Parameters<PipelineSink['status']>[0]): Promise<void> {
    return this.sink(partition)
      .status(status)
      .catch((error: unknown) => this.logger.error({ err: error, streamId: status.stream_id }, 'could not report stream status'));
  }

  /** The running pipeline of the chunk's publish session, after finishing the stream's previous one. */
  private async pipelineFor(chunk: IngestChunk, partition: number, late: boolean): Promise<TranscodePipeline> {
    const { streamId, publishSessionId: session, sequence } = chunk;
    let pipeline = this.pipelines.get(streamId);
    if (pipeline && (pipeline.isFinished || pipeline.publishSessionId !== session)) {
      if (!pipeline.isFinished) {
        // A new publish of the stream: finish the previous one first, so numbering stays in order.
        // A backlog session is cut (never holds up a newer publish; its rest is a recorded gap).
        if (pipeline.transcodeMode === 'backlog') await pipeline.cut('a newer publish session of the stream started');
        else await pipeline.endAfter(undefined, 'a new publish session started');
        await pipeline.finished;
      }
      this.remember(pipeline);
      this.pipelines.delete(streamId);
      pipeline = undefined;
    }
    if (pipeline) return pipeline;
    if (sequence > 0 && !this.lastSequences.has(streamId)) {
      this.logger.info({ streamId, publishSessionId: session, chunkSequence: sequence }, 'taking over a stream mid-publish');
    }
    const ended = this.ended.of(streamId, session);
    const backlog = late || ended !== undefined;
    if (backlog) {
      this.logger.info(
        { streamId, publishSessionId: session, chunkSequence: sequence, ingestAgeMs: chunk.ingestTimeMs ? Date.now() - chunk.ingestTimeMs : undefined, publisherEnded: ended !== undefined },
        'backlog session (publisher gone): transcoding it for replay at low priority, after live streams',
      );
    }
    pipeline = this.createPipeline(streamId, partition, session, backlog ? 'backlog' : 'live');
    this.pipelines.set(streamId, pipeline);
    if (ended) this.endWhenComplete(pipeline, ended.lastChunkSequence);
    return pipeline;
  }

  private remember(pipeline: TranscodePipeline): void {
    const sequences = pipeline.sequencesAfter();
    if (sequences.size > 0) this.lastSequences.set(pipeline.streamId, pipeline.partition, sequences);
  }

  private createPipeline(streamId: string, partition: number, publishSessionId: string, mode: 'live' | 'backlog'): TranscodePipeline {
    const known = this.lastSequences.get(streamId);
    const lastSequences = known ? Promise.resolve(known) : this.output.lastSequences(streamId);
    // Avoid an unhandled rejection before the pipeline awaits it (it handles the error itself).
    lastSequences.catch(() => undefined);
    const record = this.registry.get(streamId);
    if (!record) this.logger.warn({ streamId }, 'stream not in the registry; using the default ladder and 2 s segments');
    return this.factory.create({
      streamId,
      partition,
      publishSessionId,
      ...(record ? { record } : {}),
      lastSequences,
      sink: this.sink(partition),
      logger: this.logger.child({ streamId, publishSessionId }),
      mode,
      backlog: this.backlog,
    });
  }

  private sink(partition: number): PipelineSink {
    return {
      segment: (segment) => this.produceSegment(segment),
      thumbnail: (streamId, data, traceparent) => this.output.thumbnail(streamId, data, traceparent),
      // A pipeline of a partition we no longer own reports nothing (its new owner does).
      status: (status) => (this.assigned.has(partition) ? this.status.publish(status) : Promise.resolve()),
      chunkDone: (partition, offset) => this.commits.done(partition, offset),
    };
  }

  private async produceSegment(segment: OutgoingSegment): Promise<boolean> {
    await this.fence.passed();
    const pipeline = this.pipelines.get(segment.streamId);
    if (!pipeline || !this.assigned.has(pipeline.partition)) return false;
    try {
      // Input offsets whose output is already committed ride along in the segment's transaction.
      await this.output.segment(pipeline.partition, segment, this.commits.take(pipeline.partition));
      return true;
    } catch (error) {
      if (!isFencedError(error)) throw error;
      this.fenced(pipeline.partition);
      return false;
    }
  }

  private onStatus(message: KafkaMessage): void {
    const parsed = parseStreamStatus(message.value);
    // Read by every replica: an invalid report is logged, not dead-lettered once per replica.
    if ('issues' in parsed) {
      this.logger.warn({ offset: message.offset, issues: parsed.issues }, 'invalid stream.status message ignored');
      return;
    }
    const recorded = this.ended.record(parsed.status);
    if (!recorded) return;
    const pipeline = this.pipelines.get(recorded.streamId);
    if (pipeline && !pipeline.isFinished && pipeline.publishSessionId === recorded.ended.session) {
      this.endWhenComplete(pipeline, recorded.ended.lastChunkSequence);
      // The publisher is gone: whatever trails beyond the bound is catch-up work now.
      if (pipeline.transcodeMode === 'live' && pipeline.edgeDelayMs() > pipeline.latencyBoundMs) pipeline.toBacklog();
    }
  }

  private endWhenComplete(pipeline: TranscodePipeline, lastChunkSequence: number | undefined): void {
    pipeline.endAfter(lastChunkSequence, 'publisher ended').catch((error: unknown) => this.logger.error({ err: error }, 'ending stream failed'));
  }

  private endIdleStreams(): void {
    const now = Date.now();
    for (const [streamId, pipeline] of this.pipelines) {
      if (pipeline.isFinished) {
        // Keep only what the next publish of the stream needs: its last media sequences.
        this.remember(pipeline);
        this.pipelines.delete(streamId);
        continue;
      }
      if (now - pipeline.lastChunkAt > this.config.idleTimeoutMs && pipeline.currentState !== 'ending' && !this.idleEnded.has(pipeline)) {
        // Once: a backlog pipeline may take long to reach its end (queued behind its input).
        this.idleEnded.add(pipeline);
        this.logger.warn({ streamId: pipeline.streamId }, 'no input for the idle timeout; ending the stream');
        void pipeline.endAfter(undefined, 'input idle');
      }
    }
  }
}
