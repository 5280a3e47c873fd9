import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  type ExtraListener,
  freePort,
  isPortFree,
  type LocalKafka,
  REPO_ROOT,
  type ServiceName,
  type ServiceProcess,
  startLocalKafka,
  startService,
} from '@tributary/devkit';
import { testTranscoderEnv } from '../../support/test-transcoder';

const run = promisify(execFile);

/** One small rendition keeps two transcoders and ffmpeg publishers affordable on a 2-core box. */
export const FAULT_LADDER = [{ name: '180p', width: 320, height: 180, video_bitrate_kbps: 300, audio_bitrate_kbps: 32 }];

/** Where a replica runs: on loopback (default) or inside a network namespace the test created. */
export interface Placement {
  /** `ip netns exec <ns>` wrapper. */
  readonly wrapper: readonly string[];
  /** The replica's address inside the namespace (the test reaches its HTTP port there). */
  readonly host: string;
  /** Broker address reachable from inside the namespace. */
  readonly brokers: string;
}

/** One replica of a service: a fixed port and env, so a restart is the same replica coming back. */
export class Replica {
  process: ServiceProcess | undefined;

  constructor(
    readonly name: ServiceName,
    readonly index: number,
    readonly port: number,
    private readonly env: Record<string, string>,
    private readonly placement?: Placement,
  ) {}

  get label(): string {
    return `${this.name}#${this.index}`;
  }

  get url(): string {
    return `http://${this.placement?.host ?? '127.0.0.1'}:${this.port}`;
  }

  get alive(): boolean {
    const child = this.process?.child;
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  get pid(): number | undefined {
    return this.process?.child.pid;
  }

  async start(): Promise<void> {
    // After a SIGKILL the port may take a moment to be released.
    const deadline = Date.now() + 15_000;
    while (!(await isPortFree(this.port)) && Date.now() < deadline) await sleep(200);
    this.process = await startService(this.name, {
      port: this.port,
      env: this.placement ? { ...this.env, KAFKA_BROKERS: this.placement.brokers } : this.env,
      host: this.placement?.host,
      wrapper: this.placement?.wrapper,
      readyTimeoutMs: 120_000,
    });
  }

  /** SIGKILL: a crash. */
  async kill(): Promise<void> {
    await this.process?.kill();
  }

  async stop(): Promise<void> {
    await this.process?.stop(15_000);
  }

  output(): string {
    return this.process?.output() ?? '';
  }
}

export interface FaultPlatformOptions {
  /** Short name for the prefix and data dir. */
  readonly name: string;
  readonly replicas?: number;
  readonly extraListeners?: readonly ExtraListener[];
  /** Replicas (by label, `viewer-api#1`) that run elsewhere than loopback. */
  readonly placements?: Readonly<Record<string, Placement>>;
  readonly transcoderEnv?: Record<string, string>;
  /** Extra env per service (all its replicas). */
  readonly serviceEnv?: Partial<Record<ServiceName, Record<string, string>>>;
}

/**
 * The real platform for fault tests: its own single-node broker (port and data dir kept, so it
 * can be SIGKILLed and restarted in place) and N replicas of ingest, transcoder, viewer-api and
 * event-gateway on distinct ports, sharing one TOPIC_PREFIX and consumer groups.
 */
export class FaultPlatform {
  broker!: LocalKafka;
  readonly prefix: string;
  readonly dataDir: string;
  readonly replicas: Record<ServiceName, Replica[]> = { ingest: [], transcoder: [], 'viewer-api': [], 'event-gateway': [] };
  private brokerPort = 0;

  private constructor(private readonly options: FaultPlatformOptions) {
    this.prefix = `f-${options.name}-${randomUUID().slice(0, 6)}`;
    this.dataDir = join(REPO_ROOT, '.cache', 'faults', 'kafka', this.prefix);
  }

  get brokers(): string {
    return `127.0.0.1:${this.brokerPort}`;
  }

  static async start(options: FaultPlatformOptions): Promise<FaultPlatform> {
    const platform = new FaultPlatform(options);
    try {
      await platform.startAll();
    } catch (error) {
      await platform.stop();
      throw error;
    }
    return platform;
  }

