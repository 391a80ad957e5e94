import { defineOperator, tensor, Type } from '../../core/operator/index.js';

/** Every pair (a, b) of Z_p with its label a ∘ b mod p, one-hot encoded (the grokking task). */
export const modular = defineOperator({
  id: 'data.modular',
  version: 1,
  summary: 'All p² pairs (a, b): x = [onehot(a), onehot(b)] ∈ R^{2p}, label c = a ∘ b mod p (∘ = + | − | ×), y = onehot(c)',
  description: 'Rows in the order a·p + b (deterministic; split them with data.split). Power et al. 2022; Kumar et al. 2024.',
  params: Type.Object(
    {
      p: Type.Integer({ minimum: 2, default: 23, description: 'The modulus.' }),
      operation: Type.Union([Type.Literal('add'), Type.Literal('sub'), Type.Literal('mul')], { default: 'add', description: 'a + b, a − b or a·b (mod p).' }),
    },
    { additionalProperties: false },
  ),
  inputs: {},
  outputs: {
    x: tensor({ dtype: 'float32', doc: 'one-hot pairs [p², 2p]' }),
    y: tensor({ dtype: 'float32', doc: 'one-hot labels [p², p]' }),
    labels: tensor({ dtype: 'int32', doc: 'labels [p²]' }),
  },
  examples: [{ params: { p: 5, operation: 'mul' }, inputs: {} }],
  shape: (_i, { p }) => ({ x: [p * p, 2 * p], y: [p * p, p], labels: [p * p] }),
  run: (_i, { p, operation }, { tf }) => {
    const m = p * p;
    const x = new Float32Array(m * 2 * p);
    const y = new Float32Array(m * p);
    const labels = new Int32Array(m);
    for (let a = 0; a < p; a++)
      for (let b = 0; b < p; b++) {
        const i = a * p + b;
        const c = operation === 'add' ? (a + b) % p : operation === 'sub' ? (((a - b) % p) + p) % p : (a * b) % p;
        x[i * 2 * p + a] = 1;
        x[i * 2 * p + p + b] = 1;
        y[i * p + c] = 1;
        labels[i] = c;
      }
    return { x: tf.tensor2d(x, [m, 2 * p]), y: tf.tensor2d(y, [m, p]), labels: tf.tensor1d(labels, 'int32') };
  },
});
