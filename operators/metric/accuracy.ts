import { defineOperator, ShapeError, tensor, Type } from '../../core/operator/index.js';

/** Fraction of correct predictions. */
export const accuracy = defineOperator({
  id: 'metric.accuracy',
  version: 1,
  summary: 'Accuracy (1/n)·Σ_i [argmax_k pred_ik = label_i]; for one output, [sign(pred_i) = sign(label_i)]',
  description:
    'pred [n, k] (logits or scores). labels: int32 class indices [n], or float one-hot/probabilities [n, k] ' +
    '(argmax taken), or for k = 1 targets whose sign is the class (±1; a prediction of exactly 0 counts as wrong).',
  params: Type.Object({}, { additionalProperties: false }),
  inputs: {
    pred: tensor({ dtype: 'float32', rank: [1, 2], doc: 'predictions [n, k] (or [n] for one output)' }),
    labels: tensor({ dtype: ['int32', 'float32'], rank: [1, 2], doc: 'int32 classes [n], one-hot [n, k], or ±1 targets for k = 1' }),
  },
  outputs: { out: tensor({ dtype: 'float32', doc: 'accuracy in [0, 1], scalar' }) },
  examples: [
    { description: 'int32 class labels', inputs: { pred: { shape: [6, 3] }, labels: { shape: [6], fill: 'int' } } },
    { description: 'one output, ±1 targets', inputs: { pred: { shape: [6] }, labels: { shape: [6] } } },
  ],
  shape: ({ pred, labels }) => {
    const n = pred.shape![0];
    const m = labels.shape![0];
    if (typeof n === 'number' && typeof m === 'number' && n !== m) throw new ShapeError(`pred has ${n} rows, labels ${m}`, '/inputs/labels');
    return { out: [] };
  },
  run: ({ pred, labels }, _p, { tf }) => {
    const p2 = pred.rank === 1 ? tf.reshape(pred, [pred.shape[0], 1]) : pred;
    const k = p2.shape[1]!;
    if (k === 1) {
      const l = tf.reshape(tf.cast(labels, 'float32'), [-1]);
      const s = tf.reshape(p2, [-1]);
      return { out: tf.mean(tf.cast(tf.greater(tf.mul(tf.sign(s), tf.sign(l)), 0), 'float32')) };
    }
    const cls = labels.dtype === 'int32' && labels.rank === 1 ? labels : tf.argMax(labels, 1);
    return { out: tf.mean(tf.cast(tf.equal(tf.argMax(p2, 1), cls), 'float32')) };
  },
});
