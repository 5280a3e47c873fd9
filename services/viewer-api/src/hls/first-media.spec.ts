import type { StreamState } from '@tributary/contracts';
import type { StreamCatalogService } from '../streams/stream-catalog.service';
import type { RenditionInfo, StreamView } from '../streams/stream-catalog';
import { partMeta, segmentMeta } from '../testing/segment-meta.fixture';
import { PartWaiters } from './blocking-reload';
import { FIRST_MEDIA_HOLD_SECONDS, FirstMediaService } from './first-media';
import type { LiveWindowService } from './live-window.service';
import { SegmentWindowStore } from './segment-window';

const rendition = (name: string): RenditionInfo => ({ name, width: 0, height: 0, video_bitrate_kbps: 500, audio_bitrate_kbps: 64, bandwidth_bps: 600_000, codecs: 'avc1.640028' });

/** A live window and catalogue as LiveWindowService feeds them: `add` notifies like handleBatch does. */
function setup(state: StreamState = 'live', renditions = ['360p', '180p'], reported = true) {
  const store = new SegmentWindowStore(5, 10_000_000);
  const waiters = new PartWaiters(10);
  const streams = new Map<string, Pick<StreamView, 'state' | 'renditions' | 'renditions_reported'>>([['cam', { state, renditions: renditions.map(rendition), renditions_reported: reported }]]);
  const window = { store, waiters, rendition: (id: string, name: string) => store.rendition(id, name) } as unknown as LiveWindowService;
  const catalog = { get: (id: string) => streams.get(id) } as unknown as StreamCatalogService;
  return {
    subject: new FirstMediaService(window, catalog),
    waiters,
    add(meta: ReturnType<typeof segmentMeta>) {
      store.add(meta, Buffer.alloc(10));
      waiters.notify(PartWaiters.key(meta.streamId, meta.rendition));
      waiters.notify(PartWaiters.streamKey(meta.streamId));
    },
    setState(next: StreamState) {
      streams.set('cam', { state: next, renditions: renditions.map(rendition), renditions_reported: reported });
      waiters.notifyStream('cam');
    },
  };
}

/** Whether `promise` settled by now (after pending microtasks). */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(() => (done = true));
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

describe(FirstMediaService.name, () => {
  const signal = new AbortController().signal;

  it('holds a media playlist request of a live stream without media until its rendition has its first segment', async () => {
    const { subject, add, waiters } = setup();
    const held = subject.awaitRendition('cam', '360p', signal);
    expect(await settled(held)).toBe(false);
    expect(waiters.size).toBe(1);
    add(segmentMeta('cam', 7, { rendition: '360p' }));
    expect(await settled(held)).toBe(true);
    expect(waiters.size).toBe(0);
  });

  it('holds a low-latency playlist request until the first part (an init segment is not media)', async () => {
    const { subject, add } = setup();
    const held = subject.awaitRendition('cam', '180p', signal);
    add(segmentMeta('cam', 1, { rendition: '180p', kind: 'init', contentType: 'video/mp4' }));
    expect(await settled(held)).toBe(false);
    add(partMeta('cam', 1, 0, { rendition: '180p' }));
    expect(await settled(held)).toBe(true);
  });

  it('holds the master playlist until every rendition the catalogue lists has media', async () => {
    const { subject, add } = setup();
    const held = subject.awaitStream('cam', signal);
    add(segmentMeta('cam', 1, { rendition: '360p' }));
    expect(await settled(held)).toBe(false);
    add(segmentMeta('cam', 1, { rendition: '180p' }));
    expect(await settled(held)).toBe(true);
  });

  it('holds the master playlist only until the first media while the catalogue lists the ladder (not reported yet: rungs above the source never come)', async () => {
    const { subject, add } = setup('live', ['720p', '360p', '180p'], false);
    const held = subject.awaitStream('cam', signal);
    expect(await settled(held)).toBe(false);
    add(segmentMeta('cam', 1, { rendition: '360p' }));
    expect(await settled(held)).toBe(true);
  });

  it('answers at once when the stream is not live, already has media, or the rendition is not one it makes', async () => {
    expect(await settled(setup('idle').subject.awaitStream('cam', signal))).toBe(true);
    expect(await settled(setup('ended').subject.awaitRendition('cam', '360p', signal))).toBe(true);
    const { subject, add } = setup();
    expect(await settled(subject.awaitRendition('cam', '1080p', signal))).toBe(true);
    expect(await settled(subject.awaitRendition('nope', '360p', signal))).toBe(true);
    add(segmentMeta('cam', 1, { rendition: '360p' }));
    // Media in one rendition: a media playlist of another without any is answered at once.
    expect(await settled(subject.awaitRendition('cam', '180p', signal))).toBe(true);
  });

  it('holds a master requested between the first and the last reported rendition’s first media (it would list one)', async () => {
    const { subject, add } = setup();
    add(segmentMeta('cam', 1, { rendition: '360p' }));
    const held = subject.awaitStream('cam', signal);
    expect(await settled(held)).toBe(false);
    add(segmentMeta('cam', 1, { rendition: '180p' }));
    expect(await settled(held)).toBe(true);
    expect(await settled(subject.awaitStream('cam', signal))).toBe(true);
  });

  it('lets a held request go when the stream ends, when the client leaves, and after the bound', async () => {
    const ending = setup();
    const held = ending.subject.awaitStream('cam', signal);
    ending.setState('ended');
    expect(await settled(held)).toBe(true);

    const leaving = setup();
    const client = new AbortController();
    const gone = leaving.subject.awaitRendition('cam', '360p', client.signal);
    client.abort();
    expect(await settled(gone)).toBe(true);
    expect(leaving.waiters.size).toBe(0);

    jest.useFakeTimers();
    try {
      const bounded = setup();
      const waiting = bounded.subject.awaitRendition('cam', '360p', signal);
      jest.advanceTimersByTime(FIRST_MEDIA_HOLD_SECONDS * 1000 - 1);
      expect(bounded.waiters.size).toBe(1);
      jest.advanceTimersByTime(1);
      await waiting;
      expect(bounded.waiters.size).toBe(0);
    } finally {
      jest.useRealTimers();
    }
  });

  it('answers at once instead of holding when too many requests already wait', async () => {
    const { subject, waiters } = setup();
    const others = new AbortController();
    const full = Array.from({ length: 10 }, () => waiters.wait('x/y', () => false, 60_000, others.signal));
    expect(await settled(subject.awaitRendition('cam', '360p', signal))).toBe(true);
    others.abort();
    expect(await Promise.all(full)).toEqual(full.map(() => 'aborted'));
  });
});
