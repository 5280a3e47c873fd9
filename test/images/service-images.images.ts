/**
 * The service images (the root Dockerfile, one `--build-arg SERVICE=<name>` each), built here with buildah (vfs storage, chroot
 * isolation; no Docker engine and no registry) by tools/images/build.sh, which assembles a
 * stand-in for debian:trixie-slim with debootstrap when the base is not in local storage.
 *
 * Each image's ENTRYPOINT (read from the image config, not repeated here) is run in a chroot as the
 * image's user with one invalid variable: it must load every module the service imports, then
 * exit 1 with the configuration error naming that variable. So a wrong COPY path, a missing
 * production dependency or a broken entrypoint fails this test.
 *
 * Slow (a cold build is several minutes of apt, npm and vfs layer copies), hence its own jest
 * config: `npm run test:images`. Skipped where buildah or debootstrap is missing, or not as root.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = join(__dirname, '../..');
const log = (line: string) => process.stdout.write(`[images] ${line}\n`);

function missingPrerequisite(): string | undefined {
  // `npm test` ends with this file; a developer iterating on code can leave the 20-40 minute build out.
  if (process.env.SKIP_IMAGE_TESTS === '1') return 'SKIP_IMAGE_TESTS=1';
  for (const tool of ['buildah', 'debootstrap']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      return `${tool} is not installed`;
    }
  }
  return process.getuid?.() === 0 ? undefined : 'buildah with vfs and chroot isolation needs root here';
}

const missing = missingPrerequisite();
if (missing) log(`${missing}: the image tests are skipped (install buildah and debootstrap, run as root)`);
const describeWithBuildah = missing ? describe.skip : describe;

const TAG = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const image = (service: string) => `localhost/tributary/${service}:${TAG}`;

const buildah = async (...args: string[]) =>
  (await run('buildah', ['--storage-driver', 'vfs', ...args], { maxBuffer: 64 * 1024 * 1024 })).stdout;

interface ImageConfig {
  User?: string;
  Env?: string[];
  Entrypoint?: string[];
  WorkingDir?: string;
  ExposedPorts?: Record<string, unknown>;
}

async function imageConfig(ref: string): Promise<ImageConfig> {
  const inspected = JSON.parse(await buildah('inspect', '--type', 'image', ref)) as { OCIv1: { config: ImageConfig } };
  return inspected.OCIv1.config;
}

interface Outcome {
  code: number;
  output: string;
}

/** Runs a command in a working container of `ref` (chroot isolation, the image's user), then removes it. */
async function inContainer<T>(ref: string, use: (ctr: string) => Promise<T>): Promise<T> {
  const ctr = (await buildah('from', '--pull=false', ref)).trim();
  try {
    return await use(ctr);
  } finally {
    await buildah('rm', ctr);
  }
}

