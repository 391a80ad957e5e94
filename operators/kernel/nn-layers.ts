/**
 * kernel/nn-layers — the analytic NNGP / NTK recursion of a network described as a list of layers
 * (neural-tangents' stax, in JSON); convolutional steps run in ./nn-conv.ts. Two halves:
 *  - `compileLayers` (static, no tfjs): validates the layer list, with JSON pointers, and compiles
 *    it into steps with every constant resolved (fan-ins of the standard parameterisation included);
 *  - `applySteps` (tfjs, per tile): runs the recursion on one tile of (K, Θ, q₁, q₂).
 * Formulas: ../shared/reference/kernels.md (Jacot et al. 2018, Lee et al. 2019, Novak et al. 2020).
 *
 * Float32 care: S = √(q₁q₂ − K²) is evaluated as √(Q − K)·√(Q + K) with Q = √q₁·√q₂ (no squares
 * of large numbers, so deep stacks do not overflow), clamped at 0; angles are atan2(S, K); on the
 * diagonal of a symmetric call S = 0 exactly (θ = 0). The ReLU family uses the form
 * K' = m·S + (c₀ − m·θ)·K, which never divides by √(q₁q₂): a zero row without bias gives 0.
 */
import type { Tensor } from '@tensorflow/tfjs-core';
import type { TF } from '../../core/operator/context.js';
import { ParamError } from '../../core/operator/errors.js';

export type Parameterization = 'ntk' | 'standard';

/** An elementwise map of the recursion (everything between dense layers). */
export type Activation =
  | { kind: 'abrelu'; a: number; b: number }
  | { kind: 'erf'; a: number; b: number; c: number }
  | { kind: 'gelu' }
  | { kind: 'sin'; a: number; b: number; c: number }
  | { kind: 'layernorm'; eps: number };

export type Step =
  /** nIn: the fan-in for the standard NTK ('input' = the input dimension d, known at run time). */
  | { kind: 'dense'; w2: number; b2: number; bias: boolean; nIn: number | 'input' | null }
  | { kind: 'act'; act: Activation }
  | { kind: 'residual'; branch: Step[] }
  /** 1-D convolution over positions (inputs [n, P, C]); nIn = C_in ('input' = C); the fan-in is nIn·filter. */
  | { kind: 'conv'; w2: number; b2: number; bias: boolean; filter: number; padding: Padding; nIn: number | 'input' | null }
  /**
   * global_avg_pool / flatten: reduces [n, P, C] to features ('pool': C of them, 'flatten': P·C).
   * channels = C_last ('input' = C, null = not declared); the dense steps after it see nIn 'input' = that width.
   */
  | { kind: 'readout'; mode: 'pool' | 'flatten'; channels: number | 'input' | null };

export type Padding = 'same' | 'circular';

const ACTIVATION_TYPES = ['relu', 'abrelu', 'leaky_relu', 'abs', 'erf', 'sigmoid_like', 'gelu', 'sin', 'cos', 'identity', 'layernorm'];
const SPATIAL_TYPES = ['conv', 'global_avg_pool', 'flatten'];
export const LAYER_TYPES = ['dense', ...ACTIVATION_TYPES, 'residual', ...SPATIAL_TYPES];

/** Keys each layer type accepts (besides `type`), with their defaults. */
const LAYER_KEYS: Record<string, Record<string, number | undefined>> = {
  dense: { W_std: 1, b_std: undefined, width: undefined },
  relu: {},
  abrelu: { a: 0, b: 1 },
  leaky_relu: { alpha: 0.01 },
  abs: {},
  erf: { a: 1, b: 1, c: 0 },
  sigmoid_like: {},
  gelu: {},
  sin: { a: 1, b: 1, c: 0 },
  cos: { a: 1, b: 1, c: 0 },
  identity: {},
  layernorm: { eps: 1e-12 },
  residual: {},
  conv: { filter: 3, W_std: 1, b_std: undefined, width: undefined, padding: undefined },
  global_avg_pool: {},
  flatten: {},
};

