/**
 * A strict parser of the Prometheus text exposition format (0.0.4) for tests: it throws on any
 * line that is not a valid comment or sample, on samples outside their declared family, and on
 * histograms whose buckets are not cumulative or whose +Inf bucket differs from `_count`.
 *
 * Why not a package: parse-prometheus-text-format (the only maintained-looking parser on npm)
 * flattens histograms assuming they have no labels other than `le`, so it loses every labelled
 * histogram series — exactly the ones we need to check (route/method/status_class).
 */

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface Sample {
  /** The sample's own name (`x_bucket`, `x_count`… for histograms). */
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface MetricFamily {
  name: string;
  type: MetricType;
  help: string;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Values are Go floats (Prometheus parses them with ParseFloat): NaN and Inf in any case. */
function parseValue(raw: string, line: string): number {
  const lowered = raw.toLowerCase();
  if (lowered === '+inf' || lowered === 'inf') return Infinity;
  if (lowered === '-inf') return -Infinity;
  if (lowered === 'nan') return NaN;
  const value = Number(raw);
  if (raw === '' || Number.isNaN(value)) throw new Error(`invalid sample value "${raw}" in: ${line}`);
  return value;
}

function parseLabels(text: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let index = 0;
  while (index < text.length) {
    const eq = text.indexOf('=', index);
    if (eq < 0) throw new Error(`invalid labels in: ${line}`);
    const name = text.slice(index, eq).trim();
    if (!LABEL.test(name)) throw new Error(`invalid label name "${name}" in: ${line}`);
    if (text[eq + 1] !== '"') throw new Error(`label value must be quoted in: ${line}`);
    let value = '';
    let cursor = eq + 2;
    for (;;) {
      const char = text[cursor];
      if (char === undefined) throw new Error(`unterminated label value in: ${line}`);
      if (char === '\\') {
        const next = text[cursor + 1];
        value += next === 'n' ? '\n' : next === '"' ? '"' : next === '\\' ? '\\' : `\\${next ?? ''}`;
        cursor += 2;
        continue;
      }
      if (char === '"') break;
      value += char;
      cursor += 1;
    }
    if (name in labels) throw new Error(`duplicate label "${name}" in: ${line}`);
    labels[name] = value;
    cursor += 1;
    if (text[cursor] === ',') cursor += 1;
    else if (cursor < text.length) throw new Error(`expected , between labels in: ${line}`);
    index = cursor;
  }
  return labels;
}

function familyOf(sampleName: string, families: Map<string, MetricFamily>): MetricFamily | undefined {
  const direct = families.get(sampleName);
  if (direct) return direct;
  for (const suffix of ['_bucket', '_count', '_sum']) {
    if (sampleName.endsWith(suffix)) {
      const family = families.get(sampleName.slice(0, -suffix.length));
      if (family && (family.type === 'histogram' || family.type === 'summary')) return family;
    }
  }
  return undefined;
}

export function parsePrometheusText(text: string): MetricFamily[] {
  const families = new Map<string, MetricFamily>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    if (line.startsWith('#')) {
      const match = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (!match) continue; // other comments are allowed
      const [, kind, name, rest] = match as unknown as [string, string, string, string];
      if (!NAME.test(name)) throw new Error(`invalid metric name in: ${line}`);
      const family = families.get(name) ?? { name, type: 'untyped' as MetricType, help: '', samples: [] };
      if (kind === 'HELP') family.help = rest;
      else {
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest)) throw new Error(`invalid type in: ${line}`);
        family.type = rest as MetricType;
      }
      families.set(name, family);
      continue;
    }
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+(-?\d+))?$/.exec(line);
    if (!match) throw new Error(`invalid sample line: ${line}`);
    const [, name, labelText, rawValue] = match as unknown as [string, string, string | undefined, string];
    const family = familyOf(name, families);
    if (!family) throw new Error(`sample ${name} has no # TYPE declaration before it`);
    family.samples.push({ name, labels: labelText ? parseLabels(labelText, line) : {}, value: parseValue(rawValue, line) });
  }
  for (const family of families.values()) if (family.type === 'histogram') checkHistogram(family);
  return [...families.values()];
}

function seriesKey(labels: Record<string, string>): string {
  return JSON.stringify(Object.entries(labels).filter(([name]) => name !== 'le').sort());
}

function checkHistogram(family: MetricFamily): void {
  const series = new Map<string, { buckets: [number, number][]; count?: number }>();
  for (const sample of family.samples) {
    const key = seriesKey(sample.labels);
    const entry = series.get(key) ?? { buckets: [] };
    series.set(key, entry);
    if (sample.name === `${family.name}_bucket`) {
      const le = sample.labels.le;
      if (le === undefined) throw new Error(`${family.name}_bucket without le`);
      entry.buckets.push([parseValue(le, le), sample.value]);
    } else if (sample.name === `${family.name}_count`) entry.count = sample.value;
  }
  for (const [key, entry] of series) {
    const sorted = [...entry.buckets].sort((a, b) => a[0] - b[0]);
    for (let index = 1; index < sorted.length; index += 1) {
      if (sorted[index][1] < sorted[index - 1][1]) throw new Error(`${family.name}${key}: buckets are not cumulative`);
    }
    const inf = sorted[sorted.length - 1];
    if (!inf || inf[0] !== Infinity) throw new Error(`${family.name}${key}: no +Inf bucket`);
    if (entry.count !== inf[1]) throw new Error(`${family.name}${key}: _count ${entry.count} differs from +Inf bucket ${inf[1]}`);
  }
}

/** The value of the first sample named `name` (default the family name; `_count` for histograms) whose labels include `labels`. */
export function sampleValue(families: MetricFamily[], family: string, labels: Record<string, string>, name?: string): number | undefined {
  const found = families.find((candidate) => candidate.name === family);
  if (!found) return undefined;
  const sampleName = name ?? (found.type === 'histogram' || found.type === 'summary' ? `${family}_count` : family);
  return found.samples.find(
    (sample) => sample.name === sampleName && Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
  )?.value;
}
