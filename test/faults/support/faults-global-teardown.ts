import { writeFileSync } from 'node:fs';
import { readRows, renderTable, startedAt, TABLE_FILE } from './fault-results';

/** Prints the table of faults survived and inputs tried (and keeps it in .cache/faults/last-table.md). */
export default function faultsGlobalTeardown(): void {
  const started = startedAt();
  const table = renderTable(readRows(), started === undefined ? undefined : Date.now() - started);
  writeFileSync(TABLE_FILE, `${table}\n`);
  process.stdout.write(`\n\nFault suite (${new Date().toISOString()}):\n\n${table}\n\n`);
}