/** Per-layer docs, for the operator description. */
export const LAYER_DOC =
  'dense {W_std=1, b_std (absent = no bias), width (needed by "standard" for all but the last dense)}, relu, ' +
  'abrelu {a=0, b=1} (a·min(x,0)+b·max(x,0)), leaky_relu {alpha=0.01}, abs, erf {a=1, b=1, c=0} (a·erf(bx)+c), ' +
  'sigmoid_like (erf(0.5, 1/2.4020563531719796, 0.5)), gelu (x·Φ(x)), sin {a=1, b=1, c=0} (a·sin(bx+c)), ' +
  'cos {a=1, b=1, c=0} (a·cos(bx+c)), identity, layernorm {eps=1e-12}, residual {branch: [layers]} (x + branch(x)); ' +
  'on [n, P, C] inputs: conv {filter=3 (odd), padding="same"|"circular", W_std=1, b_std, width (output channels)}, ' +
  'global_avg_pool, flatten (one of the two must end the convolutional part)';

interface Walk {
  gaussian: boolean;
  /** Channel width of the current representation: a number, 'input' (= d), or null (not declared). */
  width: number | 'input' | null;
  /** Pointer of the dense layer that left `width` undeclared. */
  widthFrom: string | null;
  /** 3 while the representation is [n, P, C] (before global_avg_pool/flatten), else 2. */
  rank: 2 | 3;
  /** Pointer of a flatten not yet followed by a dense layer. */
  afterFlatten: string | null;
}

/**
 * Validates `layers` and compiles them to steps. Throws ParamError with a pointer such as
 * `/params/layers/3` (a layer) or `/params/layers/3/W_std` (one of its fields). `inputRank` 3 means
 * inputs [n, P, C]: the list must then reduce positions (global_avg_pool or flatten) before any dense.
 */
export function compileLayers(layers: unknown, parameterization: Parameterization, pointer = '/params/layers', inputRank: 2 | 3 = 2): Step[] {
  if (!Array.isArray(layers)) throw new ParamError('layers must be an array', pointer);
  const walk: Walk = { gaussian: false, width: 'input', widthFrom: null, rank: inputRank, afterFlatten: null };
  const steps = compileList(layers, parameterization, pointer, walk);
  if (walk.rank === 3) {
    throw new ParamError('inputs [n, P, C] need a global_avg_pool or flatten layer: kernel.nn returns [n1, n2] kernels', pointer);
  }
  return steps;
}

function num(layer: Record<string, unknown>, key: string, ptr: string, check?: (v: number) => string | undefined): number | undefined {
  const v = layer[key];
  if (v === undefined) return LAYER_KEYS[layer.type as string][key];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ParamError(`${key} must be a finite number`, `${ptr}/${key}`);
  const problem = check?.(v);
  if (problem) throw new ParamError(`${key} ${problem}`, `${ptr}/${key}`);
  return v;
}
const nonNegative = (v: number) => (v < 0 ? 'must be ≥ 0' : undefined);
const positive = (v: number) => (v <= 0 ? 'must be > 0' : undefined);
const positiveInteger = (v: number) => (!Number.isInteger(v) || v < 1 ? 'must be an integer ≥ 1' : undefined);