  private async startAll(): Promise<void> {
    mkdirSync(this.dataDir, { recursive: true });
    this.brokerPort = await freePort();
    await this.startBroker();
    const count = this.options.replicas ?? 2;
    const common = {
      KAFKA_BROKERS: this.brokers,
      TOPIC_PREFIX: this.prefix,
      LOG_LEVEL: 'warn',
      KAFKA_VIDEO_PARTITIONS: '2',
      KAFKA_EVENT_PARTITIONS: '2',
    };
    const extra: Record<ServiceName, (index: number) => Record<string, string>> = {
      ingest: () => ({}),
      // Faults, not overload: no shedding (testTranscoderEnv), which would blur what each scenario checks.
      transcoder: () =>
        testTranscoderEnv(`${this.prefix}-transcoder`, {
          TRANSCODER_THREADS: '1',
          TRANSCODER_THUMBNAIL_INTERVAL_SECONDS: '0',
          TRANSCODER_SESSION_TIMEOUT_MS: '10000',
          ...this.options.transcoderEnv,
        }),
      'viewer-api': () => ({}),
      // A fixed instance id per replica: a restarted replica rejoins its own group (committed offsets).
      'event-gateway': (index) => ({ EVENT_GATEWAY_INSTANCE_ID: `${this.prefix}-gw-${index}` }),
    };
    for (const name of ['ingest', 'transcoder', 'viewer-api', 'event-gateway'] as const) {
      for (let index = 0; index < count; index++) {
        const port = await freePort();
        const env = { ...common, ...extra[name](index), ...this.options.serviceEnv?.[name] };
        this.replicas[name].push(new Replica(name, index, port, env, this.options.placements?.[`${name}#${index}`]));
      }
    }
    // ingest#0 first: it creates the topics; then everything else at once.
    const [first, ...rest] = this.all();
    await first?.start();
    await Promise.all(rest.map((replica) => replica.start()));
  }

  all(): Replica[] {
    return Object.values(this.replicas).flat();
  }

  urls(name: ServiceName): string[] {
    return this.replicas[name].filter((replica) => replica.alive).map((replica) => replica.url);
  }

  private async startBroker(): Promise<void> {
    this.broker = await startLocalKafka({
      port: this.brokerPort,
      dataDir: this.dataDir,
      heapMb: 512,
      extraListeners: this.options.extraListeners,
    });
  }

  /** SIGKILL the broker's JVM (not a controlled shutdown): its children, by the guard's pid. */
  async killBroker(): Promise<void> {
    await run('pkill', ['-KILL', '-P', String(this.broker.pid)]).catch(() => undefined);
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      try {
        process.kill(this.broker.pid, 0);
      } catch {
        return;
      }
      await sleep(100);
    }
    throw new Error(`the broker (guard pid ${this.broker.pid}) did not exit after SIGKILL`);
  }

  /** The same broker back: same port, same data dir. */
  async restartBroker(): Promise<void> {
    const deadline = Date.now() + 20_000;
    while (!(await isPortFree(this.brokerPort)) && Date.now() < deadline) await sleep(200);
    await this.startBroker();
  }

  async stop(): Promise<void> {
    await Promise.all(this.all().map((replica) => replica.stop().catch(() => undefined)));
    await this.broker?.stop().catch(() => undefined);
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  /** The transcoder replicas running an ffmpeg child (transcoding a stream). */
  async busyTranscoders(): Promise<Replica[]> {
    const busy: Replica[] = [];
    for (const replica of this.replicas.transcoder) {
      if (!replica.pid) continue;
      const { stdout } = await run('ps', ['-o', 'comm=', '--ppid', String(replica.pid)]).catch(() => ({ stdout: '' }));
      if (stdout.includes('ffmpeg')) busy.push(replica);
    }
    return busy;
  }

  /** Replicas whose /readyz does not answer 200 now. */
  async notReady(): Promise<string[]> {
    const answers = await Promise.all(
      this.all().map(async (replica) => (await fetch(`${replica.url}/readyz`, { signal: AbortSignal.timeout(2_000) }).catch(() => undefined))?.ok === true),
    );
    return this.all()
      .filter((_, index) => !answers[index])
      .map((replica) => replica.label);
  }

  /** Writes every replica's output and `extra` to .cache/faults/<prefix>.log (after a failure); returns the path. */
  writeDiagnostics(extra: string): string {
    const file = join(REPO_ROOT, '.cache', 'faults', `${this.prefix}.log`);
    writeFileSync(file, `${extra}\n${this.tails(200)}\n`);
    return file;
  }

  /** Last lines of every replica's output (for failure messages). */
  tails(lines = 15): string {
    return this.all()
      .map((replica) => `--- ${replica.label}\n${replica.output().split('\n').slice(-lines).join('\n')}`)
      .join('\n');
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Creates a stream on one of the ingest replicas (the registry is shared through Kafka). */
export async function createFaultStream(ingestUrl: string, id: string): Promise<string> {
  const response = await fetch(`${ingestUrl}/v1/streams`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id, title: id, ladder: FAULT_LADDER, segment_duration_seconds: 2 }),
  });
  if (response.status !== 201) throw new Error(`creating stream ${id} answered ${response.status}: ${await response.text()}`);
  return ((await response.json()) as { streamKey: string }).streamKey;
}

/** Every replica answers /healthz 200. */
export async function unhealthy(replicas: readonly Replica[]): Promise<string[]> {
  const bad: string[] = [];
  for (const replica of replicas) {
    if (!replica.alive) {
      bad.push(`${replica.label} exited (code ${replica.process?.child.exitCode ?? '?'}, signal ${replica.process?.child.signalCode ?? '-'})`);
      continue;
    }
    const response = await fetch(`${replica.url}/healthz`, { signal: AbortSignal.timeout(5_000) }).catch((error: unknown) => String(error));
    if (typeof response === 'string' || response.status !== 200) bad.push(`${replica.label} /healthz: ${typeof response === 'string' ? response : response.status}`);
  }
  return bad;
}
