/**
 * kernel/nn-conv — the NNGP / NTK recursion of a 1-D convolutional network on inputs [n, P, C]
 * (P positions, C channels), neural-tangents' stax semantics (Novak et al. 2019, Arora et al. 2019):
 *
 *   input        Σ(a,b,i,j) = Σ_c x1[a,i,c]·x2[b,j,c] / C,  Θ = 0
 *   conv (ntk)   Σ' = W²·M(Σ) + b²,  Θ' = W²·M(Θ) + Σ'
 *   conv (std)   Σ' = W²·M(Σ) + b²,  Θ' = C_in·F·M(Σ) + W²·M(Θ) + 1[bias]
 *                with M(X)(i,j) = (1/F)·Σ_δ X(i+δ, j+δ), δ = −h…h, F = 2h+1 (the same shift on both
 *                positions: one weight tap multiplies x(i+δ) and x'(j+δ)); 'same' drops out-of-range
 *                taps (zero padding, still ÷F), 'circular' wraps them.
 *   activation   entrywise on (a,b,i,j) with the variances q(a,i), q(b,j)
 *   global_avg_pool  mean over all (i,j);  flatten  mean over i = j.
 *
 * Only a global_avg_pool needs the off-diagonal position pairs: it keeps Σ over [r, c, P, P] (and each
 * sample's own [P, P] covariance, whose mean is the pooled variance). Before a flatten the recursion
 * keeps the diagonal Σ(a,b,i,i) only, [r, c, P], which is exact: M maps the diagonal from the diagonal
 * (both positions shift by the same δ), activations are entrywise and read only q(a,i) = Σ(a,a,i,i),
 * and flatten reads the diagonal only.
 */
import type { Tensor } from '@tensorflow/tfjs-core';
import type { TF } from '../../core/operator/context.js';
import { activate, applySteps, type Padding, type Step } from './nn-layers.js';
import { assembleTiled, DEFAULT_TILE_ENTRIES, diagonalMask, namedOutputs, tileOutputs, type TiledOptions } from './tiling.js';

type Readout = Extract<Step, { kind: 'readout' }>;

/** Splits compiled steps at their (single, top-level) readout. */
export function splitAtReadout(steps: Step[]): { spatial: Step[]; readout: Readout; flat: Step[] } {
  const at = steps.findIndex((s) => s.kind === 'readout');
  if (at < 0) throw new Error('kernel/nn-conv: inputs [n, P, C] need a global_avg_pool or flatten step');
  return { spatial: steps.slice(0, at), readout: steps[at] as Readout, flat: steps.slice(at + 1) };
}

/** One tile of the spatial state. K, Θ: [r, c, P, P] (full) or [r, c, P] (diagonal positions only). */
interface SpatialTile {
  K: Tensor;
  T: Tensor | null;
  /** Variances at each position, [r, P] and [c, P]. */
  q1: Tensor;
  q2: Tensor;
  /** Each sample's own covariance over position pairs, [r, P, P] and [c, P, P] (full mode only). */
  v1: Tensor | null;
  v2: Tensor | null;
}

interface SpatialOptions {
  ntk: boolean;
  /** Input channels C (fan-in of the first conv under "standard"). */
  inputWidth: number;
  full: boolean;
  /** Masks where the second-moment root S is 0: this tile's (a,a,i,i) entries (null off the diagonal blocks), each sample's (i,i). */
  diag: Tensor | null;
  eye1: Tensor | null;
  eye2: Tensor | null;
}

/**
 * M(x) over `axes` (all of the same length P): the mean of the F joint shifts x(i+δ, j+δ, …).
 * 'same' pads with zeros, 'circular' wraps (by gathering, so filters longer than P work too).
 */
export function shiftMean(tf: TF, x: Tensor, axes: number[], filter: number, padding: Padding): Tensor {
  if (filter === 1) return x;
  const h = (filter - 1) / 2;
  let padded = x;
  for (const axis of axes) {
    const P = x.shape[axis];
    if (padding === 'same') {
      padded = tf.pad(padded, x.shape.map((_, k): [number, number] => (k === axis ? [h, h] : [0, 0])));
    } else {
      const idx = Array.from({ length: P + 2 * h }, (_, k) => (((k - h) % P) + P) % P);
      padded = tf.gather(padded, tf.tensor1d(idx, 'int32'), axis);
    }
  }
  let sum: Tensor | null = null;
  for (let d = 0; d < filter; d++) {
    const begin = x.shape.map((_, k) => (axes.includes(k) ? d : 0));
    const part = tf.slice(padded, begin, x.shape);
    sum = sum ? tf.add(sum, part) : part;
  }
  return tf.div(sum!, filter);
}

