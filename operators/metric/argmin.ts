import { defineOperator, dimsMayMatch, OperatorError, ShapeError, tensor, Type } from '../../core/operator/index.js';

/** The grid point minimising a score (e.g. the best learning rate), skipping non-finite scores. */
export const argmin = defineOperator({
  id: 'metric.argmin',
  version: 1,
  summary: 'index, grid value and minimum of the smallest finite entry of x along its last axis (e.g. the best lr on a grid)',
  description:
    'For each row of x (the last axis; a vector is one row) finds the smallest finite entry: NaN and ±Inf entries ' +
    '(a diverged run’s loss) are never chosen, and ties go to the first index. `index` is its position (int32), ' +
    '`min` its value, and `value` the matching entry of `grid` (e.g. the learning rates the scores were measured ' +
    'at; without a grid, the index as float32). Outputs have the shape of x without its last axis. A row with no ' +
    'finite entry fails with OperatorError `empty`. Read on the host in float64, so every backend agrees exactly.',
  params: Type.Object({}, { additionalProperties: false }),
  inputs: {
    x: tensor({ dtype: 'float32', rank: [1, 2, 3, 4], doc: 'scores [..., m], e.g. final losses over an lr grid' }),
    grid: tensor({ dtype: ['float32', 'int32'], rank: 1, optional: true, doc: 'the grid values [m] the scores belong to' }),
  },
  outputs: {
    index: tensor({ dtype: 'int32', doc: 'position of the smallest finite entry [...]' }),
    value: tensor({ dtype: 'float32', doc: 'grid[index] (the index when no grid is connected) [...]' }),
    min: tensor({ dtype: 'float32', doc: 'the smallest finite entry [...]' }),
  },
  examples: [
    { params: {}, inputs: { x: { shape: [5] } } },
    { description: 'best learning rate per width', params: {}, inputs: { x: { shape: [3, 4], fill: 'positive' }, grid: { shape: [4], fill: 'positive' } } },
  ],
  shape: ({ x, grid }) => {
    const s = x.shape!;
    const m = s[s.length - 1];
    if (grid?.shape && !dimsMayMatch(grid.shape[0], m)) {
      throw new ShapeError(`grid has ${grid.shape[0]} values, x has ${m} along its last axis`, '/inputs/grid');
    }
    const out = s.slice(0, -1);
    return { index: { kind: 'tensor', dtype: 'int32', shape: out }, value: out, min: out };
  },
  run: async ({ x, grid }, _p, { tf }) => {
    const m = x.shape[x.rank - 1];
    if (grid && grid.shape[0] !== m) throw new OperatorError('shape', `grid has ${grid.shape[0]} values, x has ${m} along its last axis`);
    const xs = await x.data();
    const gs = grid ? await grid.data() : undefined;
    const rows = m === 0 ? 0 : xs.length / m;
    const index = new Int32Array(rows);
    const value = new Float32Array(rows);
    const min = new Float32Array(rows);
    for (let r = 0; r < rows; r++) {
      let best = -1;
      for (let j = 0; j < m; j++) {
        const v = xs[r * m + j];
        // Strict <: the first of equal scores wins; non-finite scores never do.
        if (Number.isFinite(v) && (best < 0 || v < xs[r * m + best])) best = j;
      }
      if (best < 0) throw new OperatorError('empty', `row ${r} of x has no finite entry (all ${m} scores are NaN or ±Inf)`);
      index[r] = best;
      value[r] = gs ? gs[best] : best;
      min[r] = xs[r * m + best];
    }
    const shape = x.shape.slice(0, -1);
    return { index: tf.tensor(index, shape, 'int32'), value: tf.tensor(value, shape, 'float32'), min: tf.tensor(min, shape, 'float32') };
  },
});