function compileList(layers: unknown[], param: Parameterization, pointer: string, walk: Walk): Step[] {
  const steps: Step[] = [];
  layers.forEach((raw, i) => {
    const ptr = `${pointer}/${i}`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ParamError('a layer must be an object {type, ...}', ptr);
    const layer = raw as Record<string, unknown>;
    const type = layer.type;
    if (typeof type !== 'string') throw new ParamError('a layer needs a string "type"', ptr);
    if (!(type in LAYER_KEYS)) throw new ParamError(`unknown layer type '${type}' (known: ${LAYER_TYPES.join(', ')})`, ptr);
    // Where each layer may stand: spatial layers on [n, P, C] only, dense only once positions are reduced.
    if (SPATIAL_TYPES.includes(type) && walk.rank !== 3) {
      throw new ParamError(
        `'${type}' needs an [n, P, C] representation: inputs x1 [n1, P, C] and no global_avg_pool/flatten before it`,
        ptr,
      );
    }
    if (type === 'dense' && walk.rank === 3) {
      throw new ParamError(
        "'dense' on an [n, P, C] representation: reduce positions first (global_avg_pool or flatten), or use conv with filter 1",
        ptr,
      );
    }
    if (walk.afterFlatten && type !== 'dense' && type !== 'identity') {
      // After flatten each feature keeps its own position's variance, so an activation there is not a map of the
      // averaged kernel; the same network is written with the activation before flatten.
      throw new ParamError(`'${type}' after flatten (${walk.afterFlatten}): put it before flatten (the same network) or add a dense layer first`, ptr);
    }
    const allowed = type === 'residual' ? ['branch'] : Object.keys(LAYER_KEYS[type]);
    for (const key of Object.keys(layer)) {
      if (key !== 'type' && !allowed.includes(key)) {
        throw new ParamError(`layer '${type}' has no field '${key}' (fields: ${allowed.join(', ') || 'none'})`, `${ptr}/${key}`);
      }
    }
    const needGaussian = () => {
      if (!walk.gaussian) {
        throw new ParamError(
          `'${type}' must follow a dense layer (directly or through identity/layernorm): its input must be the Gaussian pre-activation of a dense layer`,
          ptr,
        );
      }
    };
    switch (type) {
      case 'dense': {
        const wStd = num(layer, 'W_std', ptr, nonNegative)!;
        const bStd = num(layer, 'b_std', ptr, nonNegative);
        const width = num(layer, 'width', ptr, positiveInteger);
        let nIn: number | 'input' | null = null;
        if (param === 'standard') {
          if (walk.width === null) {
            throw new ParamError(
              'parameterization "standard" needs the width of every dense layer except the last (its NTK depends on the fan-in of the next one)',
              `${walk.widthFrom}/width`,
            );
          }
          nIn = walk.width;
        }
        steps.push({ kind: 'dense', w2: wStd * wStd, b2: bStd === undefined ? 0 : bStd * bStd, bias: bStd !== undefined, nIn });
        walk.gaussian = true;
        walk.afterFlatten = null;
        walk.width = width ?? null;
        walk.widthFrom = width === undefined ? ptr : null;
        return;
      }
      case 'identity':
        return;
      case 'conv': {
        const filter = num(layer, 'filter', ptr, (v) => (!Number.isInteger(v) || v < 1 || v % 2 === 0 ? 'must be an odd integer ≥ 1' : undefined))!;
        const padding = layer.padding ?? 'same';
        if (padding !== 'same' && padding !== 'circular') throw new ParamError('padding must be "same" or "circular"', `${ptr}/padding`);
        const wStd = num(layer, 'W_std', ptr, nonNegative)!;
        const bStd = num(layer, 'b_std', ptr, nonNegative);
        const width = num(layer, 'width', ptr, positiveInteger);
        let nIn: number | 'input' | null = null;
        if (param === 'standard') {
          if (walk.width === null) {
            throw new ParamError(
              'parameterization "standard" needs the width (output channels) of every conv/dense layer except the last',
              `${walk.widthFrom}/width`,
            );
          }
          nIn = walk.width;
        }
        steps.push({ kind: 'conv', w2: wStd * wStd, b2: bStd === undefined ? 0 : bStd * bStd, bias: bStd !== undefined, filter, padding, nIn });
        walk.gaussian = true;
        walk.width = width ?? null;
        walk.widthFrom = width === undefined ? ptr : null;
        return;
      }
      case 'global_avg_pool':
      case 'flatten': {
        steps.push({ kind: 'readout', mode: type === 'flatten' ? 'flatten' : 'pool', channels: walk.width });
        walk.rank = 2;
        // The features after it: 'input' = the readout width, resolved at run time (it needs P and C).
        if (walk.width !== null) walk.width = 'input';
        if (type === 'flatten') walk.afterFlatten = ptr;
        return;
      }
      case 'layernorm': {
        needGaussian();
        steps.push({ kind: 'act', act: { kind: 'layernorm', eps: num(layer, 'eps', ptr, positive)! } });
        return;
      }
      case 'residual': {
        const branch = layer.branch;
        if (!Array.isArray(branch)) throw new ParamError('residual needs "branch": an array of layers', `${ptr}/branch`);
        const inner: Walk = { ...walk };
        const sub = compileList(branch, param, `${ptr}/branch`, inner);
        if (typeof inner.width === 'number' && typeof walk.width === 'number' && inner.width !== walk.width) {
          throw new ParamError(`residual branch maps width ${walk.width} to ${inner.width}: the sum needs equal widths`, ptr);
        }
        if (inner.rank !== walk.rank) throw new ParamError('a residual branch cannot reduce positions (global_avg_pool/flatten)', ptr);
        steps.push({ kind: 'residual', branch: sub });
        walk.gaussian = walk.gaussian && inner.gaussian;
        return;
      }
      default: {
        needGaussian();
        steps.push({ kind: 'act', act: activation(type, layer, ptr) });
        walk.gaussian = false;
      }
    }
  });
  return steps;
}

