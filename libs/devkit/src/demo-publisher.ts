import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * The demo source for `npm start`: an endless 720p test pattern with a burnt-in wall clock and a
 * 440 Hz tone, published to ingest exactly as a real publisher would (`ffmpeg -re … -f mpegts
 * http://…/live/KEY`), restarted whenever ffmpeg exits (ingest restarting, network blips).
 */
export interface DemoPublisherOptions {
  /** Ingest's base URL (http://localhost:8081) or the full publish URL (…/live/KEY). */
  ingestUrl: string;
  streamKey: string;
  ffmpegPath?: string;
  /** Called with ffmpeg's error lines and restarts (default: silent). */
  log?: (line: string) => void;
  size?: string;
  frameRate?: number;
}

export interface DemoPublisher {
  stop(): Promise<void>;
}

const FONT_CANDIDATES = [
  '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf',
  '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf',
  '/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf',
  '/usr/share/fonts/TTF/DejaVuSans.ttf',
  '/System/Library/Fonts/Supplemental/Arial.ttf',
];

/** ffmpeg from PATH, else the static build from @ffmpeg-installer/ffmpeg. */
export function findFfmpeg(): string {
  if (spawnSync('ffmpeg', ['-version'], { stdio: 'ignore' }).status === 0) return 'ffmpeg';
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require('@ffmpeg-installer/ffmpeg') as { path: string }).path;
  } catch {
    throw new Error('no ffmpeg on PATH and @ffmpeg-installer/ffmpeg is not installed; install ffmpeg or pass ffmpegPath');
  }
}

/** The video source filter: testsrc2 + a drawtext clock when a font renders here, else testsrc's own counter. */
export function demoVideoSource(ffmpeg: string, size: string, frameRate: number): string {
  for (const font of FONT_CANDIDATES) {
    if (!existsSync(font)) continue;
    const filter =
      `testsrc2=size=${size}:rate=${frameRate},` +
      `drawtext=fontfile=${font}:text='%{localtime\\:%H\\\\\\:%M\\\\\\:%S} UTC%{localtime\\:%z}':` +
      `fontsize=56:fontcolor=white:box=1:boxcolor=black@0.6:boxborderw=12:x=(w-tw)/2:y=h-th-48`;
    const probe = spawnSync(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', filter, '-frames:v', '1', '-f', 'null', '-'], {
      timeout: 20_000,
    });
    if (probe.status === 0) return filter;
  }
  // No usable font (or no drawtext): testsrc draws a running frame counter of its own.
  return `testsrc=size=${size}:rate=${frameRate}`;
}

export function demoPublisherArgs(url: string, videoSource: string, frameRate: number): string[] {
  return [
    '-hide_banner', '-loglevel', 'error', '-nostdin',
    '-re',
    '-f', 'lavfi', '-i', videoSource,
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000:beep_factor=4',
    '-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p',
    '-g', String(frameRate * 2), '-b:v', '2500k', '-maxrate', '2500k', '-bufsize', '5000k',
    '-c:a', 'aac', '-b:a', '128k', '-ar', '48000',
    '-f', 'mpegts', url,
  ];
}

export function startDemoPublisher(options: DemoPublisherOptions): DemoPublisher {
  const ffmpeg = options.ffmpegPath ?? findFfmpeg();
  const frameRate = options.frameRate ?? 30;
  const size = options.size ?? '1280x720';
  const base = options.ingestUrl.replace(/\/+$/, '');
  const url = /\/live\/[^/]+$/.test(base) ? base : `${base}/live/${options.streamKey}`;
  const source = demoVideoSource(ffmpeg, size, frameRate);
  const log = options.log ?? (() => undefined);
  let child: ChildProcess | undefined;
  let stopped = false;
  let failures = 0;
  let timer: NodeJS.Timeout | undefined;

  const launch = () => {
    if (stopped) return;
    const startedAt = Date.now();
    const current = spawn(ffmpeg, demoPublisherArgs(url, source, frameRate), { stdio: ['ignore', 'ignore', 'pipe'] });
    child = current;
    current.stderr?.on('data', (data: Buffer) => {
      for (const line of data.toString().split('\n')) if (line.trim()) log(`[demo-publisher] ${line.trim()}`);
    });
    current.once('close', (code, signal) => {
      if (stopped) return;
      // Back off while ingest is unreachable; a publish that ran for a while resets the backoff.
      failures = Date.now() - startedAt > 30_000 ? 0 : failures + 1;
      const delay = Math.min(10_000, 500 * 2 ** Math.min(failures, 5));
      log(`[demo-publisher] ffmpeg exited (${signal ?? code}); restarting in ${delay} ms`);
      timer = setTimeout(launch, delay);
    });
  };
  launch();

  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      const current = child;
      if (!current || current.exitCode !== null || current.signalCode !== null) return;
      const closed = new Promise<void>((resolve) => current.once('close', () => resolve()));
      current.kill('SIGTERM');
      const force = setTimeout(() => current.kill('SIGKILL'), 5_000);
      await closed;
      clearTimeout(force);
    },
  };
}

export interface DemoStreamOptions {
  /** ingest's base URL, e.g. http://localhost:8081 */
  ingestUrl: string;
  adminToken?: string;
  id?: string;
  title?: string;
  segmentDurationSeconds?: number;
}

/**
 * Creates the demo stream through ingest's API and returns its one-time key. Keys are shown only
 * once, so an existing stream of that id (from an earlier run) is deleted and created again.
 */
export async function createDemoStream(options: DemoStreamOptions): Promise<{ id: string; streamKey: string; ingestUrl: string; playbackUrl: string }> {
  const id = options.id ?? 'demo';
  const base = options.ingestUrl.replace(/\/+$/, '');
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (options.adminToken) headers.authorization = `Bearer ${options.adminToken}`;
  const body = JSON.stringify({
    id,
    title: options.title ?? 'Tributary demo: test pattern, clock and tone',
    ...(options.segmentDurationSeconds ? { segment_duration_seconds: options.segmentDurationSeconds } : {}),
  });
  let response = await fetch(`${base}/v1/streams`, { method: 'POST', headers, body });
  if (response.status === 409) {
    const deleted = await fetch(`${base}/v1/streams/${id}`, { method: 'DELETE', headers });
    if (deleted.status !== 204 && deleted.status !== 404) throw new Error(`could not replace stream ${id}: DELETE answered ${deleted.status}`);
    response = await fetch(`${base}/v1/streams`, { method: 'POST', headers, body });
  }
  if (response.status !== 201) throw new Error(`could not create stream ${id}: ${response.status} ${await response.text()}`);
  return (await response.json()) as { id: string; streamKey: string; ingestUrl: string; playbackUrl: string };
}
