import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '@tributary/devkit';

/**
 * The fault suite's table: each scenario appends one row to a JSON-lines file (jest runs the
 * files in workers), and the global teardown prints them all with the suite's wall time.
 */
const DIR = join(REPO_ROOT, '.cache', 'faults');
export const RESULTS_FILE = join(DIR, 'results.jsonl');
const STARTED_FILE = join(DIR, 'started-at');
export const TABLE_FILE = join(DIR, 'last-table.md');

export type Outcome = 'survived' | 'FAILED' | 'skipped';

export interface FaultRow {
  readonly suite: string;
  readonly scenario: string;
  readonly outcome: Outcome;
  /** What was measured: `events 202: 812, on topic: 812, …`. */
  readonly figures: string;
  /** Why it failed or was skipped (first line of the assertion), or which pending work it depends on. */
  readonly note?: string;
}

export function resetResults(): void {
  mkdirSync(DIR, { recursive: true });
  rmSync(RESULTS_FILE, { force: true });
  writeFileSync(STARTED_FILE, String(Date.now()));
}

export function recordRow(row: FaultRow): void {
  mkdirSync(DIR, { recursive: true });
  appendFileSync(RESULTS_FILE, `${JSON.stringify(row)}\n`);
}

export function readRows(): FaultRow[] {
  if (!existsSync(RESULTS_FILE)) return [];
  return readFileSync(RESULTS_FILE, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as FaultRow);
}

export function startedAt(): number | undefined {
  return existsSync(STARTED_FILE) ? Number(readFileSync(STARTED_FILE, 'utf8')) : undefined;
}

/** Figures a scenario collects as it goes; printed in its row whether it passes or not. */
export class Figures {
  private readonly entries = new Map<string, string | number>();

  set(name: string, value: string | number): void {
    this.entries.set(name, value);
  }

  toString(): string {
    return [...this.entries].map(([name, value]) => `${name}: ${value}`).join(', ');
  }
}

/**
 * Runs one scenario and records its row: `survived` when every assertion held, otherwise
 * `FAILED` with the first line of the failure. `dependsOn` names pending work the expectation
 * relies on, so a failure reads as "expected until X lands", never as a weaker assertion.
 */
export async function scenario(
  suite: string,
  name: string,
  run: (figures: Figures) => Promise<void>,
  dependsOn?: string,
): Promise<void> {
  const figures = new Figures();
  try {
    await run(figures);
    recordRow({ suite, scenario: name, outcome: 'survived', figures: figures.toString() });
  } catch (error) {
    const first = (error instanceof Error ? error.message : String(error)).replace(/\u001b\[[0-9;]*m/g, '').split('\n').find((line) => line.trim() !== '') ?? 'failed';
    const note = dependsOn ? `${first.trim().slice(0, 200)} (expectation rests on: ${dependsOn})` : first.trim().slice(0, 240);
    recordRow({ suite, scenario: name, outcome: 'FAILED', figures: figures.toString(), note });
    throw error;
  }
}

export function skipRow(suite: string, name: string, why: string): void {
  recordRow({ suite, scenario: name, outcome: 'skipped', figures: '', note: why });
}

/** The table as Markdown (printed by the global teardown and kept in .cache/faults/last-table.md). */
export function renderTable(rows: readonly FaultRow[], wallMs: number | undefined): string {
  const escape = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');
  const lines = [
    '| suite | scenario | outcome | figures | note |',
    '|---|---|---|---|---|',
    ...rows.map((row) => `| ${escape(row.suite)} | ${escape(row.scenario)} | ${row.outcome} | ${escape(row.figures)} | ${escape(row.note ?? '')} |`),
  ];
  const survived = rows.filter((row) => row.outcome === 'survived').length;
  const failed = rows.filter((row) => row.outcome === 'FAILED').length;
  const skipped = rows.filter((row) => row.outcome === 'skipped').length;
  lines.push('', `${survived} survived, ${failed} failed, ${skipped} skipped${wallMs === undefined ? '' : `; wall time ${(wallMs / 1000).toFixed(0)} s`}`);
  return lines.join('\n');
}