function activation(type: string, layer: Record<string, unknown>, ptr: string): Activation {
  switch (type) {
    case 'relu':
      return { kind: 'abrelu', a: 0, b: 1 };
    case 'abrelu':
      return { kind: 'abrelu', a: num(layer, 'a', ptr)!, b: num(layer, 'b', ptr)! };
    case 'leaky_relu':
      return { kind: 'abrelu', a: num(layer, 'alpha', ptr)!, b: 1 };
    case 'abs':
      return { kind: 'abrelu', a: -1, b: 1 };
    case 'erf':
      return { kind: 'erf', a: num(layer, 'a', ptr)!, b: num(layer, 'b', ptr)!, c: num(layer, 'c', ptr)! };
    case 'sigmoid_like':
      return { kind: 'erf', a: 0.5, b: 1 / 2.4020563531719796, c: 0.5 };
    case 'gelu':
      return { kind: 'gelu' };
    case 'sin':
      return { kind: 'sin', a: num(layer, 'a', ptr)!, b: num(layer, 'b', ptr)!, c: num(layer, 'c', ptr)! };
    case 'cos':
      return { kind: 'sin', a: num(layer, 'a', ptr)!, b: num(layer, 'b', ptr)!, c: num(layer, 'c', ptr)! + Math.PI / 2 };
    default:
      throw new ParamError(`unknown layer type '${type}'`, ptr);
  }
}

// ---------------------------------------------------------------------------------------------
// The recursion on one tile.

/** One tile of the kernels: K, Θ (null = 0) [r, c]; the diagonals q₁ [r, 1], q₂ [1, c]. */
export interface TileState {
  K: Tensor;
  T: Tensor | null;
  q1: Tensor;
  q2: Tensor;
}

export interface ApplyOptions {
  /** Compute Θ (otherwise T stays null and only the NNGP is propagated). */
  ntk: boolean;
  /** The input dimension d (fan-in of the first dense layer under "standard"). */
  inputWidth: number;
  /** Bool [r, c] mask of the entries that are diagonal entries of a symmetric call (S = 0 there). */
  diag: Tensor | null;
}

/**
 * Runs the compiled steps on one tile. Synchronous: call it inside `tf.tidy` (it allocates freely
 * and disposes nothing). The maps of q₁ and q₂ are the K map evaluated with K = q₁ = q₂ and S = 0.
 */
