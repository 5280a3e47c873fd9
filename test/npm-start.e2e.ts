import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, REPO_ROOT } from '@tributary/devkit';
import { parseManifest, until } from './support/video-stack';

/**
 * `npm start` as a new user runs it: its own Kafka broker, the four services, the demo stream
 * (a real ffmpeg publisher and transcoder) and simulated viewers; then Ctrl-C, which the terminal
 * sends to the whole foreground process group. Everything must be gone within 15 s — services
 * first, the broker (in a process group of its own) last — and nothing may be left running.
 * Needs the built tools (`npm test` builds them first).
 */
const STOP_BUDGET_MS = 15_000;

interface Proc {
  pid: number;
  ppid: number;
  pgid: number;
  args: string;
}

function processes(): Proc[] {
  return execFileSync('ps', ['-eo', 'pid=,ppid=,pgid=,args='], { encoding: 'utf8' })
    .split('\n')
    .map((line) => /^\s*(\d+)\s+(\d+)\s+(\d+)\s+(.*)$/.exec(line))
    .filter((match): match is RegExpExecArray => match !== null)
    .map((match) => ({ pid: Number(match[1]), ppid: Number(match[2]), pgid: Number(match[3]), args: match[4] }));
}

/** `root` and every process below it. */
function tree(root: number): Proc[] {
  const all = processes();
  const found = all.filter((p) => p.pid === root);
  for (let i = 0; i < found.length; i += 1) found.push(...all.filter((p) => p.ppid === found[i].pid));
  return found;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

let start: ChildProcess | undefined;
let kafkaPort = 0;
let output = '';
/** Every process of the run seen so far (killed in afterAll if a failure left any). */
let seen: Proc[] = [];

afterAll(() => {
  // Whatever the outcome, leave nothing behind (a failed assertion must not leak a broker).
  if (start?.pid) {
    for (const proc of [...seen, ...tree(start.pid), ...processes().filter((p) => p.pgid === start!.pid)]) {
      try {
        process.kill(proc.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  if (kafkaPort) rmSync(join(REPO_ROOT, '.cache', 'kafka', `data-${kafkaPort}`), { recursive: true, force: true });
});

it('npm start brings up the platform with a playing demo stream, and Ctrl-C stops all of it within 15 s, broker last', async () => {
  kafkaPort = await freePort();
  const ports = { viewer: await freePort(), ingest: await freePort(), gateway: await freePort(), transcoder: await freePort(), rtmp: await freePort() };
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KAFKA_PORT: String(kafkaPort),
    VIEWER_API_PORT: String(ports.viewer),
    INGEST_PORT: String(ports.ingest),
    EVENT_GATEWAY_PORT: String(ports.gateway),
    TRANSCODER_PORT: String(ports.transcoder),
    INGEST_RTMP_PORT: String(ports.rtmp),
    DEMO_EVENT_RATE: '5',
  };
  delete env.KAFKA_BROKERS; // npm start's own broker, as on a fresh clone
  start = spawn(process.execPath, [join(REPO_ROOT, 'tools', 'dist', 'scripts', 'start.js')], {
    cwd: REPO_ROOT,
    env,
    detached: true, // its own process group, like a shell's foreground job
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => start!.once('exit', (code) => resolve(code)));
  start.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  start.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));

  await until('npm start to print its URLs', async () => output.includes('Press Ctrl-C to stop.') || undefined, 240_000).catch((error: unknown) => {
    throw new Error(`${(error as Error).message}\n${output}`);
  });
  expect(output).toContain(`player (demo stream):      http://localhost:${ports.viewer}/watch/demo`);
  expect(output).toContain(`server rtmp://localhost:${ports.rtmp}/live`);
  // The demo stream really plays: the transcoder's ladder is listed and media segments are served.
  const viewer = `http://127.0.0.1:${ports.viewer}`;
  const media = await until(
    'the demo stream’s first media playlist with segments',
    async () => {
      const response = await fetch(`${viewer}/live/demo/360p/index.m3u8`).catch(() => undefined);
      if (response?.status !== 200) return undefined;
      const manifest = parseManifest(await response.text());
      return manifest.segments.length > 0 ? manifest : undefined;
    },
    120_000,
  );
  const segment = await fetch(new URL(media.segments[0].uri, `${viewer}/live/demo/360p/index.m3u8`));
  expect(segment.status).toBe(200);
  expect((await segment.arrayBuffer()).byteLength).toBeGreaterThan(1000);

  // Everything npm start runs: the services with their ffmpeg children, the demo publisher, and the
  // broker, which runs in a process group of its own (Ctrl-C reaches it only through the script).
  const everything = tree(start.pid!);
  seen = everything;
  const broker = everything.filter((p) => p.pgid !== start!.pid);
  const group = everything.filter((p) => p.pgid === start!.pid);
  const listing = everything.map((p) => `${p.pid} ${p.pgid} ${p.args.slice(0, 160)}`).join('\n');
  expect({ ffmpeg: group.filter((p) => /\bffmpeg\b/.test(p.args)).length >= 2, listing }).toEqual({ ffmpeg: true, listing });
  expect(group.filter((p) => /services\/[a-z-]+\/dist\/main\.js/.test(p.args)).length).toBe(4);
  expect(broker.some((p) => p.args.includes('kafka'))).toBe(true);
  const brokerPids = broker.map((p) => p.pid);

  const stoppedAt = Date.now();
  process.kill(-start.pid!, 'SIGINT'); // Ctrl-C
  let brokerGoneAt: number | undefined;
  let servicesGoneAt: number | undefined;
  while ((brokerGoneAt === undefined || servicesGoneAt === undefined) && Date.now() - stoppedAt < STOP_BUDGET_MS + 15_000) {
    if (servicesGoneAt === undefined && group.filter((p) => p.pid !== start!.pid).every((p) => !alive(p.pid))) servicesGoneAt = Date.now();
    if (brokerGoneAt === undefined && brokerPids.every((pid) => !alive(pid))) brokerGoneAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const code = await exited;
  const elapsed = Date.now() - stoppedAt;
  process.stdout.write(`npm start stopped in ${elapsed} ms (services ${servicesGoneAt! - stoppedAt} ms, broker ${brokerGoneAt! - stoppedAt} ms)\n`);

  expect(code).toBe(0);
  expect(elapsed).toBeLessThanOrEqual(STOP_BUDGET_MS);
  expect(output).toContain('[tributary] stopped');
  expect(output).not.toMatch(/did not stop cleanly|exited unexpectedly/);
  // Services first, the broker last: the services flush and leave their groups while Kafka is up.
  expect(servicesGoneAt).toBeDefined();
  expect(brokerGoneAt).toBeDefined();
  expect(brokerGoneAt!).toBeGreaterThanOrEqual(servicesGoneAt!);
  // Nothing left: no service, ffmpeg or java of this run.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const leftovers = [...group, ...broker].filter((p) => alive(p.pid));
  expect(leftovers).toEqual([]);
}, 480_000);
