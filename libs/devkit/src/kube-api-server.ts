import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, openSync, closeSync, readFileSync, readSync, fstatSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { Agent, request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ensureKubeTools } from './kube-tools';
import { freePort } from './local-kafka';

const run = promisify(execFile);

/**
 * A real Kubernetes API server for tests (what envtest does for Go): etcd + kube-apiserver on
 * 127.0.0.1, a throwaway CA, an admin client certificate in `system:masters`, a kubeconfig file.
 * There is no controller-manager or scheduler: no garbage collection of owner references, namespace
 * deletion never finishes, no pods run. Finalizers, admission, CRD schema validation and server-side
 * apply are all real.
 */
export interface KubeApiServerOptions {
  log?: (line: string) => void;
  /** kube-apiserver binary; default: the cached build (built by ensureKubeTools when missing). */
  kubeApiServerPath?: string;
  /** etcd binary; default `etcd` on PATH (Debian: etcd-server). */
  etcdPath?: string;
  /** Parent of the temporary folder (certs, etcd data, logs, kubeconfig); default the OS temp dir. */
  baseDir?: string;
  /** Extra kube-apiserver flags (`--flag=value`), appended last. */
  extraArgs?: readonly string[];
  /** Overall start-up budget (etcd + API server healthy); default 180 s (a loaded 2-core machine). */
  startTimeoutMs?: number;
}

export interface KubeRequestOptions {
  /** Query parameters, e.g. `{ dryRun: 'All' }` or `{ fieldManager: 'test' }`. */
  query?: Record<string, string | number | boolean | undefined>;
  /** Body content type; default `application/json` (objects) — e.g. `application/merge-patch+json`, `application/yaml`. */
  contentType?: string;
}

export interface KubeResponse<T = KubeObject> {
  status: number;
  /** Parsed JSON when the server answered JSON (a `Status` object on errors), else the text. */
  body: T;
}

/** The parts of a Kubernetes object the fixture looks at; everything else passes through. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; [key: string]: unknown };
  [key: string]: unknown;
}

export interface KubeApiServer {
  /** `https://127.0.0.1:<port>` */
  readonly server: string;
  /** A kubeconfig (cluster, user and context `tributary-test`) with the admin client certificate. */
  readonly kubeconfigPath: string;
  /** The temporary folder: certs, etcd data, `etcd.log`, `kube-apiserver.log`, `kubeconfig`. Removed by stop(). */
  readonly dir: string;
  /** Process ids of the real etcd and kube-apiserver processes (not of their guards). */
  readonly pids: { readonly etcd: number; readonly kubeApiServer: number };
  readonly logFiles: { readonly etcd: string; readonly kubeApiServer: string };
  /** One API call as the admin user. `path` starts with `/` (e.g. `/api/v1/namespaces`). Never throws on HTTP errors. */
  request<T = KubeObject>(method: string, path: string, body?: unknown, options?: KubeRequestOptions): Promise<KubeResponse<T>>;
  /** Creates every CustomResourceDefinition in the (multi-document YAML or JSON) files and waits until each is Established. Returns their names. */
  installCrds(files: readonly string[], options?: { timeoutMs?: number }): Promise<string[]>;
  /** Creates a namespace (an existing one is fine). */
  createNamespace(name: string): Promise<void>;
  /** The REST path of an object (`/apis/<group>/<version>/namespaces/<ns>/<plural>[/<name>]`), found through discovery. */
  resourcePath(object: KubeObject, options?: { collection?: boolean }): Promise<string>;
  /** POSTs an object to its collection (`dryRun: true` → `?dryRun=All`: validated and admitted, never stored). */
  createObject<T = KubeObject>(object: KubeObject, options?: { dryRun?: boolean }): Promise<KubeResponse<T>>;
  /**
   * Stops kube-apiserver (etcd keeps the data), waits `downMs`, starts it again on the same port with
   * the same certificates and resolves once `/healthz` answers: clients see connection errors, then
   * the same cluster (watches must be re-established, resourceVersions stay valid).
   */
  restartApiServer(options?: { downMs?: number; timeoutMs?: number }): Promise<void>;
  /** Stops kube-apiserver then etcd and removes the temporary folder. Idempotent. */
  stop(): Promise<void>;
}

