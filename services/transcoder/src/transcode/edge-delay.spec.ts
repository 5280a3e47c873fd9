import { EdgeDelay } from './edge-delay';

describe(EdgeDelay.name, () => {
  it('measures from the oldest chunk not yet released', () => {
    const edge = new EdgeDelay();
    edge.accepted(1_000, 1_000, '10');
    edge.accepted(2_000, 2_000, '11');
    expect(edge.delayMs(5_000)).toBe(4_000);
    edge.released('10');
    expect(edge.delayMs(5_000)).toBe(3_000);
    edge.released('11');
    expect(edge.delayMs(5_000)).toBe(0);
    expect(edge.pending).toBe(0);
  });

  it('keeps measuring from older chunks still in ffmpeg when newer queued ones are skipped', () => {
    const edge = new EdgeDelay();
    edge.accepted(1_000, 1_000, '10'); // written to ffmpeg, its segment not yet published
    edge.accepted(2_000, 2_000, '11'); // queued, skipped
    edge.accepted(3_000, 3_000, '12'); // queued, skipped
    edge.released('11');
    edge.released('12');
    expect(edge.delayMs(6_000)).toBe(5_000);
    expect(edge.pending).toBe(1);
    edge.released('12'); // twice: ignored
    expect(edge.pending).toBe(1);
    edge.released('10');
    expect(edge.oldestMs).toBeUndefined();
  });

  it('ignores an offset accepted again while pending, so its release clears it', () => {
    const edge = new EdgeDelay();
    edge.accepted(1_000, 1_000, '10');
    edge.accepted(1_500, 1_500, '10'); // the same chunk again
    expect(edge.pending).toBe(1);
    edge.released('10');
    expect(edge.pending).toBe(0);
    expect(edge.delayMs(60_000)).toBe(0);
  });

  it('releases the oldest first for a caller without offsets', () => {
    const edge = new EdgeDelay();
    edge.accepted(1_000, 1_000);
    edge.accepted(2_000, 2_000);
    edge.released();
    expect(edge.oldestMs).toBe(2_000);
  });
});
