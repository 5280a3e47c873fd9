import { execFile, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from './local-kafka';

const run = promisify(execFile);

/**
 * The Kubernetes tool versions the chart and operator tests run, in one place. The build script
 * (tools/k8s/build-tools.sh) receives them as K8S_VERSION / HELM_VERSION.
 */
export const KUBE_TOOL_VERSIONS = { kubernetes: '1.36.3', helm: '4.3.1' } as const;

export type KubeToolName = 'kube-apiserver' | 'helm';

export interface KubeToolPaths {
  /** `<cache>/k8s-tools`, outside the clone so every clone on a machine shares one build. */
  readonly cacheDir: string;
  readonly kubeApiServer: string;
  readonly helm: string;
}

const BUILD_SCRIPT = join(REPO_ROOT, 'tools', 'k8s', 'build-tools.sh');

/** Same resolution as build-tools.sh: $TRIBUTARY_CACHE_DIR, else $XDG_CACHE_HOME/tributary, else ~/.cache/tributary. */
export function kubeToolPaths(env: NodeJS.ProcessEnv = process.env): KubeToolPaths {
  const root = env.TRIBUTARY_CACHE_DIR || join(env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache'), 'tributary');
  const cacheDir = join(root, 'k8s-tools');
  return {
    cacheDir,
    kubeApiServer: join(cacheDir, `kube-apiserver-v${KUBE_TOOL_VERSIONS.kubernetes}`, 'kube-apiserver'),
    helm: join(cacheDir, `helm-v${KUBE_TOOL_VERSIONS.helm}`, 'helm'),
  };
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export interface EnsureKubeToolsOptions {
  log?: (line: string) => void;
  /** Which tools are needed; default both. */
  tools?: readonly KubeToolName[];
  env?: NodeJS.ProcessEnv;
}

/**
 * Returns the tool paths, building the missing ones first with tools/k8s/build-tools.sh (from Go
 * modules: ~8 min of CPU for kube-apiserver, ~5 for helm, once per machine). A present binary is
 * never rebuilt; delete its folder to force a rebuild.
 */
export async function ensureKubeTools(options: EnsureKubeToolsOptions = {}): Promise<KubeToolPaths> {
  const env = options.env ?? process.env;
  const log = options.log ?? (() => undefined);
  const paths = kubeToolPaths(env);
  const wanted = options.tools ?? (['helm', 'kube-apiserver'] as const);
  const missing = wanted.filter((tool) => !isExecutable(tool === 'helm' ? paths.helm : paths.kubeApiServer));
  if (missing.length === 0) return paths;

  try {
    await run('go', ['version'], { timeout: 30_000, env });
  } catch {
    throw new Error(
      `${missing.join(' and ')} must be built from Go modules (no release binaries are downloaded), but no Go toolchain is on PATH: ` +
        `install Go >= 1.26 (Debian: golang-go from trixie-backports, or go.dev/dl) and run tools/k8s/build-tools.sh, ` +
        `or put prebuilt binaries at ${missing.map((tool) => (tool === 'helm' ? paths.helm : paths.kubeApiServer)).join(' and ')}`,
    );
  }
  const target = missing.length === 2 ? 'all' : missing[0];
  log(`building ${missing.join(' and ')} into ${paths.cacheDir} with tools/k8s/build-tools.sh (once per machine, 10-30 min)…`);
  await new Promise<void>((resolveBuild, reject) => {
    const child = spawn('bash', [BUILD_SCRIPT, target], {
      cwd: REPO_ROOT,
      env: { ...env, K8S_VERSION: KUBE_TOOL_VERSIONS.kubernetes, HELM_VERSION: KUBE_TOOL_VERSIONS.helm },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let tail = '';
    const collect = (chunk: Buffer) => {
      tail = (tail + chunk.toString()).slice(-8000);
      for (const line of chunk.toString().split('\n')) if (line.startsWith('[k8s-tools]')) log(line);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (code === 0) resolveBuild();
      else reject(new Error(`tools/k8s/build-tools.sh ${target} failed (${signal ?? `exit ${code}`}); its output ends:\n${tail}`));
    });
  });
  const stillMissing = wanted.filter((tool) => !isExecutable(tool === 'helm' ? paths.helm : paths.kubeApiServer));
  if (stillMissing.length > 0) throw new Error(`tools/k8s/build-tools.sh finished but ${stillMissing.join(' and ')} is not in ${paths.cacheDir}`);
  return paths;
}
