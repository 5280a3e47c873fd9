/** One line of a service's pino log: `msg`, `time` (ISO, as our services log it) and the logged fields. */
export interface LogLine {
  msg?: string;
  time?: string;
  level?: number | string;
  [field: string]: unknown;
}

/**
 * The JSON object lines of a process's output, parsed, in order. Other lines (ffmpeg's and Node's
 * own output, a line cut in two by a trimmed buffer) are skipped. `T` is what the caller expects
 * the lines to hold: it is not checked.
 */
export function parseJsonLines<T extends object = LogLine>(output: string): T[] {
  const lines: T[] = [];
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const value: unknown = JSON.parse(line);
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) lines.push(value as T);
    } catch {
      // not JSON after all
    }
  }
  return lines;
}
