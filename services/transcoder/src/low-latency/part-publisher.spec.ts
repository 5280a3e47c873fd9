import pino from 'pino';
import type { OutgoingSegment, PipelineSink } from '../transcode/pipeline-sink';
import { SequenceNumbering } from '../transcode/sequence-numbering';
import type { RenditionOutput } from './low-latency-run';
import { PartNumbering } from './part-numbering';
import { PartPublisher } from './part-publisher';
import { PartClock } from './part-clock';

const logger = pino({ level: 'silent' });

function setup(deliver = true) {
  const records: OutgoingSegment[] = [];
  const sink: PipelineSink = {
    segment: (segment) => {
      records.push(segment);
      return Promise.resolve(deliver);
    },
    thumbnail: () => Promise.resolve(),
    status: () => Promise.resolve(),
    chunkDone: () => undefined,
  };
  const sequences = new SequenceNumbering();
  sequences.start(['360p'], new Map(), 1);
  let clock = 1000;
  const publisher = new PartPublisher({ streamId: 'cam', publishSessionId: 'pub-1', sink, numbering: new PartNumbering(sequences, 1), logger, now: () => clock });
  return { records, publisher, sequences, advance: (ms: number) => (clock += ms), at: () => clock };
}

const init = (writtenAt: number): RenditionOutput => ({ kind: 'init', rendition: '360p', data: Buffer.from('ftypmoov'), tracks: [], writtenAt });
const part = (independent: boolean, writtenAt: number): RenditionOutput => ({
  kind: 'fragment',
  rendition: '360p',
  data: Buffer.from('moofmdat'),
  startSeconds: 0,
  durationSeconds: 0.2,
  independent,
  samples: 6,
  writtenAt,
});

describe(PartPublisher.name, () => {
  it('publishes the init segment (sequence it precedes) and parts with index, independence, kind and the run session', async () => {
    const { records, publisher } = setup();
    publisher.lastTraceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    await publisher.publish({ session: 'run-1', clock: new PartClock() }, init(1000));
    await publisher.publish({ session: 'run-1', clock: new PartClock() }, part(true, 1000));
    await publisher.publish({ session: 'run-1', clock: new PartClock() }, part(false, 1000));
    expect(records.map((record) => [record.kind, record.sequence, record.part?.index, record.part?.independent, record.durationSeconds])).toEqual([
      ['init', 1, undefined, undefined, 0],
      ['part', 1, 0, true, 0.2],
      ['part', 1, 1, false, 0.2],
    ]);
    for (const record of records) {
      expect(record).toMatchObject({ streamId: 'cam', publishSessionId: 'pub-1', rendition: '360p', transcodeSession: 'run-1', discontinuity: false });
      expect(record.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
      expect(Date.parse(record.programTime)).not.toBeNaN();
    }
  });

  it('measures the produce delay from ffmpeg writing the part to the acknowledgement', async () => {
    const { publisher, at, advance } = setup();
    const written = at();
    advance(12);
    expect((await publisher.publish({ session: 'r', clock: new PartClock() }, part(true, written))).produceDelayMs).toBe(12);
  });

  it('drops a part that cannot start a segment, and does not take a sequence for an undelivered one', async () => {
    const { records, publisher, sequences } = setup(false);
    expect((await publisher.publish({ session: 'r', clock: new PartClock() }, part(false, 0))).delivered).toBe(false);
    expect(records).toHaveLength(0);
    expect((await publisher.publish({ session: 'r', clock: new PartClock() }, part(true, 0))).delivered).toBe(false);
    expect(records).toHaveLength(1);
    expect(sequences.peek('360p').sequence).toBe(1);
  });
});
