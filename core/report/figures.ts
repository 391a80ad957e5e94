/**
 * The figures a report draws, as Vega-Lite specs: line plots (sweeps, 1-D outputs, training
 * curves), with log axes where the data span decades, and heatmaps of matrices.
 */
import type { VegaLiteSpec } from './render-svg.js';
import { fitLine } from '../operator/least-squares.js';

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

export interface SeriesRow {
  x: number;
  y: number;
  series: string;
}

export interface SeriesPlotOptions {
  title: string;
  xTitle: string;
  yTitle: string;
  /** Axes forced onto a log scale (the others linear); undefined: chosen from the data. */
  log?: Array<'x' | 'y'>;
  /** Draw each series' least-squares line of log10 y over log10 x and give its slope. */
  fitSlope?: boolean;
}

/** Least-squares slope and intercept of log10 y over log10 x (float64); undefined when not defined. */
export function logLogFit(points: Array<{ x: number; y: number }>): { slope: number; intercept: number } | undefined {
  const ok = points.filter((p) => p.x > 0 && p.y > 0);
  return fitLine(ok.map((p) => Math.log10(p.x)), ok.map((p) => Math.log10(p.y)));
}

/**
 * Declared line plots: a point per row, a line per series through the mean at each x (repeated x
 * values, e.g. seeds, show as a vertical spread of points), and optionally dashed fitted lines.
 */
export function seriesPlot(rows: SeriesRow[], o: SeriesPlotOptions): VegaLiteSpec {
  const scale = (axis: 'x' | 'y') =>
    o.log ? (o.log.includes(axis) ? { type: 'log' } : { type: 'linear', zero: false }) : scaleFor(rows.map((r) => r[axis]));
  const names = [...new Set(rows.map((r) => r.series))];
  const multi = names.length > 1;
  const color = multi ? { color: { field: 'series', type: 'nominal', title: null } } : {};
  const x = { field: 'x', type: 'quantitative', title: o.xTitle, scale: scale('x') };
  const y = { field: 'y', type: 'quantitative', title: o.yTitle, scale: scale('y') };
  const layers: VegaLiteSpec[] = [
    { mark: { type: 'line' }, encoding: { x, y: { ...y, aggregate: 'mean' }, ...color } },
    { mark: { type: 'point', filled: true }, encoding: { x, y, ...color } },
  ];
  const subtitle: string[] = [];
  if (o.fitSlope) {
    const fitRows: SeriesRow[] = [];
    for (const name of names) {
      const pts = rows.filter((r) => r.series === name);
      const fit = logLogFit(pts);
      if (!fit) continue;
      subtitle.push(`${multi ? `${name}: ` : ''}fitted log–log slope ${fit.slope.toPrecision(3)}`);
      const xs = pts.map((p) => p.x).filter((v) => v > 0);
      for (const xv of [Math.min(...xs), Math.max(...xs)]) fitRows.push({ x: xv, y: 10 ** (fit.intercept + fit.slope * Math.log10(xv)), series: name });
    }
    layers.push({ data: { values: fitRows }, mark: { type: 'line', strokeDash: [6, 4], opacity: 0.7 }, encoding: { x, y, ...color } });
  }
  return {
    $schema: SCHEMA,
    title: subtitle.length ? { text: o.title, subtitle: subtitle.join('; ') } : o.title,
    width: 420,
    height: 260,
    data: { values: rows },
    layer: layers,
  };
}
