/**
 * Fused fast paths of the kernel operators: when the active backend offers `kernelflowFused` (the
 * `native` backend: one OpenBLAS Gram matrix, then the whole elementwise map of each entry in one
 * C pass, native/fused.c), kernel.rbf (and the Matérn kernels) and dense-only kernel.nn stacks use
 * it instead of their tiled tfjs code, which stays the reference (tests/native/fused.test.ts
 * compares the two). Reached through `tf.backend()`, so operators never import the engine. The
 * operator records the path taken as the note `kernel_path` ('native-fused' or 'generic').
 */
import type { Tensor } from '@tensorflow/tfjs-core';
import type { RunContext, TF } from '../../core/operator/context.js';
import { OperatorError } from '../../core/operator/errors.js';
import { centredScaled } from './common.js';
import type { Step } from './nn-layers.js';

export type StationaryKind = 'rbf' | 'matern12' | 'matern32' | 'matern52';

/** What kernelflowFused offers (NativeFused in core/run/native-backend.ts). */
export interface FusedHook {
  stationary(kind: StationaryKind, a: Float32Array, b: Float32Array | null, n1: number, n2: number, d: number, variance: number): Float32Array;
  nnDense(x1: Float32Array, x2: Float32Array | null, n1: number, n2: number, d: number, steps: Float64Array, ntk: boolean): { nngp: Float32Array; ntk?: Float32Array };
}

/** The hook of the active backend, if it has one (and fused kernels are on). */
export function fusedHook(tf: TF): FusedHook | undefined {
  return (tf.backend() as { kernelflowFused?: FusedHook }).kernelflowFused;
}

/** The manifest note naming the path a kernel call took. */
export const PATH_NOTE = 'kernel_path';

// Step codes and record layout of native/fused.h (KF_DENSE…, KF_STEP numbers per step).
const DENSE = 0, ABRELU = 1, ERF = 2, LAYERNORM = 3, STEP = 5;

/**
 * The compiled steps of a dense network as the fused kernel's records, or undefined when a step
 * has no fused form (residual, gelu, sin/cos, conv, readout): those run on the generic path.
 * `inputWidth` resolves the standard parameterisation's first fan-in ('input' = d).
 */
export function encodeDenseSteps(steps: Step[], inputWidth: number): Float64Array | undefined {
  const out = new Float64Array(steps.length * STEP);
  for (let s = 0; s < steps.length; s++) {
    const step = steps[s];
    const rec = out.subarray(s * STEP, (s + 1) * STEP);
    if (step.kind === 'dense') {
      const nIn = step.nIn === null ? -1 : step.nIn === 'input' ? inputWidth : step.nIn;
      rec.set([DENSE, step.w2, step.b2, nIn, step.bias ? 1 : 0]);
    } else if (step.kind === 'act' && step.act.kind === 'abrelu') {
      rec.set([ABRELU, step.act.a, step.act.b]);
    } else if (step.kind === 'act' && step.act.kind === 'erf') {
      rec.set([ERF, step.act.a, step.act.b, step.act.c]);
    } else if (step.kind === 'act' && step.act.kind === 'layernorm') {
      rec.set([LAYERNORM, step.act.eps]);
    } else {
      return undefined;
    }
  }
  return out;
}

function checkAbort(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new OperatorError('aborted', 'kernel computation cancelled');
}

/** k = variance·g(‖a_i − b_j‖²) through the hook; a, b [n, d] float32 (b undefined = a, symmetric). The caller owns the result. */
export async function fusedStationary(
  tf: TF,
  hook: FusedHook,
  kind: StationaryKind,
  a: Tensor,
  b: Tensor | undefined,
  variance: number,
  signal?: AbortSignal,
): Promise<Tensor> {
  checkAbort(signal);
  const [n1, d] = a.shape;
  const n2 = b ? b.shape[0] : n1;
  const va = (await a.data()) as Float32Array;
  const vb = b ? ((await b.data()) as Float32Array) : null;
  return tf.tensor2d(hook.stationary(kind, va, vb, n1, n2, d, variance), [n1, n2]);
}

/** NNGP/NTK of an encoded dense stack through the hook (x2 undefined = x1, symmetric). The caller owns the results. */
export async function fusedNn(
  tf: TF,
  hook: FusedHook,
  steps: Float64Array,
  x1: Tensor,
  x2: Tensor | undefined,
  want: { nngp: boolean; ntk: boolean },
  signal?: AbortSignal,
): Promise<{ nngp?: Tensor; ntk?: Tensor }> {
  checkAbort(signal);
  const [n1, d] = x1.shape;
  const n2 = x2 ? x2.shape[0] : n1;
  const v1 = (await x1.data()) as Float32Array;
  const v2 = x2 ? ((await x2.data()) as Float32Array) : null;
  const res = hook.nnDense(v1, v2, n1, n2, d, steps, want.ntk);
  const out: { nngp?: Tensor; ntk?: Tensor } = {};
  if (want.nngp) out.nngp = tf.tensor2d(res.nngp, [n1, n2]);
  if (want.ntk) out.ntk = tf.tensor2d(res.ntk!, [n1, n2]);
  return out;
}

/** Whether the fused kernels can take these inputs: rank 2, no empty dimension (the generic path handles those). */
function fusable(x1: Tensor, x2: Tensor | undefined): boolean {
  const [n1 = 0, d = 0] = x1.shape;
  return x1.rank === 2 && n1 > 0 && d > 0 && (!x2 || (x2.rank === 2 && (x2.shape[0] ?? 0) > 0));
}

/**
 * A stationary kernel operator's fast path: k [n1, n2] from the centred, ℓ-scaled inputs (as the
 * generic stationaryKernel), or undefined when the backend has no hook or the inputs are empty;
 * notes the path taken either way.
 */
export async function tryFusedStationary(
  ctx: RunContext,
  kind: StationaryKind,
  x1: Tensor,
  x2: Tensor | undefined,
  lengthscale: number | number[],
  variance: number,
): Promise<Tensor | undefined> {
  const hook = fusedHook(ctx.tf);
  if (!hook || !fusable(x1, x2)) {
    ctx.note(PATH_NOTE, 'generic');
    return undefined;
  }
  ctx.note(PATH_NOTE, 'native-fused');
  const [a, b] = centredScaled(ctx.tf, x1, x2, lengthscale);
  try {
    return await fusedStationary(ctx.tf, hook, kind, a, b, variance, ctx.signal);
  } finally {
    ctx.tf.dispose(b ? [a, b] : [a]);
  }
}

/**
 * kernel.nn's fast path for dense stacks (dense, ReLU family, erf family, layernorm) on [n, d]
 * inputs, or undefined (no hook, another layer type, conv inputs, empty inputs); notes the path.
 */
export async function tryFusedNn(
  ctx: RunContext,
  steps: Step[],
  x1: Tensor,
  x2: Tensor | undefined,
  want: { nngp: boolean; ntk: boolean },
): Promise<{ nngp?: Tensor; ntk?: Tensor } | undefined> {
  const hook = fusedHook(ctx.tf);
  const encoded = hook && fusable(x1, x2) ? encodeDenseSteps(steps, x1.shape[1]!) : undefined;
  if (!hook || !encoded) {
    ctx.note(PATH_NOTE, 'generic');
    return undefined;
  }
  ctx.note(PATH_NOTE, 'native-fused');
  const out = await fusedNn(ctx.tf, hook, encoded, x1, x2, want, ctx.signal);
  ctx.progress({ fraction: 1, step: 1, total: 1 });
  return out;
}
