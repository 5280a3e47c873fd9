import pino from 'pino';
import { ChunkCoverage } from './chunk-coverage';
import type { OutgoingSegment, PipelineSink } from './pipeline-sink';
import { SegmentPublisher } from './segment-publisher';

function publisher(sent: OutgoingSegment[] = []) {
  const sink: PipelineSink = {
    segment: (segment) => Promise.resolve(sent.push(segment) > 0),
    thumbnail: () => Promise.resolve(),
    status: () => Promise.resolve(),
    chunkDone: () => undefined,
  };
  return new SegmentPublisher({ streamId: 'cam', publishSessionId: 's1', partition: 0, sink, coverage: new ChunkCoverage(), logger: pino({ level: 'silent' }) });
}

describe(SegmentPublisher.name, () => {
  it('numbers on after the last sequences of the stream, with a discontinuity', async () => {
    const sent: OutgoingSegment[] = [];
    const output = publisher(sent);
    await output.startNumbering(['360p'], Promise.resolve(new Map([['360p', 41]])));
    await output.publish({ id: 1, session: 'run-1' }, { rendition: '360p', sequence: 0, durationSeconds: 2, data: Buffer.from('ts') }, ['360p']);
    expect(sent[0]).toMatchObject({ rendition: '360p', sequence: 42, discontinuity: true, transcodeSession: 'run-1' });
    expect(output.numbering.lastSequences()).toEqual(new Map([['360p', 42]]));
  });

  it('numbers from the current time in seconds when the last sequences cannot be read', async () => {
    const output = publisher();
    const before = Math.floor(Date.now() / 1000);
    await output.startNumbering(['360p', '720p'], Promise.reject(new Error('video.segments unreadable')));
    const { sequence } = output.numbering.peek('720p');
    expect(sequence).toBeGreaterThanOrEqual(before + 1);
    expect(sequence).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 1);
    expect(output.numbering.peek('360p').sequence).toBe(sequence);
  });

  it('settles once the publications under way landed, so the next run numbers after them', async () => {
    const sent: OutgoingSegment[] = [];
    let acknowledge!: () => void;
    const output = new SegmentPublisher({
      streamId: 'cam',
      publishSessionId: 's1',
      partition: 0,
      sink: {
        segment: (segment) => new Promise<boolean>((resolve) => (acknowledge = () => resolve(sent.push(segment) > 0))),
        thumbnail: () => Promise.resolve(),
        status: () => Promise.resolve(),
        chunkDone: () => undefined,
      },
      coverage: new ChunkCoverage(),
      logger: pino({ level: 'silent' }),
    });
    await output.startNumbering(['360p'], Promise.resolve(new Map([['360p', 9]])));
    const publishing = output.publish({ id: 1, session: 'run-1' }, { rendition: '360p', sequence: 0, durationSeconds: 2, data: Buffer.from('ts') }, ['360p']);
    let settled = false;
    const settling = output.settled().then(() => (settled = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(settled).toBe(false);
    acknowledge();
    await publishing;
    await settling;
    expect(output.numbering.peek('360p').sequence).toBe(11);
  });
});
