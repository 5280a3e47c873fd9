/**
 * `npm start`: the whole platform on this machine — a local Kafka broker (unless KAFKA_BROKERS
 * is set), the four services, a demo stream with a test-pattern publisher, and simulated viewers —
 * then prints the URLs. Ctrl-C stops everything, children included.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { bool, int, optionalStr, parseEnv, port, processEnv } from '@tributary/config';
import {
  createDemoStream,
  type LocalKafka,
  REPO_ROOT,
  type ServiceName,
  type ServiceProcess,
  startDemoPublisher,
  startLocalKafka,
  startService,
} from '@tributary/devkit';
import { runSimulation } from './simulator/simulator';

const env = parseEnv(
  {
    kafkaBrokers: optionalStr('KAFKA_BROKERS'),
    kafkaPort: port('KAFKA_PORT', 9092),
    viewerApiPort: port('VIEWER_API_PORT', 8080),
    ingestPort: port('INGEST_PORT', 8081),
    eventGatewayPort: port('EVENT_GATEWAY_PORT', 8082),
    transcoderPort: port('TRANSCODER_PORT', 8083),
    rtmpPort: port('INGEST_RTMP_PORT', 1935),
    simulatorRate: int('DEMO_EVENT_RATE', { default: 5, min: 0, max: 100_000 }),
    demoVideo: bool('DEMO_VIDEO', { default: true }),
    adminToken: optionalStr('ADMIN_TOKEN'),
    playbackSigningKey: optionalStr('PLAYBACK_SIGNING_KEY'),
  },
  processEnv(),
);

/** The admin API's token: ADMIN_TOKEN, or one made up for this run (printed below). */
const adminToken = env.adminToken ?? randomBytes(24).toString('base64url');
/** Signs playback tokens of private streams: PLAYBACK_SIGNING_KEY, or one for this run (tokens die with it). */
const playbackSigningKey = env.playbackSigningKey ?? randomBytes(32).toString('base64url');

const say = (line: string) => process.stdout.write(`[tributary] ${line}\n`);
const logDir = join(REPO_ROOT, '.cache', 'logs');

/** Stopped in descending phase order, a phase's items together: load generators, services, Kafka. */
type Stoppable = { name: string; phase: 0 | 1 | 2; stop: () => Promise<unknown> };
const running: Stoppable[] = [];
let stopping = false;

async function stopAll(exitCode: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    say('stopping…');
    // Load generators, then the services (together: each flushes and leaves its groups while
    // Kafka is still up), then Kafka last. Ctrl-C's SIGINT already reached the services (same
    // process group) but not the broker, which runs in a group of its own.
    for (const phase of [2, 1, 0] as const) {
      await Promise.all(
        running
          .filter((item) => item.phase === phase)
          .map(async (item) => {
            try {
              await item.stop();
            } catch (error) {
              say(`${item.name} did not stop cleanly: ${(error as Error).message}`);
            }
          }),
      );
    }
    say('stopped');
  }
  process.exit(exitCode);
}

process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));

async function startPlatformService(name: ServiceName, httpPort: number, brokers: string): Promise<ServiceProcess> {
  const service = await startService(name, {
    port: httpPort,
    env: {
      KAFKA_BROKERS: brokers,
      LOG_FORMAT: 'json',
      NODE_ENV: 'development',
      ADMIN_TOKEN: adminToken,
      PLAYBACK_SIGNING_KEY: playbackSigningKey,
      VIEWER_API_PORT: String(env.viewerApiPort),
      INGEST_PORT: String(env.ingestPort),
      EVENT_GATEWAY_PORT: String(env.eventGatewayPort),
      TRANSCODER_PORT: String(env.transcoderPort),
      INGEST_PUBLIC_URL: `http://localhost:${env.ingestPort}`,
      // OBS and other RTMP publishers: rtmp://localhost:1935/live + the stream key.
      INGEST_RTMP_ENABLED: 'true',
      INGEST_RTMP_PORT: String(env.rtmpPort),
      INGEST_RTMP_PUBLIC_URL: `rtmp://localhost:${env.rtmpPort}/live`,
      VIEWER_PUBLIC_URL: `http://localhost:${env.viewerApiPort}`,
    },
    readyTimeoutMs: 120_000,
  });
  const log = createWriteStream(join(logDir, `${name}.log`), { flags: 'a' });
  log.write(service.output());
  service.child.stdout?.pipe(log);
  service.child.stderr?.pipe(log);
  service.child.once('exit', (code, signal) => {
    if (!stopping) {
      say(`${name} exited unexpectedly (code ${code}, signal ${signal}); see ${join(logDir, `${name}.log`)}`);
      void stopAll(1);
    }
  });
  running.push({ name, phase: 1, stop: () => service.stop() });
  say(`${name} ready on ${service.url}`);
  return service;
}

