/**
 * The train family end to end through runGraph on wasm with its own registry: a teacher-student
 * regression and a modular-arithmetic classification learn; cancellation mid-training leaves no cache
 * entry for the training node; divergence fails the node and writes no parameters.
 */
import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Cache, createRegistry, runGraph } from '../../core/index.js';
import type { OperatorRegistry } from '../../core/operator/registry.js';
import * as model from '../../operators/model/index.js';
import * as train from '../../operators/train/index.js';
import * as extra from '../../operators/train-data-index.js';
import { isOperator } from '../../core/operator/index.js';
import { useBackend } from '../helpers/backends.js';

let registry: OperatorRegistry;
beforeAll(async () => {
  await useBackend('wasm');
  registry = await createRegistry();
  for (const op of [...Object.values(model), ...Object.values(train), ...Object.values(extra)]) if (isOperator(op)) registry.register(op, 'test');
});

const scalar = async (v: unknown) => ((await (v as { tensor: tf.Tensor }).tensor.data())[0]);

describe('train graphs (wasm)', () => {
  it('teacher-student regression: training lowers the test loss; the metrics table comes out', async () => {
    const before = tf.memory().numTensors;
    const graph = {
      kernelflow: '1', name: 'ts', seed: 1,
      nodes: {
        data: { op: 'data.teacher_student', params: { n: 80, d: 4, target: 'single_index', activation: 'tanh' } },
        parts: { op: 'data.split', inputs: { x: 'data.x', y: 'data.y' }, params: { n_train: 60 } },
        net: { op: 'model.mlp', params: { widths: [4, 64, 1], activation: 'tanh', parameterization: 'ntk' } },
        fit: { op: 'train.fit', inputs: { params: 'net.params', model: 'net.model', x: 'parts.x_train', y: 'parts.y_train', x_val: 'parts.x_test', y_val: 'parts.y_test' }, params: { optimizer: { type: 'adam', lr: 0.01 }, steps: 150, log_every: 50, track: ['weight_norm', 'ntk_change'] } },
        pred0: { op: 'model.apply', inputs: { params: 'net.params', model: 'net.model', x: 'parts.x_test' } },
        pred: { op: 'model.apply', inputs: { params: 'fit.params', model: 'net.model', x: 'parts.x_test' } },
        err0: { op: 'metric.mse', inputs: { a: 'pred0', b: 'parts.y_test' } },
        err: { op: 'metric.mse', inputs: { a: 'pred', b: 'parts.y_test' } },
        half: { op: 'metric.crossing', inputs: { metrics: 'fit.metrics' }, params: { metric: 'val_loss', fraction: 0.5 } },
      },
      outputs: { err0: 'err0', err: 'err', metrics: 'fit.metrics', half: 'half.out', params: 'fit.params' },
    };
    const res = await runGraph(graph, { backend: 'wasm', cache: false, registry }).result;
    expect(res.status, JSON.stringify(res.manifest.nodes)).toBe('ok');
    const [e0, e1] = [await scalar(res.outputs.err0), await scalar(res.outputs.err)];
    expect(e1).toBeLessThan(0.3 * e0);
    const table = (res.outputs.metrics as { table: { columns: string[]; rows: Array<Record<string, number>> } }).table;
    expect(table.columns).toEqual(['step', 'epoch', 'loss', 'val_loss', 'weight_norm', 'ntk_change']);
    expect(table.rows.map((r) => r.step)).toEqual([0, 50, 100, 150]);
    expect(await scalar(res.outputs.half)).toBeGreaterThan(0);
    expect(Object.keys((res.outputs.params as { tensors: Record<string, tf.Tensor> }).tensors).sort()).toEqual(['W0', 'W1', 'b0', 'b1']);
    res.dispose();
    expect(tf.memory().numTensors).toBe(before);
  }, 30000);

  it('modular addition with cross-entropy: SGD fits the training pairs (accuracy → 1)', async () => {
    const before = tf.memory().numTensors;
    const graph = {
      kernelflow: '1', name: 'mod', seed: 2,
      nodes: {
        data: { op: 'data.modular', params: { p: 7 } },
        net: { op: 'model.mlp', params: { widths: [14, 128, 7], activation: 'relu', parameterization: 'mup' } },
        fit: { op: 'train.fit', inputs: { params: 'net.params', model: 'net.model', x: 'data.x', y: 'data.labels' }, params: { optimizer: { type: 'momentum', lr: 0.5, batch_size: 16 }, epochs: 40, loss: 'cross_entropy', log_every: 100, stop_when: { metric: 'accuracy', below: -1 } } },
        pred: { op: 'model.apply', inputs: { params: 'fit.params', model: 'net.model', x: 'data.x' } },
        acc: { op: 'metric.accuracy', inputs: { pred: 'pred', labels: 'data.labels' } },
      },
      outputs: { acc: 'acc', info: 'fit.info' },
    };
    const res = await runGraph(graph, { backend: 'wasm', cache: false, registry }).result;
    expect(res.status, JSON.stringify(res.manifest.nodes)).toBe('ok');
    expect(await scalar(res.outputs.acc)).toBe(1);
    res.dispose();
    expect(tf.memory().numTensors).toBe(before);
  }, 30000);

  it('cancelling mid-training stops the node and leaves no cache entry for it (upstream nodes are cached); divergence fails the node', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'kf-train-'));
    try {
      const before = tf.memory().numTensors;
      const nodes = {
        data: { op: 'data.teacher_student', params: { n: 32, d: 3 } },
        net: { op: 'model.mlp', params: { widths: [3, 32, 1] } },
        fit: { op: 'train.fit', inputs: { params: 'net.params', model: 'net.model', x: 'data.x', y: 'data.y' }, params: { optimizer: { type: 'sgd', lr: 0.05, batch_size: 8 }, steps: 100000, log_every: 100000 } },
      };
      const controller = new AbortController();
      const handle = runGraph({ kernelflow: '1', name: 'c', nodes, outputs: { p: 'fit.params' } }, { backend: 'wasm', cache: { dir }, registry, signal: controller.signal });
      let seen = 0;
      handle.events.subscribe((e) => {
        if (e.type === 'progress' && ++seen === 3) controller.abort();
      });
      const res = await handle.result;
      expect(res.status).toBe('cancelled');
      expect(res.outputs.p).toBeUndefined();
      res.dispose();
      const nodesOut = res.manifest.nodes as unknown as Record<string, { status: string; cacheKey: string }>;
      expect(nodesOut.fit.status).toBe('cancelled');
      const disk = new Cache({ memoryBytes: 0, dir });
      expect(await disk.get(nodesOut.net.cacheKey)).toBeDefined();
      expect(await disk.get(nodesOut.fit.cacheKey)).toBeUndefined();
      expect(readdirSync(dir, { recursive: true }).map(String).filter((f) => /tmp|partial/i.test(f))).toEqual([]);

      const bad = { ...nodes, fit: { ...nodes.fit, params: { optimizer: { type: 'gd', lr: 1e6 }, steps: 50 } } };
      const res3 = await runGraph({ kernelflow: '1', name: 'd', nodes: bad, outputs: { p: 'fit.params' } }, { backend: 'wasm', cache: false, registry }).result;
      expect(res3.status).toBe('failed');
      expect(res3.outputs.p).toBeUndefined();
      expect(JSON.stringify(res3.manifest.nodes)).toMatch(/diverged at step \d+/);
      res3.dispose();
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30000);

  it('a 2-layer MLP on 1,000 MNIST digits reaches > 90% test accuracy', async () => {
    const before = tf.memory().numTensors;
    const t0 = Date.now();
    const graph = {
      kernelflow: '1', name: 'mnist', seed: 3,
      nodes: {
        data: { op: 'data.mnist', params: { n_train: 1000, n_test: 500, downsample: 2 } },
        net: { op: 'model.mlp', params: { widths: [196, 256, 10], activation: 'relu', W_std: 1.4142 } },
        fit: { op: 'train.fit', inputs: { params: 'net.params', model: 'net.model', x: 'data.x_train', y: 'data.labels_train', x_val: 'data.x_test', y_val: 'data.labels_test' }, params: { optimizer: { type: 'adam', lr: 0.002, batch_size: 100 }, epochs: 15, loss: 'cross_entropy', log_every: 50 } },
        pred: { op: 'model.apply', inputs: { params: 'fit.params', model: 'net.model', x: 'data.x_test' } },
        acc: { op: 'metric.accuracy', inputs: { pred: 'pred', labels: 'data.labels_test' } },
      },
      outputs: { acc: 'acc', metrics: 'fit.metrics' },
    };
    const res = await runGraph(graph, { backend: 'wasm', cache: false, registry }).result;
    expect(res.status, JSON.stringify(res.manifest.nodes)).toBe('ok');
    const acc = await scalar(res.outputs.acc);
    console.log(`mnist test accuracy ${acc} in ${Date.now() - t0} ms`);
    expect(acc).toBeGreaterThan(0.9);
    res.dispose();
    expect(tf.memory().numTensors).toBe(before);
  }, 60000);
});

