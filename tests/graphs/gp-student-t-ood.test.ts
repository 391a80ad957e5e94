/**
 * graphs/papers/student-t-ood.json (Lee et al. 2022): out of the training range, the Student-t process
 * (inverse-gamma prior on the output scale) has a lower test NLL than the fixed-prior GP with the
 * same kernel. The fixed GP's NLL is checked against float64; the ML-II GP is reported beside them.
 */
import * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runGraph } from '../../core/index.js';
import { isOperator } from '../../core/operator/index.js';
import { createRegistry } from '../../core/prepare.js';
import * as gp from '../../operators/gp/index.js';
import { useBackend } from '../helpers/backends.js';
import { gpRef, kern } from '../gp/ref.js';

describe('graphs/papers/student-t-ood.json on wasm', () => {
  it('the Student-t process beats the fixed-prior GP out of range', async () => {
    await useBackend('wasm');
    const before = tf.memory().numTensors;
    const registry = await createRegistry();
    for (const op of Object.values(gp)) if (isOperator(op) && !registry.get(op.id)) registry.register(op, 'test');
    const result = await runGraph('graphs/papers/student-t-ood.json', { backend: 'wasm', cache: false, registry }).result;
    expect(result.status, JSON.stringify(result.manifest.nodes)).toBe('ok');
    const scalar = async (name: string) => {
      const v = result.outputs[name];
      if (v.kind !== 'tensor') throw new Error(name);
      return (await v.tensor.data())[0];
    };
    const [fixed, studentT, ml2] = [await scalar('nll_gp_fixed'), await scalar('nll_student_t'), await scalar('nll_gp_ml2')];
    expect(studentT).toBeLessThan(fixed - 0.2);
    // Honest comparison: fitting the output scale (ML-II) also fixes the fixed prior's miscalibration.
    expect(Number.isFinite(ml2)).toBe(true);
    // The fixed-prior GP's NLL against float64.
    const g = JSON.parse(readFileSync('graphs/papers/student-t-ood.json', 'utf8'));
    const x: number[][] = g.nodes.x.params.value;
    const y: number[] = g.nodes.y.params.value;
    const xt: number[][] = g.nodes.x_test.params.value;
    const yt: number[] = g.nodes.y_test.params.value;
    const spec = g.nodes.gp_fixed.params.kernel;
    const s2 = g.params.noise;
    const ref = gpRef(kern(x, x, spec), kern(xt, x, spec), xt.map(() => spec.outputscale), y, s2);
    const want = yt.reduce((s, v, i) => s + 0.5 * Math.log(2 * Math.PI * (ref.var[i] + s2)) + (v - ref.mean[i]) ** 2 / (2 * (ref.var[i] + s2)), 0) / yt.length;
    expect(Math.abs(fixed - want) / want).toBeLessThan(2e-3);
    result.dispose();
    expect(tf.memory().numTensors).toBe(before);
  }, 60_000);
});
