import { SequenceNumbering } from '../transcode/sequence-numbering';
import { PartNumbering, PartTarget } from './part-numbering';

function numbering(last = new Map<string, number>()): { parts: PartNumbering; sequences: SequenceNumbering } {
  const sequences = new SequenceNumbering();
  sequences.start(['720p', '360p'], last, 1);
  return { parts: new PartNumbering(sequences, 1), sequences };
}

/** Places and publishes `pattern` (I = independent, p = not) of 0.2 s parts. */
function run(parts: PartNumbering, pattern: string, rendition = '720p'): string[] {
  return [...pattern].map((kind) => {
    const place = parts.place(rendition, 0.2, kind === 'I');
    if (!place) return '-';
    parts.published(rendition, place);
    return `${place.sequence}.${place.index}${place.discontinuity ? 'd' : ''}`;
  });
}

describe(PartNumbering.name, () => {
  it('starts at msn 1, indexes parts from 0, and starts a segment at an independent part once the target is reached', () => {
    const { parts } = numbering();
    // 1 s segments of 0.2 s parts, keyframe every 0.6 s (3 parts): the segment waits for the keyframe.
    expect(run(parts, 'IppIppIppIpp')).toEqual(['1.0', '1.1', '1.2', '1.3', '1.4', '1.5', '2.0', '2.1', '2.2', '2.3', '2.4', '2.5']);
  });

  it('continues after the last sequence on video.segments with a discontinuity on the first segment only', () => {
    const { parts, sequences } = numbering(new Map([['720p', 41]]));
    expect(parts.nextSequence('720p')).toBe(42);
    expect(parts.nextDiscontinuity('720p')).toBe(true);
    expect(run(parts, 'IppppIpppp')).toEqual(['42.0d', '42.1d', '42.2d', '42.3d', '42.4d', '43.0', '43.1', '43.2', '43.3', '43.4']);
    expect(sequences.lastSequences().get('720p')).toBe(43);
  });

  it('drops parts before the first independent one (undecodable alone)', () => {
    const { parts } = numbering();
    expect(run(parts, 'ppIpp')).toEqual(['-', '-', '1.0', '1.1', '1.2']);
  });

  it('takes a sequence as soon as its first part is durable, so a stream cut mid-segment goes on at the next one', () => {
    const { parts, sequences } = numbering();
    run(parts, 'Ipp');
    expect(sequences.lastSequences().get('720p')).toBe(1);
    expect(parts.nextSequence('720p')).toBe(2);
  });

  it('after a break (ffmpeg restarted) starts a new segment with a discontinuity in every rendition', () => {
    const { parts } = numbering();
    run(parts, 'Ipp');
    run(parts, 'Ip', '360p');
    parts.breakAll();
    expect(parts.place('720p', 0.2, false)).toBeUndefined();
    expect(run(parts, 'Ip')).toEqual(['2.0d', '2.1d']);
    expect(run(parts, 'I', '360p')).toEqual(['2.0d']);
  });

  it('keeps each rendition on its own numbering', () => {
    const { parts } = numbering(new Map([['720p', 9]]));
    expect(run(parts, 'I', '720p')).toEqual(['10.0d']);
    expect(run(parts, 'I', '360p')).toEqual(['1.0']);
  });
});

describe(PartTarget.name, () => {
  it('starts at the nominal part (whole frames) and grows to the longest part produced, rounded up to the ms', () => {
    const target = new PartTarget(0.2, 30);
    expect(target.seconds).toBe(0.2);
    expect(target.observe(0.2)).toBe(false);
    expect(target.observe(0.22135)).toBe(true);
    expect(target.seconds).toBe(0.222);
    expect(target.longestSeconds).toBe(0.22135);
    expect(target.observe(0.2)).toBe(false);
    expect(target.seconds).toBe(0.222);
    expect(new PartTarget(0.2, 25).seconds).toBe(0.2);
    // 29.97 fps: 6 frames = 0.2002 s.
    expect(new PartTarget(0.2, 29.97).seconds).toBe(0.201);
  });
});
