import { videoPesPacket } from '../testing/ts-packets';
import { InputSkip } from './input-skip';

const packet = (keyframe: boolean) => videoPesPacket(keyframe);

describe(InputSkip.name, () => {
  it('skips nothing until told to', () => {
    const skip = new InputSkip();
    expect(skip.skips(0)).toBe(false);
    expect(skip.skipped).toBe(0);
  });

  it('skips and counts the chunks before the skip point, never moving it back', () => {
    const skip = new InputSkip();
    skip.skipBefore(5);
    skip.skipBefore(3);
    expect(skip.from).toBe(5);
    expect(skip.skips(4)).toBe(true);
    expect(skip.skips(5)).toBe(false);
    skip.counted(2);
    expect(skip.skipped).toBe(3);
    skip.skipAll();
    expect(skip.skips(1_000_000)).toBe(true);
  });

  it('sheds to the newest keyframe seen, or past everything when none was seen', () => {
    const skip = new InputSkip();
    expect(skip.shedFrom).toBe(Number.MAX_SAFE_INTEGER);
    skip.seen(3, packet(true));
    skip.seen(4, packet(false));
    skip.seen(2, packet(true));
    expect(skip.shedFrom).toBe(3);
  });

  it('skips to the newest keyframe seen when the skip takes effect, not when it was decided, and says when', () => {
    const skip = new InputSkip();
    skip.seen(3, packet(true));
    const settled: number[] = [];
    skip.skipToNewest(() => settled.push(skip.from));
    expect(skip.skipPending).toBe(true);
    // More input arrives while the chunk being written blocks on ffmpeg.
    skip.seen(6, packet(true));
    skip.seen(7, packet(false));
    expect(skip.skips(4)).toBe(true); // the next chunk's turn: it takes effect
    expect(skip.skipPending).toBe(false);
    expect(settled).toEqual([6]);
    expect(skip.skips(5)).toBe(true);
    expect(skip.skips(6)).toBe(false);
    expect(skip.skipped).toBe(2);
  });

  it('reading where the skip starts does not make a pending skip take effect; settle does', () => {
    const skip = new InputSkip();
    skip.seen(3, packet(true));
    let settled = 0;
    skip.skipToNewest(() => (settled += 1));
    expect(skip.from).toBe(-1);
    expect(skip.skipPending).toBe(true);
    expect(settled).toBe(0);
    skip.settle();
    expect(skip.from).toBe(3);
    expect(skip.skipPending).toBe(false);
    skip.settle(); // once only
    expect(settled).toBe(1);
  });

  it('resumes a session that went live at the newest keyframe not after the fresh chunk, else at that chunk', () => {
    const skip = new InputSkip();
    expect(skip.liveFrom(9)).toBe(9);
    skip.seen(7, packet(true));
    expect(skip.liveFrom(9)).toBe(7);
    expect(skip.liveFrom(6)).toBe(6);
  });
});
