/**
 * The engine's conformance kit on every attention operator: valid defaults, the examples run through
 * the engine on wasm and cpu with the declared shapes, no leaks, backends agree (rpe_fft falls back to
 * cpu on wasm).
 */
import { describe, expect, it } from 'vitest';
import { checkOperator, createRegistry, formatReport } from '../../core/index.js';
import { isOperator } from '../../core/operator/index.js';
import * as attention from '../../operators/attention/index.js';

const ops = Object.values(attention).filter(isOperator);
const registry = await createRegistry();
for (const op of ops) registry.register(op, 'attention');

describe('conformance of the attention operators', () => {
  it('exports the eight attention operators and the RPE bias builder', () => {
    expect(ops.map((o) => o.id).sort()).toEqual([
      'attention.linear', 'attention.neighborhood', 'attention.ntk_prefix', 'attention.rpe_bias', 'attention.rpe_fft',
      'attention.s2', 'attention.sigmoid', 'attention.soft', 'attention.softmax',
    ]);
  });
  for (const op of ops) {
    it(op.id, async () => {
      const report = await checkOperator(op, { registry, backends: ['wasm', 'cpu'] });
      expect(report.ok, formatReport(report)).toBe(true);
    });
  }
});
