import type { BrowserContext } from 'playwright-core';
import { Topics, type PlaybackEvent } from '@tributary/contracts';
import { freePort, type HeadlessChromium, launchChromium, startService, type ServiceProcess } from '@tributary/devkit';
import { FIXTURE_RENDITIONS, type FixtureSegment, makeSegments, VideoFixture } from './video-fixture';

export interface PlayerStackOptions {
  brokers: string[];
  /** The test's unique TOPIC_PREFIX. */
  prefix: string;
  /** Consumer group suffix of the playback.events collector (`${prefix}-${name}`). */
  name: string;
  /** Seconds of fixture video to cut per rendition. */
  seconds: number;
}

/**
 * What the web player tests share: viewer-api on a free port, the segment fixture, a collector of
 * every `playback.events` message, and Chromium with a fresh profile (playwright passes it as
 * --user-data-dir). `close()` stops everything that was started, also after a failed start.
 */
export class PlayerStack {
  viewer!: ServiceProcess;
  fixture!: VideoFixture;
  browser!: BrowserContext;
  segments!: Map<string, FixtureSegment[]>;
  readonly events: PlaybackEvent[] = [];
  private chromium: HeadlessChromium | undefined;
  private stopConsumer: () => Promise<void> = async () => {};
  private feeding = true;
  private feeder: Promise<void> = Promise.resolve();

  private constructor(private readonly options: PlayerStackOptions) {}

  static async start(options: PlayerStackOptions): Promise<PlayerStack> {
    const stack = new PlayerStack(options);
    try {
      await stack.startAll();
    } catch (error) {
      await stack.close();
      throw error;
    }
    return stack;
  }

  private async startAll(): Promise<void> {
    const { brokers, prefix, name, seconds } = this.options;
    this.segments = await makeSegments(FIXTURE_RENDITIONS, seconds);
    const port = await freePort();
    this.viewer = await startService('viewer-api', {
      port,
      env: {
        KAFKA_BROKERS: brokers.join(','),
        TOPIC_PREFIX: prefix,
        KAFKA_VIDEO_PARTITIONS: '2',
        KAFKA_EVENT_PARTITIONS: '2',
        LOG_LEVEL: 'warn',
      },
    });
    this.fixture = new VideoFixture(brokers, prefix);
    await this.fixture.connect();
    const consumer = this.fixture.kafka.consumer({ groupId: `${prefix}-${name}` });
    await consumer.connect();
    this.stopConsumer = () => consumer.disconnect();
    await consumer.subscribe({ topics: [this.fixture.topic(Topics.playbackEvents)], fromBeginning: true });
    await consumer.run({
      eachMessage: ({ message }) => {
        if (message.value) this.events.push(JSON.parse(message.value.toString()) as PlaybackEvent);
        return Promise.resolve();
      },
    });
    this.chromium = await launchChromium();
    this.browser = this.chromium.browser;
  }

  /** A live transcoder stand-in: 3 segments of back-log, then one per segment duration until stopped. */
  feedLive(streamId: string, start: Date, transcoderId: string): void {
    this.feeder = (async () => {
      const total = this.segments.get('360p')!.length;
      await this.fixture.segments(streamId, this.segments, 0, 3, start, transcoderId);
      for (let sequence = 3; sequence < total && this.feeding; sequence++) {
        await new Promise((resolve) => setTimeout(resolve, 2000));
        await this.fixture.segments(streamId, this.segments, sequence, sequence + 1, start, transcoderId);
      }
    })();
  }

  async stopFeeding(): Promise<void> {
    this.feeding = false;
    await this.feeder;
  }

  async close(): Promise<void> {
    await this.stopFeeding();
    await this.chromium?.close();
    await this.stopConsumer();
    await this.fixture?.disconnect();
    await this.viewer?.stop();
  }
}
