/**
 * The `native` backend's own kernels against the cpu backend (and matmul against a float64
 * reference), on random inputs including broadcasting, size-1 and edge shapes, and sizes large
 * enough to take the multi-threaded paths. Skipped, saying why, where the addon is not built.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activateBackend, probeBackend } from '../../core/run/backends.js';
import { BINARY_OPS, loadNativeAddon, UNARY_OPS } from '../../core/run/native-addon.js';
import { broadcastPlan, NATIVE_KERNELS, reduceLayout, type NativeLinalg } from '../../core/run/native-backend.js';

const probe = await probeBackend('native');

/** Deterministic uniform(lo, hi) values, already float32. */
function seeded(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = lo + (((t ^ (t >>> 14)) >>> 0) / 4294967296) * (hi - lo);
  }
  return out;
}

const size = (shape: number[]) => shape.reduce((p, d) => p * d, 1);
let seedCounter = 100;
const input = (shape: number[], lo = -1, hi = 1) => ({ shape, values: seeded(size(shape), seedCounter++, lo, hi) });
type Input = ReturnType<typeof input>;

/** Runs `fn` on native and on cpu with the same inputs; returns both results (shape, dtype, data). */
async function onBoth(inputs: Input[], fn: (...xs: tf.Tensor[]) => tf.Tensor) {
  const results = [];
  for (const name of ['native', 'cpu'] as const) {
    await activateBackend(name);
    const before = tf.memory().numTensors;
    const y = tf.tidy(() => fn(...inputs.map((x) => tf.tensor(x.values, x.shape))));
    results.push({ shape: y.shape, dtype: y.dtype, data: Array.from(await y.data()) as number[] });
    y.dispose();
    expect(tf.memory().numTensors).toBe(before);
  }
  return { native: results[0], cpu: results[1] };
}

/** Elementwise closeness with NaN matching NaN and infinities matching exactly. */
function expectClose(got: number[], want: number[], rel = 1e-5, abs = 1e-6) {
  expect(got.length).toBe(want.length);
  let worst = 0, at = -1;
  for (let i = 0; i < want.length; i++) {
    const g = got[i], w = want[i];
    if (Number.isNaN(w) || Number.isNaN(g) || !Number.isFinite(w) || !Number.isFinite(g)) {
      if (!Object.is(g, w) && !(g === 0 && w === 0)) throw new Error(`element ${i}: got ${g}, want ${w}`);
      continue;
    }
    const err = Math.abs(g - w) / (abs + rel * Math.abs(w));
    if (err > worst) [worst, at] = [err, i];
  }
  if (worst > 1) throw new Error(`element ${at}: got ${got[at]}, want ${want[at]} (error ${worst.toFixed(2)}× tolerance)`);
}

async function agree(inputs: Input[], fn: (...xs: tf.Tensor[]) => tf.Tensor, rel = 1e-5, abs = 1e-6) {
  const { native, cpu } = await onBoth(inputs, fn);
  expect(native.shape).toEqual(cpu.shape);
  expect(native.dtype).toBe(cpu.dtype);
  expectClose(native.data, cpu.data, rel, abs);
}

/** float64 batched matmul with full broadcasting of the batch dims, the independent reference. */
function refMatmul(a: Input, b: Input, ta: boolean, tb: boolean): { shape: number[]; data: Float64Array } {
  const ra = a.shape.length, rb = b.shape.length;
  const m = ta ? a.shape[ra - 1] : a.shape[ra - 2], k = ta ? a.shape[ra - 2] : a.shape[ra - 1];
  const n = tb ? b.shape[rb - 2] : b.shape[rb - 1];
  const oa = a.shape.slice(0, -2), ob = b.shape.slice(0, -2);
  const r = Math.max(oa.length, ob.length);
  const pa = [...Array(r - oa.length).fill(1), ...oa], pb = [...Array(r - ob.length).fill(1), ...ob];
  const outer = pa.map((d, i) => Math.max(d, pb[i]));
  const batches = size(outer);
  const data = new Float64Array(batches * m * n);
  for (let bi = 0; bi < batches; bi++) {
    let rest = bi, ia = 0, ib = 0, sa = 1, sb = 1;
    for (let d = r - 1; d >= 0; d--) {
      const c = rest % outer[d];
      rest = Math.floor(rest / outer[d]);
      ia += (pa[d] === 1 ? 0 : c) * sa;
      ib += (pb[d] === 1 ? 0 : c) * sb;
      sa *= pa[d];
      sb *= pb[d];
    }
    const A = (i: number, p: number) => a.values[ia * m * k + (ta ? p * m + i : i * k + p)];
    const B = (p: number, j: number) => b.values[ib * k * n + (tb ? j * k + p : p * n + j)];
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += A(i, p) * B(p, j);
      data[bi * m * n + i * n + j] = s;
    }
  }
  return { shape: [...outer, m, n], data };
}