/** Runs the spatial steps on one tile (synchronous, inside the caller's tidy; one tidy per step). */
function applySpatial(tf: TF, steps: Step[], state: SpatialTile, o: SpatialOptions): SpatialTile {
  let s = state;
  for (const step of steps) {
    const prev = s;
    const out = tf.tidy(() => {
      const n = spatialStep(tf, step, prev, o);
      return [n.K, n.T ?? undefined, n.q1, n.q2, n.v1 ?? undefined, n.v2 ?? undefined];
    }) as (Tensor | undefined)[];
    s = { K: out[0]!, T: out[1] ?? null, q1: out[2]!, q2: out[3]!, v1: out[4] ?? null, v2: out[5] ?? null };
  }
  return s;
}

function spatialStep(tf: TF, step: Step, s: SpatialTile, o: SpatialOptions): SpatialTile {
  const [r, P] = s.q1.shape;
  const c = s.q2.shape[0];
  const kAxes = o.full ? [2, 3] : [2];
  switch (step.kind) {
    case 'conv': {
      const M = (x: Tensor, axes: number[]) => shiftMean(tf, x, axes, step.filter, step.padding);
      const affine = (x: Tensor) => (step.b2 === 0 ? tf.mul(x, step.w2) : tf.add(tf.mul(x, step.w2), step.b2));
      const MK = M(s.K, kAxes);
      const K = affine(MK);
      let T: Tensor | null = null;
      if (o.ntk) {
        const MT = s.T ? tf.mul(M(s.T, kAxes), step.w2) : null;
        if (step.nIn === null) {
          T = MT ? tf.add(K, MT) : K;
        } else {
          const nIn = (step.nIn === 'input' ? o.inputWidth : step.nIn) * step.filter;
          T = tf.mul(MK, nIn);
          if (MT) T = tf.add(T, MT);
          if (step.bias) T = tf.add(T, 1);
        }
      }
      return {
        K,
        T,
        q1: affine(M(s.q1, [1])),
        q2: affine(M(s.q2, [1])),
        v1: s.v1 ? affine(M(s.v1, [1, 2])) : null,
        v2: s.v2 ? affine(M(s.v2, [1, 2])) : null,
      };
    }
    case 'act': {
      const q1 = o.full ? tf.reshape(s.q1, [r, 1, P, 1]) : tf.reshape(s.q1, [r, 1, P]);
      const q2 = o.full ? tf.reshape(s.q2, [1, c, 1, P]) : tf.reshape(s.q2, [1, c, P]);
      const out = activate(tf, step.act, s.K, q1, q2, o.diag, o.ntk);
      // Each sample's own [P, P] covariance: the same map, with S = 0 on its diagonal.
      const self = (v: Tensor | null, q: Tensor, eye: Tensor | null) =>
        v ? activate(tf, step.act, v, tf.reshape(q, [q.shape[0], P, 1]), tf.reshape(q, [q.shape[0], 1, P]), eye, false).K : null;
      return {
        K: out.K,
        T: o.ntk && s.T && out.dot !== undefined ? tf.mul(s.T, out.dot) : null,
        q1: activate(tf, step.act, s.q1, s.q1, s.q1, 'all', false).K,
        q2: activate(tf, step.act, s.q2, s.q2, s.q2, 'all', false).K,
        v1: self(s.v1, s.q1, o.eye1),
        v2: self(s.v2, s.q2, o.eye2),
      };
    }
    case 'residual': {
      const br = applySpatial(tf, step.branch, s, o);
      const add = (a: Tensor | null, b: Tensor | null) => (a && b ? tf.add(a, b) : (a ?? b));
      return {
        K: tf.add(s.K, br.K),
        T: o.ntk ? add(s.T, br.T) : null,
        q1: tf.add(s.q1, br.q1),
        q2: tf.add(s.q2, br.q2),
        v1: add(s.v1, br.v1),
        v2: add(s.v2, br.v2),
      };
    }
    default:
      throw new Error(`kernel/nn-conv: a '${step.kind}' step before the readout`);
  }
}

/**
 * The analytic NNGP and NTK of compiled `steps` (with a readout) between x1 [n1, P, C] and
 * x2 [n2, P, C] (undefined = x1: symmetric, exact diagonal). Tiled like nnKernel, with tiles shrunk by
 * P² (global_avg_pool) or P (flatten) so that one tile's temporaries stay within tileEntries entries.
 */
