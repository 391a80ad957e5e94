/**
 * Where the addon is missing (never built, a failed build, or turned off), `native` is reported
 * unusable with the reason, an explicit request fails with that reason, and `auto` moves on to
 * wasm. Probes are cached per process, so each case runs in a fresh Node (with tsx), pointed at
 * an addon path that does not exist. Runs on every machine, with or without OpenBLAS.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { nativeBuildStatus } from '../../core/run/native-addon.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const SCRIPT = `
import { activateBackend, probeBackend } from './core/run/backends.ts';
import { doctorReport, formatDoctor } from './core/run/doctor.ts';
const probe = await probeBackend('native');
let explicit;
try { await activateBackend('native'); explicit = { ok: true }; }
catch (e) { explicit = { ok: false, name: e.name, code: e.code, reason: e.reason, message: e.message }; }
const auto = await activateBackend('auto');
const report = await doctorReport();
console.log(JSON.stringify({ probe, explicit, auto: { name: auto.name, reason: auto.reason }, doctor: formatDoctor(report, 'native') }));
`;

function runWith(env: Record<string, string>) {
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', SCRIPT], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, KERNELFLOW_DISABLE_NATIVE: '', KERNELFLOW_NATIVE_ADDON: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const line = out.trim().split('\n').at(-1)!;
  return JSON.parse(line) as {
    probe: { usable: boolean; installed: boolean; reason: string };
    explicit: { ok: boolean; name?: string; code?: string; reason?: string; message?: string };
    auto: { name: string; reason: string };
    doctor: string;
  };
}

describe('native unavailable', () => {
  it('a missing addon: probe says why, --backend native is a BackendError with that reason, auto picks wasm, doctor fails it with the fix', () => {
    const missing = path.join(root, 'native', 'build', 'no-such-dir', 'kernelflow_native.node');
    const r = runWith({ KERNELFLOW_NATIVE_ADDON: missing });
    expect(r.probe).toMatchObject({ usable: false, installed: false });
    // Where the last build failed (a machine without OpenBLAS), the reason quotes that failure instead.
    const status = nativeBuildStatus();
    expect(r.probe.reason).toContain(status && !status.ok ? `native addon not built: ${status.reason}` : `native addon not found at ${missing}`);
    expect(r.probe.reason).toContain('npm run build:native');
    expect(r.explicit).toMatchObject({ ok: false, name: 'BackendError', code: 'backend_unavailable', reason: r.probe.reason });
    expect(r.explicit.message).toContain(`backend 'native' is not usable: ${r.probe.reason}`);
    expect(r.auto.name).toBe('wasm');
    expect(r.auto.reason).toContain(`native skipped: ${r.probe.reason}`);
    expect(r.doctor).toMatch(/^native\s+no\s+NO\s+native addon not (found|built)/m);
    expect(r.doctor).toContain('FAIL: requested backend native is not usable');
    expect(r.doctor).toContain('libopenblas-dev');
  }, 60_000);

  it('KERNELFLOW_DISABLE_NATIVE turns it off, saying so', () => {
    const r = runWith({ KERNELFLOW_DISABLE_NATIVE: '1' });
    expect(r.probe).toMatchObject({ usable: false, reason: 'disabled by KERNELFLOW_DISABLE_NATIVE' });
    expect(r.auto.name).toBe('wasm');
  }, 60_000);
});
