import type { PlaybackEvent } from '@tributary/contracts';
import { type Random } from '@tributary/devkit';
import { PlaybackSession } from './session';

export interface PopulationOptions {
  streams: number;
  users: number;
  random: Random;
  newId?: () => string;
}

export function streamIdOf(index: number): string {
  return `sim-stream-${index + 1}`;
}

/**
 * `users` concurrent viewers over `streams` streams. Popularity is skewed (Zipf-like: stream 1 is
 * watched most), as on a real service. A viewer whose session stops starts a new one, on a stream
 * picked again, so the population stays constant.
 */
export class ViewerPopulation {
  private readonly sessions: PlaybackSession[];
  private readonly cumulative: number[];
  /** Indexes of sessions between play and their first progress event. */
  private readonly starting = new Set<number>();

  constructor(private readonly options: PopulationOptions) {
    const weights = Array.from({ length: options.streams }, (_, i) => 1 / (i + 1));
    const total = weights.reduce((sum, weight) => sum + weight, 0);
    let running = 0;
    this.cumulative = weights.map((weight) => (running += weight / total));
    this.sessions = Array.from({ length: options.users }, (_, i) => this.newSession(i));
  }

  /**
   * The next `count` events, each from a viewer picked at random (so sessions interleave as real
   * ones do, instead of every viewer pressing play in lockstep); each session stays in its order.
   */
  take(count: number, nowMs: number): PlaybackEvent[] {
    const events: PlaybackEvent[] = [];
    for (let i = 0; i < count; i += 1) {
      // Sessions that are starting report first: start-up (play → first position) takes the
      // time of a tick or two, as with real players, whatever the overall event rate.
      const starting = this.starting.values().next();
      const index = starting.done ? Math.floor(this.options.random() * this.sessions.length) : starting.value;
      let session = this.sessions[index];
      if (session.isFinished) {
        session = this.newSession(index);
        this.sessions[index] = session;
      }
      events.push(session.next(nowMs));
      if (session.isStarting) this.starting.add(index);
      else this.starting.delete(index);
    }
    return events;
  }

  private newSession(userIndex: number): PlaybackSession {
    const roll = this.options.random();
    const stream = Math.max(0, this.cumulative.findIndex((bound) => roll < bound));
    return new PlaybackSession({
      userId: `sim-user-${userIndex + 1}`,
      streamId: streamIdOf(stream),
      random: this.options.random,
      newId: this.options.newId,
    });
  }
}
