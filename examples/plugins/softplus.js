// An example plugin: one operator, written exactly as built-in operators are.
// List it in a graph's "plugins" (a path relative to the graph file) or pass --plugin.
import { defineOperator, tensor, Type } from 'kernelflow';

/** softplus_β(x) = log(1 + exp(βx)) / β, a smooth ReLU that tends to ReLU as β → ∞. */
export const softplus = defineOperator({
  id: 'example.softplus',
  version: 1,
  summary: 'Smooth ReLU: softplus_β(x) = log(1 + exp(βx)) / β, elementwise',
  params: Type.Object(
    { beta: Type.Number({ exclusiveMinimum: 0, default: 1, description: 'Sharpness β > 0; larger is closer to ReLU.' }) },
    { additionalProperties: false },
  ),
  inputs: { x: tensor({ dtype: 'float32', doc: 'Input of any shape' }) },
  outputs: { out: tensor({ dtype: 'float32', doc: 'softplus_β(x), the shape of x' }) },
  shape: ({ x }) => ({ out: x.shape }),
  // tf.softplus is computed stably (no overflow of exp for large βx).
  run: ({ x }, { beta }, { tf }) => ({ out: tf.div(tf.softplus(tf.mul(x, beta)), beta) }),
});