describe('layout helpers (pure)', () => {
  it('broadcastPlan drops size-1 dims and merges dims both inputs treat alike', () => {
    expect(broadcastPlan([3, 4], [3, 4], [3, 4])).toEqual({ shape: Int32Array.from([12]), aStrides: Int32Array.from([1]), bStrides: Int32Array.from([1]) });
    expect(broadcastPlan([2, 3, 4], [4], [2, 3, 4])).toEqual({ shape: Int32Array.from([6, 4]), aStrides: Int32Array.from([4, 1]), bStrides: Int32Array.from([0, 1]) });
    expect(broadcastPlan([3, 1], [1, 4], [3, 4])).toEqual({ shape: Int32Array.from([3, 4]), aStrides: Int32Array.from([1, 0]), bStrides: Int32Array.from([0, 1]) });
    expect(broadcastPlan([], [], [])).toEqual({ shape: Int32Array.from([1]), aStrides: Int32Array.from([0]), bStrides: Int32Array.from([0]) });
  });

  it('reduceLayout views the reduced axes as one middle block, or says it cannot', () => {
    expect(reduceLayout([6, 5, 4], [1])).toEqual({ outer: 6, r: 5, inner: 4 });
    expect(reduceLayout([6, 5, 4], [1, 2])).toEqual({ outer: 6, r: 20, inner: 1 });
    expect(reduceLayout([6, 1, 5, 4], [0, 2])).toEqual({ outer: 1, r: 30, inner: 4 });
    expect(reduceLayout([6, 5, 4], [0, 2])).toBeUndefined();
    expect(reduceLayout([6, 1, 4], [1])).toEqual({ outer: 24, r: 1, inner: 1 });
  });
});

