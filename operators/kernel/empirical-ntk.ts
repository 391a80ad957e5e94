import type { Tensor, Tensor2D } from '@tensorflow/tfjs-core';
import type { Static, TensorMeta, TF } from '../../core/operator/index.js';
import { defineOperator, OperatorError, ParamError, ShapeError, tensor, tensors, Type } from '../../core/operator/index.js';
import { seededNormal } from '../features/random.js';

const doc = (description: string) => ({ description });

const denseLayer = Type.Object(
  {
    type: Type.Literal('dense'),
    W_std: Type.Optional(Type.Number({ minimum: 0, default: 1, ...doc('σ_w ≥ 0 (default 1).') })),
    b_std: Type.Optional(Type.Number({ minimum: 0, ...doc('σ_b ≥ 0; absent = no bias (differs from 0 under "standard").') })),
    width: Type.Optional(Type.Integer({ minimum: 1, ...doc('Output width; required except for the last dense layer (default 1 output).') })),
  },
  { additionalProperties: false },
);
const abc = <T extends string>(type: T, what: string) =>
  Type.Object(
    {
      type: Type.Literal(type),
      a: Type.Optional(Type.Number({ default: 1, ...doc(`a of ${what} (default 1)`) })),
      b: Type.Optional(Type.Number({ default: 1, ...doc(`b of ${what} (default 1)`) })),
      c: Type.Optional(Type.Number({ default: 0, ...doc(`c of ${what} (default 0)`) })),
    },
    { additionalProperties: false },
  );
const plain = <T extends string>(type: T) => Type.Object({ type: Type.Literal(type) }, { additionalProperties: false });

