import type { EachMessagePayload, KafkaMessage } from 'kafkajs';
import { VideoHeaders } from '@tributary/contracts';
import { type DeadLetterPublisher, ProducerFencedError } from '@tributary/kafka';
import { ReadinessRegistry } from '@tributary/nest-common';
import pino from 'pino';
import type { TranscoderConfig } from '../config';
import type { InputChunk } from './chunk-coverage';
import type { OutgoingSegment, PipelineSink } from './stream-pipeline';
import type { PipelineFactory, PipelineRequest, TranscodePipeline } from './stream-pipeline.factory';
import type { StatusChannel, StatusReport } from './stream-status.repository';
import type { TranscodeOutput } from './transcode-output.repository';
import { type StreamRecords, TranscoderService } from './transcoder.service';
import type { IngestHandlers, IngestSource } from './video-ingest.repository';

class FakePipeline implements TranscodePipeline {
  readonly fed: InputChunk[] = [];
  readonly ends: (number | undefined)[] = [];
  isFinished = false;
  currentState: TranscodePipeline['currentState'] = 'running';
  lastChunkAt = Date.now();
  abandoned = false;
  readonly finished: Promise<void>;
  private resolve!: () => void;
  constructor(
    readonly request: PipelineRequest,
    private readonly last = new Map<string, number>(),
  ) {
    this.finished = new Promise((resolve) => (this.resolve = resolve));
  }
  get streamId() {
    return this.request.streamId;
  }
  get partition() {
    return this.request.partition;
  }
  get publishSessionId() {
    return this.request.publishSessionId;
  }
  feed(chunk: InputChunk): Promise<void> {
    this.fed.push(chunk);
    return Promise.resolve();
  }
  endAfter(lastSequence: number | undefined): Promise<void> {
    this.ends.push(lastSequence);
    if (lastSequence === undefined || this.fed.some((chunk) => chunk.sequence >= lastSequence)) this.finish();
    return Promise.resolve();
  }
  abandon(): Promise<void> {
    this.abandoned = true;
    this.isFinished = true;
    this.resolve();
    return Promise.resolve();
  }
  sequencesAfter(): Map<string, number> {
    return this.last;
  }
  readonly latencyBoundMs = 6_000;
  shedLevel = 0;
  oldestPendingMs: number | undefined = undefined;
  wentLive?: number;
  cutReason?: string;
  get transcodeMode() {
    return this.wentLive === undefined ? this.request.mode : 'live';
  }
  backlogged = false;
  edgeDelay = 0;
  edgeDelayMs(): number {
    return this.edgeDelay;
  }
  toBacklog(): void {
    this.backlogged = true;
  }
  goLive(sequence: number): void {
    this.wentLive = sequence;
  }
  cut(reason: string): Promise<void> {
    this.cutReason = reason;
    this.finish();
    return Promise.resolve();
  }
  checkLatency(): number | undefined {
    return undefined;
  }
  finish(): void {
    this.isFinished = true;
    this.currentState = 'done';
    this.resolve();
  }
  get sink(): PipelineSink {
    return this.request.sink;
  }
}

class FakeIngest implements IngestSource {
  readonly topic = 'video.ingest';
  readonly groupId = 'transcoder';
  isJoined = false;
  handlers!: IngestHandlers;
  start(handlers: IngestHandlers): Promise<void> {
    this.handlers = handlers;
    this.isJoined = true;
    return Promise.resolve();
  }
  stop(): Promise<void> {
    return Promise.resolve();
  }
}

class FakeStatus implements StatusChannel {
  isJoined = true;
  onMessage!: (message: KafkaMessage) => void;
  readonly published: StatusReport[] = [];
  start(onMessage: (message: KafkaMessage) => void): Promise<void> {
    this.onMessage = onMessage;
    return Promise.resolve();
  }
  publish(status: StatusReport): Promise<void> {
    this.published.push(status);
    return Promise.resolve();
  }
  stop(): Promise<void> {
    return Promise.resolve();
  }
}

