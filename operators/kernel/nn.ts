import type { Tensor } from '@tensorflow/tfjs-core';
import type { TF } from '../../core/operator/context.js';
import { defineOperator, expectDim, expectRank, ShapeError, tensor, Type } from '../../core/operator/index.js';
import { applySteps, compileLayers, LAYER_DOC, type Parameterization, type Step } from './nn-layers.js';
import { nnConvKernel } from './nn-conv.js';
import { tryFusedNn } from './fused-hook.js';
import { assembleTiled, DEFAULT_TILE_ENTRIES, diagonalMask, namedOutputs, tileOutputs, type TiledOptions } from './tiling.js';

export interface NnKernelOptions extends TiledOptions {
  nngp?: boolean;
  ntk?: boolean;
}

/**
 * The analytic NNGP and NTK of compiled `steps` (see `compileLayers`) between the rows of x1 [n1,d]
 * and x2 [n2,d] (x2 undefined = x1, symmetric, exact diagonal), tiled so that memory is bounded by
 * the outputs. Inputs [n, P, C] (steps compiled with inputRank 3) go to the convolutional recursion
 * (nn-conv.ts). The caller owns the returned tensors.
 */
export async function nnKernel(
  tf: TF,
  steps: Step[],
  x1: Tensor,
  x2: Tensor | undefined,
  options: NnKernelOptions = {},
): Promise<{ nngp?: Tensor; ntk?: Tensor }> {
  if (x1.rank === 3) return nnConvKernel(tf, steps, x1, x2, options);
  const want = { nngp: options.nngp ?? true, ntk: options.ntk ?? true };
  const symmetric = x2 === undefined;
  const [n1, d] = x1.shape;
  const n2 = symmetric ? n1 : x2.shape[0];
  const xb = x2 ?? x1;
  const [sq1, sq2] = tf.tidy(() => {
    const a = tf.div(tf.sum(tf.square(x1), 1), d);
    return [a, symmetric ? tf.clone(a) : tf.div(tf.sum(tf.square(xb), 1), d)];
  });
  const count = (want.nngp ? 1 : 0) + (want.ntk ? 1 : 0);
  try {
    const outs = await assembleTiled(
      tf,
      n1,
      n2,
      symmetric,
      count,
      (t) => {
        const r = t.r1 - t.r0;
        const c = t.c1 - t.c0;
        const a = tf.slice(x1, [t.r0, 0], [r, d]);
        const b = tf.slice(xb, [t.c0, 0], [c, d]);
        const q1 = tf.reshape(tf.slice(sq1, [t.r0], [r]), [r, 1]);
        const q2 = tf.reshape(tf.slice(sq2, [t.c0], [c]), [1, c]);
        let K = tf.div(tf.matMul(a, b, false, true), d);
        const diag = t.diagonal ? diagonalMask(tf, r) : null;
        // Exact diagonal: K(x, x) = q(x), the same float as the diagonal recursion.
        if (diag) K = tf.where(diag, tf.broadcastTo(q1, [r, c]), K);
        const s = applySteps(tf, steps, { K, T: null, q1, q2 }, { ntk: want.ntk, inputWidth: d, diag });
        const out = tileOutputs(tf, want, s);
        return out;
      },
      options,
    );
    return namedOutputs(want, outs);
  } finally {
    tf.dispose([sq1, sq2]);
  }
}

const layerSchema = Type.Object(
  { type: Type.String({ description: 'Layer type: ' + LAYER_DOC }) },
  { additionalProperties: true, description: 'One layer: {type, ...its fields}' },
);