const layerSchema = Type.Union([
  denseLayer,
  plain('relu'),
  plain('abs'),
  plain('identity'),
  plain('tanh'),
  plain('gelu'),
  plain('sigmoid_like'),
  Type.Object(
    {
      type: Type.Literal('abrelu'),
      a: Type.Optional(Type.Number({ default: 0, ...doc('slope for z < 0 (default 0)') })),
      b: Type.Optional(Type.Number({ default: 1, ...doc('slope for z > 0 (default 1)') })),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    { type: Type.Literal('leaky_relu'), alpha: Type.Optional(Type.Number({ default: 0.01, ...doc('slope for z < 0 (default 0.01)') })) },
    { additionalProperties: false },
  ),
  abc('erf', 'a·erf(b·z) + c'),
  abc('sin', 'a·sin(b·z + c)'),
  abc('cos', 'a·cos(b·z + c)'),
]);

const paramsSchema = Type.Object(
  {
    layers: Type.Array(layerSchema, {
      minItems: 1,
      default: [{ type: 'dense', W_std: 1, width: 512 }, { type: 'relu' }, { type: 'dense', W_std: 1 }],
      description:
        'The network, input to output (the kernel.nn layer format): dense {W_std, b_std?, width?} and pointwise ' +
        'activations relu, abrelu {a, b}, leaky_relu {alpha}, abs, erf {a, b, c}, sigmoid_like, gelu, tanh, sin {a, b, c}, ' +
        'cos {a, b, c}, identity.',
    }),
    parameterization: Type.Union([Type.Literal('ntk'), Type.Literal('standard')], {
      default: 'ntk',
      description: '"ntk": z = W_std/√n_in·h·W + b_std·b with W, b ~ N(0, 1); "standard": z = h·W + b with W ~ N(0, W_std²/n_in), b ~ N(0, b_std²).',
    }),
    outputs: Type.Array(Type.Union([Type.Literal('ntk'), Type.Literal('nngp')]), {
      minItems: 1,
      uniqueItems: true,
      default: ['ntk', 'nngp'],
      description: 'Which kernels to compute; without "ntk" no backward pass is run (the others are not returned).',
    }),
    return_params: Type.Boolean({ default: false, description: 'Also output the parameters used (the `params` record), e.g. to reuse a seeded draw in another node.' }),
  },
  { additionalProperties: false },
);
type Params = Static<typeof paramsSchema>;
type Layer = Params['layers'][number];

interface DenseInfo {
  /** Index among dense layers: names W{i}, b{i}. */
  i: number;
  nIn: number;
  nOut: number;
  bias: boolean;
  W_std: number;
  b_std: number;
}

/** Static checks of the layer list; returns the dense layers' sizes given the input dimension d (null if unknown). */
function analyse(layers: Layer[], d: number | null): { dense: (DenseInfo | null)[]; outputs: number } {
  let width: number | null = d;
  let seenDense = false;
  let lastDense = -1;
  layers.forEach((l, j) => (l.type === 'dense' ? (lastDense = j) : undefined));
  if (lastDense < 0) throw new ParamError('the network has no dense layer (no parameters)', '/params/layers');
  let count = 0;
  const dense = layers.map((l, j): DenseInfo | null => {
    if (l.type !== 'dense') {
      if (!seenDense) throw new ParamError(`activation '${l.type}' is not preceded by a dense layer`, `/params/layers/${j}`);
      return null;
    }
    seenDense = true;
    if (l.width === undefined && j !== lastDense) throw new ParamError('a hidden dense layer needs a width', `/params/layers/${j}/width`);
    const nOut = l.width ?? 1;
    const info = { i: count++, nIn: width ?? -1, nOut, bias: l.b_std !== undefined, W_std: l.W_std ?? 1, b_std: l.b_std ?? 0 };
    width = nOut;
    return info;
  });
  return { dense, outputs: width ?? 1 };
}

/** σ(z) and σ′(z) of a pointwise layer. */
function activation(tf: TF, l: Exclude<Layer, { type: 'dense' }>, z: Tensor): { f: Tensor; df: Tensor } {
  const SQRT2PI = Math.sqrt(2 * Math.PI);
  const ab = (a: number, b: number) => ({
    f: tf.add(tf.mul(tf.minimum(z, 0), a), tf.mul(tf.relu(z), b)),
    df: tf.add(tf.mul(tf.step(z), b - a), a),
  });
  const erf = (a: number, b: number, c: number) => ({
    f: tf.add(tf.mul(tf.erf(tf.mul(z, b)), a), c),
    df: tf.mul(tf.exp(tf.mul(tf.square(z), -b * b)), (a * b * 2) / Math.sqrt(Math.PI)),
  });
  switch (l.type) {
    case 'relu':
      return ab(0, 1);
    case 'abrelu':
      return ab(l.a ?? 0, l.b ?? 1);
    case 'leaky_relu':
      return ab(l.alpha ?? 0.01, 1);
    case 'abs':
      return ab(-1, 1);
    case 'identity':
      return { f: z.clone(), df: tf.onesLike(z) };
    case 'erf':
      return erf(l.a ?? 1, l.b ?? 1, l.c ?? 0);
    case 'sigmoid_like':
      return erf(0.5, 1 / 2.4020563531719796, 0.5);
    case 'tanh': {
      const f = tf.tanh(z);
      return { f, df: tf.sub(1, tf.square(f)) };
    }
    case 'gelu': {
      const cdf = tf.mul(tf.add(tf.erf(tf.mul(z, Math.SQRT1_2)), 1), 0.5);
      const pdf = tf.div(tf.exp(tf.mul(tf.square(z), -0.5)), SQRT2PI);
      return { f: tf.mul(z, cdf), df: tf.add(cdf, tf.mul(z, pdf)) };
    }
    case 'sin':
    case 'cos': {
      const [a, b, c] = [l.a ?? 1, l.b ?? 1, l.c ?? 0];
      const u = tf.add(tf.mul(z, b), c);
      return l.type === 'sin'
        ? { f: tf.mul(tf.sin(u), a), df: tf.mul(tf.cos(u), a * b) }
        : { f: tf.mul(tf.cos(u), a), df: tf.mul(tf.sin(u), -a * b) };
    }
  }
}

/**
 * a·bᵀ without matMul's transpose_b: tfjs-webgpu 4.22 returns wrong values for transpose_b products
 * with a long inner dimension (≥ 2048) and a small output (its split-K path); b is small here.
 */
function outer(tf: TF, a: Tensor2D, b: Tensor2D): Tensor2D {
  return tf.matMul(a, tf.transpose(b));
}

/** What one input's forward and backward passes leave for the contraction. */
interface Pass {
  /** f(x), [n, k]. */
  out: Tensor2D;
  /** Per dense layer (in order): its input h [n, n_in] and the output gradient G [n, k·n_out]. */
  layers: { h: Tensor2D; g: Tensor2D }[];
}

function pass(tf: TF, x: Tensor2D, layers: Layer[], dense: DenseInfo[], weights: Record<string, Tensor>, standard: boolean, backward: boolean): Pass {
  const n = x.shape[0];
  const hs: Tensor2D[] = [];
  const derivs: (Tensor | null)[] = [];
  let h: Tensor = x;
  let di = 0;
  for (const l of layers) {
    if (l.type === 'dense') {
      const info = dense[di++];
      hs.push(h as Tensor2D);
      derivs.push(null);
      const cw = standard ? 1 : info.W_std / Math.sqrt(info.nIn);
      let z = tf.mul(tf.matMul(h as Tensor2D, weights[`W${info.i}`] as Tensor2D), cw);
      if (info.bias) z = tf.add(z, tf.mul(weights[`b${info.i}`], standard ? 1 : info.b_std));
      h = z;
    } else {
      const { f, df } = activation(tf, l, h);
      derivs.push(df);
      h = f;
    }
  }
  const out = h as Tensor2D;
  if (!backward) return { out, layers: [] };
  const k = out.shape[1];
  // Backward: G [n, k, width] holds ∂f_o/∂(current activation) for every output o.
  let g: Tensor = tf.tile(tf.reshape(tf.eye(k), [1, k, k]), [n, 1, 1]);
  const result: { h: Tensor2D; g: Tensor2D }[] = [];
  di = dense.length;
  for (let j = layers.length - 1; j >= 0; j--) {
    const w = g.shape[2]!;
    if (layers[j].type !== 'dense') {
      g = tf.mul(g, tf.reshape(derivs[j]!, [n, 1, w]));
      continue;
    }
    const info = dense[--di];
    result.unshift({ h: hs[di], g: tf.reshape(g, [n, k * w]) });
    if (j === 0) break;
    const cw = standard ? 1 : info.W_std / Math.sqrt(info.nIn);
    // G·Wᵀ computed as (W·Gᵀ)ᵀ: on wasm a transposed large right operand costs a full copy of W.
    const gT = tf.transpose(tf.reshape(g, [n * k, w]));
    const back = tf.mul(tf.transpose(tf.matMul(weights[`W${info.i}`] as Tensor2D, gT)), cw);
    g = tf.reshape(back, [n, k, info.nIn]);
  }
  return { out, layers: result };
}

/**
 * Empirical NTK Θ(x1, x2) = (1/k)·Σ_o J_o(x1)·J_o(x2)ᵀ of a dense network (and its NNGP f f′ᵀ/k),
 * by per-layer Jacobian contractions: never a full Jacobian.
 */
export const empiricalNtk = defineOperator({
  id: 'kernel.empirical_ntk',
  version: 1,
  summary: 'Empirical NTK Θ = (1/k)·J(x1)J(x2)ᵀ = (1/k)Σ_l (G_l G_l′ᵀ)⊙(c_l²·h_{l−1}h′_{l−1}ᵀ + β_l²) of a dense network; nngp = f(x1)f(x2)ᵀ/k',
  description:
    'The finite-width neural tangent kernel (Jacot et al. 2018; neural-tangents empirical_ntk_fn with trace_axes=(−1,), i.e. ' +
    'averaged over the k outputs) of a stack of dense layers and pointwise activations, in the kernel.nn layer format. ' +
    'Dense layer l computes z = c_l·h·W_l + β_l·b_l, with c = W_std/√n_in, β = b_std under "ntk" (W, b ~ N(0, 1)) and ' +
    'c = β = 1 under "standard" (W ~ N(0, W_std²/n_in), b ~ N(0, b_std²)); a layer without b_std has no bias. The gradient ' +
    'of f_o w.r.t. W_l is c_l·h_{l−1} ⊗ δ_l,o with δ the backpropagated output gradient, so the kernel is the sum over ' +
    'dense layers of (Σ_o δ_l,o δ′_l,oᵀ) ⊙ (c_l²·h_{l−1}h′_{l−1}ᵀ + β_l²): one forward pass, one backward pass of the k ' +
    'output gradients (memory n·k·width per layer) and two n1×n2 products per layer. Cost ≈ 2n·Σ n_in·n_out·(1 + k) + ' +
    '2·n1·n2·Σ(n_in + k·n_out) flops; width 4096, 64 points, 3 dense layers took 4–7 s on wasm on a heavily shared 2-core ' +
    'machine (load ≈ 11), about half of it drawing the 4096² normals (tf.randomNormal, in JS). ' +
    'params (optional `tensors` input, the model.mlp naming): W{i} [n_in, n_out] and b{i} [n_out] for the i-th dense layer ' +
    '(i = 0, 1, … counting dense layers only), the raw trainable variables of the parameterisation (N(0, 1) draws under ' +
    '"ntk", the weights themselves under "standard"); b{i} is needed exactly when layer i has b_std (other entries are ignored, so model.mlp\'s "ntk"/"standard" records ' +
    'fit; its output_scale and "mup" are not modelled here). Absent, they are ' +
    'drawn from the node seed with the parameterisation\'s initialisation (W{i} and b{i} from their own streams, so a ' +
    'draw is the same network under both parameterisations). The last dense layer\'s width (default 1) is k. With x2 ' +
    'absent the kernel of x1 with itself is returned exactly symmetric. nngp is neural-tangents\' empirical_nngp of the ' +
    'outputs, f(x1)f(x2)ᵀ/k: for one network it is one Gaussian draw per output (error O(1/√k) around the analytic NNGP ' +
    'whatever the width) — average it over seeded networks (nodes) or many outputs for a Monte Carlo NNGP.' +
    ' Float32: the sums are plain float32 matmuls; ' +
    'against a float64 finite-difference Jacobian the max error is ≤ 1e-6 of max|Θ| on small nets (tests assert 1e-5). ' +
    'Products a·bᵀ avoid matMul\'s transpose_b (wrong in tfjs-webgpu 4.22 for inner dimensions ≥ 2048).',
  stochastic: true,
  params: paramsSchema,
  inputs: {
    x1: tensor({ dtype: 'float32', rank: 2, doc: 'Inputs, [n1, d]' }),
    x2: tensor({ dtype: 'float32', rank: 2, optional: true, doc: 'Inputs, [n2, d]; absent = x1' }),
    params: tensors({ optional: true, doc: 'Network parameters {W0, b0?, W1, …}; absent = drawn from the node seed' }),
  },
  outputs: {
    ntk: tensor({ dtype: 'float32', optional: true, doc: 'Θ, [n1, n2], averaged over outputs (when outputs has "ntk")' }),
    nngp: tensor({ dtype: 'float32', optional: true, doc: 'f(x1)f(x2)ᵀ/k, [n1, n2] (when outputs has "nngp")' }),
    params: tensors({ optional: true, doc: 'The parameters used (only with return_params)' }),
  },
  examples: [{ params: { layers: [{ type: 'dense', W_std: 1.5, b_std: 0.1, width: 16 }, { type: 'relu' }, { type: 'dense', W_std: 1 }] }, inputs: { x1: { shape: [5, 3] }, x2: { shape: [4, 3] } } }],
  shape: ({ x1, x2, params }, p) => {
    const [n1, d] = x1.shape!;
    if (x2?.shape && typeof d === 'number' && typeof x2.shape[1] === 'number' && x2.shape[1] !== d) {
      throw new ShapeError(`x2 has ${x2.shape[1]} features, x1 has ${d}`, '/inputs/x2');
    }
    const { dense } = analyse(p.layers, typeof d === 'number' ? d : null);
    const infos = dense.filter((x): x is DenseInfo => x !== null);
    const entries: Record<string, TensorMeta> = {};
    for (const info of infos) {
      const nIn = info.nIn < 0 ? null : info.nIn;
      entries[`W${info.i}`] = { kind: 'tensor', dtype: 'float32', shape: [nIn, info.nOut] };
      if (info.bias) entries[`b${info.i}`] = { kind: 'tensor', dtype: 'float32', shape: [info.nOut] };
    }
    if (params?.entries) {
      for (const [name, want] of Object.entries(entries)) {
        const got = params.entries[name];
        if (!got) throw new ShapeError(`params has no '${name}'`, '/inputs/params');
        const mismatch = !got.shape || got.shape.length !== want.shape!.length || got.shape.some((g, i) => typeof g === 'number' && typeof want.shape![i] === 'number' && g !== want.shape![i]);
        if (got.shape && mismatch) throw new ShapeError(`params.${name} is [${got.shape.join(',')}], the layers need [${want.shape!.join(',')}]`, '/inputs/params');
      }
    }
    const n2 = x2 ? x2.shape![0] : n1;
    return {
      ...(p.outputs.includes('ntk') ? { ntk: [n1, n2] } : {}),
      ...(p.outputs.includes('nngp') ? { nngp: [n1, n2] } : {}),
      ...(p.return_params ? { params: { kind: 'tensors', entries } } : {}),
    };
  },
  run: ({ x1, x2, params }, p, { tf, seed }) => {
    const d = x1.shape[1]!;
    if (x2 && x2.shape[1] !== d) throw new OperatorError('shape', `x2 has ${x2.shape[1]} features, x1 has ${d}`);
    const dense = analyse(p.layers, d).dense.filter((x): x is DenseInfo => x !== null);
    const standard = p.parameterization === 'standard';
    const weights: Record<string, Tensor> = {};
    for (const info of dense) {
      for (const [name, shape, std] of [
        [`W${info.i}`, [info.nIn, info.nOut], standard ? info.W_std / Math.sqrt(info.nIn) : 1],
        ...(info.bias ? [[`b${info.i}`, [info.nOut], standard ? info.b_std : 1] as const] : []),
      ] as [string, number[], number][]) {
        if (params) {
          const t = params[name];
          if (!t) throw new OperatorError('shape', `params has no '${name}'`);
          if (t.shape.length !== shape.length || t.shape.some((v, i) => v !== shape[i])) {
            throw new OperatorError('shape', `params.${name} is [${t.shape.join(',')}], the layers need [${shape.join(',')}]`);
          }
          weights[name] = t;
        } else weights[name] = seededNormal(tf, shape, seed, name, std);
      }
    }
    const wantNtk = p.outputs.includes('ntk');
    const wantNngp = p.outputs.includes('nngp');
    const a = pass(tf, x1 as Tensor2D, p.layers, dense, weights, standard, wantNtk);
    const b = x2 ? pass(tf, x2 as Tensor2D, p.layers, dense, weights, standard, wantNtk) : a;
    const k = a.out.shape[1];
    const symmetrise = (t: Tensor) => (x2 ? t : tf.mul(tf.add(t, tf.transpose(t)), 0.5));
    let ntk: Tensor | undefined;
    if (wantNtk) {
      ntk = tf.zeros([x1.shape[0], (x2 ?? x1).shape[0]]);
      dense.forEach((info, l) => {
        const cw = standard ? 1 : info.W_std / Math.sqrt(info.nIn);
        const cb = standard ? 1 : info.b_std;
        let hh = tf.mul(outer(tf, a.layers[l].h, b.layers[l].h), cw * cw);
        if (info.bias) hh = tf.add(hh, cb * cb);
        ntk = tf.add(ntk!, tf.mul(outer(tf, a.layers[l].g, b.layers[l].g), hh));
      });
      ntk = symmetrise(tf.div(ntk, k));
    }
    const nngp = wantNngp ? symmetrise(tf.div(outer(tf, a.out, b.out), k)) : undefined;
    return { ntk, nngp, ...(p.return_params ? { params: Object.fromEntries(Object.entries(weights).map(([name, t]) => [name, params ? t.clone() : t])) } : {}) };
  },
});
