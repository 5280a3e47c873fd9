/** Command-line options of `npm run simulate`, parsed strictly: a typo is an error, not a default. */
export interface SimulateArgs {
  url: string;
  /** Events per second, all viewers together. */
  rate: number;
  streams: number;
  users: number;
  /** Seconds; undefined = until Ctrl-C. */
  durationSeconds?: number;
  seed?: number;
  help: boolean;
}

export const SIMULATE_USAGE = `Usage: npm run simulate -- [options]

Posts realistic playback sessions to viewer-api's POST /v1/events, in batches every ~200 ms.

Options:
  --rate N        events per second, all viewers together (default 50)
  --streams N     number of streams watched, popularity skewed (default 5)
  --users N       concurrent viewers (default 100)
  --url URL       viewer-api base URL (default http://localhost:8080)
  --duration S    stop after S seconds (default: run until Ctrl-C)
  --seed N        seed for a reproducible sequence
  --help          this text`;

export class ArgsError extends Error {}

const DEFAULTS = { url: 'http://localhost:8080', rate: 50, streams: 5, users: 100 };

function number(flag: string, raw: string, options: { integer?: boolean; min: number; max: number }): number {
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value)) throw new ArgsError(`${flag} must be a number (got "${raw}")`);
  if (options.integer && !Number.isInteger(value)) throw new ArgsError(`${flag} must be a whole number (got "${raw}")`);
  if (value < options.min || value > options.max) throw new ArgsError(`${flag} must be between ${options.min} and ${options.max} (got ${raw})`);
  return value;
}

export function parseSimulateArgs(argv: readonly string[]): SimulateArgs {
  const args: SimulateArgs = { ...DEFAULTS, help: false };
  const seen = new Set<string>();
  for (let i = 0; i < argv.length; i += 1) {
    const token = argv[i];
    if (token === '--help' || token === '-h') {
      args.help = true;
      continue;
    }
    const match = /^(--[a-z-]+)(?:=(.*))?$/.exec(token);
    if (!match) throw new ArgsError(`unexpected argument "${token}"`);
    const flag = match[1];
    if (!['--rate', '--streams', '--users', '--url', '--duration', '--seed'].includes(flag)) throw new ArgsError(`unknown option ${flag}`);
    if (seen.has(flag)) throw new ArgsError(`${flag} is given twice`);
    seen.add(flag);
    let raw = match[2];
    if (raw === undefined) {
      raw = argv[i + 1];
      if (raw === undefined || raw.startsWith('--')) throw new ArgsError(`${flag} needs a value`);
      i += 1;
    }
    switch (flag) {
      case '--rate':
        args.rate = number(flag, raw, { min: 0.1, max: 100_000 });
        break;
      case '--streams':
        args.streams = number(flag, raw, { integer: true, min: 1, max: 100_000 });
        break;
      case '--users':
        args.users = number(flag, raw, { integer: true, min: 1, max: 1_000_000 });
        break;
      case '--duration':
        args.durationSeconds = number(flag, raw, { min: 0.1, max: 7 * 24 * 3600 });
        break;
      case '--seed':
        args.seed = number(flag, raw, { integer: true, min: 0, max: 2 ** 32 - 1 });
        break;
      case '--url': {
        let url: URL;
        try {
          url = new URL(raw);
        } catch {
          throw new ArgsError(`--url must be an absolute URL (got "${raw}")`);
        }
        if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ArgsError(`--url must be http or https (got "${raw}")`);
        args.url = raw.replace(/\/+$/, '');
        break;
      }
    }
  }
  return args;
}