export function applySteps(tf: TF, steps: Step[], state: TileState, options: ApplyOptions): TileState {
  let s = state;
  for (const step of steps) {
    // One tidy per step: its temporaries go as soon as the step is done (the states stay to the caller's tidy).
    const prev = s;
    const [K, T, q1, q2] = tf.tidy(() => {
      const n = applyStep(tf, step, prev, options);
      return [n.K, n.T ?? undefined, n.q1, n.q2];
    }) as [Tensor, Tensor | undefined, Tensor, Tensor];
    s = { K, T: T ?? null, q1, q2 };
  }
  return s;
}

function applyStep(tf: TF, step: Step, s: TileState, options: ApplyOptions): TileState {
  {
    switch (step.kind) {
      case 'dense': {
        const affine = (x: Tensor) => (step.b2 === 0 ? tf.mul(x, step.w2) : tf.add(tf.mul(x, step.w2), step.b2));
        const K = affine(s.K);
        let T: Tensor | null = null;
        if (options.ntk) {
          if (step.nIn === null) {
            T = s.T ? tf.add(K, tf.mul(s.T, step.w2)) : K;
          } else {
            const nIn = step.nIn === 'input' ? options.inputWidth : step.nIn;
            T = tf.mul(s.K, nIn);
            if (s.T) T = tf.add(T, tf.mul(s.T, step.w2));
            if (step.bias) T = tf.add(T, 1);
          }
        }
        s = { K, T, q1: affine(s.q1), q2: affine(s.q2) };
        break;
      }
      case 'act': {
        const out = activate(tf, step.act, s.K, s.q1, s.q2, options.diag, options.ntk);
        const q1 = activate(tf, step.act, s.q1, s.q1, s.q1, 'all', false).K;
        const q2 = activate(tf, step.act, s.q2, s.q2, s.q2, 'all', false).K;
        // Θ = 0 stays 0 (null); an activation only multiplies Θ.
        s = { K: out.K, T: options.ntk && s.T && out.dot !== undefined ? tf.mul(s.T, out.dot) : null, q1, q2 };
        break;
      }
      case 'residual': {
        const br = applySteps(tf, step.branch, s, options);
        let T: Tensor | null = null;
        if (options.ntk) T = s.T && br.T ? tf.add(s.T, br.T) : (s.T ?? br.T);
        s = { K: tf.add(s.K, br.K), T, q1: tf.add(s.q1, br.q1), q2: tf.add(s.q2, br.q2) };
        break;
      }
      case 'conv':
      case 'readout':
        // compileLayers only emits them for [n, P, C] inputs, which nnKernel hands to the spatial recursion (nn-conv.ts).
        throw new Error(`kernel/nn-layers: a '${step.kind}' step in the flat recursion`);
    }
  }
  return s;
}

/** √(max(P − u, 0))·√(max(P + u, 0)) = √(max(P² − u², 0)) without squaring. */
export function sqrtDiffSquares(tf: TF, P: Tensor, u: Tensor): Tensor {
  return tf.mul(tf.sqrt(tf.relu(tf.sub(P, u))), tf.sqrt(tf.relu(tf.add(P, u))));
}

/**
 * The map of one activation: new K and the derivative kernel K̇ (Θ ← Θ ⊙ K̇; undefined when not
 * asked). `diag`: a mask of the diagonal entries of a symmetric call, or 'all' when K = q₁ = q₂.
 */