const CLUSTER = 'tributary-test';

/** Runs a command and waits for it; a guard kills it when this Node process goes away (kill -9 included). */
interface GuardedProcess {
  readonly pid: number;
  readonly guard: ChildProcess;
  readonly exited: Promise<void>;
  stop(timeoutMs: number): Promise<void>;
}

/**
 * The guard (bash) starts the command with its output in `logFile`, prints its pid, forwards
 * TERM/INT and stops it once our process disappears (polled every second): TERM, then KILL after
 * 5 s — kube-apiserver can hang in its graceful shutdown when its etcd is stopped at the same
 * moment, which is what happens when a test run is killed. With util-linux `setpriv`, the command
 * is also killed if the guard itself is (parent-death signal).
 */
const GUARD = `
parent=$1; log=$2; shift 2
if command -v setpriv >/dev/null 2>&1; then set -- setpriv --pdeathsig KILL -- "$@"; fi
"$@" >>"$log" 2>&1 </dev/null & k=$!
echo "$k"
trap 'kill -TERM $k 2>/dev/null; wait $k; exit 0' TERM INT
while kill -0 "$parent" 2>/dev/null && kill -0 "$k" 2>/dev/null; do sleep 1; done
kill -TERM "$k" 2>/dev/null
for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$k" 2>/dev/null || break; sleep 0.5; done
kill -KILL "$k" 2>/dev/null; wait "$k"
`;

async function startGuarded(command: string, args: readonly string[], logFile: string): Promise<GuardedProcess> {
  const guard = spawn('bash', ['-c', GUARD, 'guard', String(process.pid), logFile, command, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((done) => guard.once('exit', () => done()));
  const pid = await new Promise<number>((resolvePid, reject) => {
    let out = '';
    guard.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split('\n')[0];
      if (out.includes('\n') && /^\d+$/.test(line)) resolvePid(Number(line));
    });
    guard.once('error', reject);
    guard.once('exit', (code) => reject(new Error(`the process guard for ${command} exited (${code}) before starting it`)));
  });
  const stop = async (timeoutMs: number): Promise<void> => {
    if (guard.exitCode === null && guard.signalCode === null) guard.kill('SIGTERM');
    const timer = setTimeout(() => {
      // It ignored SIGTERM: kill it (the guard then exits too).
      killQuietly(pid, 'SIGKILL');
    }, timeoutMs);
    await exited;
    clearTimeout(timer);
    killQuietly(pid, 'SIGKILL'); // no-op when it is gone, as it should be
  };
  return { pid, guard, exited, stop };
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/** True while a process with this pid exists (and is not a zombie of ours). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\S+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** The last `lines` lines of a log file (for start-up errors). */
function tailOf(file: string, lines = 40): string {
  if (!existsSync(file)) return '(no log)';
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(size, 64 * 1024);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, size - length);
    return buffer.toString().split('\n').slice(-lines - 1).join('\n').trimEnd() || '(empty)';
  } finally {
    closeSync(fd);
  }
}

async function openssl(dir: string, args: readonly string[]): Promise<void> {
  try {
    await run('openssl', args, { cwd: dir, timeout: 30_000 });
  } catch (error) {
    const detail = (error as { stderr?: string }).stderr ?? String(error);
    throw new Error(`openssl ${args[0]} failed (openssl is needed for the test API server's certificates; Debian: openssl): ${detail}`);
  }
}

