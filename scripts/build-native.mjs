#!/usr/bin/env node
// Builds the optional native addon (native/: N-API + OpenBLAS + OpenMP) with node-gyp.
// Runs from `npm install`/`npm ci` (postinstall) and from `npm run build:native`.
//
// The addon is optional: where a compiler, Node's headers or OpenBLAS are missing, this prints one
// line saying why and exits 0, so the install still succeeds. Either way it records the outcome in
// native/build/status.json, which `kernelflow doctor` reads to explain why `native` is unavailable.
//
//   node scripts/build-native.mjs [--verbose]      KERNELFLOW_SKIP_NATIVE=1 skips the build
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// Whatever goes wrong here must not fail `npm install`: one line, exit 0.
process.on('uncaughtException', (err) => {
  console.log(`kernelflow: native backend not built: ${err?.message ?? err} (optional; wasm and cpu still work)`);
  process.exit(0);
});

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const nativeDir = path.join(root, 'native');
const buildDir = path.join(nativeDir, 'build');
const statusFile = path.join(buildDir, 'status.json');
const addonFile = path.join(buildDir, 'Release', 'kernelflow_native.node');
const verbose = process.argv.includes('--verbose');

function record(ok, reason, log = '') {
  fs.mkdirSync(buildDir, { recursive: true });
  const status = { ok, reason, node: process.version, at: new Date().toISOString(), log: log.split('\n').slice(-40).join('\n') };
  fs.writeFileSync(statusFile, JSON.stringify(status, null, 2) + '\n');
  console.log(ok ? `kernelflow: native backend built (${reason})` : `kernelflow: native backend not built: ${reason} (optional; wasm and cpu still work)`);
  process.exit(0);
}

/** node-gyp: the one npm runs scripts with, else npm's bundled copy, else a local install. */
function findNodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  try {
    candidates.push(createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js'));
  } catch {
    // not installed locally
  }
  return candidates.find((c) => c && fs.existsSync(c));
}

function hasCompiler() {
  for (const cc of [process.env.CC, 'cc', 'gcc', 'clang'].filter(Boolean)) {
    try {
      execFileSync(cc, ['--version'], { stdio: 'ignore' });
      return true;
    } catch {
      // try the next one
    }
  }
  return false;
}

function findCblasHeader() {
  const dirs = ['/usr/include', '/usr/local/include', '/usr/include/x86_64-linux-gnu', '/usr/include/aarch64-linux-gnu', '/usr/include/openblas'];
  return dirs.map((d) => path.join(d, 'cblas.h')).find((f) => fs.existsSync(f));
}

function lastError(log) {
  const lines = log.split('\n').map((l) => l.trim()).filter(Boolean);
  const patterns = [/ error:|fatal error|cannot find -l|undefined reference/, /^make: \*\*\*/, /^gyp ERR! stack Error:/, /^gyp ERR!/];
  const hit = patterns.map((p) => lines.find((l) => p.test(l))).find(Boolean) ?? lines.at(-1);
  return (hit ?? 'unknown error').slice(0, 300);
}

if (process.env.KERNELFLOW_SKIP_NATIVE) record(false, 'skipped: KERNELFLOW_SKIP_NATIVE is set');
if (process.platform !== 'linux') record(false, `not built on ${process.platform}: only Linux with Debian/Ubuntu's libopenblas-dev is supported so far`);
if (!hasCompiler()) record(false, 'no C compiler found (cc/gcc/clang): install build-essential');
if (!findCblasHeader()) record(false, 'OpenBLAS not found (no cblas.h): install libopenblas-dev (apt-get install libopenblas-dev)');
const nodeGyp = findNodeGyp();
if (!nodeGyp) record(false, 'node-gyp not found (it ships with npm; run `npm run build:native`)');

// Build against the running Node's own headers when they are installed (no download).
const args = [nodeGyp, 'rebuild', '--directory', nativeDir];
const prefix = path.resolve(path.dirname(process.execPath), '..');
if (!process.env.npm_config_nodedir && fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);
const res = spawnSync(process.execPath, args, { cwd: nativeDir, encoding: 'utf8', maxBuffer: 64 << 20 });
const log = `${res.stdout ?? ''}\n${res.stderr ?? ''}`;
if (verbose) process.stdout.write(log);
if (res.error) record(false, `node-gyp could not start: ${res.error.message}`, log);
if (res.status !== 0 || !fs.existsSync(addonFile)) record(false, `node-gyp failed: ${lastError(log)}`, log);

// Loading it is the real test (libopenblas.so.0 and libgomp must resolve at run time too).
const check = spawnSync(
  process.execPath,
  ['-e', `const a = require(${JSON.stringify(addonFile)}); const i = a.info(); console.log(i.blasConfig.split(' ').slice(0, 2).join(' ') + ', ' + i.ompThreads + ' threads')`],
  { encoding: 'utf8' },
);
if (check.status !== 0) record(false, `built, but it fails to load: ${lastError(check.stderr ?? '')}`, log + (check.stderr ?? ''));
record(true, check.stdout.trim(), log);
