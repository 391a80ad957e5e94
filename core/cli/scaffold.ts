/**
 * `kernelflow new-operator <family.name>`: writes a working operator file and its test, ready to
 * be listed in a graph's `plugins`. The template is small but complete — params schema with
 * defaults, typed ports, shape inference, an example for the conformance kit, a tfjs body — and
 * its test runs the conformance kit and checks the values against a float64 reference.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { OPERATOR_ID } from '../operator/registry.js';
import { UsageError } from '../document/resolve-params.js';

export function scaffoldOperator(id: string, dir: string): { operator: string; test: string } {
  if (!OPERATOR_ID.test(id)) throw new UsageError(`'${id}' is not an operator id: use family.name in lower case, e.g. my.softclip`);
  const base = id.replace(/\./g, '-');
  const operator = path.join(dir, `${base}.ts`);
  const test = path.join(dir, `${base}.test.ts`);
  for (const file of [operator, test]) if (existsSync(file)) throw new UsageError(`${file} exists already: not overwriting it`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(operator, operatorTemplate(id));
  writeFileSync(test, testTemplate(id, base));
  return { operator, test };
}

function operatorTemplate(id: string): string {
  return `// ${id}: a kernelflow operator. List this file in a graph's "plugins" to use it.
import { defineOperator, tensor, Type } from 'kernelflow';

/** out = tanh(x / c) · c: a smooth clip to (−c, c), elementwise. Replace with your computation. */
export const operator = defineOperator({
  id: '${id}',
  version: 1, // bump whenever results change: it is part of every cache key
  summary: 'Smooth clip out = c · tanh(x / c), elementwise',
  description: 'Write the formula, its reference, conventions and float32 tolerances here.',
  params: Type.Object(
    { c: Type.Number({ exclusiveMinimum: 0, default: 1, description: 'Clip level c > 0.' }) },
    { additionalProperties: false },
  ),
  inputs: { x: tensor({ dtype: 'float32', doc: 'input of any shape' }) },
  outputs: { out: tensor({ dtype: 'float32', doc: 'the shape of x' }) },
  // Small valid uses: the docs show the first, the conformance kit runs them all.
  examples: [{ params: { c: 2 }, inputs: { x: { shape: [3, 4] } } }],
  shape: ({ x }) => ({ out: x.shape! }),
  // Use ctx.tf, never an imported tfjs. A synchronous body runs in a tfjs scope: temporaries are freed.
  run: ({ x }, { c }, { tf }) => ({ out: tf.mul(tf.tanh(tf.div(x, c)), c) }),
});
`;
}

function testTemplate(id: string, base: string): string {
  return `import { describe, expect, it } from 'vitest';
import { checkOperator, createRegistry, formatReport, runGraph } from 'kernelflow';
import { operator } from './${base}.js';

describe('${id}', () => {
  it('passes the conformance kit (shapes, leaks, backends agree)', async () => {
    const report = await checkOperator(operator);
    expect(report.ok, formatReport(report)).toBe(true);
  });

  it('matches a float64 reference', async () => {
    const registry = await createRegistry();
    registry.register(operator, 'test');
    const x = [-5, -1, 0, 0.5, 3];
    const { result } = runGraph(
      { kernelflow: '1', nodes: { x: { op: 'data.constant', params: { value: x } }, y: { op: '${id}', inputs: { x: 'x' }, params: { c: 2 } } }, outputs: { y: 'y' } },
      { registry, cache: false, backend: 'cpu' },
    );
    const r = await result;
    const got = r.stored.y.kind === 'tensor' ? Array.from(r.stored.y.tensor.data) : [];
    x.forEach((v, i) => expect(got[i]).toBeCloseTo(2 * Math.tanh(v / 2), 6));
    r.dispose();
  });
});
`;
}
