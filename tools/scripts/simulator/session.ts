import { randomUUID } from 'node:crypto';
import type { Device, PlaybackEvent, PlaybackEventType } from '@tributary/contracts';
import { between, pick, type Random, weighted } from '@tributary/devkit';

/** The renditions a simulated player switches between (kbps). */
export const BITRATE_LADDER_KBPS = [800, 1600, 3000, 5000] as const;

const DEVICE_WEIGHTS: Record<Device, number> = { web: 5, mobile: 3, tv: 2 };

/** What a playing session does next, per event. Heartbeats dominate, as with real players. */
const PLAYING_WEIGHTS = { position: 80, bitrate: 7, pause: 4, seek: 4, rebuffer: 5 } as const;

/** `loading`: the player is about to buffer (after the first play and after a seek). */
type State = 'new' | 'loading' | 'buffering' | 'playing' | 'paused' | 'stopped';

export interface SessionOptions {
  userId: string;
  streamId: string;
  random: Random;
  /** How many events the session lasts before it stops (it always ends with `stop`). */
  lengthEvents?: number;
  /** Injected for tests; defaults to random UUIDs. */
  newId?: () => string;
}

/**
 * One simulated viewing session: a state machine that emits a realistic sequence of playback
 * events — play → buffer_start/buffer_end (start-up) → position heartbeats with occasional
 * bitrate switches, pauses (then play), seeks and re-buffers (buffer_start → buffer_end) → stop.
 * Time is whatever the caller says it is (`next(nowMs)`): the playhead advances with the time
 * spent playing, so the same model drives real-time simulation and instant unit tests.
 */
export class PlaybackSession {
  readonly sessionId: string;
  readonly userId: string;
  readonly streamId: string;
  readonly device: Device;
  private readonly random: Random;
  private readonly newId: () => string;
  private state: State = 'new';
  private remaining: number;
  private positionSeconds = 0;
  private bitrateKbps: number;
  private lastMs: number | undefined;
  private progressed = false;

  constructor(options: SessionOptions) {
    this.random = options.random;
    this.newId = options.newId ?? randomUUID;
    this.userId = options.userId;
    this.streamId = options.streamId;
    this.sessionId = this.newId();
    this.device = weighted(this.random, DEVICE_WEIGHTS);
    this.bitrateKbps = pick(this.random, BITRATE_LADDER_KBPS.slice(0, 2));
    this.remaining = Math.max(4, Math.round(options.lengthEvents ?? between(this.random, 20, 200)));
  }

  get isFinished(): boolean {
    return this.state === 'stopped';
  }

  /** Between `play` and the first progress: a real player reports these within a second or two. */
  get isStarting(): boolean {
    return !this.progressed && (this.state === 'loading' || this.state === 'buffering' || this.state === 'playing');
  }

  /** The session's next event at wall-clock `nowMs`. Throws once the session has stopped. */
  next(nowMs: number): PlaybackEvent {
    if (this.state === 'stopped') throw new Error(`session ${this.sessionId} has stopped`);
    if (this.state === 'playing' && this.lastMs !== undefined) this.positionSeconds += Math.max(0, nowMs - this.lastMs) / 1000;
    this.lastMs = nowMs;
    this.remaining -= 1;
    const type = this.transition();
    return this.event(type, nowMs);
  }

  private transition(): PlaybackEventType {
    switch (this.state) {
      case 'new':
        this.state = 'loading';
        return 'play';
      case 'loading':
        this.state = 'buffering';
        return 'buffer_start';
      case 'buffering':
        this.state = 'playing';
        return 'buffer_end';
      case 'paused':
        // A paused viewer either resumes or leaves.
        if (this.remaining <= 0) return this.stop();
        this.state = 'playing';
        return 'play';
      case 'playing':
        return this.remaining <= 0 ? this.stop() : this.whilePlaying();
      case 'stopped':
        throw new Error('unreachable');
    }
  }

  private whilePlaying(): PlaybackEventType {
    // The first event after start-up is progress, so start-up time is play → first position.
    if (!this.progressed) {
      this.progressed = true;
      return 'position';
    }
    switch (weighted(this.random, PLAYING_WEIGHTS)) {
      case 'position':
        this.progressed = true;
        return 'position';
      case 'bitrate': {
        // One rung up (more often: throughput usually recovers) or down; at an end, the other way.
        const index = BITRATE_LADDER_KBPS.indexOf(this.bitrateKbps as (typeof BITRATE_LADDER_KBPS)[number]);
        const up = index === 0 || (index < BITRATE_LADDER_KBPS.length - 1 && this.random() < 0.6);
        this.bitrateKbps = BITRATE_LADDER_KBPS[up ? index + 1 : index - 1] ?? this.bitrateKbps;
        return 'bitrate';
      }
      case 'pause':
        this.state = 'paused';
        return 'pause';
      case 'seek':
        this.positionSeconds = Math.max(0, this.positionSeconds + between(this.random, -60, 300));
        // The playhead jumps, then the player buffers at the new position.
        this.state = 'loading';
        return 'seek';
      case 'rebuffer':
        this.state = 'buffering';
        return 'buffer_start';
    }
  }

  private stop(): PlaybackEventType {
    this.state = 'stopped';
    return 'stop';
  }

  private event(type: PlaybackEventType, nowMs: number): PlaybackEvent {
    const buffering = this.state === 'loading' || this.state === 'buffering';
    return {
      event_id: this.newId(),
      session_id: this.sessionId,
      user_id: this.userId,
      stream_id: this.streamId,
      event_type: type,
      position_seconds: Math.round(this.positionSeconds * 1000) / 1000,
      bitrate_kbps: this.bitrateKbps,
      device: this.device,
      ts: new Date(nowMs).toISOString(),
      source: 'simulator',
      buffer_length_ms: buffering ? 0 : Math.round(between(this.random, 2_000, 30_000)),
      throughput_kbps: Math.round(this.bitrateKbps * between(this.random, 1.1, 4)),
      playback_rate: this.state === 'playing' ? 1 : 0,
    };
  }
}
