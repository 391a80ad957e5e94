/**
 * graphs/nngp-vs-ntk.json: the NNGP posterior (gp.exact on kernel.nn's NNGP matrices) and the NTK
 * posterior (gp.ntk) of the same ReLU network on the same 1-D data. The graph's claims must pass;
 * independently, both posterior means on the test grid (and the NNGP variance) are recomputed here
 * in float64 from the network's kernel recursion (tests/kernel/ref.ts) and plain Cholesky solves.
 */
import * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runGraph } from '../../core/index.js';
import { chol, choSolve, dot, gpRef } from '../gp/ref.js';
import { refNn } from '../kernel/ref.js';
import { useBackend } from '../helpers/backends.js';

const FILE = 'graphs/nngp-vs-ntk.json';

describe(`${FILE} on wasm`, () => {
  it('both posteriors fit the data, and their test means match float64', async () => {
    await useBackend('wasm');
    const before = tf.memory().numTensors;
    const result = await runGraph(FILE, { backend: 'wasm', cache: false }).result;
    expect(result.status, JSON.stringify(result.manifest.nodes)).toBe('ok');
    const claims = result.manifest.claims;
    expect(claims.map((c) => c.node).sort()).toEqual(['claim_nngp_fits', 'claim_nngp_test', 'claim_ntk_fits', 'claim_ntk_test', 'claim_ntk_var']);
    for (const c of claims) expect(c.pass, `${c.node}: ${c.message}`).toBe(true);

    const read = async (name: string) => {
      const v = result.outputs[name];
      if (v.kind !== 'tensor') throw new Error(`${name} is not a tensor`);
      return Array.from(await v.tensor.data());
    };
    const x = (await read('x')).map((v) => [v]);
    const y = await read('y');
    const xt = (await read('x_test')).map((v) => [v]);
    const [nngpMean, nngpVar, ntkMean] = [await read('nngp_mean'), await read('nngp_var'), await read('ntk_mean')];

    const g = JSON.parse(readFileSync(FILE, 'utf8'));
    const layers = g.nodes.k_train.params.layers;
    const s2: number = g.params.gp_noise;
    const train = refNn(layers, x, undefined);
    const cross = refNn(layers, xt, x);
    const kss = xt.map((u) => refNn(layers, [u], undefined).nngp[0][0]);

    // NNGP: exact GP with noise σ².
    const nngp = gpRef(train.nngp, cross.nngp, kss, y, s2);
    // NTK: μ = Θ*·Θ⁻¹·y (noiseless, diag_reg 0).
    const alpha = choSolve(chol(train.ntk), y);
    const ntk = cross.ntk.map((r) => dot(r, alpha));

    const scale = Math.max(...y.map(Math.abs));
    const worst = (got: number[], want: number[]) => Math.max(...got.map((v, i) => Math.abs(v - want[i])));
    // NNGP: float32 K (max error 1e-7 of max|K|) through K + σ²I: measured 1e-4 of max|y|.
    expect(worst(nngpMean, nngp.mean)).toBeLessThan(5e-3 * scale);
    // NTK: float32 Θ has max error 4e-5 of max|Θ| here (Θ uses (π − θ)/2π, and 1-D inputs with a bias
    // are nearly parallel, so θ is small and loses precision), amplified by cond(Θ) ≈ 4.7e4: measured
    // 1.0e-2 of max|y|, and a float64 solve of the same float32 Θ gives the same 1.0e-2.
    expect(worst(ntkMean, ntk)).toBeLessThan(3e-2 * scale);
    const maxVar = Math.max(...nngp.var);
    expect(worst(nngpVar, nngp.var)).toBeLessThan(5e-3 * maxVar);
    // The two posteriors are different predictors: their means are not the same function.
    expect(worst(nngp.mean, ntk)).toBeGreaterThan(1e-3);

    result.dispose();
    expect(tf.memory().numTensors).toBe(before);
  }, 60_000);
});
