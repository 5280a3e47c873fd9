import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { yamlDocuments } from './kube-api-server';
import { KUBE_TOOL_VERSIONS, kubeToolPaths } from './kube-tools';
import { REPO_ROOT } from './local-kafka';

const SCRIPT = readFileSync(join(REPO_ROOT, 'tools', 'k8s', 'build-tools.sh'), 'utf8');

/** The cache folder as build-tools.sh computes it (its own CACHE= line, run by bash). */
function scriptCacheDir(env: Record<string, string>): string {
  const line = /^CACHE=.*$/m.exec(SCRIPT)?.[0];
  if (!line) throw new Error('no CACHE= line in build-tools.sh');
  return execFileSync('bash', ['-c', `${line}; printf %s "$CACHE"`], { env: { PATH: process.env.PATH ?? '', ...env } }).toString();
}

describe(kubeToolPaths.name, () => {
  it.each<Record<string, string>>([
    { HOME: '/home/a' },
    { HOME: '/home/a', XDG_CACHE_HOME: '/xdg' },
    { HOME: '/home/a', XDG_CACHE_HOME: '/xdg', TRIBUTARY_CACHE_DIR: '/cache/t' },
    { HOME: '/home/a', TRIBUTARY_CACHE_DIR: '' },
  ])('resolves the cache folder exactly as build-tools.sh does (%o)', (env) => {
    const paths = kubeToolPaths(env);
    expect(paths.cacheDir).toBe(scriptCacheDir(env));
    expect(paths.kubeApiServer).toBe(join(paths.cacheDir, `kube-apiserver-v${KUBE_TOOL_VERSIONS.kubernetes}`, 'kube-apiserver'));
    expect(paths.helm).toBe(join(paths.cacheDir, `helm-v${KUBE_TOOL_VERSIONS.helm}`, 'helm'));
  });

  it('names the versions the script builds by default', () => {
    expect(SCRIPT).toContain(`K8S_VERSION="\${K8S_VERSION:-${KUBE_TOOL_VERSIONS.kubernetes}}"`);
    expect(SCRIPT).toContain(`HELM_VERSION="\${HELM_VERSION:-${KUBE_TOOL_VERSIONS.helm}}"`);
  });
});

describe(yamlDocuments.name, () => {
  it('splits on document markers and drops empty or comment-only documents', () => {
    const text = '# header\n---\na: 1\n---   \n\n---\n# only a comment\n--- # marker comment\nb: |\n  ---indented is content\nc: 2\n';
    expect(yamlDocuments(text).map((doc) => doc.trim())).toEqual(['a: 1', 'b: |\n  ---indented is content\nc: 2']);
  });

  it('keeps a JSON document whole', () => {
    expect(yamlDocuments('{"kind":"CustomResourceDefinition"}')).toEqual(['{"kind":"CustomResourceDefinition"}']);
  });
});
