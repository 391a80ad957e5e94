/**
 * The conformance kit on every built-in operator: valid defaults, examples that run through the
 * engine on wasm and cpu with the declared shapes, no tensor leaks, and agreement between backends.
 */
import { describe, expect, it } from 'vitest';
import { checkOperator, formatReport } from '../../core/index.js';
import { defineOperator, tensor, Type } from '../../core/operator/index.js';
import { createRegistry } from '../../core/prepare.js';

const registry = await createRegistry();

describe('conformance of built-in operators', () => {
  for (const op of registry.list()) {
    it(op.id, async () => {
      const report = await checkOperator(op, { registry, backends: ['wasm', 'cpu'] });
      expect(report.ok, formatReport(report)).toBe(true);
    });
  }
});

describe('the kit catches broken operators', () => {
  const base = {
    version: 1,
    summary: 'x·2',
    params: Type.Object({ factor: Type.Number({ default: 2, minimum: 0 }) }),
    inputs: { x: tensor() },
    outputs: { out: tensor() },
    examples: [{ inputs: { x: { shape: [3, 2] } } }],
  };

  it('wrong shape inference', async () => {
    const op = defineOperator({ ...base, id: 'bad.shape', shape: ({ x }) => ({ out: [x.shape![1], x.shape![0]] }), run: ({ x }, p, { tf }) => ({ out: tf.mul(x, p.factor) }) });
    const report = await checkOperator(op);
    expect(formatReport(report)).toMatch(/shape inference said \[2,3\] but the run produced \[3,2\]/);
  });

  it('a leak in an async body', async () => {
    const op = defineOperator({ ...base, id: 'bad.leak', run: async ({ x }, p, { tf }) => {
      tf.ones([4]); // never disposed
      return { out: tf.mul(x, p.factor) };
    } });
    const report = await checkOperator(op);
    expect(formatReport(report)).toMatch(/leaks no tensor on wasm: 1 tensor\(s\) left behind/);
  });

  it('an invalid default and a missing example', async () => {
    const op = defineOperator({ ...base, id: 'bad.default', params: Type.Object({ factor: Type.Number({ default: -1, minimum: 0 }) }), examples: [], run: ({ x }, p, { tf }) => ({ out: tf.mul(x, p.factor) }) });
    const text = formatReport(await checkOperator(op));
    expect(text).toMatch(/invalid defaults: factor/);
    expect(text).toMatch(/has examples/);
  });

  it('backends that disagree', async () => {
    const op = defineOperator({ ...base, id: 'bad.backend', run: ({ x }, p, { tf, backend }) => ({ out: tf.mul(x, backend === 'cpu' ? p.factor + 1 : p.factor) }) });
    expect(formatReport(await checkOperator(op))).toMatch(/agrees on wasm and cpu: output out\[0\]/);
  });
});
