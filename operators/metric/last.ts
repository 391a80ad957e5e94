import { defineOperator, OperatorError, ParamError, table, tensor, Type } from '../../core/operator/index.js';

/** The last logged value of one column of a metrics table, as a scalar tensor. */
export const last = defineOperator({
  id: 'metric.last',
  version: 1,
  summary: 'out = the value of one column in the last row of a metrics table (a scalar tensor)',
  description:
    'Reads the rows of a metrics table (train.fit’s `metrics`) in order and returns the value of `column` in the last ' +
    'row that holds a finite number there (rows with a missing or non-numeric value are skipped), e.g. the final loss ' +
    'or the feature_change after training. Fails with `empty` when no row has a number in that column.',
  params: Type.Object(
    { column: Type.String({ default: 'loss', description: 'The column to read, e.g. feature_change or val_loss.' }) },
    { additionalProperties: false },
  ),
  inputs: { metrics: table({ doc: 'metrics table (rows of named scalars)' }) },
  outputs: { out: tensor({ dtype: 'float32', doc: 'the last value, scalar' }) },
  examples: [{ params: { column: 'loss' }, inputs: { metrics: { from: { op: 'train.fit', port: 'metrics', params: { steps: 4, log_every: 2, optimizer: { type: 'gd', lr: 0.5 } }, inputs: { params: { from: { op: 'model.mlp', port: 'params', params: { widths: [3, 8, 2] }, key: 'net' } }, model: { from: { op: 'model.mlp', port: 'model', params: { widths: [3, 8, 2] }, key: 'net' } }, x: { shape: [6, 3] }, y: { shape: [6, 2] } } } } } }],
  shape: ({ metrics }, p) => {
    if (metrics.columns && !metrics.columns.includes(p.column)) throw new ParamError(`metrics table has no column '${p.column}'`, '/params/column');
    return { out: [] };
  },
  run: ({ metrics }, p, { tf }) => {
    if (!metrics.columns.includes(p.column)) throw new OperatorError('bad_param', `metrics table has no column '${p.column}' (have ${metrics.columns.join(', ')})`);
    for (let i = metrics.rows.length - 1; i >= 0; i--) {
      const v = metrics.rows[i][p.column];
      if (typeof v === 'number' && Number.isFinite(v)) return { out: tf.scalar(v, 'float32') };
    }
    throw new OperatorError('empty', `column '${p.column}' has no finite numeric value`);
  },
});
