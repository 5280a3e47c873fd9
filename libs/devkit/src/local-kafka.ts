import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';

const run = promisify(execFile);

/** The repository root, from src/ (ts-jest, tsx) or dist/ alike. */
export const REPO_ROOT = resolve(__dirname, '..', '..', '..');
const POM = join(REPO_ROOT, 'tools', 'local-kafka', 'pom.xml');

export function kafkaVersion(): string {
  const match = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(readFileSync(POM, 'utf8'));
  if (!match?.[1]) throw new Error(`no <kafka.version> in ${POM}`);
  return match[1];
}

export interface LocalKafkaOptions {
  /** Broker port; 0 picks a free one (tests). */
  port?: number;
  /** Storage folder; formatted on first use. Default: a fresh folder under .cache/kafka/run. */
  dataDir?: string;
  cacheDir?: string;
  heapMb?: number;
  log?: (line: string) => void;
  /**
   * More PLAINTEXT listeners, each advertised as itself (fault tests reach the broker from a
   * network namespace over a veth address). Names are upper-case listener names (`VETH`).
   */
  extraListeners?: readonly ExtraListener[];
}

export interface ExtraListener {
  readonly name: string;
  readonly host: string;
  readonly port: number;
}

export interface LocalKafka {
  readonly brokers: string;
  readonly port: number;
  readonly pid: number;
  readonly dataDir: string;
  readonly logFile: string;
  stop(): Promise<void>;
}

async function requireTool(command: string, args: string[], hint: string): Promise<void> {
  try {
    await run(command, args, { timeout: 30_000 });
  } catch {
    throw new Error(`${command} is needed to run a local Kafka broker: ${hint}. Or set KAFKA_BROKERS to use an existing cluster.`);
  }
}

/**
 * Resolves Apache Kafka's jars (and their runtime dependencies) from Maven Central into the
 * git-ignored cache, once per version. Returns the folder to put on the classpath.
 */
export async function ensureKafkaJars(options: { cacheDir?: string; log?: (line: string) => void } = {}): Promise<string> {
  const version = kafkaVersion();
  const cacheDir = options.cacheDir ?? join(REPO_ROOT, '.cache', 'kafka');
  const libs = join(cacheDir, version, 'libs');
  const marker = join(libs, '.complete');
  if (existsSync(marker)) return libs;
  await requireTool('java', ['-version'], 'install a Java 17+ runtime (Debian: openjdk-17-jre-headless)');
  await requireTool('mvn', ['-v'], 'install Maven (Debian: maven)');
  options.log?.(`resolving Apache Kafka ${version} jars with Maven (first run only)…`);
  mkdirSync(libs, { recursive: true });
  await run('mvn', ['-q', '-B', '-f', POM, 'dependency:copy-dependencies', `-DoutputDirectory=${libs}`], {
    timeout: 15 * 60_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  writeFileSync(marker, `${version}\n`);
  return libs;
}

/** True when nothing listens on the port (on any local address). */
export async function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolvePort) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolvePort(false));
    server.listen(port, () => server.close(() => resolvePort(true)));
  });
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

function serverProperties(port: number, controllerPort: number, dataDir: string, extra: readonly ExtraListener[] = []): string {
  const more = extra.map((listener) => `,${listener.name}://${listener.host}:${listener.port}`).join('');
  const protocols = extra.map((listener) => `,${listener.name}:PLAINTEXT`).join('');
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}${more}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${port}${more}`,
    'controller.listener.names=CONTROLLER',
    `listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT${protocols}`,
    'inter.broker.listener.name=PLAINTEXT',
    `log.dirs=${join(dataDir, 'logs')}`,
    // Topics are created explicitly, with their configs, by the services (libs/kafka ensureTopics).
    'auto.create.topics.enable=false',
    'num.partitions=1',
    'default.replication.factor=1',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=4',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    'group.initial.rebalance.delay.ms=0',
    `message.max.bytes=${16 * 1024 * 1024 + 1024}`,
    'log.cleaner.backoff.ms=1000',
    '',
  ].join('\n');
}

const LOG4J2 = `Configuration:
  Appenders:
    Console:
      name: STDOUT
      PatternLayout:
        pattern: "[%d] %p %m (%c)%n"
  Loggers:
    Root:
      level: WARN
      AppenderRef:
        - ref: STDOUT
    Logger:
      - name: kafka.server.KafkaRaftServer
        level: INFO
