/**
 * `kernelflow new-operator` end to end: the written operator loads as a plugin and runs in a graph
 * from the CLI, and its own test file (conformance kit + float64 reference) passes.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeNpy } from '../../core/io/npy.js';

const dir = path.join('tests/.scaffold-tmp', `run-${process.pid}`);
const kf = (args: string[]) => spawnSync(process.execPath, ['bin/kernelflow.js', ...args], { encoding: 'utf8' });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('kernelflow new-operator', () => {
  it('writes an operator and a test that work as a plugin, and refuses to overwrite', () => {
    mkdirSync(dir, { recursive: true });
    const made = kf(['new-operator', 'my.softclip', '--dir', dir]);
    expect(made.status, made.stderr).toBe(0);
    expect(made.stdout).toMatch(/wrote .*my-softclip\.ts/);
    expect(kf(['new-operator', 'my.softclip', '--dir', dir]).stderr).toMatch(/exists already/);
    expect(kf(['new-operator', 'NotAnId', '--dir', dir]).status).toBe(2);

    writeFileSync(path.join(dir, 'use.json'), JSON.stringify({
      kernelflow: '1', name: 'use-scaffold', plugins: ['./my-softclip.ts'],
      nodes: { x: { op: 'data.constant', params: { value: [-4, 0, 1] } }, y: { op: 'my.softclip', inputs: { x: 'x' }, params: { c: 2 } } },
      outputs: { y: 'y' },
    }));
    const run = kf(['run', path.join(dir, 'use.json'), '--backend', 'wasm', '--no-cache', '--out', path.join(dir, 'out')]);
    expect(run.status, run.stderr).toBe(0);
    const y = decodeNpy(readFileSync(path.join(dir, 'out', 'y.npy')));
    [-4, 0, 1].forEach((v, i) => expect(y.data[i]).toBeCloseTo(2 * Math.tanh(v / 2), 5));
  });

  it("the scaffold's own test passes", () => {
    const r = spawnSync(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', '--config', 'tests/fixtures/scaffold.vitest.config.ts', dir], { encoding: 'utf8' });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/2 passed/);
  }, 120_000);
});
