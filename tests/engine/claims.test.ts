/**
 * Claims inside graphs: check.* nodes judge a result; the manifest lists every verdict (a claim
 * whose node could not run does not pass), and `run --check` exits 1 on a failed claim.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runGraph } from '../../core/index.js';
import type { OperatorRegistry } from '../../core/operator/registry.js';
import { useBackend } from '../helpers/backends.js';
import { testRegistry } from '../helpers/test-operators.js';

let registry: OperatorRegistry;
beforeAll(async () => {
  await useBackend('wasm');
  registry = await testRegistry();
});

// y = 3·x^−½ exactly: a log–log slope of −0.5.
const xs = [1, 4, 16, 64];
const graph = (lo: number, hi: number) => ({
  kernelflow: '1', name: 'claims',
  nodes: {
    x: { op: 'data.constant', params: { value: xs } },
    y: { op: 'data.constant', params: { value: xs.map((x) => 3 / Math.sqrt(x)) } },
    slope: { op: 'check.slope', inputs: { x: 'x', y: 'y' }, params: { lo, hi } },
    down: { op: 'check.monotone', inputs: { y: 'y' } },
    a: { op: 'math.reduce', inputs: { x: 'y' }, params: { op: 'min' } },
    b: { op: 'math.reduce', inputs: { x: 'y' }, params: { op: 'max' } },
    smaller: { op: 'check.less', inputs: { a: 'a', b: 'b' }, params: { factor: 0.5 } },
    close: { op: 'check.close', inputs: { a: 'a', b: 'b' }, params: { rtol: 0.1 } },
    bad: { op: 'test.fail' },
    never: { op: 'check.between', inputs: { x: 'bad' }, params: { lo: 0, hi: 1 } },
  },
  outputs: { y: 'y' },
});

describe('claims', () => {
  it('are judged against the measured values and listed in the manifest', async () => {
    const r = await runGraph(graph(-0.6, -0.4), { backend: 'wasm', registry, cache: false }).result;
    const byNode = Object.fromEntries(r.manifest.claims.map((c) => [c.node, c]));
    expect(byNode.slope.pass).toBe(true);
    expect(byNode.slope.value).toBeCloseTo(-0.5, 5);
    expect(byNode.down.pass).toBe(true);
    expect(byNode.smaller).toMatchObject({ pass: true });
    expect(byNode.smaller.value).toBeCloseTo(0.125, 5);
    expect(byNode.close.pass).toBe(false);
    expect(byNode.never).toMatchObject({ pass: false, message: expect.stringMatching(/not evaluated: the node skipped/) });
    r.dispose();
  });

  it('a claim that fails its bounds reports the measured value', async () => {
    const r = await runGraph(graph(-0.4, -0.3), { backend: 'wasm', registry, cache: false }).result;
    expect(r.manifest.claims.find((c) => c.node === 'slope')).toMatchObject({ pass: false, message: expect.stringMatching(/measured -0\.5/) });
    r.dispose();
  });

  it('run prints PASS/FAIL and --check exits 1 on a failed claim', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'kf-claims-'));
    const g = graph(-0.6, -0.4) as { nodes: Record<string, unknown> };
    delete g.nodes.bad;
    delete g.nodes.never;
    const file = path.join(dir, 'g.json');
    writeFileSync(file, JSON.stringify(g));
    const run = (extra: string[]) => spawnSync(process.execPath, ['bin/kernelflow.js', 'run', file, '--backend', 'wasm', '--no-cache', '--out', path.join(dir, 'out'), ...extra], { encoding: 'utf8' });
    const plain = run([]);
    expect(plain.status).toBe(0);
    expect(plain.stdout).toMatch(/claims: 3\/4 pass/);
    expect(plain.stdout).toMatch(/PASS {2}slope: slope of log y over log x in \[-0\.6, -0\.4\]: measured -0\.5/);
    expect(plain.stdout).toMatch(/FAIL {2}close:/);
    expect(run(['--check']).status).toBe(1);
  });
});
