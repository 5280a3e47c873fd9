import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import type { LogLine } from './json-lines';
import { isPortFree, REPO_ROOT } from './local-kafka';
import { ProcessOutput } from './process-output';

export const SERVICE_NAMES = ['ingest', 'transcoder', 'viewer-api', 'event-gateway'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];
/** What startService() runs: the platform's services, and the operator (not part of `npm start`; it needs a Kubernetes API server). */
export type RunnableService = ServiceName | 'operator';

/** The variable each service reads its HTTP port from (startService sets it from `port`). */
export const SERVICE_PORT_VARIABLE: Readonly<Record<RunnableService, string>> = {
  ingest: 'INGEST_PORT',
  transcoder: 'TRANSCODER_PORT',
  'viewer-api': 'VIEWER_API_PORT',
  'event-gateway': 'EVENT_GATEWAY_PORT',
  operator: 'OPERATOR_PORT',
};

export interface ServiceProcess<N extends RunnableService = ServiceName> {
  readonly name: N;
  readonly url: string;
  readonly child: ChildProcess;
  /**
   * What the service printed so far (for assertions and failure messages): all of it, or the last
   * 500,000 characters once it passed 1,000,000 (droppedChars() says how much went).
   */
  output(): string;
  /** How many characters of the earliest output were dropped to bound the buffer (0: output() has it all). */
  droppedChars(): number;
  /**
   * output()'s pino JSON lines, parsed (other lines skipped). With `fromStart` the caller needs
   * every line since the service started: it throws, naming the service, if some were dropped.
   */
  jsonLines<T extends object = LogLine>(options?: { fromStart?: boolean }): T[];
  /** SIGTERM, then wait for a graceful exit (SIGKILL after the timeout). Resolves with the exit code. */
  stop(timeoutMs?: number): Promise<number | null>;
  /** SIGKILL: a crash, for fault tests. */
  kill(): Promise<void>;
}

export interface StartServiceOptions {
  /** The HTTP port (passed to the service as its SERVICE_PORT_VARIABLE; /readyz is polled there). */
  port: number;
  env: Record<string, string>;
  /** Echo the service's output to ours (npm start). */
  inheritOutput?: boolean;
  readyTimeoutMs?: number;
  /** Host the service is reached at (default 127.0.0.1; fault tests run replicas in a network namespace). */
  host?: string;
  /** A command that runs node for us, e.g. `['ip', 'netns', 'exec', 'ns1']` (it must exec, keeping the pid). */
  wrapper?: readonly string[];
}

/** The compiled entry point of a service (built by `tsc -b`). */
export function serviceEntry(name: RunnableService): string {
  return join(REPO_ROOT, 'services', name, 'dist', 'main.js');
}

async function waitUntilReady(url: string, child: ChildProcess, output: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`service exited with code ${child.exitCode} before it was ready:\n${output().slice(-4000)}`);
    }
    try {
      const response = await fetch(`${url}/readyz`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((wait) => setTimeout(wait, 200));
  }
  throw new Error(`service at ${url} was not ready within ${timeoutMs} ms:\n${output().slice(-4000)}`);
}

/** Runs a built service as a child process and resolves when its /readyz answers 200. */
export async function startService<N extends RunnableService>(name: N, options: StartServiceOptions): Promise<ServiceProcess<N>> {
  // Otherwise the readiness probe could be answered by whatever already listens on the port.
  if (!(await isPortFree(options.port))) {
    throw new Error(`${name}: port ${options.port} is already in use`);
  }
  const [command, ...prefix] = [...(options.wrapper ?? []), process.execPath];
  const child = spawn(command ?? process.execPath, [...prefix, '--enable-source-maps', serviceEntry(name)], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...options.env, [SERVICE_PORT_VARIABLE[name]]: String(options.port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const kept = new ProcessOutput(name);
  const collect = (chunk: Buffer) => {
    kept.append(chunk);
    if (options.inheritOutput) process.stdout.write(chunk);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  const url = `http://${options.host ?? '127.0.0.1'}:${options.port}`;
  const output = () => kept.text;
  const droppedChars = () => kept.dropped;
  const jsonLines = <T extends object = LogLine>(jsonOptions?: { fromStart?: boolean }): T[] => kept.jsonLines<T>(jsonOptions);

  const stop = async (timeoutMs = 30_000): Promise<number | null> => {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const code = await exited;
    clearTimeout(timer);
    return code;
  };
  const kill = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGKILL');
    await exited;
  };

  try {
    await waitUntilReady(url, child, output, options.readyTimeoutMs ?? 60_000);
  } catch (error) {
    await kill();
    throw error;
  }
  return { name, url, child, output, droppedChars, jsonLines, stop, kill };
}
