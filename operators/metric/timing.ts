import type { Tensor } from '@tensorflow/tfjs-core';
import { Value } from '@sinclair/typebox/value';
import { defineOperator, OperatorError, ParamError, tensor, Type } from '../../core/operator/index.js';
import { collectOperators } from '../../core/operator/plugins.js';

/** A dimension of a timed input: a number, or `aN+b` in the size n being timed ("N", "2N-1"). */
const dimPattern = /^(\d*)N([+-]\d+)?$/;
const Dim = Type.Union([Type.Integer({ minimum: 1 }), Type.String({ pattern: dimPattern.source })]);

/**
 * Wall-clock time of another (built-in, synchronous) operator over a range of problem sizes, so a
 * graph can claim how an algorithm scales (check.slope on n and seconds) in the same run that
 * checks its results. Timing is a measurement, not a function of the inputs: `seconds` is declared
 * `measured` (the conformance kit does not compare it across backends), and a graph should not
 * list it among its outputs, which `kernelflow reproduce` compares bit for bit.
 */
export const timing = defineOperator({
  id: 'metric.timing',
  version: 1,
  summary: 'seconds[i] = best-of-reps wall-clock time of one call of operator `op` on seeded random inputs of size n = sizes[i]',
  description:
    'Calls the built-in operator `op` (with `params`, defaults filled in) on inputs drawn N(0, std²) from this node\'s seed, ' +
    'whose shapes `inputs` gives per input port with dimensions that are numbers or `aN+b` in the size n ("N", "2N-1"). ' +
    'One untimed call at the first size warms up (JIT, memory growth), then every size is timed `reps` times, the sizes ' +
    'interleaved within each repetition so that a change in machine load affects every size alike; the best time is kept, and every output is read ' +
    'back (dataSync) inside the timed region so that lazy backends finish their work. The timed calls are synchronous: no ' +
    'other node of the graph runs in between (the machine\'s other load still counts, hence best-of-reps and claims on ' +
    'slopes rather than absolute times). `op` must run synchronously; operators of plugins cannot be timed. A kernel the ' +
    'backend lacks (wasm has no FFT) makes the engine run the whole node on cpu, recorded in the manifest. The result is ' +
    'cached like any node\'s: --no-cache measures again. `seconds` is a measurement of this machine: keep it out of a ' +
    'graph\'s outputs (kernelflow reproduce compares outputs bit for bit) and claim on its log–log slope over n.',
  stochastic: true,
  unsupportedBackends: { webgpu: 'it reads outputs back synchronously (dataSync) inside the timed region, which webgpu in Node cannot' },
  measured: { seconds: 'wall-clock time on this machine' },
  params: Type.Object(
    {
      op: Type.String({ description: 'The operator to time, e.g. attention.rpe_fft (built-in, synchronous).' }),
      params: Type.Record(Type.String(), Type.Unknown(), { default: {}, description: 'Its params (its defaults fill the rest).' }),
      inputs: Type.Record(Type.String(), Type.Array(Dim), { description: 'Per input port its shape, e.g. {"q": [1, 2, "N", 16], "rpe": [2, "2N-1"]}.' }),
      sizes: Type.Array(Type.Integer({ minimum: 1 }), { minItems: 1, description: 'The sizes n to time at.' }),
      reps: Type.Integer({ minimum: 1, default: 3, description: 'Timed calls per size (the best is kept).' }),
      std: Type.Number({ exclusiveMinimum: 0, default: 0.5, description: 'Standard deviation of the random inputs.' }),
    },
    { additionalProperties: false },
  ),
  inputs: {},
  outputs: {
    n: tensor({ dtype: 'float32', rank: 1, doc: 'the sizes [S]' }),
    seconds: tensor({ dtype: 'float32', rank: 1, doc: 'best time of one call per size [S]' }),
  },
  examples: [{ params: { op: 'math.matmul', inputs: { a: ['N', 8], b: [8, 'N'] }, sizes: [4, 16], reps: 1 }, inputs: {} }],
  shape: (_inputs, p) => {
    for (const [port, dims] of Object.entries(p.inputs)) dims.forEach((d, i) => void dimOf(d, Math.min(...p.sizes), `/params/inputs/${port}/${i}`));
    return { n: [p.sizes.length], seconds: [p.sizes.length] };
  },
  run: async (_inputs, p, ctx) => {
    const { tf } = ctx;
    // Imported here, not at the top: operators/index.ts imports this file.
    const op = collectOperators((await import('../index.js')) as Record<string, unknown>).find((o) => o.id === p.op);
    if (!op) throw new ParamError(`no built-in operator '${p.op}' to time`, '/params/op');
    if (op.run.constructor.name === 'AsyncFunction') throw new OperatorError('bad_param', `${p.op} runs asynchronously: its time would include other nodes' work`);
    const params = Value.Default(op.params, structuredClone(p.params)) as Record<string, unknown>;
    if (!Value.Check(op.params, params)) throw new ParamError(`params do not fit ${p.op}: ${[...Value.Errors(op.params, params)].map((e) => `${e.path} ${e.message}`).join('; ')}`, '/params/params');
    const inner = { ...ctx, op: op.id };
    const drawn = p.sizes.map((n, i) => Object.fromEntries(Object.entries(p.inputs).map(([port, dims], j) => [
      port, tf.randomNormal(dims.map((d) => dimOf(d, n, `/params/inputs/${port}`)), 0, p.std, 'float32', ctx.seed + 1000 * i + j),
    ])));
    const call = (inputs: Record<string, Tensor>) =>
      tf.tidy(() => {
        for (const t of collect(op.run(inputs, params, inner))) t.dataSync();
      });
    const best = p.sizes.map(() => Infinity);
    try {
      call(drawn[0]); // warm-up: first-call set-up (JIT, wasm memory growth) would count against the first size
      for (let r = 0; r < p.reps; r++) {
        ctx.signal.throwIfAborted();
        drawn.forEach((inputs, i) => {
          const t0 = performance.now();
          call(inputs);
          best[i] = Math.min(best[i], (performance.now() - t0) / 1000);
        });
        ctx.progress({ fraction: (r + 1) / p.reps });
      }
    } finally {
      for (const inputs of drawn) tf.dispose(Object.values(inputs));
    }
    return { n: tf.tensor1d(p.sizes, 'float32'), seconds: tf.tensor1d(best, 'float32') };
  },
});

function dimOf(d: number | string, n: number, pointer: string): number {
  if (typeof d === 'number') return d;
  const m = dimPattern.exec(d);
  if (!m) throw new ParamError(`dimension '${d}' is neither a number nor aN+b`, pointer);
  const value = (m[1] ? Number(m[1]) : 1) * n + (m[2] ? Number(m[2]) : 0);
  if (value < 1) throw new ParamError(`dimension '${d}' is ${value} at n = ${n}`, pointer);
  return value;
}

/** Every tensor in an operator's outputs (tensors, arrays of tensors). */
function collect(outputs: unknown): Tensor[] {
  if (!outputs || typeof outputs !== 'object') return [];
  return Object.values(outputs as Record<string, unknown>).flatMap((v) => (Array.isArray(v) ? v : [v])).filter((v): v is Tensor => typeof (v as Tensor)?.dataSync === 'function');
}