`;

async function waitForBroker(brokers: string, child: ChildProcess, logFile: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`Kafka exited with code ${child.exitCode} while starting; see ${logFile}`);
    }
    const admin = new Kafka({
      brokers: [brokers],
      clientId: 'local-kafka-probe',
      logLevel: logLevel.NOTHING,
      connectionTimeout: 1000,
      retry: { retries: 0 },
    }).admin();
    try {
      await admin.connect();
      await admin.describeCluster();
      await admin.disconnect();
      return;
    } catch (error) {
      lastError = error;
      await admin.disconnect().catch(() => undefined);
      await new Promise((wait) => setTimeout(wait, 250));
    }
  }
  throw new Error(`Kafka did not accept a metadata request within ${timeoutMs} ms (${String(lastError)}); see ${logFile}`);
}

/**
 * Starts a single-node KRaft broker from the cached jars and resolves once it answers a metadata
 * request. The JVM runs under a small shell guard that kills it when this process dies, so a
 * crashed test run or a killed `npm start` never leaves an orphan broker behind.
 */
export async function startLocalKafka(options: LocalKafkaOptions = {}): Promise<LocalKafka> {
  const log = options.log ?? (() => undefined);
  const libs = await ensureKafkaJars({ cacheDir: options.cacheDir, log });
  const port = options.port && options.port > 0 ? options.port : await freePort();
  // Otherwise the readiness probe below would happily talk to whatever already listens there.
  if (!(await isPortFree(port))) {
    throw new Error(`port ${port} is already in use: stop what listens there, choose another KAFKA_PORT, or set KAFKA_BROKERS to use that broker`);
  }
  const controllerPort = await freePort();
  const dataDir = options.dataDir ?? join(REPO_ROOT, '.cache', 'kafka', 'run', `${port}-${randomUUID().slice(0, 8)}`);
  mkdirSync(dataDir, { recursive: true });
  const propertiesFile = join(dataDir, 'server.properties');
  writeFileSync(propertiesFile, serverProperties(port, controllerPort, dataDir, options.extraListeners));
  const log4jFile = join(dataDir, 'log4j2.yaml');
  writeFileSync(log4jFile, LOG4J2);
  const classpath = `${libs}/*`;

  if (!existsSync(join(dataDir, 'logs', 'meta.properties'))) {
    const { stdout: clusterId } = await run('java', ['-cp', classpath, 'kafka.tools.StorageTool', 'random-uuid']);
    await run('java', [
      `-Dlog4j2.configurationFile=${log4jFile}`,
      '-cp',
      classpath,
      'kafka.tools.StorageTool',
      'format',
      '-t',
      clusterId.trim(),
      '-c',
      propertiesFile,
      '--ignore-formatted',
    ]);
  }

  const logFile = join(dataDir, 'kafka.log');
  const out = openSync(logFile, 'a');
  const heap = options.heapMb ?? 768;
  const java = [
    'java',
    `-Xms${Math.min(256, heap)}m`,
    `-Xmx${heap}m`,
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=20',
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${log4jFile}`,
    '-cp',
    `'${classpath}'`,
    'kafka.Kafka',
    `'${propertiesFile}'`,
  ].join(' ');
  // Guard: forwards TERM/INT to the JVM and waits for it; kills it if our process disappears.
  const guard = `${java} & k=$!; trap 'kill -TERM $k 2>/dev/null; wait $k; exit 0' TERM INT; while kill -0 ${process.pid} 2>/dev/null && kill -0 $k 2>/dev/null; do sleep 1; done; kill -TERM $k 2>/dev/null; wait $k`;
  // Its own process group: Ctrl-C (SIGINT to the terminal's foreground group) reaches the services
  // but not the broker, which our `stop()` ends last, after the services have flushed and left
  // their groups. The guard above still ends it if this process dies.
  const child = spawn('bash', ['-c', guard], { stdio: ['ignore', out, out], detached: true });
  const brokers = `127.0.0.1:${port}`;
  log(`starting Kafka ${kafkaVersion()} on ${brokers} (data ${dataDir})`);
  const exited = new Promise<void>((done) => child.once('exit', () => done()));

  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => {
      // The JVM ignored a controlled shutdown; kill the broker's process group hard.
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, 20_000);
    await exited;
    clearTimeout(timer);
  };

  try {
    await waitForBroker(brokers, child, logFile, 90_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return { brokers, port, pid: child.pid ?? -1, dataDir, logFile, stop };
}