export function activate(
  tf: TF,
  act: Activation,
  K: Tensor,
  q1: Tensor,
  q2: Tensor,
  diag: Tensor | null | 'all',
  wantDot: boolean,
): { K: Tensor; dot?: Tensor | number } {
  switch (act.kind) {
    case 'abrelu': {
      const m = (act.a - act.b) ** 2 / (2 * Math.PI);
      const c0 = (act.a * act.a + act.b * act.b) / 2;
      if (m === 0 || diag === 'all') {
        return { K: tf.mul(K, c0), dot: wantDot ? c0 : undefined };
      }
      const Q = tf.mul(tf.sqrt(q1), tf.sqrt(q2));
      let S = sqrtDiffSquares(tf, Q, K);
      if (diag) S = tf.where(diag, tf.zerosLike(S), S);
      const theta = tf.atan2(S, K);
      const dot = tf.sub(c0, tf.mul(theta, m));
      return { K: tf.add(tf.mul(S, m), tf.mul(dot, K)), dot: wantDot ? dot : undefined };
    }
    case 'erf': {
      const { a, b, c } = act;
      const b2 = b * b;
      const P = tf.mul(tf.sqrt(tf.add(tf.mul(q1, 2 * b2), 1)), tf.sqrt(tf.add(tf.mul(q2, 2 * b2), 1)));
      const u = tf.mul(K, 2 * b2);
      const R = sqrtDiffSquares(tf, P, u);
      let k = tf.mul(tf.atan2(u, R), (a * a * 2) / Math.PI);
      if (c !== 0) k = tf.add(k, c * c);
      return { K: k, dot: wantDot ? tf.div((a * a * b2 * 4) / Math.PI, R) : undefined };
    }
    case 'gelu': {
      // P = (1+q₁)(1+q₂)ᵀ, Δ = √(P − K²), α = atan2(K, Δ), r = q/(1+q).
      const sP = tf.mul(tf.sqrt(tf.add(q1, 1)), tf.sqrt(tf.add(q2, 1)));
      const P = tf.mul(sP, sP);
      const delta = sqrtDiffSquares(tf, sP, K);
      const alpha = tf.atan2(K, delta);
      const prodOverP = tf.mul(tf.div(q1, tf.add(q1, 1)), tf.div(q2, tf.add(q2, 1)));
      // (K² + q₁q₂Δ²)/(PΔ) = (K/√P)²/Δ + (q₁q₂/P)·Δ
      const kOverSP = tf.div(K, sP);
      const frac = tf.add(tf.div(tf.square(kOverSP), delta), tf.mul(prodOverP, delta));
      const k = tf.add(tf.mul(K, 0.25), tf.div(tf.add(tf.mul(K, alpha), frac), 2 * Math.PI));
      let dot: Tensor | undefined;
      if (wantDot) {
        // 1/4 + α/2π + K/(2πΔ)·(1/Δ² + (1 − q₁q₂)/P + 1), with (1 − q₁q₂)/P = 1/P − q₁q₂/P
        const inner = tf.add(tf.add(tf.reciprocal(tf.square(delta)), tf.sub(tf.reciprocal(P), prodOverP)), 1);
        dot = tf.add(tf.add(tf.div(alpha, 2 * Math.PI), 0.25), tf.mul(tf.div(K, tf.mul(delta, 2 * Math.PI)), inner));
      }
      return { K: k, dot };
    }
    case 'sin': {
      const { a, b, c } = act;
      const b2 = b * b;
      const cos2c = Math.cos(2 * c);
      const half = tf.mul(tf.add(q1, q2), 0.5);
      const e1 = tf.exp(tf.mul(tf.sub(K, half), b2));
      const e2 = tf.exp(tf.mul(tf.add(K, half), -b2));
      const k = tf.mul(tf.sub(e1, tf.mul(e2, cos2c)), (a * a) / 2);
      return { K: k, dot: wantDot ? tf.mul(tf.add(e1, tf.mul(e2, cos2c)), (a * a * b2) / 2) : undefined };
    }
    case 'layernorm': {
      const denom = tf.mul(tf.sqrt(tf.add(q1, act.eps)), tf.sqrt(tf.add(q2, act.eps)));
      const inv = tf.reciprocal(denom);
      return { K: tf.mul(K, inv), dot: wantDot ? inv : undefined };
    }
  }
}
