import { join } from 'node:path';
import { sleep } from './report';

export interface PreloadOptions {
  /** Write a V8 CPU profile of the service to this file when it exits (cpu-profile-preload). */
  cpuProfileFile?: string;
  /** Let the bench force a full GC in the service (collectGarbage) before it reads the RSS. */
  gcOnSignal?: boolean;
}

/**
 * Environment for a service the bench starts through devkit's startService: Node 20 refuses
 * `--cpu-prof` in NODE_OPTIONS, so both instruments are preloads (`--require`).
 */
export function preloadEnv(options: PreloadOptions): Record<string, string> {
  const flags: string[] = [];
  const env: Record<string, string> = {};
  if (options.cpuProfileFile) {
    flags.push(`--require ${join(__dirname, 'cpu-profile-preload.js')}`);
    env.BENCH_CPU_PROFILE_FILE = options.cpuProfileFile;
  }
  if (options.gcOnSignal) flags.push(`--expose-gc --require ${join(__dirname, 'gc-signal-preload.js')}`);
  if (flags.length > 0) env.NODE_OPTIONS = flags.join(' ');
  return env;
}

/** Two full GCs in a service started with `gcOnSignal` (SIGUSR2), then a moment for the sweeper to return pages. */
export async function collectGarbage(pid: number): Promise<void> {
  process.kill(pid, 'SIGUSR2');
  await sleep(500);
}
