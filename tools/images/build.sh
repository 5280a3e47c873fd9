#!/usr/bin/env bash
# Builds the service images from the one Dockerfile at the root (--build-arg SERVICE=<name>) with
# buildah (no Docker engine needed):
#   tools/images/build.sh [--base-standin] <all|ingest|transcoder|event-gateway|viewer-api|operator>...
#   tools/images/build.sh base        # only ensure the base image (stand-in, see below)
#   tools/images/build.sh clean       # remove the service images and every dangling layer
#                                     # (the build cache; vfs keeps each layer as a full copy)
# Images are tagged $IMAGE_PREFIX<name>:$IMAGE_TAG (default tributary/<name>:<root package.json
# version>; buildah stores them as localhost/tributary/<name>:<tag>).
#
# The Dockerfile copies the host's compiled dist/ folders, so this first runs tools/bootstrap.js
# (npm install when missing + tsc -b). buildah runs with the vfs storage driver and chroot
# isolation: the only combination that works on our machines (no overlay mounts, no OCI runtime).
#
# The Dockerfile's base image (docker.io/library/debian:trixie-slim) comes from local storage; when
# it is missing it is pulled, and when that fails (no registry, as on our machines) - or right away
# with --base-standin (BASE_STANDIN=1) - a stand-in is assembled with `debootstrap --variant=minbase
# trixie` and tagged with that name (label org.tributary.base-standin). The rootfs tarball
# is cached outside the clone (~4 min once per machine), in a folder keyed by suite and recipe
# revision, so a fresh clone on the same machine - as CI is - reuses it:
#   $TRIBUTARY_CACHE_DIR/images/debian-trixie-minbase-r2/rootfs.tar
set -euo pipefail
cd "$(dirname "$0")/../.."

SERVICES=(ingest transcoder event-gateway viewer-api operator)
# Per service: the port its image EXPOSEs, and Debian packages its runtime needs beyond Node
# (ingest remuxes RTMP publishes with ffmpeg; the transcoder runs the ABR ladder with it).
declare -A PORTS=([ingest]=8081 [transcoder]=8083 [event-gateway]=8082 [viewer-api]=8080 [operator]=8084)
declare -A RUNTIME_PACKAGES=([ingest]=ffmpeg [transcoder]=ffmpeg)
BASE_IMAGE="docker.io/library/debian:trixie-slim"
BASE_KEY="debian-trixie-minbase-r2"
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
CACHE="${TRIBUTARY_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tributary}/images"
STORAGE_DRIVER="${STORAGE_DRIVER:-vfs}"
IMAGE_PREFIX="${IMAGE_PREFIX:-tributary/}"
IMAGE_TAG="${IMAGE_TAG:-$(node -p 'require("./package.json").version')}"
BASE_STANDIN="${BASE_STANDIN:-0}"
BUILD_CA_FILE="${BUILD_CA_FILE:-${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}}"

say() { printf '[images] %s\n' "$*" >&2; }
bh() { buildah --storage-driver "$STORAGE_DRIVER" "$@"; }

usage() { say "usage: $0 [--base-standin] <all|base|clean|$(IFS="|"; echo "${SERVICES[*]}")>..."; exit 2; }

require_tools() {
  command -v buildah >/dev/null || { say "buildah is not installed (Debian: apt-get install buildah)"; exit 1; }
  if [ "$(id -u)" != 0 ]; then
    say "run as root: rootless buildah needs user namespaces these machines do not offer"; exit 1
  fi
}

# The debootstrapped rootfs as a tarball, once per machine.
standin_rootfs() {
  local tar="$CACHE/$BASE_KEY/rootfs.tar"
  if [ -f "$tar" ]; then printf '%s\n' "$tar"; return; fi
  command -v debootstrap >/dev/null || { say "debootstrap is not installed (Debian: apt-get install debootstrap)"; exit 1; }
  say "assembling a stand-in for $BASE_IMAGE with debootstrap --variant=minbase trixie (once per machine, ~4 min)…"
  mkdir -p "$CACHE/$BASE_KEY"
  local work; work="$(mktemp -d "$CACHE/$BASE_KEY/.work.XXXXXX")"
  debootstrap --variant=minbase trixie "$work/rootfs" "$DEBIAN_MIRROR" >&2
  # What debian:*-slim does: no docs, man pages or translations from later apt-get installs
  # (the file the official image carries), no package caches or lists in the image.
  cat > "$work/rootfs/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
EOF
  # And what every official Debian image does (debuerreotype): unsafe-io dpkg, no apt caches or
  # translations.
  echo force-unsafe-io > "$work/rootfs/etc/dpkg/dpkg.cfg.d/docker-apt-speedup"
  cat > "$work/rootfs/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
  echo 'Acquire::Languages "none";' > "$work/rootfs/etc/apt/apt.conf.d/docker-no-languages"
  echo 'Acquire::GzipIndexes "true";' > "$work/rootfs/etc/apt/apt.conf.d/docker-gzip-indexes"
  echo 'Apt::AutoRemove::SuggestsImportant "false";' > "$work/rootfs/etc/apt/apt.conf.d/docker-autoremove-suggests"
  printf 'deb %s trixie main\ndeb %s trixie-updates main\ndeb http://deb.debian.org/debian-security trixie-security main\n' \
    "$DEBIAN_MIRROR" "$DEBIAN_MIRROR" > "$work/rootfs/etc/apt/sources.list"
  rm -rf "$work/rootfs/var/cache/apt/archives/"*.deb "$work/rootfs/var/lib/apt/lists/"* \
    "$work/rootfs/var/log/"*.log "$work/rootfs/usr/share/man/"* "$work/rootfs/usr/share/info/"*
  find "$work/rootfs/usr/share/doc" -mindepth 2 ! -name copyright -delete 2>/dev/null || true
  tar --numeric-owner -C "$work/rootfs" -cf "$work/rootfs.tar" .
  mv "$work/rootfs.tar" "$tar"
  rm -rf "$work"
  printf '%s\n' "$tar"
}

