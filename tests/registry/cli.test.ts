/**
 * `kernelflow runs …` end to end through the bundled CLI (bin/kernelflow.js, built by `npm run
 * build`): run and sweep record into the registry (--registry, $KERNELFLOW_REGISTRY, the default
 * under .kernelflow/, --no-registry), list/show/diff read it back, and a bad registry only warns.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const bin = path.resolve('bin/kernelflow.js');
let work: string;

function kf(args: string[], env: Record<string, string> = {}) {
  const { KERNELFLOW_REGISTRY: _ignored, ...base } = process.env;
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: work, encoding: 'utf8', env: { ...base, KERNELFLOW_CACHE_DIR: path.join(work, 'cache'), ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const small = ['--set', 'n=16', '--set', 'd=32', '--set', 'k=8'];
const run = (out: string, backend: string, ...extra: string[]) => kf(['run', 'graphs/random-projection.json', '--backend', backend, '--out', out, ...small, ...extra]);

beforeAll(() => {
  work = mkdtempSync(path.join(os.tmpdir(), 'kf-runs-cli-'));
  cpSync('graphs', path.join(work, 'graphs'), { recursive: true });
});

// Each CLI call starts a process and tfjs: give a loaded machine room.
describe('kernelflow runs', { timeout: 240_000 }, () => {
  it('records runs; diff agrees across backends and names a changed param first; list and show read them back', () => {
    const r1 = run('wasm', 'wasm', '--registry', 'reg.sqlite');
    expect(r1.code, r1.stderr).toBe(0);
    expect(r1.stdout).toMatch(/recorded as run 1 \(kernelflow runs show 1\)/);
    expect(run('cpu', 'cpu', '--registry', 'reg.sqlite').stdout).toMatch(/recorded as run 2/);
    expect(run('std', 'cpu', '--registry', 'reg.sqlite', '--set', 'proj_std=0.2').stdout).toMatch(/recorded as run 3/);

    const same = kf(['runs', '--registry', 'reg.sqlite', 'diff', '1', '2']);
    expect(same.code, same.stderr).toBe(0);
    expect(same.stdout).toMatch(/^A: run 1 \(random-projection on wasm, ok\)\nB: run 2 \(random-projection on cpu, ok\)/);
    expect(same.stdout).toMatch(/\nthe runs agree within tolerance\n$/);
    const sameJson = JSON.parse(kf(['runs', '--registry', 'reg.sqlite', 'diff', '1', '2', '--json']).stdout);
    expect(sameJson.agree).toBe(true);
    expect(sameJson.outputs.map((o: { name: string; verdict: string }) => [o.name, o.verdict])).toEqual([['distortion', 'agree'], ['gram', 'agree'], ['gram_projected', 'agree']]);

    const changed = kf(['runs', '--registry', 'reg.sqlite', 'diff', '2', '3']);
    expect(changed.code).toBe(1);
    expect(changed.stdout).toMatch(/\nfirst divergence: node 'r' \(data\.normal\): params changed: std; out: max abs \S+, max rel \S+\ndownstream of it: xr, gram_projected, distortion\n$/);
    expect(changed.stdout).toMatch(/\ngram +\[16,16\] +float32 +0 +0 +agree\n/);
    // A zero tolerance is accepted; a negative one is a usage error.
    expect(kf(['runs', '--registry', 'reg.sqlite', 'diff', '1', '2', '--rtol', '-1']).code).toBe(2);

    const list = JSON.parse(kf(['runs', '--registry', 'reg.sqlite', 'list', '--json', '--limit', '2']).stdout);
    expect(list.map((r: { id: number; backend: string }) => [r.id, r.backend])).toEqual([[3, 'cpu'], [2, 'cpu']]);
    const text = kf(['runs', '--registry', 'reg.sqlite', 'list']).stdout.split('\n');
    expect(text[0]).toMatch(/^id +started +graph +backend +status +time +claims +sweep +folder$/);
    expect(text[4]).toMatch(/^1 +\S+ \S+ +random-projection +wasm +ok +.* wasm$/);

    const show = kf(['runs', '--registry', 'reg.sqlite', 'show', '3']);
    expect(show.code).toBe(0);
    const manifest = JSON.parse(readFileSync(path.join(work, 'std', 'manifest.json'), 'utf8'));
    expect(show.stdout).toMatch(/^run 3: random-projection — ok\n/);
    expect(show.stdout).toContain('backend:  cpu (cpu requested)');
    expect(show.stdout).toContain('overrides: {"n":16,"d":32,"k":8,"proj_std":0.2}');
    expect(show.stdout).toMatch(new RegExp(`\\ngram_projected +gram_projected\\.out +\\[16,16\\] +float32 +${manifest.outputs.gram_projected.sha256.slice(0, 12)}\\n`));
    const shown = JSON.parse(kf(['runs', '--registry', 'reg.sqlite', 'show', '3', '--json']).stdout);
    expect(shown.outputs).toEqual(manifest.outputs);
    expect(shown.manifest.params.proj_std).toBe(0.2);

    expect(kf(['runs', '--registry', 'reg.sqlite', 'show', '99']).stderr).toMatch(/no run '99' in the registry/);
  });

  it('records a sweep and each of its points', () => {
    const r = kf(['sweep', 'graphs/random-projection.json', '--grid', 'k=4,8', ...small.slice(0, 4), '--out', 'sweep', '--backend', 'cpu', '--registry', 'sweep.sqlite']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/recorded as sweep 1/);
    const list = JSON.parse(kf(['runs', '--registry', 'sweep.sqlite', 'list', '--json']).stdout);
    expect(list).toHaveLength(2);
    expect(list.every((p: { sweep?: { id: number } }) => p.sweep?.id === 1)).toBe(true);
    const point = JSON.parse(kf(['runs', '--registry', 'sweep.sqlite', 'show', String(list[1].id), '--json']).stdout);
    expect(point.coords).toEqual({ k: 4 });
    expect(point.manifest.params.k).toBe(4);
    expect(point.outDir).toBe(path.join(work, 'sweep', 'points', point.sweep.point));
    const shown = kf(['runs', '--registry', 'sweep.sqlite', 'show', String(list[1].id)]).stdout;
    expect(shown).toMatch(/\nsweep: +1 \(point \w+ \{"k":4\} of 2, in sweep\)\n/);
    // The two points differ only in k: r (the projection) is the first node that changes.
    const diff = kf(['runs', '--registry', 'sweep.sqlite', 'diff', String(list[1].id), String(list[0].id)]);
    expect(diff.stdout).toMatch(/first divergence: node 'r' \(data\.normal\): params changed: shape/);
  });

  it('$KERNELFLOW_REGISTRY, then .kernelflow/registry.sqlite, pick the file; --no-registry records nothing', () => {
    expect(run('env', 'cpu', '--no-cache').code).toBe(0);
    expect(existsSync(path.join(work, '.kernelflow', 'registry.sqlite'))).toBe(true);
    expect(run('env2', 'cpu', '--no-cache', '--no-registry').stdout).not.toMatch(/recorded as run/);
    expect(JSON.parse(kf(['runs', 'list', '--json']).stdout).map((r: { outDir: string }) => r.outDir)).toEqual([path.join(work, 'env')]);
    const viaEnv = kf(['run', 'graphs/random-projection.json', '--backend', 'cpu', '--out', 'env4', ...small], { KERNELFLOW_REGISTRY: 'from-env.sqlite' });
    expect(viaEnv.stdout).toMatch(/recorded as run 1 /);
    expect(JSON.parse(kf(['runs', 'list', '--json'], { KERNELFLOW_REGISTRY: 'from-env.sqlite' }).stdout)[0].outDir).toBe(path.join(work, 'env4'));
  });

  it('a corrupt registry warns in one line and the run still succeeds; reading a missing one is a usage error', () => {
    writeFileSync(path.join(work, 'corrupt.sqlite'), 'not a database at all\n'.repeat(100));
    const r = run('corrupt', 'cpu', '--registry', 'corrupt.sqlite');
    expect(r.code).toBe(0);
    expect(existsSync(path.join(work, 'corrupt', 'manifest.json'))).toBe(true);
    const warnings = r.stderr.split('\n').filter((l) => l.includes('registry'));
    expect(warnings).toEqual([expect.stringMatching(/^warning: run not recorded in the registry \(run registry .*corrupt\.sqlite: file is not a database\); use --no-registry to silence this$/)]);
    expect(r.stdout).not.toMatch(/recorded as run/);

    const missing = kf(['runs', '--registry', 'nowhere.sqlite', 'list']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no run registry at .*nowhere\.sqlite/);
    expect(existsSync(path.join(work, 'nowhere.sqlite'))).toBe(false);
  });
});