/** Throwaway PKI as envtest makes it: a serving CA + cert (localhost, 127.0.0.1), a client CA + admin cert (O=system:masters), a service-account key pair. */
async function makeCertificates(dir: string): Promise<void> {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await writeFile(join(dir, 'server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n');
  await writeFile(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n');
  await openssl(dir, ['req', '-x509', ...ec, '-days', '7', '-subj', '/O=tributary-test/CN=serving-ca', '-keyout', 'serving-ca.key', '-out', 'serving-ca.crt']);
  await openssl(dir, ['req', '-new', ...ec, '-subj', '/O=tributary-test/CN=localhost', '-keyout', 'apiserver.key', '-out', 'apiserver.csr']);
  await openssl(dir, ['x509', '-req', '-in', 'apiserver.csr', '-CA', 'serving-ca.crt', '-CAkey', 'serving-ca.key', '-CAcreateserial', '-days', '7', '-extfile', 'server.ext', '-out', 'apiserver.crt']);
  await openssl(dir, ['req', '-x509', ...ec, '-days', '7', '-subj', '/O=tributary-test/CN=client-ca', '-keyout', 'client-ca.key', '-out', 'client-ca.crt']);
  await openssl(dir, ['req', '-new', ...ec, '-subj', '/O=system:masters/CN=admin', '-keyout', 'admin.key', '-out', 'admin.csr']);
  await openssl(dir, ['x509', '-req', '-in', 'admin.csr', '-CA', 'client-ca.crt', '-CAkey', 'client-ca.key', '-CAcreateserial', '-days', '7', '-extfile', 'client.ext', '-out', 'admin.crt']);
  await openssl(dir, ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'sa.key']);
  await openssl(dir, ['pkey', '-in', 'sa.key', '-pubout', '-out', 'sa.pub']);
}

function kubeconfig(server: string, dir: string): string {
  const b64 = (file: string) => readFileSync(join(dir, file)).toString('base64');
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: ${CLUSTER}`,
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority-data: ${b64('serving-ca.crt')}`,
    'users:',
    `- name: ${CLUSTER}`,
    '  user:',
    `    client-certificate-data: ${b64('admin.crt')}`,
    `    client-key-data: ${b64('admin.key')}`,
    'contexts:',
    `- name: ${CLUSTER}`,
    `  context: {cluster: ${CLUSTER}, user: ${CLUSTER}}`,
    `current-context: ${CLUSTER}`,
    '',
  ].join('\n');
}

async function etcdSupportsNoFsync(etcd: string): Promise<boolean> {
  try {
    const { stdout, stderr } = await run(etcd, ['--help'], { timeout: 30_000 });
    return `${stdout}${stderr}`.includes('--unsafe-no-fsync');
  } catch (error) {
    const output = error as { stdout?: string; stderr?: string; code?: string };
    if (output.code === 'ENOENT') throw new Error(`${etcd} not found: the test API server needs etcd (Debian: apt-get install etcd-server)`);
    return `${output.stdout ?? ''}${output.stderr ?? ''}`.includes('--unsafe-no-fsync');
  }
}