async function main(): Promise<void> {
  mkdirSync(logDir, { recursive: true });
  let brokers = env.kafkaBrokers;
  if (!brokers) {
    const kafka: LocalKafka = await startLocalKafka({
      port: env.kafkaPort,
      // Persistent, so streams and events survive a restart of `npm start` (replay!).
      dataDir: join(REPO_ROOT, '.cache', 'kafka', `data-${env.kafkaPort}`),
      log: say,
    });
    running.push({ name: 'kafka', phase: 0, stop: () => kafka.stop() });
    brokers = kafka.brokers;
    say(`Kafka ready on ${brokers} (log: ${kafka.logFile})`);
  } else {
    say(`using Kafka at ${brokers}`);
  }

  // Ingest first: it creates the topics every other service expects.
  await startPlatformService('ingest', env.ingestPort, brokers);
  await Promise.all([
    startPlatformService('transcoder', env.transcoderPort, brokers),
    startPlatformService('viewer-api', env.viewerApiPort, brokers),
    startPlatformService('event-gateway', env.eventGatewayPort, brokers),
  ]);

  let playerUrl: string | undefined;
  if (env.demoVideo) {
    const ingestUrl = `http://127.0.0.1:${env.ingestPort}`;
    const demo = await createDemoStream({ ingestUrl, adminToken });
    const publisherLog = createWriteStream(join(logDir, 'demo-publisher.log'), { flags: 'a' });
    const publisher = startDemoPublisher({ ingestUrl, streamKey: demo.streamKey, log: (line) => publisherLog.write(`${line}\n`) });
    running.push({ name: 'demo publisher', phase: 2, stop: () => publisher.stop() });
    playerUrl = `http://localhost:${env.viewerApiPort}/watch/${demo.id}`;
    say(`demo stream "${demo.id}" publishing a test pattern (720p, clock, tone) to ingest`);
  }

  if (env.simulatorRate > 0) {
    const abort = new AbortController();
    const simulation = runSimulation({
      url: `http://127.0.0.1:${env.viewerApiPort}`,
      rate: env.simulatorRate,
      streams: 3,
      users: 30,
      signal: abort.signal,
    });
    running.push({
      name: 'simulator',
      phase: 2,
      stop: async () => {
        abort.abort();
        await simulation;
      },
    });
    say(`simulated viewers posting ~${env.simulatorRate} events/s (DEMO_EVENT_RATE; 0 = off)`);
  }

  say('');
  say('Tributary is running:');
  if (playerUrl) {
    say(`  player (demo stream):      ${playerUrl}   (video appears a few seconds after start)`);
    say(`  HLS master playlist:       http://localhost:${env.viewerApiPort}/live/demo/master.m3u8`);
    say(`  MJPEG preview:             http://localhost:${env.viewerApiPort}/live/demo/preview.mjpeg`);
  }
  say(`  streams:                   http://localhost:${env.viewerApiPort}/v1/streams`);
  say(`  admin API (create streams): http://localhost:${env.ingestPort}/v1/streams  with  Authorization: Bearer ${adminToken}`);
  say(`  publish from OBS (RTMP):   server rtmp://localhost:${env.rtmpPort}/live, stream key from the admin API`);
  if (!env.adminToken) say('                             (a token generated for this run; set ADMIN_TOKEN to choose your own)');
  say(`  dashboard (live events):   http://localhost:${env.eventGatewayPort}/`);
  say(`  Socket.IO namespace:       http://localhost:${env.eventGatewayPort}/playback  (server event "playback.events": arrays of events)`);
  say(`  playback events endpoint:  POST http://localhost:${env.viewerApiPort}/v1/events`);
  say(`  Kafka:                     ${brokers}`);
  say(`  service logs:              ${logDir}/<service>.log`);
  say('Press Ctrl-C to stop.');
}

main().catch((error: unknown) => {
  say(`start failed: ${(error as Error).message}`);
  void stopAll(1);
});