ensure_base() {
  local standin
  # Present and either the real image (no label) or a stand-in of the current recipe: done.
  if standin="$(bh inspect --type image --format '{{index .OCIv1.Config.Labels "org.tributary.base-standin"}}' \
      "$BASE_IMAGE" 2>/dev/null)" && { [ -z "$standin" ] || [ "$standin" = "$BASE_KEY" ]; }; then
    return
  fi
  if [ "$BASE_STANDIN" != 1 ]; then
    say "$BASE_IMAGE is not in local storage; pulling it"
    if timeout 300 buildah --storage-driver "$STORAGE_DRIVER" pull "$BASE_IMAGE" >&2; then return; fi
    command -v debootstrap >/dev/null || { say "cannot pull $BASE_IMAGE and debootstrap is not installed"; exit 1; }
    say "cannot pull $BASE_IMAGE (no registry?): using a debootstrap stand-in"
  fi
  local tar; tar="$(standin_rootfs)"
  say "importing the stand-in rootfs as $BASE_IMAGE"
  local ctr; ctr="$(bh from --name "tributary-base-import-$$" scratch)"
  trap 'bh rm "$ctr" >/dev/null 2>&1 || true' RETURN
  bh add "$ctr" "$tar" / >/dev/null
  bh config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --cmd bash \
    --label org.tributary.base-standin="$BASE_KEY" "$ctr"
  bh commit --rm "$ctr" "$BASE_IMAGE" >/dev/null
  trap - RETURN
}

build_image() {
  local service="$1" started=$SECONDS
  say "building ${IMAGE_PREFIX}$service:$IMAGE_TAG"
  # --layers: cache each instruction (the apt layers are shared by every image, the npm layer per service);
  # --force-rm: no working container is left behind when a step fails;
  # --pull=false: the base comes from local storage only (no registry on our machines).
  # The host's CA bundle as build secret `build-ca`: npm in the deps stage trusts what the host
  # trusts (e.g. a TLS-inspecting proxy in front of the registry); it is not stored in any layer.
  local ca=()
  [ -s "$BUILD_CA_FILE" ] && ca=(--secret "id=build-ca,src=$BUILD_CA_FILE")
  bh bud --layers --force-rm --pull=false --isolation chroot "${ca[@]}" -f Dockerfile \
    --build-arg "SERVICE=$service" --build-arg "PORT=${PORTS[$service]}" \
    --build-arg "RUNTIME_PACKAGES=${RUNTIME_PACKAGES[$service]:-}" \
    -t "${IMAGE_PREFIX}$service:$IMAGE_TAG" . >&2
  say "built ${IMAGE_PREFIX}$service:$IMAGE_TAG in $((SECONDS - started)) s"
}

targets=()
for arg in "$@"; do
  case "$arg" in
    --base-standin) BASE_STANDIN=1 ;;
    all) targets+=("${SERVICES[@]}") ;;
    base) targets+=(base) ;;
    clean)
      require_tools
      for s in "${SERVICES[@]}"; do bh rmi "${IMAGE_PREFIX}$s:$IMAGE_TAG" >/dev/null 2>&1 || true; done
      bh rmi --prune >/dev/null
      exit 0 ;;
    -*) usage ;;
    *) [[ " ${SERVICES[*]} " == *" $arg "* ]] || usage; targets+=("$arg") ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || usage

require_tools
ensure_base
if [ "${targets[*]}" != base ]; then
  node tools/bootstrap.js
  for t in "${targets[@]}"; do [ "$t" = base ] || build_image "$t"; done
fi