/** Splits a multi-document YAML stream on `---` lines; documents that are only comments/blank are dropped. JSON passes as one document. */
export function yamlDocuments(text: string): string[] {
  return text
    .split(/^---[ \t]*(?:#.*)?$/m)
    .filter((doc) => doc.split('\n').some((line) => line.trim() !== '' && !line.trim().startsWith('#')));
}

const sleep = (ms: number) => new Promise((wait) => setTimeout(wait, ms));

/**
 * Starts etcd and kube-apiserver (the cached build, built first if missing) on free loopback ports
 * and resolves once `/healthz` answers `ok`. Both run under a guard that stops them when this process
 * dies; stop() ends them and removes the temporary folder.
 */
export async function startKubeApiServer(options: KubeApiServerOptions = {}): Promise<KubeApiServer> {
  const log = options.log ?? (() => undefined);
  const startTimeoutMs = options.startTimeoutMs ?? 180_000;
  const kubeApiServerPath = options.kubeApiServerPath ?? (await ensureKubeTools({ log, tools: ['kube-apiserver'] })).kubeApiServer;
  // The start-up budget begins after the build: on a fresh machine ensureKubeTools compiles
  // kube-apiserver first (10–30 min), which used up the whole budget before etcd was started.
  const deadline = Date.now() + startTimeoutMs;
  const etcdPath = options.etcdPath ?? 'etcd';
  const noFsync = await etcdSupportsNoFsync(etcdPath);

  const dir = await mkdtemp(join(options.baseDir ?? tmpdir(), 'tributary-kube-'));
  const logFiles = { etcd: join(dir, 'etcd.log'), kubeApiServer: join(dir, 'kube-apiserver.log') };
  const kubeconfigPath = join(dir, 'kubeconfig');
  let etcd: GuardedProcess | undefined;
  let apiServer: GuardedProcess | undefined;
  let agent: Agent | undefined;
  let stopping: Promise<void> | undefined;

  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      agent?.destroy();
      await apiServer?.stop(30_000);
      await etcd?.stop(15_000);
      await rm(dir, { recursive: true, force: true });
    })();
    return stopping;
  };

  const failure = (what: string): Error =>
    new Error(
      `${what} (test API server folder ${dir}, removed)\n--- kube-apiserver log (tail) ---\n${tailOf(logFiles.kubeApiServer)}\n--- etcd log (tail) ---\n${tailOf(logFiles.etcd)}`,
    );

  try {
    await makeCertificates(dir);

    const etcdClientPort = await freePort();
    const etcdPeerPort = await freePort();
    const etcdUrl = `http://127.0.0.1:${etcdClientPort}`;
    etcd = await startGuarded(
      etcdPath,
      [
        '--name=tributary-test',
        `--data-dir=${join(dir, 'etcd-data')}`,
        `--listen-client-urls=${etcdUrl}`,
        `--advertise-client-urls=${etcdUrl}`,
        `--listen-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
        `--initial-cluster=tributary-test=http://127.0.0.1:${etcdPeerPort}`,
        ...(noFsync ? ['--unsafe-no-fsync=true'] : []),
      ],
      logFiles.etcd,
    );
    log(`etcd starting on ${etcdUrl} (pid ${etcd.pid}${noFsync ? ', --unsafe-no-fsync' : ''})`);
    const etcdProcess = etcd;
    await pollUntil(deadline, () => isProcessAlive(etcdProcess.pid), async () => {
      const response = await fetch(`${etcdUrl}/health`);
      return response.ok && ((await response.json()) as { health?: string }).health === 'true';
    }).catch((error: Error) => {
      throw failure(`etcd did not become healthy: ${error.message}`);
    });

    const port = await freePort();
    const server = `https://127.0.0.1:${port}`;
    const apiServerArgs = [
        `--etcd-servers=${etcdUrl}`,
        `--cert-dir=${dir}`,
        `--tls-cert-file=${join(dir, 'apiserver.crt')}`,
        `--tls-private-key-file=${join(dir, 'apiserver.key')}`,
        `--secure-port=${port}`,
        '--bind-address=127.0.0.1',
        '--advertise-address=127.0.0.1',
        '--service-cluster-ip-range=10.0.0.0/24',
        '--allow-privileged=true',
        // No controller-manager, so no default service account to admit pods against.
        '--disable-admission-plugins=ServiceAccount',
        '--authorization-mode=RBAC',
        `--client-ca-file=${join(dir, 'client-ca.crt')}`,
        `--service-account-issuer=${server}/`,
        `--service-account-key-file=${join(dir, 'sa.pub')}`,
        `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
        ...(options.extraArgs ?? []),
      ];
    apiServer = await startGuarded(kubeApiServerPath, apiServerArgs, logFiles.kubeApiServer);
    log(`kube-apiserver starting on ${server} (pid ${apiServer.pid}, logs in ${dir})`);

    const tls = {
      ca: readFileSync(join(dir, 'serving-ca.crt')),
      cert: readFileSync(join(dir, 'admin.crt')),
      key: readFileSync(join(dir, 'admin.key')),
    };
    agent = new Agent({ ...tls, keepAlive: true, maxSockets: 8 });
    const httpsAgent = agent;

    const request = <T = KubeObject>(method: string, path: string, body?: unknown, requestOptions: KubeRequestOptions = {}): Promise<KubeResponse<T>> => {
      const url = new URL(path, server);
      for (const [name, value] of Object.entries(requestOptions.query ?? {})) {
        if (value !== undefined) url.searchParams.set(name, String(value));
      }
      const payload = body === undefined ? undefined : typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
      const headers: Record<string, string> = { accept: 'application/json' };
      if (payload !== undefined) {
        headers['content-type'] = requestOptions.contentType ?? 'application/json';
        headers['content-length'] = String(Buffer.byteLength(payload));
      }
      return new Promise<KubeResponse<T>>((resolveResponse, reject) => {
        const outgoing = httpsRequest(url, { method, agent: httpsAgent, headers, timeout: 60_000 }, (incoming) => {
          const chunks: Buffer[] = [];
          incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
          incoming.on('error', reject);
          incoming.on('end', () => {
            const text = Buffer.concat(chunks).toString();
            let parsed: unknown = text;
            if ((incoming.headers['content-type'] ?? '').includes('json') && text !== '') {
              try {
                parsed = JSON.parse(text);
              } catch {
                parsed = text;
              }
            }
            resolveResponse({ status: incoming.statusCode ?? 0, body: parsed as T });
          });
        });
        outgoing.on('timeout', () => outgoing.destroy(new Error(`${method} ${path}: no answer within 60 s`)));
        outgoing.on('error', reject);
        outgoing.end(payload);
      });
    };

    const apiProcess = apiServer;
    await pollUntil(deadline, () => isProcessAlive(apiProcess.pid) && isProcessAlive(etcdProcess.pid), async () => {
      const response = await request<string>('GET', '/healthz');
      return response.status === 200 && response.body === 'ok';
    }).catch((error: Error) => {
      throw failure(`kube-apiserver did not become healthy: ${error.message}`);
    });
    // /healthz is ok before the system namespaces exist; charts and tests expect `default`.
    await pollUntil(deadline, () => isProcessAlive(apiProcess.pid), async () => (await request('GET', '/api/v1/namespaces/default')).status === 200).catch(
      (error: Error) => {
        throw failure(`kube-apiserver never created the default namespace: ${error.message}`);
      },
    );
    await writeFile(kubeconfigPath, kubeconfig(server, dir), { mode: 0o600 });
    log(`kube-apiserver ready at ${server} (kubeconfig ${kubeconfigPath})`);

    const discovery = new Map<string, { name: string; kind: string; namespaced: boolean }[]>();
    const resourcePath = async (object: KubeObject, pathOptions: { collection?: boolean } = {}): Promise<string> => {
      const { apiVersion, kind } = object;
      if (!apiVersion || !kind) throw new Error(`object without apiVersion/kind: ${JSON.stringify(object).slice(0, 200)}`);
      const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
      let resources = discovery.get(base);
      if (!resources) {
        const response = await request<{ resources?: { name: string; kind: string; namespaced: boolean }[] }>('GET', base);
        if (response.status !== 200) throw new Error(`discovery of ${apiVersion} failed (${response.status}): is its CRD installed?`);
        resources = (response.body.resources ?? []).filter((resource) => !resource.name.includes('/'));
        discovery.set(base, resources);
      }
      const resource = resources.find((candidate) => candidate.kind === kind);
      if (!resource) throw new Error(`the API server serves no ${kind} in ${apiVersion}`);
      const namespace = resource.namespaced ? `/namespaces/${encodeURIComponent(object.metadata?.namespace ?? 'default')}` : '';
      const name = pathOptions.collection || !object.metadata?.name ? '' : `/${encodeURIComponent(object.metadata.name)}`;
      return `${base}${namespace}/${resource.name}${name}`;
    };

    const createObject = async <T = KubeObject>(object: KubeObject, createOptions: { dryRun?: boolean } = {}): Promise<KubeResponse<T>> =>
      request<T>('POST', await resourcePath(object, { collection: true }), object, { query: { dryRun: createOptions.dryRun ? 'All' : undefined } });

    const installCrds = async (files: readonly string[], installOptions: { timeoutMs?: number } = {}): Promise<string[]> => {
      const names: string[] = [];
      for (const file of files) {
        for (const document of yamlDocuments(await readFile(file, 'utf8'))) {
          // The API server parses YAML itself: no YAML library needed here.
          const created = await request('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', document, { contentType: 'application/yaml' });
          const name = created.body.metadata?.name;
          if (created.status === 409) {
            // AlreadyExists: a Status whose details name the CRD.
            const existing = (created.body as { details?: { name?: string } }).details?.name;
            if (!existing) throw new Error(`creating a CRD from ${file} failed (409): ${JSON.stringify(created.body).slice(0, 2000)}`);
            names.push(existing);
            continue;
          }
          if (created.status !== 201 || !name) throw new Error(`creating a CRD from ${file} failed (${created.status}): ${JSON.stringify(created.body).slice(0, 2000)}`);
          names.push(name);
        }
      }
      discovery.clear();
      const until = Date.now() + (installOptions.timeoutMs ?? 60_000);
      for (const name of names) {
        let conditions: { type: string; status: string; message?: string }[] = [];
        for (;;) {
          const crd = await request<{ status?: { conditions?: typeof conditions } }>('GET', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`);
          conditions = crd.body.status?.conditions ?? [];
          if (conditions.some((condition) => condition.type === 'Established' && condition.status === 'True')) break;
          if (Date.now() > until) throw new Error(`CRD ${name} was not Established in time: ${JSON.stringify(conditions)}`);
          await sleep(100);
        }
      }
      return names;
    };

    const restartApiServer = async (restartOptions: { downMs?: number; timeoutMs?: number } = {}): Promise<void> => {
      await apiServer?.stop(30_000);
      log(`kube-apiserver stopped (restart; etcd keeps running)`);
      await sleep(restartOptions.downMs ?? 0);
      const restarted = await startGuarded(kubeApiServerPath, apiServerArgs, logFiles.kubeApiServer);
      apiServer = restarted;
      await pollUntil(Date.now() + (restartOptions.timeoutMs ?? 120_000), () => isProcessAlive(restarted.pid), async () => {
        const response = await request<string>('GET', '/healthz');
        return response.status === 200 && response.body === 'ok';
      }).catch((error: Error) => {
        throw failure(`kube-apiserver did not become healthy again after a restart: ${error.message}`);
      });
      log(`kube-apiserver restarted on ${server} (pid ${restarted.pid})`);
    };

    const createNamespace = async (name: string): Promise<void> => {
      const response = await request('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
      if (response.status !== 201 && response.status !== 409) {
        throw new Error(`creating namespace ${name} failed (${response.status}): ${JSON.stringify(response.body)}`);
      }
    };

    return {
      server,
      kubeconfigPath,
      dir,
      get pids() {
        return { etcd: (etcd as GuardedProcess).pid, kubeApiServer: (apiServer as GuardedProcess).pid };
      },
      logFiles,
      request,
      installCrds,
      createNamespace,
      resourcePath,
      createObject,
      restartApiServer,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Polls `probe` every 200 ms until it returns true; fails early when `alive` turns false. */
async function pollUntil(deadline: number, alive: () => boolean, probe: () => Promise<boolean>): Promise<void> {
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    if (!alive()) throw new Error(`the process exited (${last})`);
    try {
      if (await probe()) return;
      last = 'not healthy yet';
    } catch (error) {
      last = String(error);
    }
    await sleep(200);
  }
  throw new Error(`timed out (${last})`);
}
