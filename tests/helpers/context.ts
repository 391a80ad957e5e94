/**
 * A RunContext for calling an operator's `run` directly in unit tests, without the engine.
 */
import * as tf from '@tensorflow/tfjs-core';
import path from 'node:path';
import type { JsonValue, RunContext } from '../../core/operator/index.js';
import { ParamError } from '../../core/operator/index.js';

export function testContext(options: { seed?: number; dir?: string; op?: string } = {}): RunContext & {
  notes: Record<string, JsonValue>;
  warnings: string[];
} {
  const notes: Record<string, JsonValue> = {};
  const warnings: string[] = [];
  const dir = options.dir ?? process.cwd();
  return {
    tf,
    node: 'test',
    op: options.op ?? 'test.op',
    seed: options.seed ?? 0,
    backend: tf.getBackend(),
    signal: new AbortController().signal,
    progress: () => {},
    warn: (m) => void warnings.push(m),
    note: (k, v) => void (notes[k] = v),
    resolvePath: (p, pointer) => {
      const full = path.resolve(dir, p);
      if (!full.startsWith(dir + path.sep)) throw new ParamError(`path escapes ${dir}: ${p}`, pointer);
      return full;
    },
    notes,
    warnings,
  };
}
