import { defineOperator, json, OperatorError, ParamError, table, tensor, Type } from '../../core/operator/index.js';

/** First step at which a metric falls below a fraction of its initial value (the grokking delay). */
export const crossing = defineOperator({
  id: 'metric.crossing',
  version: 1,
  summary: 'First step t with metric(t) < fraction·metric(t₀) in a metrics table (−1 if never)',
  description:
    'Reads the rows of a metrics table (train.fit’s `metrics`) in order; the initial value is the first row’s ' +
    '(rows with a missing or non-numeric value are skipped). With `below` set, the threshold is that absolute ' +
    'value instead. Output `out` is the step (−1 when the metric never crosses) and `info` the details.',
  params: Type.Object(
    {
      metric: Type.String({ default: 'loss', description: 'The column to watch, e.g. val_loss.' }),
      fraction: Type.Number({ exclusiveMinimum: 0, default: 0.5, description: 'Threshold as a fraction of the initial value.' }),
      below: Type.Union([Type.Number(), Type.Null()], { default: null, description: 'An absolute threshold instead of fraction·initial.' }),
      step_column: Type.String({ default: 'step', description: 'The column holding the step.' }),
    },
    { additionalProperties: false },
  ),
  inputs: { metrics: table({ doc: 'metrics table with a step column' }) },
  outputs: {
    out: tensor({ dtype: 'float32', doc: 'crossing step, scalar (−1 if never)' }),
    info: json({ doc: '{step, crossed, initial, threshold, value}' }),
  },
  examples: [{ params: { metric: 'loss', fraction: 0.9 }, inputs: { metrics: { from: { op: 'train.fit', port: 'metrics', params: { steps: 10, log_every: 1, optimizer: { type: 'gd', lr: 0.5 } }, inputs: { params: { from: { op: 'model.mlp', port: 'params', params: { widths: [3, 8, 2] }, key: 'net' } }, model: { from: { op: 'model.mlp', port: 'model', params: { widths: [3, 8, 2] }, key: 'net' } }, x: { shape: [6, 3] }, y: { shape: [6, 2] } } } } } }],
  shape: ({ metrics }, p) => {
    if (metrics.columns && !metrics.columns.includes(p.metric)) throw new ParamError(`metrics table has no column '${p.metric}'`, '/params/metric');
    return { out: [], info: { kind: 'json' } };
  },
  run: ({ metrics }, p, { tf }) => {
    if (!metrics.columns.includes(p.metric)) throw new OperatorError('bad_param', `metrics table has no column '${p.metric}' (have ${metrics.columns.join(', ')})`);
    const rows = metrics.rows.filter((r) => typeof r[p.metric] === 'number' && Number.isFinite(r[p.metric] as number));
    if (!rows.length) throw new OperatorError('empty', `column '${p.metric}' has no numeric value`);
    const initial = rows[0][p.metric] as number;
    const threshold = p.below ?? p.fraction * initial;
    const hit = rows.find((r) => (r[p.metric] as number) < threshold);
    const step = hit ? Number(hit[p.step_column]) : -1;
    return {
      out: tf.scalar(step),
      info: { step: hit ? step : null, crossed: hit !== undefined, initial, threshold, value: hit ? (hit[p.metric] as number) : null },
    };
  },
});