class FakeOutput implements TranscodeOutput {
  readonly segments: [number, OutgoingSegment, string | undefined][] = [];
  readonly commits: [number, string][] = [];
  tail = new Map<string, number>();
  tailReads = 0;
  /** Partitions whose writer another replica has fenced. */
  readonly fencedBy = new Set<number>();
  owned = new Set<number>();
  failNextOwn = false;
  own(partitions: ReadonlySet<number>): Promise<Set<number>> {
    if (this.failNextOwn) {
      this.failNextOwn = false;
      return Promise.reject(new Error('coordinator not available'));
    }
    const lostMeanwhile = new Set([...partitions].filter((partition) => this.owned.has(partition) && this.fencedBy.has(partition)));
    for (const partition of partitions) this.fencedBy.delete(partition);
    this.owned = new Set(partitions);
    return Promise.resolve(lostMeanwhile);
  }
  segment(partition: number, segment: OutgoingSegment, commitInput?: string): Promise<void> {
    if (this.fencedBy.has(partition)) return Promise.reject(new ProducerFencedError('fenced'));
    this.segments.push([partition, segment, commitInput]);
    return Promise.resolve();
  }
  commitInput(partition: number, offset: string): Promise<void> {
    if (this.fencedBy.has(partition)) return Promise.reject(new ProducerFencedError('fenced'));
    this.commits.push([partition, offset]);
    return Promise.resolve();
  }
  thumbnail(): Promise<void> {
    return Promise.resolve();
  }
  lastSequences(): Promise<Map<string, number>> {
    this.tailReads += 1;
    return Promise.resolve(this.tail);
  }
}

const config = {
  idleTimeoutMs: 30_000,
  preset: 'ultrafast',
  backlogAfterMs: 15_000,
  backlogPolicy: 'replay',
  backlogConcurrency: 1,
  inputBufferBytes: 64 * 1024 * 1024,
} as TranscoderConfig;
const TS = Buffer.alloc(188 * 2, 0x47);

function chunkMessage(offset: number, streamId: string, session: string, sequence: number, value: Buffer | null = TS, ingestTimeMs?: number): KafkaMessage {
  return {
    key: Buffer.from(streamId),
    value,
    offset: String(offset),
    timestamp: '0',
    attributes: 0,
    headers: {
      [VideoHeaders.publishSession]: session,
      [VideoHeaders.chunkSequence]: String(sequence),
      ...(ingestTimeMs !== undefined ? { [VideoHeaders.ingestTimeMs]: String(ingestTimeMs) } : {}),
    },
  };
}

function payload(partition: number, message: KafkaMessage): EachMessagePayload {
  return { topic: 'video.ingest', partition, message } as EachMessagePayload;
}

function segment(streamId: string, sequence = 0): OutgoingSegment {
  return {
    streamId,
    publishSessionId: 's1',
    rendition: '360p',
    sequence,
    durationSeconds: 2,
    programTime: new Date(0).toISOString(),
    discontinuity: false,
    transcodeSession: 't1',
    data: Buffer.from('ts'),
  };
}

async function setup(overrides: Partial<TranscoderConfig> = {}) {
  const ingest = new FakeIngest();
  const status = new FakeStatus();
  const output = new FakeOutput();
  const pipelines: FakePipeline[] = [];
  const lastOfNext: Map<string, number>[] = [];
  const factory: PipelineFactory = {
    init: () => ({ ffmpeg: 'ffmpeg', ffprobe: 'ffprobe' }),
    create: (request) => {
      const pipeline = new FakePipeline(request, lastOfNext.shift());
      pipelines.push(pipeline);
      return pipeline;
    },
  };
  const registry: StreamRecords = { caughtUp: true, get: () => undefined, start: () => Promise.resolve(), stop: () => Promise.resolve() };
  const deadLettered: string[] = [];
  const deadLetters = {
    publish: (_source: unknown, reason: string) => {
      deadLettered.push(reason);
      return Promise.resolve();
    },
  } as unknown as DeadLetterPublisher;
  const service = new TranscoderService({ ...config, ...overrides }, ingest, status, output, registry, factory, deadLetters, new ReadinessRegistry(), pino({ level: 'silent' }));
  await service.onApplicationBootstrap();
  await ingest.handlers.assigned(new Set([0, 1]));
  return { service, ingest, status, output, pipelines, lastOfNext, deadLettered };
}

