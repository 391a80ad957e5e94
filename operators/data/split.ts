import { defineOperator, ParamError, ShapeError, tensor, Type } from '../../core/operator/index.js';
import { mixSeed, Rng } from '../model/rng.js';

/** A seeded train/test split of rows. */
export const split = defineOperator({
  id: 'data.split',
  version: 1,
  summary: 'Seeded random split of the rows of x (and y, z alike) into train and test parts',
  description:
    'A uniformly random permutation from the node seed (JavaScript PRNG: the same on every backend); the first ' +
    'n_train rows of the permuted data are the training part. n_train = round(train_fraction·n) unless given.',
  stochastic: true,
  params: Type.Object(
    {
      train_fraction: Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1, default: 0.8, description: 'Fraction of rows in the training part.' }),
      n_train: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()], { default: null, description: 'Exact number of training rows (overrides train_fraction).' }),
    },
    { additionalProperties: false },
  ),
  inputs: {
    x: tensor({ doc: 'rows to split [n, …]' }),
    y: tensor({ optional: true, doc: 'split alike [n, …]' }),
    z: tensor({ optional: true, doc: 'split alike [n, …] (e.g. integer labels)' }),
  },
  outputs: {
    x_train: tensor({ doc: 'x rows of the training part' }),
    x_test: tensor({ doc: 'x rows of the test part' }),
    y_train: tensor({ doc: 'y rows of the training part (x’s when y is absent)' }),
    y_test: tensor({ doc: 'y rows of the test part' }),
    z_train: tensor({ doc: 'z rows of the training part (x’s when z is absent)' }),
    z_test: tensor({ doc: 'z rows of the test part' }),
  },
  examples: [{ params: { train_fraction: 0.75 }, inputs: { x: { shape: [8, 2] }, y: { shape: [8] }, z: { shape: [8], fill: 'int' } } }],
  shape: ({ x, y, z }, p) => {
    const n = x.shape![0];
    for (const [name, t] of [['y', y], ['z', z]] as const) {
      const m = t?.shape?.[0];
      if (typeof n === 'number' && typeof m === 'number' && m !== n) throw new ShapeError(`${name} has ${m} rows, x has ${n}`, `/inputs/${name}`);
    }
    const nt = typeof n === 'number' ? trainCount(n, p.train_fraction, p.n_train) : null;
    const part = (s: (number | string | null)[] | undefined, rows: number | null) => (s ? [rows, ...s.slice(1)] : undefined);
    const rest = nt === null || typeof n !== 'number' ? null : n - nt;
    const ys = (y ?? x).shape;
    const zs = (z ?? x).shape;
    return {
      x_train: part(x.shape, nt), x_test: part(x.shape, rest),
      y_train: ys && { kind: 'tensor', dtype: (y ?? x).dtype, shape: part(ys, nt) }, y_test: ys && { kind: 'tensor', dtype: (y ?? x).dtype, shape: part(ys, rest) },
      z_train: zs && { kind: 'tensor', dtype: (z ?? x).dtype, shape: part(zs, nt) }, z_test: zs && { kind: 'tensor', dtype: (z ?? x).dtype, shape: part(zs, rest) },
    };
  },
  run: ({ x, y, z }, p, { tf, seed }) => {
    const n = x.shape[0];
    const nt = trainCount(n, p.train_fraction, p.n_train);
    const perm = new Rng(mixSeed(seed, 1)).permutation(n);
    const tr = tf.tensor1d(perm.subarray(0, nt), 'int32');
    const te = tf.tensor1d(perm.subarray(nt), 'int32');
    const cut = (t: typeof x) => [tf.gather(t, tr), tf.gather(t, te)];
    const [xa, xb] = cut(x);
    const [ya, yb] = cut(y ?? x);
    const [za, zb] = cut(z ?? x);
    return { x_train: xa, x_test: xb, y_train: ya, y_test: yb, z_train: za, z_test: zb };
  },
});

function trainCount(n: number, fraction: number, nTrain: number | null): number {
  const nt = nTrain ?? Math.round(fraction * n);
  if (nt > n) throw new ParamError(`n_train ${nt} exceeds the ${n} rows`, '/params/n_train');
  return nt;
}