describe.skipIf(!probe.usable)(`native backend${probe.usable ? '' : ` — skipped: ${probe.reason}`}`, () => {
  let tensorsAtStart = 0;
  beforeAll(async () => {
    await activateBackend('native');
    tensorsAtStart = tf.memory().numTensors;
  });
  afterAll(() => {
    expect(tf.memory().numTensors).toBe(tensorsAtStart);
  });

  it('activates, registers every cpu kernel, and computes its own kernels natively', async () => {
    const active = await activateBackend('native');
    expect(active.name).toBe('native');
    expect(tf.getBackend()).toBe('native');
    const cpuNames = tf.getKernelsForBackend('cpu').map((k) => k.kernelName).sort();
    expect(tf.getKernelsForBackend('native').map((k) => k.kernelName).sort()).toEqual(cpuNames);
    for (const name of NATIVE_KERNELS) expect(tf.getKernel(name, 'native')!.kernelFunc, name).not.toBe(tf.getKernel(name, 'cpu')!.kernelFunc);
    expect(tf.getKernel('Cast', 'native')!.kernelFunc).toBe(tf.getKernel('Cast', 'cpu')!.kernelFunc);
    expect(probe.detail?.blas).toMatch(/OpenBLAS/);
  });

  describe('matmul against a float64 reference', () => {
    const cases: [number[], number[], boolean, boolean][] = [
      [[5, 7], [7, 3], false, false],
      [[7, 5], [7, 3], true, false],
      [[5, 7], [3, 7], false, true],
      [[7, 5], [3, 7], true, true],
      [[1, 7], [7, 1], false, false],
      [[1, 1], [1, 1], false, false],
      [[4, 5, 7], [4, 7, 3], false, false],
      [[1, 5, 7], [4, 3, 7], false, true],
      [[4, 7, 5], [7, 3], true, false],
      [[2, 1, 5, 7], [3, 7, 6], false, false],
      [[2, 1, 3, 4], [1, 5, 4, 2], false, false],
      [[130, 90], [90, 70], false, false],
    ];
    for (const [sa, sb, ta, tb] of cases) {
      it(`[${sa}]${ta ? 'ᵀ' : ''} · [${sb}]${tb ? 'ᵀ' : ''}`, async () => {
        const a = input(sa), b = input(sb);
        await activateBackend('native');
        const y = tf.tidy(() => tf.matMul(tf.tensor(a.values, a.shape), tf.tensor(b.values, b.shape), ta, tb));
        const want = refMatmul(a, b, ta, tb);
        expect(y.shape).toEqual(want.shape);
        expectClose(Array.from(await y.data()), Array.from(want.data), 1e-5, 1e-5);
        y.dispose();
      });
    }

    it('agrees with cpu on plain batches, and falls back to cpu for empties, int32 and shape errors', async () => {
      await agree([input([3, 6, 5]), input([3, 5, 4])], (a, b) => tf.matMul(a, b));
      await agree([input([3, 0]), input([0, 4])], (a, b) => tf.matMul(a, b));
      await agree([], () => tf.matMul(tf.tensor2d([[1, 2]], [1, 2], 'int32'), tf.tensor2d([[3], [4]], [2, 1], 'int32')));
      await activateBackend('native');
      expect(() => tf.tidy(() => tf.matMul(tf.zeros([2, 3]), tf.zeros([4, 2])))).toThrow(/inner shapes/);
    });

    it('fused matmul: bias and every activation agree with cpu', async () => {
      for (const activation of ['linear', 'relu', 'relu6', 'elu', 'sigmoid', 'leakyrelu', 'prelu'] as const) {
        await agree([input([2, 6, 5]), input([2, 5, 4]), input([4]), input([4])], (a, b, bias, alpha) =>
          tf.fused.matMul({ a, b, bias, activation, preluActivationWeights: alpha, leakyreluAlpha: 0.3 }),
        );
      }
      await agree([input([5, 6]), input([4, 5])], (a, b) => tf.fused.matMul({ a, b, transposeA: true, transposeB: true, activation: 'relu' }));
    });
  });

  describe('binary ops with broadcasting agree with cpu', () => {
    const fns: Record<(typeof BINARY_OPS)[number], (a: tf.Tensor, b: tf.Tensor) => tf.Tensor> = {
      Add: tf.add, Sub: tf.sub, Multiply: tf.mul, RealDiv: tf.div, Maximum: tf.maximum, Minimum: tf.minimum,
      Pow: tf.pow, SquaredDifference: tf.squaredDifference, Atan2: tf.atan2,
    };
    const shapes: [number[], number[]][] = [
      [[3, 4], [3, 4]], [[3, 4], [4]], [[3, 1], [1, 4]], [[2, 3, 4], [3, 1]], [[], [5]], [[5], []], [[], []],
      [[2, 1, 4, 1], [3, 1, 5]], [[1], [1]], [[300, 200], [200]], [[300, 1], [300, 200]], [[70000], [70000]],
    ];
    for (const name of BINARY_OPS) {
      it(name, async () => {
        for (const [sa, sb] of shapes) {
          const lo = name === 'Pow' ? 0.1 : -2;
          await agree([input(sa, lo, 2), input(sb, -2, 2)], fns[name], 2e-6, 1e-6);
        }
      });
    }

    it('NaN propagates through Maximum/Minimum like cpu; int32 falls back to cpu', async () => {
      const a = { shape: [4], values: Float32Array.from([NaN, 1, 2, NaN]) }, b = { shape: [4], values: Float32Array.from([0, NaN, 3, NaN]) };
      await agree([a, b], tf.maximum);
      await agree([a, b], tf.minimum);
      await agree([], () => tf.add(tf.tensor1d([1, 2, 3], 'int32'), tf.tensor1d([4, 5, 6], 'int32')));
    });
  });

  describe('unary ops agree with cpu', () => {
    const domain: Partial<Record<(typeof UNARY_OPS)[number], [number, number]>> = {
      Log: [0.01, 5], Sqrt: [0, 5], Rsqrt: [0.01, 5], Log1p: [-0.9, 5], Acos: [-1, 1], Asin: [-1, 1], Exp: [-10, 10], Reciprocal: [0.1, 3],
    };
    const call = (name: string, x: tf.Tensor): tf.Tensor => {
      switch (name) {
        case 'LeakyRelu': return tf.leakyRelu(x, 0.15);
        case 'ClipByValue': return tf.clipByValue(x, -0.5, 1.25);
        case 'Rsqrt': return tf.rsqrt(x);
        case 'Log1p': return tf.log1p(x);
        case 'Expm1': return tf.expm1(x);
        case 'Reciprocal': return tf.reciprocal(x);
        case 'Relu6': return tf.relu6(x);
        default: return (tf as unknown as Record<string, (t: tf.Tensor) => tf.Tensor>)[name[0].toLowerCase() + name.slice(1)](x);
      }
    };
    for (const name of UNARY_OPS) {
      it(name, async () => {
        const [lo, hi] = domain[name] ?? [-3, 3];
        for (const shape of [[7, 5], [], [1], [70001]]) await agree([input(shape, lo, hi)], (x) => call(name, x), 2e-6, 1e-6);
        // NaN and infinities pass through as on cpu (Erf: tfjs's own approximation of erf(±inf) is not exact, so skip it there).
        if (name !== 'Erf') await agree([{ shape: [3], values: Float32Array.from([NaN, Infinity, -Infinity]) }], (x) => call(name, x));
        // Exp, Sigmoid and Tanh use the addon's own vectorised exp: check its whole range, down to denormals and overflow.
        if (['Exp', 'Sigmoid', 'Tanh'].includes(name)) {
          await agree([input([20000], -104, 90)], (x) => call(name, x), 4e-6, 1e-37);
          await agree([input([20000], -1e-3, 1e-3)], (x) => call(name, x), 4e-6, 1e-37);
          await agree([{ shape: [6], values: Float32Array.from([88.72, 88.73, -87.3, -103.9, 0, -0]) }], (x) => call(name, x), 4e-6, 1e-37);
        }
      });
    }
  });

  it('Select (tf.where, and a rank-1 condition through the kernel, which cpu handles) agrees with cpu', async () => {
    const cond = Array.from(seeded(60, 9)).map((v) => v > 0);
    await agree([input([6, 10]), input([6, 10])], (t, e) => tf.where(tf.tensor(cond, [6, 10], 'bool'), t, e));
    await agree([input([6, 10]), input([10])], (t, e) => tf.where(tf.tensor(cond.slice(0, 10), [10], 'bool'), t, e));
    await agree([input([6, 10]), input([6, 10])], (t, e) =>
      tf.engine().runKernel('Select', { condition: tf.tensor(cond.slice(0, 6), [6], 'bool'), t, e }) as tf.Tensor,
    );
    await agree([input([400, 200]), input([400, 200])], (t, e) => tf.where(tf.greater(t, e), t, e));
  });

  it('Softmax (composed from native max, sub, exp, sum, div) agrees with cpu, large logits and -Infinity included', async () => {
    for (const shape of [[7], [3, 5], [2, 4, 9], [1, 4, 64, 300]]) await agree([input(shape, -30, 30)], (x) => tf.softmax(x), 1e-5, 1e-7);
    // a -Infinity logit gets weight 0; rows keep summing to 1
    const masked = { shape: [2, 3], values: Float32Array.from([0, -Infinity, 1, 80, 80, -Infinity]) };
    await agree([masked], (x) => tf.softmax(x));
  });

  describe('reductions over any axes agree with cpu', () => {
    const ops = { Sum: tf.sum, Mean: tf.mean, Max: tf.max, Min: tf.min };
    const cases: [number[], number | number[] | null, boolean][] = [
      [[6, 5, 4], null, false], [[6, 5, 4], 0, false], [[6, 5, 4], 1, true], [[6, 5, 4], 2, false], [[6, 5, 4], -1, true],
      [[6, 5, 4], [0, 2], false], [[6, 5, 4], [0, 2], true], [[6, 5, 4], [1, 2], false], [[6, 5, 4], [0, 1], false],
      [[2, 3, 4, 5], [1, 3], false], [[1, 5, 1, 3], 2, false], [[1, 5, 1, 3], [0, 1], true], [[7], 0, false], [[1], null, false],
      [[300, 250], 0, false], [[300, 250], 1, false], [[200003], null, false], [[3, 70000], 1, false],
    ];
    for (const [name, fn] of Object.entries(ops)) {
      it(name, async () => {
        for (const [shape, axis, keepDims] of cases) await agree([input(shape)], (x) => fn(x, axis ?? undefined, keepDims), 1e-5, 1e-5);
        // NaN anywhere in a row makes that row's max/min/sum NaN, as on cpu.
        const withNaN = { shape: [3, 4], values: Float32Array.from([1, NaN, 3, 4, 5, 6, 7, 8, NaN, 0, 0, 0]) };
        await agree([withNaN], (x) => fn(x, 1));
        await agree([withNaN], (x) => fn(x, 0));
      });
    }

    it('int32 and bool inputs fall back to cpu', async () => {
      await agree([], () => tf.sum(tf.tensor2d([[1, 2], [3, 4]], [2, 2], 'int32'), 0));
      await agree([], () => tf.sum(tf.tensor1d([true, false, true], 'bool')));
      await agree([], () => tf.max(tf.tensor2d([[1, 2], [3, 4]], [2, 2], 'int32'), 1));
    });
  });

  it('Transpose agrees with cpu for every perm of rank 3, size-1 dims, int32 and large sizes', async () => {
    const perms = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];
    for (const perm of perms) await agree([input([2, 3, 4])], (x) => tf.transpose(x, perm));
    for (const perm of [[3, 1, 2, 0], [1, 3, 0, 2], [2, 0, 3, 1]]) await agree([input([1, 5, 1, 3])], (x) => tf.transpose(x, perm));
    await agree([input([2, 3, 4, 5])], (x) => tf.transpose(x, [3, 1, 0, 2]));
    await agree([input([300, 250])], (x) => tf.transpose(x));
    await agree([input([4, 300, 100])], (x) => tf.transpose(x, [0, 2, 1]));
    await agree([input([40, 30, 60])], (x) => tf.transpose(x, [2, 0, 1]));
    await agree([], () => tf.transpose(tf.tensor2d([[1, 2, 3], [4, 5, 6]], [2, 3], 'int32')));
    await agree([], () => tf.transpose(tf.tensor2d([[true, false, true]], [1, 3], 'bool')));
  });

  it('cpu-only kernels work on native (rfft, which wasm lacks)', async () => {
    const { native, cpu } = await onBoth([input([16])], (x) => tf.real(tf.spectral.rfft(x)));
    expectClose(native.data, cpu.data);
  });

  it('results do not depend on the thread count', async () => {
    const load = loadNativeAddon();
    if (!load.ok) throw new Error(load.reason);
    const threads = load.addon.info().ompThreads;
    const x = input([400003]), m = input([301, 257]);
    const runAll = async () => {
      await activateBackend('native');
      const ys = tf.tidy(() => {
        const t = tf.tensor(x.values, x.shape), u = tf.tensor(m.values, m.shape);
        return [tf.sum(t), tf.max(t), tf.mean(u, 0), tf.sum(u, 1), tf.exp(t), tf.mul(u, tf.sum(u, 0))];
      });
      const out = await Promise.all(ys.map((y) => y.data()));
      tf.dispose(ys);
      return out.map((d) => Array.from(d));
    };
    try {
      load.addon.setThreads(1);
      const one = await runAll();
      load.addon.setThreads(Math.max(2, threads));
      const many = await runAll();
      expect(many).toEqual(one);
    } finally {
      load.addon.setThreads(threads);
    }
  });

  describe('linalg hook (LAPACK, float64 inside)', () => {
    const hook = () => (tf.backend() as { kernelflowLinalg?: NativeLinalg }).kernelflowLinalg;
    const mm = (a: ArrayLike<number>, b: ArrayLike<number>, n: number, k: number, m: number, ta = false) => {
      const c = new Float64Array(n * m);
      for (let i = 0; i < n; i++) for (let p = 0; p < k; p++) {
        const aip = ta ? a[p * n + i] : a[i * k + p];
        for (let j = 0; j < m; j++) c[i * m + j] += aip * b[p * m + j];
      }
      return c;
    };
    const spd = (n: number) => {
      const g = seeded(n * n, 77);
      const a = Float32Array.from(mm(g, g, n, n, n, true)); // GᵀG
      for (let i = 0; i < n; i++) a[i * n + i] += n;
      return a;
    };

    it('is on the native backend only', async () => {
      await activateBackend('cpu');
      expect(hook()).toBeUndefined();
      await activateBackend('native');
      expect(hook()).toBeDefined();
    });

    it('cholesky: lower factor with L·Lᵀ = A, and info from potrf for a matrix that is not PD', async () => {
      await activateBackend('native');
      const n = 40, a = spd(n);
      const { l, info } = hook()!.cholesky(a, n);
      expect(info).toBe(0);
      for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) expect(l[i * n + j]).toBe(0);
      const llt = new Float64Array(n * n);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let p = 0; p < n; p++) llt[i * n + j] += l[i * n + p] * l[j * n + p];
      expectClose(Array.from(llt), Array.from(a), 1e-6, 1e-5);
      expect(hook()!.cholesky(Float32Array.from([1, 0, 0, 0, -1, 0, 0, 0, 1]), 3).info).toBe(2);
    });

    it('solveTriangular: lower/upper × plain/transposed', async () => {
      await activateBackend('native');
      const n = 24, m = 5;
      const { l } = hook()!.cholesky(spd(n), n);
      const u = new Float32Array(n * n);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) u[i * n + j] = l[j * n + i];
      const b = seeded(n * m, 78);
      for (const [t, lower] of [[l, true], [u, false]] as const) {
        for (const transpose of [false, true]) {
          const x = hook()!.solveTriangular(t, b, n, m, { lower, transpose });
          expectClose(Array.from(mm(t, x, n, n, m, transpose)), Array.from(b), 1e-5, 1e-5);
        }
      }
    });

    it('eigh: ascending values, orthonormal vectors, A·V = V·diag(values)', async () => {
      await activateBackend('native');
      const n = 30, g = seeded(n * n, 79), a = new Float32Array(n * n);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i * n + j] = (g[i * n + j] + g[j * n + i]) / 2;
      const { values, vectors, info } = hook()!.eigh(a, n);
      expect(info).toBe(0);
      for (let i = 1; i < n; i++) expect(values[i]).toBeGreaterThanOrEqual(values[i - 1]);
      const av = mm(a, vectors, n, n, n), vd = new Float64Array(n * n);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) vd[i * n + j] = vectors[i * n + j] * values[j];
      expectClose(Array.from(av), Array.from(vd), 1e-5, 1e-5);
      const vtv = mm(vectors, vectors, n, n, n, true);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) expect(Math.abs(vtv[i * n + j] - (i === j ? 1 : 0))).toBeLessThan(1e-5);
    });
  });

  it('the addon checks its arguments instead of touching memory it should not', () => {
    const load = loadNativeAddon();
    if (!load.ok) throw new Error(load.reason);
    const { addon } = load;
    const f = (n: number) => new Float32Array(n);
    expect(() => addon.binary(0, f(3), f(4), f(4), Int32Array.from([4]), Int32Array.from([1]), Int32Array.from([1]))).toThrow(RangeError);
    expect(() => addon.unary(0, f(3), f(4), 0, 0)).toThrow(RangeError);
    expect(() => addon.reduce(0, f(12), f(3), 3, 5, 1)).toThrow(RangeError);
    expect(() => addon.matmul(f(6), f(6), f(4), 2, 2, 3, false, false, Int32Array.from([0, 1]), Int32Array.from([0, 0]))).toThrow(RangeError);
    expect(() => addon.transpose(f(6), f(6), Int32Array.from([2, 3]), Int32Array.from([0, 0]))).toThrow(RangeError);
    expect(() => addon.unary(99, f(3), f(3), 0, 0)).toThrow(RangeError);
    expect(() => addon.unary(0, new Float64Array(3) as unknown as Float32Array, f(3), 0, 0)).toThrow(TypeError);
    expect(() => addon.potrf(f(8), f(9), 3)).toThrow(RangeError);
    expect(() => addon.trsm(f(9), f(6), f(5), 3, 2, true, false)).toThrow(RangeError);
    expect(() => addon.syevd(f(9), f(2), f(9), 3)).toThrow(RangeError);
  });
});