describe(TranscoderService.name, () => {
  let stack: Awaited<ReturnType<typeof setup>>;
  beforeEach(async () => {
    stack = await setup();
  });
  afterEach(async () => {
    await stack.service.onApplicationShutdown();
  });

  it('routes chunks to one pipeline per stream and publish session, reading numbering from the segment tail', async () => {
    const { ingest, pipelines, output } = stack;
    await ingest.handlers.chunk(payload(0, chunkMessage(0, 'cam-a', 's1', 0)));
    await ingest.handlers.chunk(payload(0, chunkMessage(1, 'cam-b', 's9', 0)));
    await ingest.handlers.chunk(payload(0, chunkMessage(2, 'cam-a', 's1', 1)));
    expect(pipelines.map((p) => `${p.streamId}/${p.publishSessionId}@${p.partition}`)).toEqual(['cam-a/s1@0', 'cam-b/s9@0']);
    expect(pipelines[0].fed.map((chunk) => chunk.offset)).toEqual(['0', '2']);
    expect(output.tailReads).toBe(2);
  });

  it('skips chunks re-delivered at or below the highest offset already seen on a partition', async () => {
    const { ingest, pipelines } = stack;
    await ingest.handlers.chunk(payload(0, chunkMessage(5, 'cam-a', 's1', 0)));
    await ingest.handlers.chunk(payload(0, chunkMessage(5, 'cam-a', 's1', 0)));
    await ingest.handlers.chunk(payload(0, chunkMessage(3, 'cam-a', 's1', 0)));
    expect(pipelines[0].fed).toHaveLength(1);
  });

  it('dead-letters an invalid chunk and still commits past it', async () => {
    jest.useFakeTimers();
    try {
      const { ingest, output, deadLettered, pipelines } = stack;
      await ingest.handlers.chunk(payload(1, chunkMessage(0, 'cam-a', 's1', 0, Buffer.alloc(100))));
      expect(deadLettered).toEqual(['value is not a run of whole 188-byte packets']);
      expect(pipelines).toHaveLength(0);
      jest.advanceTimersByTime(300);
      expect(output.commits).toEqual([[1, '1']]);
    } finally {
      jest.useRealTimers();
    }
  });

  it('commits input only up to chunks the pipeline reported done, in offset order', async () => {
    jest.useFakeTimers();
    try {
      const { ingest, output, pipelines } = stack;
      for (let offset = 0; offset < 3; offset += 1) await ingest.handlers.chunk(payload(0, chunkMessage(offset, 'cam-a', 's1', offset)));
      pipelines[0].sink.chunkDone(0, '1');
      jest.advanceTimersByTime(300);
      expect(output.commits).toEqual([]);
      pipelines[0].sink.chunkDone(0, '0');
      jest.advanceTimersByTime(300);
      expect(output.commits).toEqual([[0, '2']]);
    } finally {
      jest.useRealTimers();
    }
  });

  it('finishes the previous publish before starting a new session and continues its numbering without a tail read', async () => {
    const { ingest, pipelines, output, lastOfNext } = stack;
    lastOfNext.push(new Map([['360p', 7]]));
    await ingest.handlers.chunk(payload(0, chunkMessage(0, 'cam-a', 's1', 0)));
    await ingest.handlers.chunk(payload(0, chunkMessage(1, 'cam-a', 's2', 0)));
    expect(pipelines[0].ends).toEqual([undefined]);
    expect(pipelines[0].isFinished).toBe(true);
    expect(pipelines[1].publishSessionId).toBe('s2');
    await expect(pipelines[1].request.lastSequences).resolves.toEqual(new Map([['360p', 7]]));
    expect(output.tailReads).toBe(1);
  });

  it('never goes back to an older publish session once a stream switched to a newer one', async () => {
    jest.useFakeTimers();
    try {
      const { ingest, output, pipelines } = stack;
      await ingest.handlers.chunk(payload(0, chunkMessage(0, 'cam-a', 'old', 0)));
      await ingest.handlers.chunk(payload(0, chunkMessage(1, 'cam-a', 'new', 0)));
      // A zombie ingest replica keeps writing the old session after the new one started.
      await ingest.handlers.chunk(payload(0, chunkMessage(2, 'cam-a', 'old', 1)));
      await ingest.handlers.chunk(payload(0, chunkMessage(3, 'cam-a', 'new', 1)));
      expect(pipelines.map((p) => p.publishSessionId)).toEqual(['old', 'new']);
      expect(pipelines[1].fed.map((chunk) => chunk.offset)).toEqual(['1', '3']);
      expect(pipelines[1].isFinished).toBe(false);
      // The skipped chunk counts as done: once the others are, the whole partition commits.
      pipelines[1].sink.chunkDone(0, '1');
      pipelines[1].sink.chunkDone(0, '3');
      pipelines[0].sink.chunkDone(0, '0');
      jest.advanceTimersByTime(300);
      expect(output.commits).toEqual([[0, '4']]);
    } finally {
      jest.useRealTimers();
    }
  });

  it('ends a pipeline after the last chunk ingest reported, also when the report came first', async () => {
    const { ingest, status, pipelines } = stack;
    const ended = (session: string, last: number) =>
      ({
        offset: '0',
        key: Buffer.from('cam-a'),
        value: Buffer.from(
          JSON.stringify({ stream_id: 'cam-a', state: 'ended', reporter: 'ingest', ts: new Date().toISOString(), publish_session_id: session, last_chunk_sequence: last }),
        ),
      }) as KafkaMessage;
    status.onMessage(ended('s1', 4));
    await ingest.handlers.chunk(payload(0, chunkMessage(0, 'cam-a', 's1', 0)));
    expect(pipelines[0].ends).toEqual([4]);
    status.onMessage(ended('other', 9));
    expect(pipelines[0].ends).toEqual([4]);
  });

  it('holds segments while the group rebalances and drops those of a partition it lost', async () => {
    const { ingest, pipelines, output } = stack;
    await ingest.handlers.chunk(payload(0, chunkMessage(0, 'cam-a', 's1', 0)));
    await ingest.handlers.chunk(payload(1, chunkMessage(0, 'cam-b', 's1', 0)));
    ingest.handlers.rebalancing();
    const held = pipelines[0].sink.segment(segment('cam-a'));
    const lostOne = pipelines[1].sink.segment(segment('cam-b'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(output.segments).toHaveLength(0);
    await ingest.handlers.assigned(new Set([0]));
    await expect(held).resolves.toBe(true);
    await expect(lostOne).resolves.toBe(false);
    expect(output.segments.map(([partition, s]) => `${partition}:${s.streamId}`)).toEqual(['0:cam-a']);
    expect(pipelines[1].abandoned).toBe(true);
  });

  it('puts input offsets whose output is committed into the next segment transaction', async () => {
    const { ingest, pipelines, output } = stack;
    await ingest.handlers.chunk(payload(0, chunkMessage(0, 'cam-a', 's1', 0)));
    await ingest.handlers.chunk(payload(0, chunkMessage(1, 'cam-a', 's1', 1)));
    await pipelines[0].sink.segment(segment('cam-a', 0));
    pipelines[0].sink.chunkDone(0, '0');
    await pipelines[0].sink.segment(segment('cam-a', 1));
    expect(output.segments.map(([, s, commit]) => `${s.sequence}:${commit}`)).toEqual(['0:undefined', '1:1']);
  });

  it('stops publishing, reporting and consuming a partition at once when its writer is fenced by a newer owner', async () => {
    const { ingest, status, pipelines, output } = stack;
    await ingest.handlers.chunk(payload(0, chunkMessage(0, 'cam-a', 's1', 0)));
    await ingest.handlers.chunk(payload(1, chunkMessage(0, 'cam-b', 's1', 0)));
    output.fencedBy.add(0);
    await expect(pipelines[0].sink.segment(segment('cam-a'))).resolves.toBe(false);
    await new Promise((resolve) => setImmediate(resolve));
    expect(pipelines[0].abandoned).toBe(true);
    await pipelines[0].sink.status({ stream_id: 'cam-a', state: 'ended' });
    expect(status.published).toEqual([]);
    await ingest.handlers.chunk(payload(0, chunkMessage(1, 'cam-a', 's1', 1)));
    expect(pipelines).toHaveLength(2); // nothing new for partition 0
    await expect(pipelines[1].sink.segment(segment('cam-b'))).resolves.toBe(true);
  });

  it('restarts a kept partition from the committed input when another replica owned it in between (paused through a rebalance)', async () => {
    const { ingest, pipelines, output } = stack;
    await ingest.handlers.chunk(payload(0, chunkMessage(10, 'cam-a', 's1', 0)));
    await ingest.handlers.chunk(payload(0, chunkMessage(11, 'cam-a', 's1', 1)));
    output.tail = new Map([['360p', 30]]);
    // Frozen: meanwhile another replica owned partition 0 and published; we rejoin and get it back.
    output.fencedBy.add(0);
    ingest.handlers.rebalancing();
    await ingest.handlers.assigned(new Set([0, 1]));
    expect(pipelines[0].abandoned).toBe(true);
    // kafkajs re-delivers from the committed offset: processed again, by a new pipeline numbering after the tail.
    await ingest.handlers.chunk(payload(0, chunkMessage(11, 'cam-a', 's1', 1)));
    expect(pipelines).toHaveLength(2);
    expect(pipelines[1].fed.map((chunk) => chunk.offset)).toEqual(['11']);
    await expect(pipelines[1].request.lastSequences).resolves.toEqual(new Map([['360p', 30]]));
  });

  it('fails chunks while a takeover failed (kafkajs retries them) and takes over again on the next assignment', async () => {
    const { ingest, pipelines, output } = stack;
    output.failNextOwn = true;
    ingest.handlers.rebalancing();
    await ingest.handlers.assigned(new Set([0]));
    await expect(ingest.handlers.chunk(payload(0, chunkMessage(0, 'cam-a', 's1', 0)))).rejects.toThrow('coordinator not available');
    expect(pipelines).toHaveLength(0);
    await ingest.handlers.assigned(new Set([0]));
    await ingest.handlers.chunk(payload(0, chunkMessage(0, 'cam-a', 's1', 0)));
    expect(pipelines).toHaveLength(1);
  });

  it('ends a stream whose input has been idle for the idle timeout', async () => {
    jest.useFakeTimers();
    try {
      const { ingest, pipelines } = stack;
      await ingest.handlers.chunk(payload(0, chunkMessage(0, 'cam-a', 's1', 0)));
      pipelines[0].lastChunkAt = Date.now() - config.idleTimeoutMs - 1;
      jest.advanceTimersByTime(1000);
      expect(pipelines[0].ends).toEqual([undefined]);
    } finally {
      jest.useRealTimers();
    }
  });
});

describe(`${TranscoderService.name} backlog`, () => {
  const old = () => Date.now() - 60_000;

  it('makes a session whose first chunk is older than the bound a backlog pipeline, and a fresh chunk turns it live', async () => {
    const stack = await setup();
    try {
      const { ingest, pipelines } = stack;
      await ingest.handlers.chunk(payload(0, chunkMessage(0, 'cam-old', 's1', 40, TS, old())));
      await ingest.handlers.chunk(payload(0, chunkMessage(1, 'cam-new', 's2', 0, TS, Date.now())));
      expect(pipelines.map((p) => `${p.streamId}:${p.request.mode}`)).toEqual(['cam-old:backlog', 'cam-new:live']);
      await ingest.handlers.chunk(payload(0, chunkMessage(2, 'cam-old', 's1', 41, TS, old())));
      expect(pipelines[0].wentLive).toBeUndefined();
      await ingest.handlers.chunk(payload(0, chunkMessage(3, 'cam-old', 's1', 42, TS, Date.now())));
      expect(pipelines[0].wentLive).toBe(42);
      expect(pipelines[0].fed.map((chunk) => chunk.sequence)).toEqual([40, 41, 42]);
    } finally {
      await stack.service.onApplicationShutdown();
    }
  });

  it('treats a session ingest reported ended as backlog, and cuts a backlog session when a newer publish starts', async () => {
    const stack = await setup();
    try {
      const { ingest, status, pipelines } = stack;
      status.onMessage({
        key: Buffer.from('cam-a'),
        value: Buffer.from(JSON.stringify({ stream_id: 'cam-a', state: 'ended', reporter: 'ingest', publish_session_id: 's1', last_chunk_sequence: 99, ts: new Date().toISOString() })),
        offset: '0',
        timestamp: '0',
        attributes: 0,
        headers: {},
      });
      await ingest.handlers.chunk(payload(0, chunkMessage(0, 'cam-a', 's1', 3, TS, Date.now())));
      expect(pipelines[0].request.mode).toBe('backlog');
      await ingest.handlers.chunk(payload(0, chunkMessage(1, 'cam-a', 's2', 0, TS, Date.now())));
      expect(pipelines[0].cutReason).toMatch(/newer publish/);
      expect(pipelines[0].ends).toEqual([99]); // ingest's end, not a new-session endAfter: it was cut
      expect(pipelines.map((p) => `${p.publishSessionId}:${p.request.mode}`)).toEqual(['s1:backlog', 's2:live']);
    } finally {
      await stack.service.onApplicationShutdown();
    }
  });

  it('with TRANSCODER_BACKLOG_POLICY=skip commits a backlog session without transcoding and records the gap once', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate'] });
    const stack = await setup({ backlogPolicy: 'skip' });
    try {
      const { ingest, status, pipelines, output } = stack;
      for (let i = 0; i < 3; i += 1) await ingest.handlers.chunk(payload(0, chunkMessage(i, 'cam-old', 's1', 10 + i, TS, old())));
      expect(pipelines).toHaveLength(0);
      jest.advanceTimersByTime(300);
      expect(output.commits).toEqual([[0, '3']]);
      expect(status.published).toEqual([
        expect.objectContaining({ stream_id: 'cam-old', state: 'ended', publish_session_id: 's1', detail: { mode: 'backlog', action: 'backlog_skipped' } }),
      ]);
      // The publisher is there after all: its fresh chunks are transcoded live.
      await ingest.handlers.chunk(payload(0, chunkMessage(3, 'cam-old', 's1', 13, TS, Date.now())));
      expect(pipelines.map((p) => p.request.mode)).toEqual(['live']);
    } finally {
      await stack.service.onApplicationShutdown();
      jest.useRealTimers();
    }
  });

  it('makes a live pipeline backlog when ingest reports its publisher gone while it trails its bound', async () => {
    const stack = await setup();
    try {
      const { ingest, status, pipelines } = stack;
      await ingest.handlers.chunk(payload(0, chunkMessage(0, 'cam-a', 's1', 0, TS, Date.now())));
      await ingest.handlers.chunk(payload(0, chunkMessage(1, 'cam-b', 's2', 0, TS, Date.now())));
      pipelines[0].edgeDelay = 20_000; // trails far beyond its 6 s bound
      pipelines[1].edgeDelay = 2_000;
      const ended = (id: string, session: string) => ({
        key: Buffer.from(id),
        value: Buffer.from(JSON.stringify({ stream_id: id, state: 'ended', reporter: 'ingest', publish_session_id: session, last_chunk_sequence: 5, ts: new Date().toISOString() })),
        offset: '0',
        timestamp: '0',
        attributes: 0,
        headers: {},
      });
      status.onMessage(ended('cam-a', 's1'));
      status.onMessage(ended('cam-b', 's2'));
      expect(pipelines.map((p) => p.backlogged)).toEqual([true, false]);
      expect(pipelines.map((p) => p.ends)).toEqual([[5], [5]]);
    } finally {
      await stack.service.onApplicationShutdown();
    }
  });
});
