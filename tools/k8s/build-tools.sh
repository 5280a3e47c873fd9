#!/usr/bin/env bash
# Builds the Kubernetes tools the chart and operator tests need, from Go modules (no release
# binaries can be downloaded on our machines), into version-keyed folders outside the clone:
#   $TRIBUTARY_CACHE_DIR/k8s-tools/kube-apiserver-v<K8S_VERSION>/kube-apiserver
#   $TRIBUTARY_CACHE_DIR/k8s-tools/helm-v<HELM_VERSION>/helm
# Each is built once per machine (~8 min of CPU for kube-apiserver, ~5 for helm); a present
# binary is reused. Recipe: ../shared/notes/kube-apiserver-for-tests.md (replace every staging
# module with its published v0.<minor>.<patch> tag, because k8s.io/kubernetes requires v0.0.0).
set -euo pipefail
cd "$(dirname "$0")/../.."

K8S_VERSION="${K8S_VERSION:-1.36.3}"
HELM_VERSION="${HELM_VERSION:-4.3.1}"
# Outside the clone (default ~/.cache/tributary), so a fresh clone on the same machine - as CI is -
# reuses what an earlier run built.
CACHE="${TRIBUTARY_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tributary}/k8s-tools"
say() { printf '[k8s-tools] %s\n' "$*" >&2; }

command -v go >/dev/null || { say "Go is needed to build kube-apiserver and helm (none on PATH)"; exit 1; }

# Staging modules of Kubernetes 1.36 (33; the list changes between minors, see the recipe).
STAGING="api apiextensions-apiserver apimachinery apiserver cli-runtime client-go cloud-provider
cluster-bootstrap code-generator component-base component-helpers controller-manager cri-api
cri-client cri-streaming csi-translation-lib dynamic-resource-allocation endpointslice externaljwt
kms kube-aggregator kube-controller-manager kube-proxy kube-scheduler kubectl kubelet metrics
mount-utils pod-security-admission sample-apiserver sample-cli-plugin sample-controller streaming"

build_kube_apiserver() {
  local out="$CACHE/kube-apiserver-v$K8S_VERSION"
  if [ -x "$out/kube-apiserver" ]; then return; fi
  say "building kube-apiserver v$K8S_VERSION from Go modules (once per machine, ~8 min of CPU)…"
  local minor="${K8S_VERSION#*.}"
  local work; work="$(mktemp -d)"
  {
    printf 'module tributary.local/kube-apiserver-build\n\ngo 1.26.0\n\nrequire k8s.io/kubernetes v%s\n\ntool k8s.io/kubernetes/cmd/kube-apiserver\n\nreplace (\n' "$K8S_VERSION"
    for m in $STAGING; do printf '\tk8s.io/%s => k8s.io/%s v0.%s\n' "$m" "$m" "$minor"; done
    printf ')\n'
  } > "$work/go.mod"
  (cd "$work" && go mod tidy >&2)
  local major="${K8S_VERSION%%.*}" mnr="${minor%%.*}"
  (cd "$work" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w \
    -X k8s.io/component-base/version.gitMajor=$major -X k8s.io/component-base/version.gitMinor=$mnr \
    -X k8s.io/component-base/version.gitVersion=v$K8S_VERSION -X k8s.io/component-base/version.gitTreeState=clean \
    -X k8s.io/client-go/pkg/version.gitMajor=$major -X k8s.io/client-go/pkg/version.gitMinor=$mnr \
    -X k8s.io/client-go/pkg/version.gitVersion=v$K8S_VERSION" \
    -o "$work/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver)
  mkdir -p "$out"
  mv "$work/kube-apiserver" "$out/kube-apiserver.tmp" && mv "$out/kube-apiserver.tmp" "$out/kube-apiserver"
  rm -rf "$work"
}

build_helm() {
  local out="$CACHE/helm-v$HELM_VERSION"
  if [ -x "$out/helm" ]; then return; fi
  say "building helm v$HELM_VERSION with go install (once per machine, ~5 min of CPU)…"
  mkdir -p "$out"
  local major="${HELM_VERSION%%.*}"
  GOBIN="$out/.bin" CGO_ENABLED=0 go install "helm.sh/helm/v$major/cmd/helm@v$HELM_VERSION" >&2
  mv "$out/.bin/helm" "$out/helm" && rmdir "$out/.bin"
}

case "${1:-all}" in
  kube-apiserver) build_kube_apiserver ;;
  helm) build_helm ;;
  all) build_helm; build_kube_apiserver ;;
  *) say "usage: $0 [all|helm|kube-apiserver]"; exit 2 ;;
esac
"$CACHE/helm-v$HELM_VERSION/helm" version --short 2>/dev/null >&2 || true
