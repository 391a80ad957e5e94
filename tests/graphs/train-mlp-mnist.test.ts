/**
 * graphs/train-mlp-mnist.json: a 196-128-10 ReLU MLP trained with Adam on 5,000 MNIST digits
 * (14×14) reaches > 90% accuracy on 1,000 held-out digits. Checks: the run succeeds on wasm with its
 * claim passing and leaks nothing; the accuracy is recounted here from the test logits and labels
 * (argmax in float64) and equals the graph's; the labels are a plausible sample of the ten digits;
 * and training lowered the loss (first vs last row of the metrics table).
 */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { runGraph } from '../../core/index.js';
import { useBackend } from '../helpers/backends.js';

describe('graphs/train-mlp-mnist.json (wasm)', () => {
  it('a small MLP reaches > 90% test accuracy on MNIST digits', async () => {
    await useBackend('wasm');
    const before = tf.memory().numTensors;
    const result = await runGraph('graphs/train-mlp-mnist.json', { backend: 'wasm', cache: false }).result;
    expect(result.status, JSON.stringify(result.manifest.nodes)).toBe('ok');
    for (const c of result.manifest.claims) expect(c.pass, `${c.node}: ${c.message}`).toBe(true);
    const claim = result.manifest.claims.find((c) => c.node === 'claim_accuracy')!;
    const tensor = async (name: string) => {
      const v = result.outputs[name];
      if (v.kind !== 'tensor') throw new Error(`${name} is not a tensor`);
      return { shape: v.tensor.shape, data: Array.from(await v.tensor.data()) };
    };
    const logits = await tensor('logits');
    const labels = (await tensor('labels_test')).data;
    const accuracy = (await tensor('accuracy')).data[0];
    const metrics = result.outputs.metrics;
    if (metrics.kind !== 'table') throw new Error('metrics is not a table');
    const rows = metrics.table.rows;
    result.dispose();
    expect(tf.memory().numTensors).toBe(before);

    const [n, k] = logits.shape as [number, number];
    expect([n, k]).toEqual([1000, 10]);
    expect(labels.length).toBe(n);
    let hits = 0;
    for (let i = 0; i < n; i++) {
      const row = logits.data.slice(i * k, (i + 1) * k);
      if (row.indexOf(Math.max(...row)) === labels[i]) hits++;
    }
    console.log(`train-mlp-mnist: test accuracy ${accuracy} (${hits}/${n} recounted)`);
    expect(accuracy).toBeCloseTo(hits / n, 6);
    expect(claim.value).toBeCloseTo(hits / n, 6);
    expect(hits / n).toBeGreaterThan(0.9);
    // every digit appears among the test labels, none in more than 20% of them
    const counts = Array.from({ length: 10 }, (_, d) => labels.filter((l) => l === d).length);
    for (const c of counts) expect(c).toBeGreaterThan(0.05 * n);
    for (const c of counts) expect(c).toBeLessThan(0.2 * n);
    // training lowered the training loss from ≈ ln 10
    expect(rows[0].loss as number).toBeGreaterThan(1.5);
    expect(rows[rows.length - 1].loss as number).toBeLessThan(0.3);
  }, 60_000);
});
