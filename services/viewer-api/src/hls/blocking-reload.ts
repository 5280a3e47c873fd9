import { BadRequestException } from '@nestjs/common';
import { comparePositions, type RenditionWindow } from './segment-window';

/** The low-latency delivery directives of a media playlist request (rfc8216bis §6.2.5). */
export interface DeliveryDirectives {
  /** `_HLS_msn`: answer once the playlist holds this media sequence (or its part `_HLS_part`). */
  msn: number | null;
  part: number | null;
  /** `_HLS_skip=YES|v2`: a delta update. */
  skip: boolean;
}

const badParameter = (field: string, message: string): BadRequestException =>
  new BadRequestException({ message: `invalid ${field}`, issues: [{ field, message }] });

function integer(field: string, value: unknown): number | null {
  if (value === undefined) return null;
  if (typeof value !== 'string' || !/^\d{1,15}$/.test(value)) throw badParameter(field, 'must be a non-negative integer');
  return Number(value);
}

/**
 * Reads `_HLS_msn`, `_HLS_part` and `_HLS_skip`; a bad value, a repeated parameter or
 * `_HLS_part` without `_HLS_msn` is a 400 naming the parameter. Other keys (CMCD…) are ignored.
 */
export function parseDeliveryDirectives(query: Record<string, unknown>): DeliveryDirectives {
  const msn = integer('_HLS_msn', query['_HLS_msn']);
  const part = integer('_HLS_part', query['_HLS_part']);
  if (part !== null && msn === null) throw badParameter('_HLS_part', 'requires _HLS_msn');
  const skip = query['_HLS_skip'];
  if (skip !== undefined && skip !== 'YES' && skip !== 'v2') throw badParameter('_HLS_skip', 'must be YES or v2');
  return { msn, part, skip: skip !== undefined };
}

/** rfc8216bis §6.2.5.2: a request more than two segments ahead of the playlist is a 400. */
export function checkNotTooFarAhead(window: RenditionWindow, directives: DeliveryDirectives): void {
  if (directives.msn === null) return;
  const last = window.lastListedSequence;
  if (directives.msn > last + 2) {
    throw badParameter('_HLS_msn', `${directives.msn} is more than two segments after the playlist's last media sequence ${last}`);
  }
}

/**
 * Whether the playlist now satisfies the directives: `_HLS_msn` alone waits for that whole
 * segment (or a later one); with `_HLS_part` for that part or any later one.
 */
export function directivesSatisfied(window: RenditionWindow, directives: DeliveryDirectives): boolean {
  if (directives.msn === null) return true;
  if (directives.part === null) return window.lastSequence >= directives.msn;
  const last = window.lastPart;
  return last !== null && comparePositions({ msn: last.meta.sequence, index: last.meta.part?.index ?? 0 }, { msn: directives.msn, index: directives.part }) >= 0;
}

export class TooManyWaitersError extends Error {}

interface Waiter {
  ready: () => boolean;
  resolve: (outcome: WaitOutcome) => void;
  timer: NodeJS.Timeout;
}

export type WaitOutcome = 'ready' | 'timeout' | 'aborted';

/**
 * Requests waiting for a rendition's next part (blocking playlist reloads and part requests).
 * A waiter costs a timer and a closure: nothing runs until `notify` (one call per new part)
 * re-checks the waiters of that rendition. Bounded: beyond `maxWaiters` `wait` throws
 * TooManyWaitersError (the controller answers 503).
 */
export class PartWaiters {
  private readonly waiting = new Map<string, Set<Waiter>>();
  private total = 0;

  constructor(private readonly maxWaiters: number) {}

  get size(): number {
    return this.total;
  }

  static key(streamId: string, rendition: string): string {
    return `${streamId}/${rendition}`;
  }

  /** The stream-wide key (a held master playlist: FirstMediaService); notifyStream reaches it too. */
  static streamKey(streamId: string): string {
    return PartWaiters.key(streamId, '');
  }

  /** Resolves `ready` at once when `ready()` holds, else on the first `notify` where it does, `timeout`, or `aborted` (signal). */
  wait(key: string, ready: () => boolean, timeoutMs: number, signal?: AbortSignal): Promise<WaitOutcome> {
    if (ready()) return Promise.resolve('ready');
    if (signal?.aborted) return Promise.resolve('aborted');
    if (this.total >= this.maxWaiters) throw new TooManyWaitersError(`${this.total} blocking requests are already waiting`);
    return new Promise<WaitOutcome>((resolve) => {
      let set = this.waiting.get(key);
      if (!set) {
        set = new Set();
        this.waiting.set(key, set);
      }
      const waiters = set;
      const finish = (outcome: WaitOutcome): void => {
        if (!waiters.delete(waiter)) return;
        this.total -= 1;
        clearTimeout(waiter.timer);
        signal?.removeEventListener('abort', onAbort);
        if (waiters.size === 0 && this.waiting.get(key) === waiters) this.waiting.delete(key);
        resolve(outcome);
      };
      const onAbort = (): void => finish('aborted');
      const waiter: Waiter = { ready, resolve: finish, timer: setTimeout(() => finish('timeout'), timeoutMs) };
      waiters.add(waiter);
      this.total += 1;
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Something changed in this rendition (a new part, a reset): the waiters whose condition now holds are answered. */
  notify(key: string): void {
    const waiters = this.waiting.get(key);
    if (!waiters) return;
    for (const waiter of [...waiters]) {
      if (waiter.ready()) waiter.resolve('ready');
    }
  }

  /** Every rendition of a stream (it ended or was deleted: the waiters re-check and answer). */
  notifyStream(streamId: string): void {
    for (const key of [...this.waiting.keys()]) {
      if (key.startsWith(`${streamId}/`)) this.notify(key);
    }
  }
}
