import { type StreamStatus, Topics, topicName } from '@tributary/contracts';
import { freePort, type ServiceProcess, startService } from '@tributary/devkit';
import { createStream } from './video-stack';
import { type FfmpegRun, kafkaFor, publishTestPattern, type ReadMessage, TopicTap } from './video-topics';
import { startTestTranscoder } from './test-transcoder';

export interface BacklogRestartOptions {
  brokers: string;
  /** The test's unique TOPIC_PREFIX. */
  prefix: string;
  /** TRANSCODER_BACKLOG_AFTER_MS: a session whose newest chunk is older than this is backlog. */
  backlogAfterMs: number;
  /** TRANSCODER_LIVE_MAX_TRAIL_SEGMENTS. */
  boundSegments: number;
}

/**
 * Issue 14's "restart with backlog" scenario, shared by the tests that check what a new live
 * stream (and a viewer) gets afterwards: ingest, transcoder and viewer-api on one broker, a tap on
 * video.segments and stream.status, and `restartWithBacklog()`, which kills the platform mid-publish
 * so that Kafka holds input no transcoder read, then starts it again.
 */
export class BacklogRestart {
  ingest?: ServiceProcess;
  transcoder?: ServiceProcess;
  viewer!: ServiceProcess;
  tap!: TopicTap;
  readonly publishers: FfmpegRun[] = [];
  private readonly common: Record<string, string>;

  private constructor(private readonly options: BacklogRestartOptions) {
    this.common = {
      KAFKA_BROKERS: options.brokers,
      TOPIC_PREFIX: options.prefix,
      LOG_LEVEL: 'warn',
      KAFKA_VIDEO_PARTITIONS: '2',
      KAFKA_EVENT_PARTITIONS: '1',
    };
  }

  static async start(options: BacklogRestartOptions): Promise<BacklogRestart> {
    const platform = new BacklogRestart(options);
    const viewerPort = await freePort();
    const started = await Promise.allSettled([
      platform.startIngest(),
      platform.startTranscoder(),
      startService('viewer-api', { port: viewerPort, env: { ...platform.common } }),
    ]);
    const failed = started.find((result) => result.status === 'rejected');
    if (failed) {
      // Stop what did start, so the test process can exit.
      await Promise.all(started.flatMap((result) => (result.status === 'fulfilled' ? [result.value.stop()] : [])));
      throw failed.reason;
    }
    [platform.ingest, platform.transcoder, platform.viewer] = started.map((result) => (result as PromiseFulfilledResult<ServiceProcess>).value);
    platform.tap = await new TopicTap(kafkaFor(options.brokers), [platform.topic(Topics.videoSegments), platform.topic(Topics.streamStatus)]).start();
    return platform;
  }

  topic(base: string): string {
    return topicName(base, this.options.prefix);
  }

  segmentsOf(id: string): ReadMessage[] {
    return this.tap.messages.filter((m) => m.topic === this.topic(Topics.videoSegments) && m.key === id);
  }

  statusesOf(id: string): StreamStatus[] {
    return this.tap.statuses(this.topic(Topics.streamStatus), id);
  }

  /** Creates stream `id` and publishes a 640×360 test pattern to it for `seconds` (real time). */
  async publish(id: string, seconds: number): Promise<FfmpegRun> {
    const key = await createStream(this.ingest!.url, id);
    const publisher = publishTestPattern(`${this.ingest!.url}/live/${key}`, { size: '640x360', rate: 15, seconds });
    this.publishers.push(publisher);
    return publisher;
  }

  /**
   * Publishes `ids`, waits for their first segments, SIGKILLs the transcoder; ingest goes on
   * writing input nobody reads for `backlogMs` (the backlog), then ingest and the publishers are
   * killed too. Once their newest chunk is older than the backlog bound (a quicker restart would
   * rightly take them for live), ingest and transcoder start again. Returns each stream's segment
   * count before the kill.
   */
  async restartWithBacklog(ids: readonly string[], backlogMs: number): Promise<Map<string, number>> {
    for (const id of ids) await this.publish(id, 120);
    await this.tap.waitFor(() => ids.every((id) => this.segmentsOf(id).length >= 2) || undefined, 120_000, 'first segments of the streams before the kill');
    await this.transcoder!.kill();
    this.transcoder = undefined;
    const beforeKill = new Map(ids.map((id) => [id, this.segmentsOf(id).length]));
    await new Promise((resolve) => setTimeout(resolve, backlogMs));
    await this.ingest!.kill();
    this.ingest = undefined;
    for (const publisher of this.publishers) publisher.kill();
    await new Promise((resolve) => setTimeout(resolve, this.options.backlogAfterMs + 2_000));
    [this.ingest, this.transcoder] = await Promise.all([this.startIngest(), this.startTranscoder()]);
    return beforeKill;
  }

  async stop(): Promise<void> {
    for (const publisher of this.publishers) publisher.kill();
    await this.tap?.stop();
    await Promise.all([this.viewer?.stop(), this.transcoder?.stop(), this.ingest?.stop()]);
  }

  private async startIngest(): Promise<ServiceProcess> {
    const port = await freePort();
    return startService('ingest', { port, env: { ...this.common } });
  }

  private startTranscoder(): Promise<ServiceProcess> {
    return startTestTranscoder({ ...this.common, LOG_LEVEL: 'info' }, `${this.options.prefix}-transcoder`, {
      TRANSCODER_THREADS: '1',
      TRANSCODER_SESSION_TIMEOUT_MS: '6000',
      TRANSCODER_IDLE_TIMEOUT_MS: '4000',
      TRANSCODER_BACKLOG_AFTER_MS: String(this.options.backlogAfterMs),
      TRANSCODER_BACKLOG_POLICY: 'replay',
      // Live stays live: this scenario sheds, within its own bound.
      TRANSCODER_SHEDDING: 'on',
      TRANSCODER_LIVE_MAX_TRAIL_SEGMENTS: String(this.options.boundSegments),
    });
  }
}
