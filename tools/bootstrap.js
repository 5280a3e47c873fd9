#!/usr/bin/env node
/*
 * First step of `npm start`, `npm test` and the other scripts: installs what a fresh clone lacks
 * and builds. Plain JavaScript with Node built-ins only, because it runs before anything else is
 * installed. Kafka's jars are fetched later, only when a local broker is actually needed.
 */
'use strict';
const { execFileSync } = require('node:child_process');
const { existsSync, statSync, chmodSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const say = (line) => process.stderr.write(`[bootstrap] ${line}\n`);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function run(command, args) {
  execFileSync(command, args, { cwd: root, stdio: 'inherit' });
}

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 19)) {
  say(`Node ${process.versions.node} is too old: Tributary needs Node >= 20.19.`);
  process.exit(1);
}

// npm writes node_modules/.package-lock.json on every install; older than the lockfile = stale.
const installed = join(root, 'node_modules', '.package-lock.json');
const lock = join(root, 'package-lock.json');
const manifest = join(root, 'package.json');
const stale =
  !existsSync(installed) ||
  (existsSync(lock) && statSync(lock).mtimeMs > statSync(installed).mtimeMs) ||
  statSync(manifest).mtimeMs > statSync(installed).mtimeMs;
if (stale) {
  say('installing npm dependencies…');
  // `npm install` rather than `npm ci`: it installs exactly the locked versions too, but accepts a
  // lockfile that records only this platform's optional binaries (as npm writes it here).
  run(npm, ['install', '--no-audit', '--no-fund']);
}

// The ffmpeg/ffprobe packages set their binary's exec bit in an install script; npm 11 may not
// have run it (allowScripts), so do it here.
for (const binary of ['@ffmpeg-installer/linux-x64/ffmpeg', '@ffprobe-installer/linux-x64/ffprobe']) {
  const path = join(root, 'node_modules', binary);
  if (existsSync(path)) chmodSync(path, 0o755);
}

say('building (tsc -b)…');
run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-b']);
