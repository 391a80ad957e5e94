/**
 * The single-layer linear self-attention (LSA) predictor for in-context regression (von Oswald et
 * al. 2023, eq. 1; Akyürek et al. 2023), on prompts from data.icl_linear: tokens e_j = [x_j, y_j],
 * the query token [x_q, 0] last. With the N context tokens as keys and values,
 *   e_j ← e_j + W_PV·M·W_KQ·e_j,   M = (1/N)·Σ_{i ≤ N} e_i e_iᵀ,
 * and the prediction is the query's y slot after the layer: ŷ = p·M·W_KQ·e_q with p the last row of
 * W_PV (no other row reaches the prediction). Every function takes `tf`; the synchronous ones are
 * called inside tf.tidy.
 */
import type { Scalar, Tensor, Tensor1D, Tensor2D, Tensor3D } from '@tensorflow/tfjs-core';
import type { Dim, Shape, TF } from '../../core/operator/index.js';
import { expectDim, expectRank, OperatorError, ShapeError } from '../../core/operator/index.js';

/** N context tokens and the token width D = d + 1 of a prompt batch [T, N + 1, D]. */
export function lsaDims(tokens: Tensor): { T: number; N: number; D: number } {
  if (tokens.rank !== 3) throw new OperatorError('shape', `tokens must be [tasks, n_context + 1, d + 1], got [${tokens.shape}]`);
  const [T, L, D] = tokens.shape;
  if (L < 2) throw new OperatorError('shape', `tokens need at least one context token before the query (got ${L} tokens)`);
  if (D < 2) throw new OperatorError('shape', `tokens must be [x, y] with x of dimension ≥ 1 (got width ${D})`);
  return { T, N: L - 1, D };
}

/**
 * The construction of von Oswald et al. (Prop. 1, read here with a positive sign): W_KQ = [[γI, 0], [0, 0]],
 * W_PV = e_D e_Dᵀ, so that ŷ = γ·x_q·(1/N)Σ y_i x_i — the prediction of w₁ after one GD step of size γ
 * from w₀ = 0 on L(w) = (1/2N)Σ(w·x_i − y_i)².
 */
export function constructLsa(tf: TF, d: number, gamma: number): { wkq: Tensor2D; wpv: Tensor2D } {
  const D = d + 1;
  const kq = new Float32Array(D * D);
  for (let j = 0; j < d; j++) kq[j * D + j] = gamma;
  const pv = new Float32Array(D * D);
  pv[D * D - 1] = 1;
  return { wkq: tf.tensor2d(kq, [D, D]), wpv: tf.tensor2d(pv, [D, D]) };
}

/** Prompts per chunk in contextMoment: bounds its [chunk, N, D, D] temporary. */
const CHUNK = 2048;

/**
 * M = (1/N)·Σ_{i ≤ N} e_i e_iᵀ per prompt, [T, D, D] (symmetric), by broadcast products in chunks of
 * prompts (batched matMul of many tiny matrices is slow on every backend).
 */
export function contextMoment(tf: TF, tokens: Tensor3D): Tensor3D {
  const { T, N, D } = lsaDims(tokens);
  const parts: Tensor[] = [];
  for (let s = 0; s < T; s += CHUNK) {
    const n = Math.min(CHUNK, T - s);
    parts.push(
      tf.tidy(() => {
        const c = tf.slice(tokens, [s, 0, 0], [n, N, D]);
        return tf.div(tf.sum(tf.mul(tf.reshape(c, [n, N, D, 1]), tf.reshape(c, [n, N, 1, D])), 1), N);
      }),
    );
  }
  if (parts.length === 1) return parts[0] as Tensor3D;
  const m = tf.concat(parts, 0) as Tensor3D;
  tf.dispose(parts);
  return m;
}

function checkWeights(D: number, wkq: Tensor, wpv: Tensor): void {
  for (const [name, w] of [['w_kq', wkq], ['w_pv', wpv]] as const) {
    if (w.rank !== 2 || w.shape[0] !== D || w.shape[1] !== D) {
      throw new OperatorError('shape', `${name} must be [${D}, ${D}] for tokens of width ${D}, got [${w.shape}]`);
    }
  }
}

/** The whole layer: every token's output [T, N + 1, D] and the prediction ŷ [T] (the query's y slot). */
export function lsaForward(tf: TF, tokens: Tensor3D, wkq: Tensor2D, wpv: Tensor2D): { out: Tensor3D; pred: Tensor1D } {
  const { T, N, D } = lsaDims(tokens);
  checkWeights(D, wkq, wpv);
  const L = N + 1;
  const m = contextMoment(tf, tokens);
  // Rows: (W_KQ e_j)ᵀ, then (M W_KQ e_j)ᵀ (M symmetric, as a broadcast product), then (W_PV M W_KQ e_j)ᵀ.
  // Explicit transposes rather than matMul's flags (webgpu pitfall, docs/writing-operators.md).
  const z = tf.reshape(tf.matMul(tf.reshape(tokens, [T * L, D]), tf.transpose(wkq)), [T, L, D, 1]);
  const zm = tf.reshape(tf.sum(tf.mul(z, tf.reshape(m, [T, 1, D, D])), 2), [T * L, D]);
  const out = tf.add(tokens, tf.reshape(tf.matMul(zm, tf.transpose(wpv)), [T, L, D])) as Tensor3D;
  const pred = tf.reshape(tf.slice(out, [0, N, D - 1], [T, 1, 1]), [T]) as Tensor1D;
  return { out, pred };
}

