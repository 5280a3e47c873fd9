/**
 * Typed, validated environment configuration.
 *
 * A service declares a spec (an object of field readers) and gets back a typed object, or one
 * ConfigError listing every bad variable by name, so a misconfigured pod fails at start-up with a
 * message an operator can act on instead of failing later on first use.
 */

export type Env = Readonly<Record<string, string | undefined>>;

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/** Reads one variable; throws a plain Error whose message says what is wrong with the value. */
export interface EnvField<T> {
  readonly variable: string;
  read(raw: string | undefined): T;
}

type FieldOptions<T> = { default?: T; description?: string };

function field<T>(variable: string, options: FieldOptions<T>, parse: (raw: string) => T): EnvField<T> {
  return {
    variable,
    read(raw) {
      if (raw === undefined || raw.trim() === '') {
        if (options.default !== undefined) return options.default;
        throw new Error('is required but not set');
      }
      return parse(raw.trim());
    },
  };
}

export function str(variable: string, options: FieldOptions<string> & { pattern?: RegExp } = {}): EnvField<string> {
  return field(variable, options, (raw) => {
    if (options.pattern && !options.pattern.test(raw)) {
      throw new Error(`must match ${options.pattern} (got "${raw}")`);
    }
    return raw;
  });
}

/** An optional string: undefined when unset or empty. */
export function optionalStr(variable: string): EnvField<string | undefined> {
  return { variable, read: (raw) => (raw === undefined || raw.trim() === '' ? undefined : raw.trim()) };
}

/**
 * An optional secret of at least `minBytes` bytes (UTF-8): undefined when unset or empty. The value
 * never appears in the error message.
 */
export function optionalSecret(variable: string, options: { minBytes: number }): EnvField<string | undefined> {
  return {
    variable,
    read(raw) {
      if (raw === undefined || raw.trim() === '') return undefined;
      const bytes = Buffer.byteLength(raw.trim(), 'utf8');
      if (bytes < options.minBytes) throw new Error(`must be at least ${options.minBytes} bytes long (got ${bytes} bytes)`);
      return raw.trim();
    },
  };
}

export function int(
  variable: string,
  options: FieldOptions<number> & { min?: number; max?: number } = {},
): EnvField<number> {
  return field(variable, options, (raw) => {
    if (!/^-?\d+$/.test(raw)) throw new Error(`must be an integer (got "${raw}")`);
    const value = Number(raw);
    if (options.min !== undefined && value < options.min) throw new Error(`must be >= ${options.min} (got ${value})`);
    if (options.max !== undefined && value > options.max) throw new Error(`must be <= ${options.max} (got ${value})`);
    return value;
  });
}

export function num(
  variable: string,
  options: FieldOptions<number> & { min?: number; max?: number } = {},
): EnvField<number> {
  return field(variable, options, (raw) => {
    const value = Number(raw);
    if (!Number.isFinite(value)) throw new Error(`must be a number (got "${raw}")`);
    if (options.min !== undefined && value < options.min) throw new Error(`must be >= ${options.min} (got ${value})`);
    if (options.max !== undefined && value > options.max) throw new Error(`must be <= ${options.max} (got ${value})`);
    return value;
  });
}

export function port(variable: string, defaultPort: number): EnvField<number> {
  return int(variable, { default: defaultPort, min: 0, max: 65535 });
}

/** An optional TCP port (1–65535): undefined when unset or empty. */
export function optionalPort(variable: string): EnvField<number | undefined> {
  const reader = int(variable, { min: 1, max: 65535 });
  return { variable, read: (raw) => (raw === undefined || raw.trim() === '' ? undefined : reader.read(raw)) };
}

export function bool(variable: string, options: FieldOptions<boolean> = {}): EnvField<boolean> {
  return field(variable, options, (raw) => {
    const lowered = raw.toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(lowered)) return true;
    if (['0', 'false', 'no', 'off'].includes(lowered)) return false;
    throw new Error(`must be true or false (got "${raw}")`);
  });
}

export function oneOf<const T extends string>(
  variable: string,
  allowed: readonly T[],
  options: FieldOptions<T> = {},
): EnvField<T> {
  return field(variable, options, (raw) => {
    if (!(allowed as readonly string[]).includes(raw)) {
      throw new Error(`must be one of ${allowed.join(', ')} (got "${raw}")`);
    }
    return raw as T;
  });
}

/** Comma-separated list; empty items are an error rather than silently dropped. */
export function list(variable: string, options: FieldOptions<string[]> = {}): EnvField<string[]> {
  return field(variable, options, (raw) => {
    const items = raw.split(',').map((item) => item.trim());
    if (items.some((item) => item === '')) throw new Error(`must be a comma-separated list without empty items (got "${raw}")`);
    return items;
  });
}

/**
 * A comma-separated, non-empty set of allowed names (e.g. the roles a process runs). Unknown,
 * repeated or empty items are errors; the result keeps the order of `allowed`.
 */
export function someOf<const T extends string>(
  variable: string,
  allowed: readonly T[],
  options: FieldOptions<readonly T[]> = {},
): EnvField<readonly T[]> {
  return field(variable, options, (raw) => {
    const items = raw.split(',').map((item) => item.trim());
    if (items.some((item) => item === '')) throw new Error(`must be a comma-separated list of ${allowed.join(', ')} without empty items (got "${raw}")`);
    const unknown = items.filter((item) => !(allowed as readonly string[]).includes(item));
    if (unknown.length > 0) throw new Error(`must list only ${allowed.join(', ')} (got "${raw}"; unknown: ${unknown.join(', ')})`);
    if (new Set(items).size !== items.length) throw new Error(`lists an item twice (got "${raw}")`);
    return allowed.filter((name) => items.includes(name));
  });
}

export type EnvSpec = Record<string, EnvField<unknown>>;
export type ConfigOf<S extends EnvSpec> = { readonly [K in keyof S]: S[K] extends EnvField<infer T> ? T : never };

/** Reads every field of the spec; collects all problems before failing. */
export function parseEnv<S extends EnvSpec>(spec: S, env: Env): ConfigOf<S> {
  const problems: string[] = [];
  const result: Record<string, unknown> = {};
  for (const [key, reader] of Object.entries(spec)) {
    try {
      result[key] = reader.read(env[reader.variable]);
    } catch (error) {
      problems.push(`${reader.variable} ${(error as Error).message}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return result as ConfigOf<S>;
}

/**
 * The process environment. This is the one place that touches `process.env`; services receive
 * parsed config objects only.
 */
export function processEnv(): Env {
  return process.env;
}
