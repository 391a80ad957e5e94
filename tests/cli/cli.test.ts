/**
 * The bundled CLI end to end (dist/cli.js, built by `npm test`'s pretest): exit codes, one-line
 * diagnostics, run outputs (.npy readable back), cache reuse, plan's explanations, ops, viz, cache
 * management and doctor.
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeNpy } from '../../core/io/npy.js';

const bin = path.resolve('bin/kernelflow.js');
let work: string;

function kf(args: string[], cwd = work) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8', env: { ...process.env, KERNELFLOW_CACHE_DIR: path.join(work, 'cache') } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  work = mkdtempSync(path.join(os.tmpdir(), 'kf-cli-'));
  cpSync('graphs', path.join(work, 'graphs'), { recursive: true });
  cpSync('tests/fixtures', path.join(work, 'fixtures'), { recursive: true });
});

describe('kernelflow CLI', () => {
  it('validate: exit 0 on a valid graph', () => {
    const r = kf(['validate', 'graphs/random-projection.json']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/graphs\/random-projection\.json: valid \(6 nodes, 3 outputs\)/);
  });

  it('validate: exit 2 and one line per problem, all at once', () => {
    const r = kf(['validate', 'fixtures/bad/many-errors.json']);
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toContain("fixtures/bad/many-errors.json: /nodes/a/params/std: node 'a' (data.normal): must be > 0");
    expect(lines.filter((l) => l.startsWith('fixtures/bad/many-errors.json: /nodes/')).length).toBeGreaterThanOrEqual(3);
    expect(lines.at(-1)).toMatch(/\d+ problem\(s\) found/);
  });

  it('a malformed --set and an unknown backend are usage errors (exit 2)', () => {
    expect(kf(['validate', 'graphs/random-projection.json', '--set', 'k']).code).toBe(2);
    const r = kf(['run', 'graphs/random-projection.json', '--backend', 'cuda']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/invalid|Allowed choices/i);
  });

  it('asking for a backend that is not installed fails loudly (exit 2), never falls back', () => {
    const r = kf(['run', 'graphs/linear-model-error.json', '--backend', 'tensorflow']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/backend 'tensorflow' is not usable: .*@tensorflow\/tfjs-node/);
  });

  it('run writes .npy outputs, resolved graph and manifest; a re-run is served from the cache with identical bytes', () => {
    const out1 = path.join(work, 'out1');
    const r1 = kf(['run', 'graphs/random-projection.json', '--backend', 'wasm', '--out', out1, '--set', 'n=50']);
    expect(r1.code, r1.stderr).toBe(0);
    expect(r1.stdout).toMatch(/random-projection: ok on wasm/);
    expect(r1.stdout).toMatch(/cache hits: 0/);
    expect(readdirSync(out1).sort()).toEqual(['distortion.npy', 'gram.npy', 'gram_projected.npy', 'graph.resolved.json', 'manifest.json']);
    const gram = decodeNpy(readFileSync(path.join(out1, 'gram.npy')));
    expect(gram.shape).toEqual([50, 50]);
    const manifest = JSON.parse(readFileSync(path.join(out1, 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({ status: 'ok', params: { n: 50 }, seed: 7, backend: { name: 'wasm' }, versions: { tfjs: '4.22.0' } });
    expect(manifest.outputs.gram).toMatchObject({ file: 'gram.npy', shape: [50, 50], dtype: 'float32' });
    expect(manifest.nodes.x).toMatchObject({ op: 'data.normal', opVersion: 1, cache: 'miss', status: 'ok' });

    const out2 = path.join(work, 'out2');
    const r2 = kf(['run', 'graphs/random-projection.json', '--backend', 'wasm', '--out', out2, '--set', 'n=50']);
    expect(r2.stdout).toMatch(/3 not needed \(cached downstream\)\); cache hits: 3/);
    for (const f of ['gram.npy', 'gram_projected.npy', 'distortion.npy']) {
      expect(readFileSync(path.join(out2, f)).equals(readFileSync(path.join(out1, f)))).toBe(true);
    }
    const m2 = JSON.parse(readFileSync(path.join(out2, 'manifest.json'), 'utf8'));
    expect(m2.graph.sha256).toBe(manifest.graph.sha256);
    expect(m2.outputs.gram.sha256).toBe(manifest.outputs.gram.sha256);
  });

  it('reproduce re-runs from a manifest and compares outputs bit for bit', () => {
    const dir = mkdtempSync(path.join(work, 'repro-'));
    cpSync('graphs/hutchinson-trace.json', path.join(dir, 'g.json'));
    const out = path.join(dir, 'out');
    expect(kf(['run', 'g.json', '--backend', 'wasm', '--set', 'm=40', '--no-cache', '--out', out], dir).code).toBe(0);
    const same = kf(['reproduce', path.join(out, 'manifest.json'), '--out', path.join(dir, 'again')], dir);
    expect(same.code, same.stderr).toBe(0);
    expect(same.stdout).toMatch(/all 3 outputs reproduced bit for bit/);
    // Edit the graph: the manifest no longer describes it, and the outputs change.
    const g = JSON.parse(readFileSync(path.join(dir, 'g.json'), 'utf8'));
    g.seed = 99;
    writeFileSync(path.join(dir, 'g.json'), JSON.stringify(g));
    const changed = kf(['reproduce', path.join(out, 'manifest.json')], dir);
    expect(changed.code).toBe(1);
    expect(changed.stdout).toMatch(/graph resolves differently now/);
    expect(changed.stdout).toMatch(/DIFFERENT {2}estimate/);
  });

  it('plan shows shapes, cache status and why each node recomputes since the last run', () => {
    kf(['run', 'graphs/random-projection.json', '--backend', 'wasm', '--out', path.join(work, 'p0'), '--set', 'n=40']);
    const r = kf(['plan', 'graphs/random-projection.json', '--set', 'n=40', '--set', 'k=64', '--set', 'proj_std=0.125']);
    expect(r.code, r.stderr).toBe(0);
    const row = (node: string) => r.stdout.split('\n').find((l) => new RegExp(`^\\d+\\s+${node}\\s`).test(l)) ?? '';
    expect(row('x')).toMatch(/float32\[40,512\].*cached/);
    expect(row('r')).toMatch(/float32\[512,64\].*compute\s+params changed: shape, std/);
    expect(row('xr')).toMatch(/compute\s+upstream 'r' changed/);
    expect(row('gram')).toMatch(/cached/);
    expect(r.stdout).toMatch(/estimated peak tensor memory: \d/);
  });

  it('a node failure at run time exits 1, other branches still finish and outputs are kept', () => {
    const dir = mkdtempSync(path.join(work, 'fail-'));
    writeFileSync(path.join(dir, 'g.json'), JSON.stringify({
      kernelflow: '1', name: 'partial',
      nodes: { v: { op: 'data.load', params: { path: 'missing.npy' } }, s: { op: 'math.scale', inputs: { x: 'v' } }, ok: { op: 'data.constant', params: { value: [1, 2] } } },
      outputs: { s: 's', ok: 'ok' },
    }));
    const r = kf(['run', 'g.json', '--backend', 'wasm', '--out', 'out'], dir);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/✗ v \(data\.load\): \[io\] .*missing\.npy/);
    expect(readdirSync(path.join(dir, 'out'))).toContain('ok.npy');
    const manifest = JSON.parse(readFileSync(path.join(dir, 'out', 'manifest.json'), 'utf8'));
    expect(manifest.status).toBe('failed');
    expect(manifest.nodes.s.status).toBe('skipped');
  });

  it('data.load refuses a symlink that leads outside the graph folder (exit 2, naming the path)', () => {
    const dir = mkdtempSync(path.join(work, 'link-'));
    symlinkSync('/etc/hostname', path.join(dir, 'data.csv'));
    writeFileSync(path.join(dir, 'g.json'), JSON.stringify({ kernelflow: '1', nodes: { v: { op: 'data.load', params: { path: 'data.csv' } } } }));
    const r = kf(['validate', 'g.json'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/g\.json: \/nodes\/v\/params\/path: node 'v' \(data\.load\): path 'data\.csv' leads outside the allowed folders through a symlink/);
  });

  it('Ctrl-C cancels promptly and still writes the outputs computed so far and a manifest', async () => {
    const out = path.join(work, 'cancelled');
    const child = spawn(process.execPath, [bin, 'run', 'tests/fixtures/slow-graph.json', '--backend', 'wasm', '--no-cache', '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    // Wait until the slow node is running, then interrupt.
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        if (/running slow/.test(stderr)) {
          clearInterval(timer);
          setTimeout(resolve, 300);
        }
      }, 50);
    });
    const t0 = Date.now();
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(code).toBe(1);
    expect(stderr).toMatch(/cancelling/);
    const manifest = JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8'));
    expect(manifest.status).toBe('cancelled');
    expect(manifest.nodes.wait.status).toBe('cancelled');
    expect(manifest.nodes.after.status).toBe('cancelled');
    expect(readdirSync(out)).toContain('x.npy');
  });

  it('run --json prints the event stream as JSON lines', () => {
    const r = kf(['run', 'graphs/linear-model-error.json', '--backend', 'wasm', '--json', '--no-cache', '--out', path.join(work, 'json-run')]);
    expect(r.code).toBe(0);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(events[0]).toMatchObject({ type: 'run-start', graph: 'linear-model-error', backend: 'wasm' });
    expect(events.at(-1)).toMatchObject({ type: 'run-end', status: 'ok' });
    expect(events.filter((e) => e.type === 'node-end').map((e) => e.cache)).toEqual(Array(7).fill('off'));
  });

  it('plugins: loaded from the graph, printed, and usable with --plugin by ops describe', () => {
    // Run from the repository: the plugin imports 'kernelflow', which resolves to this package.
    const repo = process.cwd();
    const r = kf(['run', 'examples/plugins/softplus-graph.json', '--backend', 'wasm', '--no-cache', '--out', path.join(work, 'sp')], repo);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/loaded plugin .*softplus\.js/);
    const d = kf(['ops', 'describe', 'example.softplus', '--plugin', './examples/plugins/softplus.js'], repo);
    expect(d.code, d.stderr).toBe(0);
    expect(d.stdout).toMatch(/beta: number = 1 {2}— Sharpness β > 0/);
  });

  it('ops lists the built-ins; ops describe shows ports and params with defaults', () => {
    const r = kf(['ops']);
    expect(r.stdout).toMatch(/math\.matmul\s+1\s+Matrix product/);
    const d = kf(['ops', 'describe', 'data.normal']);
    expect(d.stdout).toMatch(/stochastic/);
    expect(d.stdout).toMatch(/std: number = 1/);
    expect(d.stdout).toMatch(/outputs:\n {2}out {2}\[tensor, float32/);
    const json = JSON.parse(kf(['ops', '--json']).stdout);
    expect(json.find((o: { id: string }) => o.id === 'math.reduce').params.properties.op.default).toBe('sum');
    const bad = kf(['ops', 'describe', 'math.matmull']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/did you mean math\.matmul/);
  });

  it('viz renders mermaid and dot', () => {
    const m = kf(['viz', 'graphs/hutchinson-trace.json']);
    expect(m.stdout).toMatch(/^flowchart LR/);
    expect(m.stdout).toMatch(/n_z -->\|b\| n_az/);
    const d = kf(['viz', 'graphs/hutchinson-trace.json', '--format', 'dot']);
    expect(d.stdout).toMatch(/^digraph "hutchinson-trace" \{/);
    expect(d.stdout).toMatch(/"z" -> "quadratic_forms" \[label="a"\];/);
  });

  it('cache stats, prune and clear', () => {
    const stats = kf(['cache', 'stats']);
    expect(stats.stdout).toMatch(/: [1-9]\d* entries, /);
    const pruned = kf(['cache', 'prune', '--max-size', '1kB']);
    expect(pruned.stdout).toMatch(/removed [1-9]\d* entries/);
    const cleared = kf(['cache', 'clear']);
    expect(cleared.code).toBe(0);
    expect(kf(['cache', 'stats']).stdout).toMatch(/: 0 entries/);
  });

  it('doctor lists backends and fails for an unusable requested one', () => {
    const r = kf(['doctor']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/wasm/);
    expect(r.stdout).toMatch(/tfjs-node/);
    expect(kf(['doctor', '--backend', 'tensorflow-gpu']).code).toBe(2);
  });
});