/**
 * Features that make ŷ linear in the weights. full: F[t, j, k·D + l] = M_t[j, k]·e_q,t[l], so that
 * ŷ_t = Σ_j p_j·(F[t, j, :]·vec W_KQ) [T, D, D²]. gamma: H[t, a·d + b] = x_q,t[a]·g_t[b] with
 * g_t = (1/N)Σ_i y_i x_i, so that ŷ_t = H[t, :]·vec Γ for ŷ = x_qᵀ Γ g [T, d²].
 */
export function lsaFeatures(tf: TF, tokens: Tensor3D, parameterization: 'full' | 'gamma'): Tensor {
  const { T, N, D } = lsaDims(tokens);
  const d = D - 1;
  if (parameterization === 'full') {
    const m = contextMoment(tf, tokens);
    const eq = tf.reshape(tf.slice(tokens, [0, N, 0], [T, 1, D]), [T, 1, 1, D]);
    return tf.reshape(tf.mul(tf.reshape(m, [T, D, D, 1]), eq), [T, D, D * D]);
  }
  const g = tf.div(tf.sum(tf.mul(tf.slice(tokens, [0, 0, d], [T, N, 1]), tf.slice(tokens, [0, 0, 0], [T, N, d])), 1), N);
  const xq = tf.reshape(tf.slice(tokens, [0, N, 0], [T, 1, d]), [T, d, 1]);
  return tf.reshape(tf.mul(xq, tf.reshape(g, [T, 1, d])), [T, d * d]);
}

/**
 * Loss L = mean_t (ŷ_t − y_t)² and its gradients by hand, from lsaFeatures. With r = 2(ŷ − y)/T and
 * G = Fᵀr: full, weights [W_KQ, W_PV]: ŷ = Σ_j p_j (F_j·vec W), ∂L/∂p = G·vec W, ∂L/∂W = pᵀG (p the
 * last row of W_PV; the other rows do not reach ŷ and get zero gradient); gamma, weights [Γ]: ∂L/∂Γ = Hᵀr.
 */
export function lsaLossAndGrads(tf: TF, feats: Tensor, y: Tensor1D, weights: Tensor2D[]): { loss: Scalar; pred: Tensor1D; grads: Tensor2D[] } {
  const T = feats.shape[0];
  if (feats.rank === 2) {
    const [gamma] = weights;
    const d = gamma.shape[0];
    const pred = tf.reshape(tf.matMul(feats as Tensor2D, tf.reshape(gamma, [d * d, 1])), [T]) as Tensor1D;
    const diff = tf.sub(pred, y);
    const r = tf.reshape(tf.mul(diff, 2 / T), [1, T]);
    return { loss: tf.mean(tf.square(diff)) as Scalar, pred, grads: [tf.reshape(tf.matMul(r, feats as Tensor2D), [d, d]) as Tensor2D] };
  }
  const [wkq, wpv] = weights;
  const D = wkq.shape[0];
  checkWeights(D, wkq, wpv);
  const p = tf.reshape(tf.slice(wpv, [D - 1, 0], [1, D]), [D, 1]);
  const fw = tf.reshape(tf.matMul(tf.reshape(feats, [T * D, D * D]), tf.reshape(wkq, [D * D, 1])), [T, D]);
  const pred = tf.reshape(tf.matMul(fw, p), [T]) as Tensor1D;
  const diff = tf.sub(pred, y);
  const r = tf.reshape(tf.mul(diff, 2 / T), [1, T]);
  const g = tf.reshape(tf.matMul(r, tf.reshape(feats, [T, D * D * D])), [D, D * D]);
  const gp = tf.reshape(tf.matMul(g, tf.reshape(wkq, [D * D, 1])), [1, D]);
  const gkq = tf.reshape(tf.matMul(tf.transpose(p), g), [D, D]) as Tensor2D;
  const gpv = tf.concat([tf.zeros([D - 1, D]), gp], 0) as Tensor2D;
  return { loss: tf.mean(tf.square(diff)) as Scalar, pred, grads: [gkq, gpv] };
}

/** The LSA weights that realise ŷ = x_qᵀ Γ (1/N)Σ y_i x_i: W_KQ = [[Γᵀ, 0], [0, 0]], W_PV = e_D e_Dᵀ. */
export function gammaToLsa(tf: TF, gamma: Tensor2D): { wkq: Tensor2D; wpv: Tensor2D } {
  const d = gamma.shape[0];
  const D = d + 1;
  const wkq = tf.pad(tf.transpose(gamma), [[0, 1], [0, 1]]) as Tensor2D;
  const pv = new Float32Array(D * D);
  pv[D * D - 1] = 1;
  return { wkq, wpv: tf.tensor2d(pv, [D, D]) };
}

/** Static shapes: T, N + 1 and D of a tokens input ([tasks, n_context + 1, d + 1]), each possibly unknown. */
export function tokenDims(shape: Shape | undefined, pointer: string): { T: Dim; L: Dim; D: Dim } {
  if (!shape) return { T: null, L: null, D: null };
  expectRank(shape, 3, 'tokens [tasks, n_context + 1, d + 1]', pointer);
  const [T, L, D] = shape;
  if (typeof L === 'number' && L < 2) throw new ShapeError('tokens need at least one context token before the query', pointer);
  if (typeof D === 'number' && D < 2) throw new ShapeError('tokens must be [x, y] with x of dimension ≥ 1', pointer);
  return { T, L, D };
}

/** Checks a [D, D] weight input against the token width. */
export function expectWeightShape(shape: Shape | undefined, D: Dim, pointer: string): void {
  if (!shape) return;
  expectRank(shape, 2, 'weights [d + 1, d + 1]', pointer);
  expectDim(shape[0], D, 'weight rows must equal the token width d + 1', pointer);
  expectDim(shape[1], D, 'weight columns must equal the token width d + 1', pointer);
}
