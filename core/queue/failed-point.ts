/**
 * A sweep point that produced no run of its own (its job failed every attempt, or was cancelled
 * before it ran): a PointResult carrying the error, with a manifest that says what little is known.
 */
import type { Manifest } from '../io/manifest.js';
import type { PointResult, PointSpec } from '../sweep/run-point.js';
import { KERNELFLOW_VERSION } from '../version.js';

export function pointWithoutRun(file: string, spec: PointSpec, status: 'failed' | 'cancelled', error: string): PointResult {
  const manifest: Manifest = {
    kernelflow: KERNELFLOW_VERSION,
    status,
    graph: { name: '', file, sha256: '' },
    invocation: { file, sets: spec.sets, ...(spec.seed !== undefined ? { seed: spec.seed } : {}) },
    params: spec.sets,
    seed: spec.seed ?? 0,
    backend: { name: 'none', reason: 'the point did not run' },
    versions: { kernelflow: KERNELFLOW_VERSION, tfjs: '', node: process.versions.node },
    plugins: [],
    nodes: {},
    outputs: {},
    claims: [],
    warnings: [error],
    startedAt: new Date().toISOString(),
    durationMs: 0,
  };
  return { id: spec.id, coords: spec.coords, status, collected: {}, claims: [], computed: 0, cached: 0, ms: 0, errors: [error], manifest };
}
