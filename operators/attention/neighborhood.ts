import { defineOperator, expectDim, expectRank, ParamError, ShapeError, tensor, Type } from '../../core/operator/index.js';
import type { Dim } from '../../core/operator/index.js';
import { maskedSoftmax, resolveScale, scaleParam } from './common.js';
import { axisWindows, gridWindows } from './windows.js';

const perAxisInt = (description: string, def: number) =>
  Type.Union([Type.Integer({ minimum: 1 }), Type.Array(Type.Integer({ minimum: 1 }), { minItems: 2, maxItems: 2 })], { default: def, description });

function perAxis<T>(value: T | T[], rank: number, name: string): T[] {
  if (Array.isArray(value)) {
    if (value.length !== rank) throw new ParamError(`${name} has ${value.length} entries but rank is ${rank}`, `/params/${name}`);
    return value;
  }
  return new Array<T>(rank).fill(value);
}

/** The native backend's fused kernel (NativeFused.neighborhood in core/run/native-backend.ts), when active. */
interface NeighborhoodHook {
  neighborhood?(q: Float32Array, k: Float32Array, v: Float32Array, index: Int32Array, valid: Float32Array | null, bh: number, n: number, d: number, dv: number, kw: number, scale: number): Float32Array;
}

/** Neighborhood attention (NATTEN semantics), 1-D and 2-D, by gathering the k windows: O(N·k), never N×N. */
export const neighborhoodAttention = defineOperator({
  id: 'attention.neighborhood',
  version: 1,
  summary: 'out_i = Σ_{j∈W(i)} softmax_j(q_i·k_j·scale) v_j over the NATTEN window W(i) of kernel_size keys per axis (dilated, 1-D or 2-D)',
  description:
    'Neighborhood attention (Hassani et al., "Neighborhood Attention Transformer", CVPR 2023; "Faster Neighborhood ' +
    'Attention", NeurIPS 2024; SHI-Labs/NATTEN). Rank 1: q,k [B,H,N,D], v [B,H,N,Dv]; rank 2: [B,H,X,Y,D] (heads-first). ' +
    'Non-causal windows are shifted at borders (left = k//2, right = k//2 − (k even)), so every query sees exactly k keys ' +
    'per axis; dilation d applies the rule inside the groups i mod d; causal windows (per axis) are not clamped. ' +
    'kernel_size·dilation must not exceed the axis length. Implemented by gathering the windows: time and memory ' +
    'O(N·k·(D+Dv)); on the native backend one fused C pass per query instead (no gathered copies). Equals softmax ' +
    'attention under the window mask (float32, ~1e-6 relative).',
  examples: [
    { params: { kernel_size: 3, dilation: 2 }, inputs: { q: { shape: [1, 2, 12, 4] }, k: { shape: [1, 2, 12, 4] }, v: { shape: [1, 2, 12, 3] } } },
    { params: { rank: 2, kernel_size: [3, 2], causal: [true, false] }, inputs: { q: { shape: [1, 1, 5, 6, 4] }, k: { shape: [1, 1, 5, 6, 4] }, v: { shape: [1, 1, 5, 6, 3] } } },
  ],
  params: Type.Object(
    {
      rank: Type.Union([Type.Literal(1), Type.Literal(2)], { default: 1, description: 'Spatial rank: 1 (sequence) or 2 (grid).' }),
      kernel_size: perAxisInt('Window size per axis (int, or [kx,ky] for rank 2).', 7),
      dilation: perAxisInt('Dilation per axis (int, or [dx,dy]).', 1),
      causal: Type.Union([Type.Boolean(), Type.Array(Type.Boolean(), { minItems: 2, maxItems: 2 })], {
        default: false,
        description: 'Causal windows (keys p′ ≤ p), bool or per axis.',
      }),
      scale: scaleParam,
    },
    { additionalProperties: false },
  ),
  inputs: {
    q: tensor({ dtype: 'float32', rank: [4, 5], doc: 'queries [B,H,N,D] or [B,H,X,Y,D]' }),
    k: tensor({ dtype: 'float32', rank: [4, 5], doc: 'keys, same shape as q' }),
    v: tensor({ dtype: 'float32', rank: [4, 5], doc: 'values [B,H,N,Dv] or [B,H,X,Y,Dv]' }),
  },
  outputs: { out: tensor({ dtype: 'float32', doc: 'same as v' }) },
  shape: ({ q, k, v }, p) => {
    const r = p.rank;
    const ks = perAxis(p.kernel_size, r, 'kernel_size');
    const ds = perAxis(p.dilation, r, 'dilation');
    perAxis(p.causal, r, 'causal');
    for (const [name, m] of [['q', q], ['k', k], ['v', v]] as const) expectRank(m.shape!, r + 3, `${name} (rank ${r})`, `/inputs/${name}`);
    const sq = q.shape!;
    const sk = k.shape!;
    const sv = v.shape!;
    const out: Dim[] = [];
    for (let i = 0; i < r + 2; i++) {
      const d = expectDim(sq[i], sk[i], `q and k differ in axis ${i}`, '/inputs/k');
      out.push(expectDim(d, sv[i], `q and v differ in axis ${i}`, '/inputs/v'));
    }
    expectDim(sq[r + 2], sk[r + 2], 'head dimension D of q and k differs', '/inputs/k');
    for (let a = 0; a < r; a++) {
      const n = out[2 + a];
      if (typeof n === 'number' && ks[a] * ds[a] > n) {
        throw new ShapeError(`kernel_size·dilation = ${ks[a]}·${ds[a]} = ${ks[a] * ds[a]} exceeds the length ${n} of spatial axis ${a}`, '/params/kernel_size');
      }
    }
    out.push(sv[r + 2]);
    return { out };
  },
  run: ({ q, k, v }, p, { tf, note }) => {
    const r = p.rank;
    const ks = perAxis(p.kernel_size, r, 'kernel_size');
    const ds = perAxis(p.dilation, r, 'dilation');
    const cs = perAxis(p.causal, r, 'causal');
    const [b, h] = q.shape;
    const dim = q.shape[r + 2];
    const dv = v.shape[r + 2];
    const spatial = q.shape.slice(2, 2 + r);
    for (let a = 0; a < r; a++) {
      if (ks[a] * ds[a] > spatial[a]) throw new ShapeError(`kernel_size·dilation = ${ks[a] * ds[a]} exceeds the length ${spatial[a]} of spatial axis ${a}`, '/params/kernel_size');
    }
    const win =
      r === 1
        ? axisWindows(spatial[0], ks[0], ds[0], cs[0])
        : gridWindows(axisWindows(spatial[0], ks[0], ds[0], cs[0]), axisWindows(spatial[1], ks[1], ds[1], cs[1]), spatial[0], spatial[1]);
    const n = spatial.reduce((s, x) => s * x, 1);
    const kw = win.k;
    const anyPad = win.valid.some((x) => x === 0);
    const scale = resolveScale(p.scale, dim);
    const hook = (tf.backend() as { kernelflowFused?: NeighborhoodHook }).kernelflowFused;
    // The fused kernel reads the backend's own arrays (dataSync: no copy on native) and needs no empty axis.
    if (hook?.neighborhood && b * h * dim * dv > 0) {
      note('kernel_path', 'native-fused');
      const read = (t: typeof q) => t.dataSync() as Float32Array;
      const out = hook.neighborhood(read(q), read(k), read(v), win.index, anyPad ? win.valid : null, b * h, n, dim, dv, kw, scale);
      return { out: tf.tensor(out, v.shape, 'float32') };
    }
    note('kernel_path', 'generic');
    const idx = tf.tensor1d(win.index, 'int32');
    const valid = anyPad ? tf.tensor2d(win.valid, [n, kw]) : null;
    const qf = tf.reshape(q, [b, h, n, 1, dim]);
    const kg = tf.reshape(tf.gather(tf.reshape(k, [b, h, n, dim]), idx, 2), [b, h, n, kw, dim]);
    const logits = tf.mul(tf.sum(tf.mul(qf, kg), -1), scale); // [B,H,N,kw]
    const w = maskedSoftmax(tf, logits, valid);
    const vg = tf.reshape(tf.gather(tf.reshape(v, [b, h, n, dv]), idx, 2), [b, h, n, kw, dv]);
    const out = tf.sum(tf.mul(tf.expandDims(w, -1), vg), 3);
    return { out: tf.reshape(out, v.shape) };
  },
});
