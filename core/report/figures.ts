/**
 * The figures a report draws, as Vega-Lite specs: line plots (sweeps, 1-D outputs, training
 * curves), with log axes where the data span decades, and heatmaps of matrices.
 */
import type { VegaLiteSpec } from './render-svg.js';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/** Log scale when every value is positive and they span at least a factor of 10. */
function scaleFor(values: number[]): { type: 'log' } | { type: 'linear'; zero: false } {
  const finite = values.filter(Number.isFinite);
  const positive = finite.length > 0 && finite.every((v) => v > 0);
  return positive && Math.max(...finite) / Math.min(...finite) >= 10 ? { type: 'log' } : { type: 'linear', zero: false };
}

export function linePlot(title: string, rows: Array<Record<string, number | string>>, x: string, y: string, series?: string): VegaLiteSpec {
  return {
    $schema: SCHEMA,
    title,
    width: 420,
    height: 260,
    data: { values: rows },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: x, type: 'quantitative', scale: scaleFor(rows.map((r) => Number(r[x]))) },
      y: { field: y, type: 'quantitative', scale: scaleFor(rows.map((r) => Number(r[y]))) },
      ...(series ? { color: { field: series, type: 'nominal' } } : {}),
    },
  };
}

/** A matrix as a heatmap, downsampled by block means to at most `max`×`max` cells. */
export function heatmap(title: string, data: ArrayLike<number>, rows: number, cols: number, max = 48): VegaLiteSpec {
  const [sr, sc] = [Math.ceil(rows / max), Math.ceil(cols / max)];
  const values: Array<{ i: number; j: number; v: number }> = [];
  for (let i = 0; i < rows; i += sr) {
    for (let j = 0; j < cols; j += sc) {
      let sum = 0;
      let n = 0;
      for (let a = i; a < Math.min(rows, i + sr); a++) for (let b = j; b < Math.min(cols, j + sc); b++, n++) sum += data[a * cols + b];
      values.push({ i, j, v: sum / n });
    }
  }
  return {
    $schema: SCHEMA,
    title: sr > 1 || sc > 1 ? `${title} (${rows}×${cols}, block means)` : title,
    width: 300,
    height: 300,
    data: { values },
    mark: 'rect',
    encoding: {
      x: { field: 'j', type: 'ordinal', axis: { labels: false, ticks: false, title: 'column' } },
      y: { field: 'i', type: 'ordinal', axis: { labels: false, ticks: false, title: 'row' } },
      color: { field: 'v', type: 'quantitative', scale: { scheme: 'viridis' } },
    },
  };
}
