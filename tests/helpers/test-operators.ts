/**
 * Operators that exist only to test the engine: they sleep, count their calls, fail on demand,
 * need a kernel wasm lacks, or return NaN.
 */
import { defineOperator, json, OperatorError, tensor, Type } from '../../core/operator/index.js';
import { OperatorRegistry } from '../../core/operator/registry.js';
import { createRegistry } from '../../core/prepare.js';

export const calls = new Map<string, number>();
const count = (id: string) => calls.set(id, (calls.get(id) ?? 0) + 1);

/** Waits `ms`, then returns x + 1; async like a training loop. */
export const sleep = defineOperator({
  id: 'test.sleep',
  version: 1,
  summary: 'waits, then x + 1',
  params: Type.Object({ ms: Type.Number({ default: 100 }) }),
  inputs: { x: tensor({ optional: true }) },
  outputs: { out: tensor() },
  shape: ({ x }) => ({ out: x?.shape ?? [] }),
  run: async ({ x }, { ms }, { tf, signal, node }) => {
    count(node);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, ms);
      signal.addEventListener('abort', () => {
        clearTimeout(timer);
        reject(new Error('aborted'));
      });
    });
    return { out: x ? tf.add(x, 1) : tf.scalar(1) };
  },
});

/** x·factor, counting calls per node id; `version` lets a test bump the operator's version. */
function countedOperator(version: number) {
  return defineOperator({
    id: 'test.counted',
    version,
    summary: 'x·factor, counted',
    params: Type.Object({ factor: Type.Number({ default: 2 }) }),
    inputs: { x: tensor() },
    outputs: { out: tensor() },
    shape: ({ x }) => ({ out: x.shape }),
    run: ({ x }, { factor }, { tf, node }) => {
      count(node);
      return { out: tf.mul(x, factor) };
    },
  });
}
export const counted = countedOperator(1);
export const counted_v2 = countedOperator(2);

export const fail = defineOperator({
  id: 'test.fail',
  version: 1,
  summary: 'always fails',
  params: Type.Object({}),
  inputs: { x: tensor({ optional: true }) },
  outputs: { out: tensor() },
  run: ({ x }, _p, { tf }) => {
    tf.ones([3]); // a temporary that the engine's scope must free
    throw new OperatorError('not_psd', 'matrix is not positive definite at row 3', { row: 3 });
  },
});

/** |rfft(x)|: the wasm backend has no FFT kernels, so this runs on cpu there. */
export const rfftAbs = defineOperator({
  id: 'test.rfft_abs',
  version: 1,
  summary: '|rfft(x)|',
  params: Type.Object({}),
  inputs: { x: tensor({ rank: 1 }) },
  outputs: { out: tensor() },
  shape: ({ x }) => ({ out: [typeof x.shape![0] === 'number' ? Math.floor(x.shape![0] / 2) + 1 : null] }),
  run: ({ x }, _p, { tf }) => ({ out: tf.abs(tf.spectral.rfft(x)) }),
});

export const logOf = defineOperator({
  id: 'test.log',
  version: 1,
  summary: 'log(x)',
  params: Type.Object({}),
  inputs: { x: tensor() },
  outputs: { out: tensor() },
  shape: ({ x }) => ({ out: x.shape }),
  run: ({ x }, _p, { tf }) => ({ out: tf.log(x) }),
});

/** Emits a json value and a table. */
export const summary = defineOperator({
  id: 'test.summary',
  version: 1,
  summary: 'json and table outputs',
  params: Type.Object({}),
  inputs: { x: tensor() },
  outputs: { stats: json(), history: { kind: 'table' } },
  run: ({ x }, _p, { tf }) => {
    const values = Array.from(x.dataSync());
    return {
      stats: { n: values.length, sum: values.reduce((s, v) => s + v, 0) },
      history: { columns: ['step', 'value'], rows: values.map((v, i) => ({ step: i, value: v })) },
    };
  },
});

/** Σx as a json number: a stand-in for a fitted hyperparameter. */
export const jsonSum = defineOperator({
  id: 'test.json_sum',
  version: 1,
  summary: 'sum of x, as json',
  params: Type.Object({}),
  inputs: { x: tensor() },
  outputs: { out: json() },
  run: async ({ x }, _p, { node }) => {
    count(node);
    return { out: Array.from(await x.data()).reduce((s, v) => s + v, 0) };
  },
});

/** The built-ins plus the test operators. */
export async function testRegistry(): Promise<OperatorRegistry> {
  const registry = await createRegistry();
  for (const op of [sleep, counted, fail, rfftAbs, logOf, summary, jsonSum]) registry.register(op, 'tests');
  return registry;
}
