import { BadRequestException } from '@nestjs/common';
import { partMeta } from '../testing/segment-meta.fixture';
import { checkNotTooFarAhead, directivesSatisfied, parseDeliveryDirectives, PartWaiters, TooManyWaitersError } from './blocking-reload';
import { SegmentWindowStore } from './segment-window';

function window(lastMsn: number, lastPart: number) {
  const store = new SegmentWindowStore(6, 1_000_000);
  for (let msn = 1; msn <= lastMsn; msn++) {
    for (let index = 0; index < (msn === lastMsn ? lastPart + 1 : 5); index++) store.add(partMeta('a', msn, index), Buffer.alloc(1));
  }
  return { store, window: store.rendition('a', '360p')! };
}

const message = (fn: () => unknown): unknown => {
  try {
    fn();
  } catch (error) {
    return error instanceof BadRequestException ? error.getResponse() : error;
  }
  return undefined;
};

describe(parseDeliveryDirectives.name, () => {
  it('reads _HLS_msn, _HLS_part and _HLS_skip and ignores other keys (CMCD)', () => {
    expect(parseDeliveryDirectives({})).toEqual({ msn: null, part: null, skip: false });
    expect(parseDeliveryDirectives({ _HLS_msn: '12', _HLS_part: '3', CMCD: 'br=800' })).toEqual({ msn: 12, part: 3, skip: false });
    expect(parseDeliveryDirectives({ _HLS_skip: 'YES' }).skip).toBe(true);
    expect(parseDeliveryDirectives({ _HLS_skip: 'v2' }).skip).toBe(true);
  });

  it('answers 400 naming the parameter for bad values, repeats and _HLS_part without _HLS_msn', () => {
    expect(message(() => parseDeliveryDirectives({ _HLS_msn: 'x' }))).toMatchObject({ message: 'invalid _HLS_msn', issues: [{ field: '_HLS_msn' }] });
    expect(message(() => parseDeliveryDirectives({ _HLS_msn: ['1', '2'] }))).toMatchObject({ message: 'invalid _HLS_msn' });
    expect(message(() => parseDeliveryDirectives({ _HLS_msn: '1', _HLS_part: '-1' }))).toMatchObject({ message: 'invalid _HLS_part' });
    expect(message(() => parseDeliveryDirectives({ _HLS_part: '1' }))).toMatchObject({ issues: [{ field: '_HLS_part', message: 'requires _HLS_msn' }] });
    expect(message(() => parseDeliveryDirectives({ _HLS_skip: 'NO' }))).toMatchObject({ message: 'invalid _HLS_skip' });
  });
});

describe(directivesSatisfied.name, () => {
  it('waits for the whole segment with _HLS_msn alone, for that part (or a later one) with _HLS_part', () => {
    const { window: w } = window(5, 2); // segments 1-4 complete, parts 5.0-5.2
    expect(directivesSatisfied(w, { msn: 4, part: null, skip: false })).toBe(true);
    expect(directivesSatisfied(w, { msn: 5, part: null, skip: false })).toBe(false);
    expect(directivesSatisfied(w, { msn: 5, part: 2, skip: false })).toBe(true);
    expect(directivesSatisfied(w, { msn: 5, part: 3, skip: false })).toBe(false);
    expect(directivesSatisfied(w, { msn: 4, part: 9, skip: false })).toBe(true); // a later part exists
  });

  it('refuses (400) an _HLS_msn more than two segments after the last one', () => {
    const { window: w } = window(5, 2);
    expect(() => checkNotTooFarAhead(w, { msn: 7, part: null, skip: false })).not.toThrow();
    expect(message(() => checkNotTooFarAhead(w, { msn: 8, part: 0, skip: false }))).toMatchObject({ message: 'invalid _HLS_msn' });
  });
});

describe(PartWaiters.name, () => {
  it('answers at once when ready, on the notification that makes it ready, and after the timeout otherwise', async () => {
    const waiters = new PartWaiters(10);
    let ready = false;
    await expect(waiters.wait('a/360p', () => true, 1000)).resolves.toBe('ready');
    const pending = waiters.wait('a/360p', () => ready, 5000);
    expect(waiters.size).toBe(1);
    waiters.notify('a/360p'); // not ready yet: keeps waiting
    expect(waiters.size).toBe(1);
    ready = true;
    waiters.notify('a/180p'); // another rendition: not re-checked
    expect(waiters.size).toBe(1);
    waiters.notify('a/360p');
    await expect(pending).resolves.toBe('ready');
    expect(waiters.size).toBe(0);
    await expect(waiters.wait('a/360p', () => false, 20)).resolves.toBe('timeout');
    expect(waiters.size).toBe(0);
  });

  it('is bounded, frees the slot of a request whose client went away, and wakes a whole stream', async () => {
    const waiters = new PartWaiters(2);
    const aborted = new AbortController();
    const first = waiters.wait('a/360p', () => false, 5000, aborted.signal);
    let ended = false;
    const second = waiters.wait('a/180p', () => ended, 5000);
    expect(() => waiters.wait('b/360p', () => false, 5000)).toThrow(TooManyWaitersError);
    aborted.abort();
    await expect(first).resolves.toBe('aborted');
    expect(waiters.size).toBe(1);
    ended = true;
    waiters.notifyStream('a');
    await expect(second).resolves.toBe('ready');
    expect(waiters.size).toBe(0);
  });
});
