import type { KafkaPosition, PlaybackEvent, PlaybackEventMessage, PlaybackNotice } from '@tributary/contracts';
import { io } from 'socket.io-client';
import { makeEvent, type PlaybackClient } from '../../support/playback-events';
import { type FfmpegRun, publishTestPattern } from '../../support/video-topics';
import { sleep } from './fault-platform';

/**
 * A publisher that behaves like an encoder (OBS, ffmpeg in a loop): when its connection to ingest
 * breaks it reconnects, to the next ingest replica, with the same stream key.
 */
export class ReconnectingPublisher {
  sessions = 0;
  readonly exits: string[] = [];
  /** The ingest replica of the current connection. */
  currentUrl: string | undefined;
  private running = false;
  private current: FfmpegRun | undefined;
  private loop: Promise<void> = Promise.resolve();

  constructor(
    private readonly ingests: () => readonly string[],
    private readonly streamKey: string,
  ) {}

  start(): void {
    this.running = true;
    this.loop = (async () => {
      let index = 0;
      while (this.running) {
        const urls = this.ingests();
        const base = urls[index % Math.max(1, urls.length)];
        index += 1;
        if (!base) {
          await sleep(500);
          continue;
        }
        this.sessions += 1;
        this.currentUrl = base;
        this.current = publishTestPattern(`${base}/live/${this.streamKey}`, { size: '320x180', rate: 10, seconds: 600 });
        const { code, stderr } = await this.current.done;
        if (this.running) {
          this.exits.push(`${base}: ${code} ${stderr.trim().split('\n').at(-1) ?? ''}`.trim());
          await sleep(1000);
        }
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.current?.kill();
    await this.loop;
  }
}

/**
 * Posts playback events of one stream in small batches to the viewer-api replicas in turn; an
 * event counts as accepted only when its request was answered 202 (anything else — 503, a
 * refused connection — is a failure the player would retry with new ids; we don't).
 */
export class EventLoad {
  readonly accepted = new Map<string, PlaybackEvent>();
  readonly statuses = new Map<string, number>();
  private running = false;
  private loop: Promise<void> = Promise.resolve();

  constructor(
    private readonly viewers: () => readonly string[],
    private readonly streamId: string,
    private readonly batch = 5,
    private readonly everyMs = 100,
  ) {}

  start(): void {
    this.running = true;
    this.loop = (async () => {
      let index = 0;
      while (this.running) {
        const urls = this.viewers();
        const base = urls[index % Math.max(1, urls.length)];
        index += 1;
        const events = Array.from({ length: this.batch }, () => makeEvent(this.streamId, { session_id: `fault-${this.streamId}` }));
        let status: string;
        try {
          const response = await fetch(`${base}/v1/events`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(events),
            signal: AbortSignal.timeout(30_000),
          });
          status = String(response.status);
          await response.arrayBuffer();
          if (response.status === 202) for (const event of events) this.accepted.set(event.event_id, event);
        } catch (error) {
          status = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
        }
        this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
        await sleep(this.everyMs);
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  summary(): string {
    return [...this.statuses].map(([status, count]) => `${status}×${count}`).join(' ');
  }
}

/**
 * A dashboard-like Socket.IO client of one stream: when its gateway goes away it reconnects to the
 * next one and resumes from the last position it saw per partition (the documented resume
 * protocol), so it should receive every event exactly once. It counts, it never de-duplicates.
 */
export class ResumingClient {
  readonly counts = new Map<string, number>();
  readonly positions = new Map<number, string>();
  readonly notices: PlaybackNotice[] = [];
  reconnects = 0;
  private socket: PlaybackClient | undefined;
  private running = false;
  private index: number;

  constructor(
    private readonly gateways: () => readonly string[],
    private readonly streamId: string,
    start = 0,
  ) {
    this.index = start;
  }

  async connect(): Promise<void> {
    this.running = true;
    await this.open();
  }

  private async open(): Promise<void> {
    const urls = this.gateways();
    const base = urls[this.index % Math.max(1, urls.length)];
    const positions: KafkaPosition[] = [...this.positions].map(([partition, offset]) => ({ partition, offset }));
    const socket: PlaybackClient = io(`${base}/playback`, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      timeout: 5_000,
      auth: positions.length > 0 ? { streamId: this.streamId, resume: { positions } } : { streamId: this.streamId },
    });
    this.socket = socket;
    socket.on('playback.events', (batch) => {
      for (const message of batch) this.record(message);
    });
    socket.on('notice', (notice) => this.notices.push(notice));
    const retry = () => {
      if (!this.running || this.socket !== socket) return;
      this.reconnects += 1;
      this.index += 1;
      socket.removeAllListeners();
      socket.disconnect();
      setTimeout(() => void this.open(), 500);
    };
    socket.on('disconnect', retry);
    socket.on('connect_error', retry);
    await new Promise<void>((resolve) => {
      socket.once('subscriptions', () => resolve());
      setTimeout(resolve, 10_000);
    });
  }

  private record(message: PlaybackEventMessage): void {
    if (message.event.stream_id !== this.streamId) return;
    this.counts.set(message.event.event_id, (this.counts.get(message.event.event_id) ?? 0) + 1);
    const seen = this.positions.get(message.position.partition);
    if (seen === undefined || BigInt(message.position.offset) > BigInt(seen)) this.positions.set(message.position.partition, message.position.offset);
  }

  close(): void {
    this.running = false;
    this.socket?.disconnect();
  }

  /** Accepted events this client never got, and events it got more than once. */
  check(accepted: Iterable<string>): { missing: string[]; duplicated: string[] } {
    const missing: string[] = [];
    for (const id of accepted) if (!this.counts.has(id)) missing.push(id);
    const duplicated = [...this.counts].filter(([, count]) => count > 1).map(([id]) => id);
    return { missing, duplicated };
  }
}
