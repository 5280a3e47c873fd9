# syntax=docker/dockerfile:1
# One Dockerfile for every service image: `--build-arg SERVICE=<ingest|transcoder|viewer-api|
# event-gateway|operator>` picks the service (its npm workspace, port and entrypoint), and
# RUNTIME_PACKAGES adds Debian packages to its runtime (the transcoder's ffmpeg).
# Build from the repository root after `tsc -b`: `npm run images:build:<service>` (tools/images/build.sh),
# or with Docker: `docker build --build-arg SERVICE=ingest --build-arg PORT=8081 .`. Layout and base: docs/images.md.
# (Few instructions on purpose: buildah's vfs driver stores every layer as a full copy.)
ARG BASE_IMAGE=docker.io/library/debian:trixie-slim

# The context (see .dockerignore): npm manifests, lockfile, compiled dist/ and public/ folders.
FROM ${BASE_IMAGE} AS source
COPY . /src
RUN mkdir /manifests && cd /src \
 && find . \( -name package.json -o -name package-lock.json \) -exec cp --parents {} /manifests \;

# Production dependencies of this service and of the libs it links, as the lockfile pins them
# (from the manifests only, so this layer is reused until they change). The compiler is for
# zstd-napi (Kafka's zstd codec), which builds from source on install. The optional secret
# `build-ca` is a CA bundle for reaching the npm registry through a TLS-inspecting proxy
# (tools/images/build.sh passes the host's); it is mounted for this step only, never stored.
# The apt layer comes before SERVICE is used, so every service shares it.
FROM ${BASE_IMAGE} AS deps
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      nodejs npm ca-certificates python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY --from=source /manifests/ /app/
ARG SERVICE
RUN --mount=type=cache,target=/root/.npm --mount=type=secret,id=build-ca \
    test -n "$SERVICE" && test -f "/app/services/$SERVICE/package.json" || { echo "build with --build-arg SERVICE=<a folder of services/>" >&2; exit 1; }; \
    if [ -s /run/secrets/build-ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/build-ca; fi \
 && cd /app && npm ci --omit=dev --workspace "services/$SERVICE" --no-audit --no-fund --loglevel=warn

# npm linked the workspaces this service needs (node_modules/@tributary/* -> libs/x, services/x):
# keep those with their compiled code, drop the others, point /app/main.js at the service's
# entrypoint (node resolves the link, so the service's own paths are unchanged), make everything
# read-only.
FROM source AS app
ARG SERVICE
COPY --from=deps /app/ /src/
RUN cd /src \
 && keep="$(for link in node_modules/@tributary/*; do readlink "$link" | sed 's#^\.\./\.\./##'; done)" \
 && for dir in libs/* services/*; do printf '%s\n' $keep | grep -qx "$dir" || rm -rf "$dir"; done \
 && ln -s "services/$SERVICE/dist/main.js" main.js \
 && chmod -R a-w,a+rX /src

# Config first, files last: every instruction is a layer, and with vfs a full copy of the one below.
FROM ${BASE_IMAGE}
ARG RUNTIME_PACKAGES=""
ENV NODE_ENV=production TMPDIR=/tmp
WORKDIR /app
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nodejs tini ca-certificates ${RUNTIME_PACKAGES} \
 && rm -rf /var/lib/apt/lists/*
# An unprivileged numeric user (the chart's securityContext uses the same ids) that writes only
# under TMPDIR (an emptyDir in the chart); COPY still creates root-owned files, left read-only.
USER 10001:10001
ARG PORT=8080
EXPOSE ${PORT}
# tini is PID 1: it forwards SIGTERM to node (graceful shutdown) and reaps child processes.
ENTRYPOINT ["/usr/bin/tini", "--", "node", "--enable-source-maps", "/app/main.js"]
ARG SERVICE
LABEL org.tributary.service="${SERVICE}"
COPY --from=app /src/ /app/