export async function nnConvKernel(
  tf: TF,
  steps: Step[],
  x1: Tensor,
  x2: Tensor | undefined,
  options: TiledOptions & { nngp?: boolean; ntk?: boolean } = {},
): Promise<{ nngp?: Tensor; ntk?: Tensor }> {
  const want = { nngp: options.nngp ?? true, ntk: options.ntk ?? true };
  const { spatial, readout, flat } = splitAtReadout(steps);
  const full = readout.mode === 'pool';
  const symmetric = x2 === undefined;
  const [n1, P, C] = x1.shape;
  const xb = x2 ?? x1;
  const n2 = xb.shape[0];
  const channels = readout.channels === 'input' ? C : readout.channels;
  // Only the dense steps after the readout read it (as their 'input' fan-in, "standard" only).
  const readoutWidth = (channels ?? Number.NaN) * (full ? 1 : P);
  const perEntry = full ? P * P : P;
  const tileEntries = Math.max(1, Math.floor((options.tileEntries ?? DEFAULT_TILE_ENTRIES) / perEntry));
  const eyeP = tf.tidy(() => tf.cast(tf.eye(P), 'bool'));
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
        const a = tf.slice(x1, [t.r0, 0, 0], [r, P, C]);
        const b = tf.slice(xb, [t.c0, 0, 0], [c, P, C]);
        const q1 = tf.div(tf.sum(tf.square(a), 2), C);
        const q2 = tf.div(tf.sum(tf.square(b), 2), C);
        let K: Tensor;
        let diag: Tensor | null = null;
        if (full) {
          K = tf.div(tf.matMul(tf.reshape(a, [r * P, C]), tf.reshape(b, [c * P, C]), false, true), C);
          K = tf.transpose(tf.reshape(K, [r, P, c, P]), [0, 2, 1, 3]);
          if (t.diagonal) diag = tf.logicalAnd(tf.reshape(diagonalMask(tf, r), [r, r, 1, 1]), tf.reshape(eyeP, [1, 1, P, P]));
        } else {
          K = tf.div(tf.matMul(tf.transpose(a, [1, 0, 2]), tf.transpose(b, [1, 0, 2]), false, true), C);
          K = tf.transpose(K, [1, 2, 0]);
          if (t.diagonal) diag = tf.reshape(diagonalMask(tf, r), [r, r, 1]);
        }
        if (diag) {
          // Exact diagonal: Σ(a,a,i,i) = q(a,i), the same float as the variance recursion.
          diag = tf.broadcastTo(diag, K.shape);
          K = tf.where(diag, tf.broadcastTo(full ? tf.reshape(q1, [r, 1, P, 1]) : tf.reshape(q1, [r, 1, P]), K.shape), K);
        }
        let v1: Tensor | null = null;
        let v2: Tensor | null = null;
        let eye1: Tensor | null = null;
        let eye2: Tensor | null = null;
        if (full) {
          eye1 = tf.broadcastTo(tf.reshape(eyeP, [1, P, P]), [r, P, P]);
          eye2 = tf.broadcastTo(tf.reshape(eyeP, [1, P, P]), [c, P, P]);
          const self = (x: Tensor, q: Tensor, eye: Tensor) =>
            tf.where(eye, tf.broadcastTo(tf.reshape(q, [x.shape[0], P, 1]), eye.shape), tf.div(tf.matMul(x, x, false, true), C));
          v1 = self(a, q1, eye1);
          v2 = self(b, q2, eye2);
        }
        const s = applySpatial(tf, spatial, { K, T: null, q1, q2, v1, v2 }, { ntk: want.ntk, inputWidth: C, full, diag, eye1, eye2 });
        // The readout: mean over all position pairs (pool) or over positions (flatten, diagonal kept).
        const axes = full ? [2, 3] : [2];
        let Kf = tf.mean(s.K, axes);
        const Tf = s.T ? tf.mean(s.T, axes) : null;
        const fq1 = tf.reshape(full ? tf.mean(s.v1!, [1, 2]) : tf.mean(s.q1, 1), [r, 1]);
        const fq2 = tf.reshape(full ? tf.mean(s.v2!, [1, 2]) : tf.mean(s.q2, 1), [1, c]);
        const flatDiag = t.diagonal ? diagonalMask(tf, r) : null;
        if (flatDiag) Kf = tf.where(flatDiag, tf.broadcastTo(fq1, [r, c]), Kf);
        const f = applySteps(tf, flat, { K: Kf, T: Tf, q1: fq1, q2: fq2 }, { ntk: want.ntk, inputWidth: readoutWidth, diag: flatDiag });
        const out = tileOutputs(tf, want, f);
        // Diagonal blocks: the pooled means sum in different orders for (a,b) and (b,a); make them exactly symmetric.
        return t.diagonal ? out.map((m) => tf.mul(tf.add(m, tf.transpose(m)), 0.5)) : out;
      },
      { ...options, tileEntries },
    );
    return namedOutputs(want, outs);
  } finally {
    eyeP.dispose();
  }
}