export const nn = defineOperator({
  id: 'kernel.nn',
  version: 2,
  summary: 'Analytic NNGP K and NTK Θ of an infinitely wide network (dense or 1-D convolutional) given as a list of layers (stax-like): K ← W²K + b², Θ ← K + W²Θ, activations K ← E[φφ], Θ ← Θ⊙E[φ′φ′]',
  description: [
    'Reference: Jacot et al. 2018 (NTK), Lee et al. 2018/2019 (NNGP, wide networks), Novak et al. 2020 (neural-tangents).',
    'Matches neural-tangents stax on the same layers: input kernel K = x1x2ᵀ/d, q = ‖x‖²/d, Θ = 0; dense under "ntk":',
    'K ← W²K + b², Θ ← K_new + W²Θ; under "standard": Θ ← n_in·K_old + W²Θ + 1[bias] with n_in the previous dense',
    'width (d for the first). Layers: ' + LAYER_DOC + '. Activations and layernorm must follow a dense layer',
    '(neural-tangents\' is_gaussian rule). Residual = FanOut → (Identity, branch) → FanInSum.',
    'Float32: angles are atan2(√(q₁q₂ − K²), K) with the root taken as √(Q−K)√(Q+K), Q = √q₁√q₂ (no overflow at',
    'depth 100+), clamped; θ = 0 exactly on the diagonal of a symmetric call (x2 absent), whose diagonal uses the',
    'exact ‖x‖²/d; a zero row without bias gives 0. Computed in tiles of tile_entries entries (symmetric calls',
    'compute the upper triangle only), so memory is the outputs plus one tile. Measured agreement with a float64',
    'reference: rtol ≤ 2e-4 for shallow stacks (tests/kernel).',
    'Convolutional networks (Novak et al. 2019, Arora et al. 2019): inputs x1 [n1, P, C] (P positions, C channels), input',
    'kernel Σ(a,b,i,j) = Σ_c x1[a,i,c]x2[b,j,c]/C; conv {filter F odd, padding, W_std, b_std, width}: Σ′ = W²·M(Σ) + b²,',
    'Θ′ = W²·M(Θ) + Σ′ ("ntk"; weights W_std/√(F·C_in)) or C_in·F·M(Σ) + W²·M(Θ) + 1[bias] ("standard"), with',
    'M(X)(i,j) = (1/F)Σ_δ X(i+δ, j+δ): "same" = zero padding (out-of-range taps dropped, still ÷F, neural-tangents SAME),',
    '"circular" wraps; activations act entrywise on the position pairs with variances q(a,i); global_avg_pool = mean over',
    'all pairs (i,j) (tracked over [n1, n2, P, P]), flatten = mean over i = j (only the diagonal [n1, n2, P] is tracked:',
    'exact, as conv shifts both positions alike and activations are entrywise). Dense layers follow the readout as',
    'usual; "standard" takes their fan-in as C_last (pool) or P·C_last (flatten). Activations directly after flatten are',
    'rejected (write them before it: the same network). Tiles shrink by P² (pool) or P (flatten).',
  ].join(' '),
  params: Type.Object(
    {
      layers: Type.Array(layerSchema, {
        default: [{ type: 'dense', W_std: 1.5, b_std: 0.05 }, { type: 'relu' }, { type: 'dense', W_std: 1.5, b_std: 0.05 }],
        description: 'The network, input to output, e.g. [{"type":"dense","W_std":1.5,"b_std":0.05},{"type":"relu"},{"type":"dense"}]',
      }),
      parameterization: Type.Union([Type.Literal('ntk'), Type.Literal('standard')], {
        default: 'ntk',
        description: '"ntk" (W_std/√n_in scaling) or "standard" (W ~ N(0, W_std²/n_in); the NTK depends on the widths)',
      }),
      outputs: Type.Array(Type.Union([Type.Literal('nngp'), Type.Literal('ntk')]), {
        minItems: 1,
        uniqueItems: true,
        default: ['nngp', 'ntk'],
        description: 'Which kernels to compute (the others are not returned)',
      }),
      tile_entries: Type.Integer({
        minimum: 1,
        default: DEFAULT_TILE_ENTRIES,
        description: 'Entries per tile: bounds the temporaries (≈ 20 float32 tiles live at once)',
      }),
    },
    { additionalProperties: false },
  ),
  inputs: {
    x1: tensor({ dtype: 'float32', rank: [2, 3], doc: 'x1 [n1, d], or [n1, P, C] for convolutional layers' }),
    x2: tensor({ dtype: 'float32', rank: [2, 3], optional: true, doc: 'x2 [n2, d] or [n2, P, C]; absent = x1 (symmetric, exact diagonal)' }),
  },
  outputs: {
    nngp: tensor({ dtype: 'float32', optional: true, doc: 'NNGP kernel K [n1, n2]' }),
    ntk: tensor({ dtype: 'float32', optional: true, doc: 'NTK Θ [n1, n2]' }),
  },
  examples: [
    { inputs: { x1: { shape: [5, 3] }, x2: { shape: [4, 3] } } },
    {
      params: {
        layers: [
          { type: 'conv', filter: 3, W_std: 1.5, b_std: 0.05 },
          { type: 'relu' },
          { type: 'global_avg_pool' },
          { type: 'dense', W_std: 1.5, b_std: 0.05 },
        ],
      },
      inputs: { x1: { shape: [4, 6, 2] }, x2: { shape: [3, 6, 2] } },
    },
  ],
  shape: ({ x1, x2 }, p) => {
    const s1 = x1.shape!;
    expectRank(s1, [2, 3], 'x1', '/inputs/x1');
    compileLayers(p.layers, p.parameterization as Parameterization, '/params/layers', s1.length as 2 | 3);
    let n2 = s1[0];
    if (x2?.shape) {
      expectRank(x2.shape, s1.length, 'x2 (the rank of x1)', '/inputs/x2');
      for (let k = 1; k < s1.length; k++) {
        expectDim(x2.shape[k], s1[k], k === s1.length - 1 ? 'x2 and x1 must have the same number of features' : 'x2 and x1 must have the same number of positions', '/inputs/x2');
      }
      n2 = x2.shape[0];
    }
    for (let k = 1; k < s1.length; k++) {
      if (typeof s1[k] === 'number' && s1[k] === 0) throw new ShapeError(k === s1.length - 1 ? 'x1 has no features' : 'x1 has no positions', '/inputs/x1');
    }
    const out: { nngp?: (number | string | null)[]; ntk?: (number | string | null)[] } = {};
    if (p.outputs.includes('nngp')) out.nngp = [s1[0], n2];
    if (p.outputs.includes('ntk')) out.ntk = [s1[0], n2];
    return out;
  },
  run: async ({ x1, x2 }, p, ctx) => {
    const steps = compileLayers(p.layers, p.parameterization as Parameterization, '/params/layers', x1.rank === 3 ? 3 : 2);
    // Dense stacks on the native backend: its fused kernel (fused-hook.ts); nnKernel stays the reference.
    const fast = await tryFusedNn(ctx, steps, x1, x2, { nngp: p.outputs.includes('nngp'), ntk: p.outputs.includes('ntk') });
    if (fast) return fast;
    return nnKernel(ctx.tf, steps, x1, x2, {
      nngp: p.outputs.includes('nngp'),
      ntk: p.outputs.includes('ntk'),
      tileEntries: p.tile_entries,
      signal: ctx.signal,
      onTile: (done, total) => ctx.progress({ fraction: done / total, step: done, total }),
    });
  },
});
