/** Small helpers shared by the benchmarks: percentiles, a plain-text table, per-process CPU and RSS. */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { cpus } from 'node:os';

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index];
}

export function fmt(value: number, digits = 0): string {
  if (!Number.isFinite(value)) return 'n/a';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))).join(' | ')} |`;
  const rule = `|${widths.map((width, column) => (column === 0 ? '-'.repeat(width + 2) : `${'-'.repeat(width + 1)}:`)).join('|')}|`;
  return [line(headers), rule, ...rows.map(line)].join('\n');
}

const CLOCK_TICKS = 100; // USER_HZ on Linux

/** utime + stime of a process in seconds (from /proc/<pid>/stat), or NaN when it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is state (field 3); utime = field 14, stime = field 15.
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return Number.NaN;
  }
}

/**
 * utime + stime of a process plus those of its children it has waited for (cutime + cstime), in
 * seconds, or NaN when it is gone: a service's CPU including the ffmpeg runs that already ended.
 */
export function cpuSecondsWithEndedChildren(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime, stime, cutime, cstime = fields 14–17.
    return (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / CLOCK_TICKS;
  } catch {
    return Number.NaN;
  }
}

/** Sum of cpuSeconds over a process and its descendants (e.g. the JVM under the broker's guard shell). */
export function treeCpuSeconds(pid: number): number {
  let total = cpuSeconds(pid);
  for (const child of childPids(pid)) total += treeCpuSeconds(child);
  return total;
}

function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/** VmRSS of a process in bytes (from /proc/<pid>/status), or NaN. */
export function rssBytes(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** VmRSS of a process and all its descendants (e.g. the transcoder and its ffmpeg children). */
export function treeRssBytes(pid: number): number {
  let total = rssBytes(pid);
  for (const child of childPids(pid)) total += treeRssBytes(child);
  return total;
}

/** The pid listening on a local TCP port (from /proc/net/tcp + /proc/<pid>/fd), or undefined. */
export function pidListeningOn(port: number): number | undefined {
  const inodes = new Set<string>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    try {
      for (const row of readFileSync(file, 'utf8').split('\n').slice(1)) {
        const cols = row.trim().split(/\s+/);
        if (cols.length < 10 || cols[3] !== '0A') continue; // 0A = LISTEN
        const localPort = parseInt(cols[1].split(':')[1], 16);
        if (localPort === port) inodes.add(cols[9]);
      }
    } catch {
      // not readable: ignore
    }
  }
  if (inodes.size === 0) return undefined;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      for (const fd of readdirSync(`/proc/${entry}/fd`)) {
        const target = readlinkSync(`/proc/${entry}/fd/${fd}`);
        const match = /^socket:\[(\d+)\]$/.exec(target);
        if (match && inodes.has(match[1])) return Number(entry);
      }
    } catch {
      // process gone or not ours to read
    }
  }
  return undefined;
}

/**
 * Measures CPU use of named processes over a window: cores used = CPU seconds / wall seconds. Each
 * name counts its process and the descendants that are not watched under a name of their own
 * (the broker's JVM under its guard shell counts as `kafka`; the services and client processes the
 * bench spawns count as themselves, not as `bench`).
 */
export class CpuWatch {
  private readonly start: Map<string, number>;
  private readonly startedAt = process.hrtime.bigint();

  constructor(private readonly pids: ReadonlyMap<string, number>) {
    this.start = this.read();
  }

  /** `name → cores` (1.0 = one core busy all the time) and `name → CPU seconds` over the window. */
  stop(): CpuUse {
    const wallSeconds = Number(process.hrtime.bigint() - this.startedAt) / 1e9;
    const seconds = new Map<string, number>();
    for (const [name, now] of this.read()) seconds.set(name, now - (this.start.get(name) ?? 0));
    return { wallSeconds, seconds };
  }

  private read(): Map<string, number> {
    const watched = new Set(this.pids.values());
    const own = (pid: number): number => {
      let total = cpuSeconds(pid);
      for (const child of childPids(pid)) if (!watched.has(child)) total += own(child);
      return total;
    };
    return new Map([...this.pids].map(([name, pid]) => [name, own(pid)]));
  }
}

export interface CpuUse {
  wallSeconds: number;
  seconds: ReadonlyMap<string, number>;
}

/** `bench 0.85, kafka 0.06, …` in cores (CPU seconds / wall seconds). */
export function describeCpu(use: CpuUse): string {
  return [...use.seconds].map(([name, seconds]) => `${name} ${fmt(seconds / use.wallSeconds, 2)}`).join(', ');
}

/**
 * CPU time per event in microseconds, per process: unlike events/s this does not depend on how
 * much of the shared cores other work took during the run.
 */
export function cpuPerEvent(use: CpuUse, events: number): Map<string, number> {
  return new Map([...use.seconds].map(([name, seconds]) => [name, (seconds * 1e6) / events]));
}

export function describePerEvent(perEvent: ReadonlyMap<string, number>): string {
  return [...perEvent].map(([name, micros]) => `${name} ${fmt(micros, 1)}`).join(', ');
}

export function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

/** System load over the last minute and the machine's cores: the conditions a figure was taken in. */
export function machineConditions(): string {
  const [load1] = readFileSync('/proc/loadavg', 'utf8').split(' ');
  const list = cpus();
  return `${list.length} cores (${list[0]?.model ?? 'unknown'}), load avg 1 min ${load1}, Node ${process.versions.node}`;
}