async function runIn(ctr: string, env: Record<string, string>, command: string[]): Promise<Outcome> {
  const envArgs = Object.entries(env).flatMap(([key, value]) => ['--env', `${key}=${value}`]);
  try {
    const { stdout, stderr } = await run(
      'buildah',
      ['--storage-driver', 'vfs', 'run', '--isolation', 'chroot', ...envArgs, ctr, '--', ...command],
      { maxBuffer: 16 * 1024 * 1024 },
    );
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failed.code === 'number' ? failed.code : -1, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}

/** Per service: its port and a variable its config.ts rejects with the value given. */
const SERVICES = [
  { name: 'ingest', port: 8081, invalid: ['INGEST_PORT', 'not-a-port'] },
  { name: 'transcoder', port: 8083, invalid: ['TRANSCODER_THREADS', 'lots'] },
  { name: 'event-gateway', port: 8082, invalid: ['EVENT_GATEWAY_PORT', 'not-a-port'] },
  { name: 'viewer-api', port: 8080, invalid: ['VIEWER_API_PORT', 'not-a-port'] },
  { name: 'operator', port: 8084, invalid: ['OPERATOR_PORT', 'not-a-port'] },
] as const;

/**
 * Modules loaded lazily, after configuration is read (so the invalid-variable run does not prove
 * them): Nest's HTTP platform and validation packages, the native Kafka codecs, and the browser
 * assets two services serve from node_modules.
 */
const LAZY: Record<string, string[]> = {
  ingest: [],
  transcoder: [],
  'event-gateway': ['@nestjs/platform-socket.io', 'uplot/dist/uPlot.iife.min.js', 'uplot/dist/uPlot.min.css'],
  'viewer-api': ['hls.js/dist/hls.min.js'],
  // ESM-only; Debian trixie's Node 20.19 require()s it.
  operator: ['@kubernetes/client-node'],
};
const LAZY_EVERYWHERE = ['@nestjs/platform-express', 'class-validator', 'class-transformer'];

/** Packages that must never reach an image: tooling, test frameworks, the npm ffmpeg builds. */
const DEV_ONLY = ['typescript', 'jest', 'nx', '@swc/core', 'playwright-core', 'eslint', '@ffmpeg-installer/ffmpeg', '@ffprobe-installer/ffprobe', '@tributary/devkit'];

describeWithBuildah('service images (buildah)', () => {
  beforeAll(async () => {
    const started = Date.now();
    const build = run(join(ROOT, 'tools/images/build.sh'), ['--base-standin', 'all'], {
      cwd: ROOT,
      maxBuffer: 256 * 1024 * 1024,
    });
    try {
      await build;
    } catch (error) {
      const failed = error as { stderr?: string };
      throw new Error(`tools/images/build.sh failed:\n${(failed.stderr ?? '').split('\n').slice(-60).join('\n')}`);
    }
    log(`built all images in ${Math.round((Date.now() - started) / 1000)} s`);
    const listing = (await buildah('images')).split('\n');
    log(`\n${listing.filter((line, i) => i === 0 || SERVICES.some((s) => line.includes(`/tributary/${s.name} `))).join('\n')}`);
  }, 60 * 60_000);

  describe.each(SERVICES)('$name', ({ name, port, invalid: [variable, value] }) => {
    it('is configured to run node under tini as an unprivileged numeric user in production mode', async () => {
      const config = await imageConfig(image(name));
      expect(config.User).toBe('10001:10001');
      expect(config.Env).toEqual(expect.arrayContaining(['NODE_ENV=production', 'TMPDIR=/tmp']));
      expect(config.Entrypoint).toEqual(['/usr/bin/tini', '--', 'node', '--enable-source-maps', '/app/main.js']);
      expect(config.WorkingDir).toBe('/app');
      expect(Object.keys(config.ExposedPorts ?? {})).toEqual([`${port}/tcp`]);
    });

    it(`loads its modules and exits 1 naming ${variable} when it is invalid`, async () => {
      const { Entrypoint: entrypoint = [] } = await imageConfig(image(name));
      const outcome = await inContainer(image(name), (ctr) => runIn(ctr, { [variable]: value }, entrypoint));
      expect(outcome.output).toContain('Invalid configuration');
      expect(outcome.output).toContain(variable);
      expect(outcome.output).not.toMatch(/Cannot find module|MODULE_NOT_FOUND/);
      expect(outcome.code).toBe(1);
    });

    it('runs as 10001, cannot write its root-owned files, can write TMPDIR, finds its lazily loaded modules, ships no dev tools', async () => {
      await inContainer(image(name), async (ctr) => {
        const probe = await runIn(ctr, {}, [
          'node',
          '-e',
          `const fs = require('node:fs'), os = require('node:os');
           const load = require('node:module').createRequire('/app/services/${name}/dist/main.js');
           const writable = (p) => { try { fs.accessSync(p, fs.constants.W_OK); return true; } catch { return false; } };
           const tmp = fs.mkdtempSync(os.tmpdir() + '/probe-'); fs.rmSync(tmp, { recursive: true });
           console.log(JSON.stringify({ uid: process.getuid(), gid: process.getgid(), tmp, node: process.version,
             app: writable('/app'), main: writable('services/${name}/dist/main.js'), modules: writable('node_modules'),
             owner: fs.statSync('services/${name}/dist/main.js').uid,
             unresolved: ${JSON.stringify([...LAZY_EVERYWHERE, ...(LAZY[name] ?? [])])}.filter((m) => { try { load.resolve(m); return false; } catch { return true; } }),
             codecs: typeof load('lz4-napi').compressFrame + ',' + typeof load('zstd-napi').compress }));`,
        ]);
        expect(probe.code).toBe(0);
        const seen = JSON.parse(probe.output.trim().split('\n').pop() ?? '{}') as Record<string, unknown>;
        expect(seen).toMatchObject({ uid: 10001, gid: 10001, app: false, main: false, modules: false, owner: 0 });
        expect(seen).toMatchObject({ unresolved: [], codecs: 'function,function' });
        expect(seen.tmp).toMatch(/^\/tmp\/probe-/);
        expect(seen.node).toMatch(/^v20\.19\./);

        const root = (await buildah('mount', ctr)).trim();
        try {
          const shipped = DEV_ONLY.filter((pkg) => existsSync(join(root, 'app/node_modules', pkg)));
          expect(shipped).toEqual([]);
          expect(existsSync(join(root, `app/services/${name}/dist/main.js`))).toBe(true);
          // The entrypoint is this service's, and only this service is in the image.
          expect(readlinkSync(join(root, 'app/main.js'))).toBe(`services/${name}/dist/main.js`);
          expect(readdirSync(join(root, 'app/services'))).toEqual([name]);
          expect(existsSync(join(root, 'app/src'))).toBe(false);
        } finally {
          await buildah('umount', ctr);
        }
      });
    });
  });

  // The transcoder runs the ladder with ffmpeg; ingest remuxes RTMP publishes with it.
  it.each(['transcoder', 'ingest'])('the %s image carries ffmpeg and ffprobe 7.1 on PATH', async (name) => {
    await inContainer(image(name), async (ctr) => {
      for (const tool of ['ffmpeg', 'ffprobe']) {
        const outcome = await runIn(ctr, {}, [tool, '-hide_banner', '-version']);
        expect(outcome.code).toBe(0);
        expect(outcome.output).toMatch(new RegExp(`^${tool} version 7\\.1`));
      }
    });
  });

  it('the Node-only images carry no ffmpeg', async () => {
    for (const name of ['event-gateway', 'viewer-api', 'operator']) {
      const outcome = await inContainer(image(name), (ctr) => runIn(ctr, {}, ['sh', '-c', 'command -v ffmpeg || echo none']));
      expect(outcome.output.trim()).toBe('none');
    }
  });
});
