import { ConfigError, type ConfigOf, type Env, int, parseEnv } from '@tributary/config';

export const FANOUT_OPTIONS = Symbol('FANOUT_OPTIONS');

/** The Socket.IO fan-out: how events are coalesced into packets and how slow clients are held back. */
export const fanoutEnvSpec = {
  /**
   * Events consumed within this many ms go to each room as one `playback.events` packet. 10 rather
   * than 5: a POST's events reach the gateway in one batch per partition, and on a busy node 5 ms
   * often split them into several packets; at 10 ms the gateway's CPU per delivery was 1.67–1.72 µs
   * against 1.99–2.11 µs at 5 ms (bench:events, 100 clients, alternating runs; docs/benchmarks.md),
   * for at most 5 ms more latency.
   */
  flushMs: int('FANOUT_FLUSH_MS', { default: 10, min: 0, max: 1_000 }),
  /** A flush happens at once when this many events are pending (bounds the packet size). */
  maxBatchEvents: int('FANOUT_MAX_BATCH_EVENTS', { default: 1_000, min: 1, max: 100_000 }),
  /**
   * Slow clients, in bytes queued for the client and not yet taken by the kernel (Engine.IO's write
   * buffer + ws's). At the high water a client stops getting live events (dropped, with a notice);
   * below the low water it gets them again; it is disconnected past the disconnect mark or after
   * SLOW_CLIENT_MAX_MS behind. Checked at every write, so no client queues much past the high water.
   */
  slowHighWaterBytes: int('SLOW_CLIENT_HIGH_WATER_BYTES', { default: 1024 * 1024, min: 1_024, max: 1024 * 1024 * 1024 }),
  slowLowWaterBytes: int('SLOW_CLIENT_LOW_WATER_BYTES', { default: 64 * 1024, min: 0, max: 1024 * 1024 * 1024 }),
  slowDisconnectBytes: int('SLOW_CLIENT_DISCONNECT_BYTES', { default: 16 * 1024 * 1024, min: 1_024, max: 4 * 1024 * 1024 * 1024 }),
  slowMaxMs: int('SLOW_CLIENT_MAX_MS', { default: 60_000, min: 1_000, max: 3_600_000 }),
  slowCheckIntervalMs: int('SLOW_CLIENT_CHECK_INTERVAL_MS', { default: 250, min: 10, max: 10_000 }),
};

export type FanoutOptions = ConfigOf<typeof fanoutEnvSpec>;

/** Packet counts no longer mean a size once events are coalesced: refused rather than ignored. */
const REPLACED = { SLOW_CLIENT_HIGH_WATER: 'SLOW_CLIENT_HIGH_WATER_BYTES', SLOW_CLIENT_LOW_WATER: 'SLOW_CLIENT_LOW_WATER_BYTES', SLOW_CLIENT_DISCONNECT_WATER: 'SLOW_CLIENT_DISCONNECT_BYTES' };

export function loadFanoutOptions(env: Env): FanoutOptions {
  const replaced = Object.entries(REPLACED).filter(([old]) => env[old] !== undefined);
  if (replaced.length > 0) {
    throw new ConfigError(replaced.map(([old, now]) => `${old} (queued packets) is no longer read: set ${now} instead (queued bytes; events are sent in batches)`));
  }
  const options = parseEnv(fanoutEnvSpec, env);
  if (options.slowLowWaterBytes >= options.slowHighWaterBytes || options.slowHighWaterBytes >= options.slowDisconnectBytes) {
    throw new ConfigError([
      `SLOW_CLIENT_LOW_WATER_BYTES (${options.slowLowWaterBytes}) < SLOW_CLIENT_HIGH_WATER_BYTES (${options.slowHighWaterBytes}) < SLOW_CLIENT_DISCONNECT_BYTES (${options.slowDisconnectBytes}) must hold`,
    ]);
  }
  return options;
}
