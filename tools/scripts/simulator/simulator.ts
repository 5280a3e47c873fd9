import type { PlaybackEvent } from '@tributary/contracts';
import { ViewerPopulation } from './population';
import { seededRandom } from '@tributary/devkit';

export interface SimulationOptions {
  /** viewer-api base URL, e.g. http://localhost:8080. */
  url: string;
  /** Events per second, all viewers together. */
  rate: number;
  streams: number;
  users: number;
  /** Stop after this many seconds; without it, run until `signal` aborts. */
  durationSeconds?: number;
  seed?: number;
  /** How often a batch is posted (default 200 ms, like a player's beacon batching). */
  intervalMs?: number;
  /** Events per request at most (viewer-api's EVENTS_MAX_BATCH, default 500). */
  maxBatch?: number;
  /** Requests in flight at most when a tick has many events (default 4). */
  concurrency?: number;
  /** Per-request timeout (default 10 s). */
  requestTimeoutMs?: number;
  signal?: AbortSignal;
  /** Called every `progressEveryMs` (default 5 s) with the running totals. */
  onProgress?: (summary: SimulationSummary) => void;
  progressEveryMs?: number;
}

export interface SimulationSummary {
  /** Events posted. */
  sent: number;
  /** Events viewer-api answered 202 for. */
  accepted: number;
  /** Events in requests that failed (non-202 answer or no answer). */
  errors: number;
  requests: number;
  /** Answers by HTTP status, and `network` for requests without an answer. */
  statuses: Record<string, number>;
  lastError?: string;
  elapsedSeconds: number;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/** Below this many events per lane a tick posts one request: small batches are not worth splitting. */
const MIN_EVENTS_PER_LANE = 100;

/**
 * Splits a tick's events over up to `concurrency` lanes posted in parallel. A session always
 * lands in one lane, in order, and ticks run one after another, so each session's events reach
 * viewer-api (and Kafka) in the order it produced them.
 */
export function lanesOf(events: readonly PlaybackEvent[], concurrency: number): PlaybackEvent[][] {
  const count = Math.max(1, Math.min(concurrency, Math.ceil(events.length / MIN_EVENTS_PER_LANE)));
  const lanes: PlaybackEvent[][] = Array.from({ length: count }, () => []);
  for (const event of events) {
    let hash = 0;
    for (let i = 0; i < event.session_id.length; i += 1) hash = (hash * 31 + event.session_id.charCodeAt(i)) >>> 0;
    lanes[hash % count].push(event);
  }
  return lanes.filter((lane) => lane.length > 0);
}

/**
 * Runs simulated viewers against viewer-api: every `intervalMs` it posts the events that are due
 * at `rate` (a slow answer makes the next batch bigger, and big ticks are posted over several
 * requests in parallel, so the average rate holds). Usable as a
 * library (npm start runs it in-process at a low rate) and by the `simulate` script. Never throws
 * for HTTP or network failures: they are counted in the summary.
 */
export async function runSimulation(options: SimulationOptions): Promise<SimulationSummary> {
  const population = new ViewerPopulation({
    streams: options.streams,
    users: options.users,
    random: seededRandom(options.seed ?? Date.now()),
  });
  const intervalMs = options.intervalMs ?? 200;
  const maxBatch = options.maxBatch ?? 500;
  const progressEveryMs = options.progressEveryMs ?? 5_000;
  const endpoint = `${options.url.replace(/\/+$/, '')}/v1/events`;
  const summary: SimulationSummary = { sent: 0, accepted: 0, errors: 0, requests: 0, statuses: {}, elapsedSeconds: 0 };
  const start = Date.now();
  const deadline = options.durationSeconds === undefined ? Infinity : start + options.durationSeconds * 1000;
  let generated = 0;
  let nextProgress = start + progressEveryMs;

  const post = async (events: PlaybackEvent[]): Promise<void> => {
    summary.requests += 1;
    summary.sent += events.length;
    try {
      const response = await fetch(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(events),
        signal: AbortSignal.timeout(options.requestTimeoutMs ?? 10_000),
      });
      const text = await response.text();
      summary.statuses[response.status] = (summary.statuses[response.status] ?? 0) + 1;
      if (response.status === 202) {
        const accepted = (JSON.parse(text) as { accepted?: unknown }).accepted;
        summary.accepted += typeof accepted === 'number' ? accepted : events.length;
      } else {
        summary.errors += events.length;
        summary.lastError = `HTTP ${response.status}: ${text.slice(0, 300)}`;
      }
    } catch (error) {
      summary.statuses.network = (summary.statuses.network ?? 0) + 1;
      summary.errors += events.length;
      const cause = (error as Error & { cause?: { message?: string } }).cause?.message;
      summary.lastError = `${(error as Error).message}${cause ? ` (${cause})` : ''}`;
    }
  };

  while (!options.signal?.aborted) {
    const now = Math.min(Date.now(), deadline);
    const due = Math.floor((options.rate * (now - start)) / 1000) - generated;
    if (due > 0) {
      const events = population.take(due, now);
      generated += due;
      await Promise.all(
        lanesOf(events, options.concurrency ?? 4).map(async (lane) => {
          for (let i = 0; i < lane.length; i += maxBatch) await post(lane.slice(i, i + maxBatch));
        }),
      );
    }
    summary.elapsedSeconds = (Date.now() - start) / 1000;
    if (options.onProgress && Date.now() >= nextProgress) {
      options.onProgress({ ...summary, statuses: { ...summary.statuses } });
      nextProgress += progressEveryMs;
    }
    if (now >= deadline) break;
    await sleep(Math.min(intervalMs, Math.max(0, deadline - Date.now())), options.signal);
  }
  summary.elapsedSeconds = (Date.now() - start) / 1000;
  return summary;
}
