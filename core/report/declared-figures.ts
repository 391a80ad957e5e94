/**
 * The figures a graph declares (its `figures`), drawn from a run folder's written outputs or a
 * sweep folder's collected values. A figure that cannot be drawn from this folder's data says why
 * instead (the report lists it), so a report never silently leaves a declared figure out.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { decodeNpy } from '../io/npy.js';
import type { Manifest } from '../io/manifest.js';
import type { Table } from '../operator/values.js';
import { isSweepFigure, listOf, outputNamed, type CurveFigure, type FigureSpec, type HeatmapFigure, type LineFigure } from './figure-spec.js';
import { heatmap, seriesPlot, type SeriesRow } from './figures.js';
import type { VegaLiteSpec } from './render-svg.js';

export type Drawn = { name: string; spec: VegaLiteSpec } | { name: string; skipped: string };

class Skip extends Error {}

function skip(message: string): never {
  throw new Skip(message);
}

function draw(name: string, make: () => VegaLiteSpec): Drawn {
  try {
    return { name, spec: make() };
  } catch (err) {
    if (err instanceof Skip) return { name, skipped: err.message };
    throw err;
  }
}

/** Figures for a run folder: line figures over outputs, heatmaps and curves. */
export function runFigures(figures: Array<{ name: string; spec: FigureSpec }>, dir: string, manifest: Manifest): Drawn[] {
  const outputs = manifest.outputs;
  const outputOf = (text: string) => {
    const name = outputNamed(text, outputs) ?? skip(`'${text}' is not an output of this run`);
    const o = outputs[name];
    if (!o.file || !existsSync(path.join(dir, o.file))) skip(`output '${name}' was not written (its node did not finish)`);
    return { name, file: path.join(dir, o.file!), kind: o.kind };
  };
  const tensorOf = (text: string) => {
    const o = outputOf(text);
    if (o.kind !== 'tensor') skip(`output '${o.name}' is a ${o.kind}, not a tensor`);
    return { name: o.name, ...decodeNpy(readFileSync(o.file)) };
  };
  const line = (f: LineFigure): VegaLiteSpec => {
    const ys = listOf(f.y).map(tensorOf);
    const x = f.x === undefined ? undefined : tensorOf(f.x);
    const rows: SeriesRow[] = [];
    for (const y of ys) {
      if (x && x.data.length !== y.data.length) skip(`'${y.name}' has ${y.data.length} values but x '${x.name}' has ${x.data.length}`);
      y.data.forEach((v, i) => rows.push({ x: x ? x.data[i] : i, y: v, series: y.name }));
    }
    const yTitle = ys.map((y) => y.name).join(', ');
    return seriesPlot(rows, { title: f.title ?? `${yTitle} against ${x?.name ?? 'index'}`, xTitle: x?.name ?? 'index', yTitle, log: f.log, fitSlope: f.fit === 'slope' });
  };
  const heat = (f: HeatmapFigure): VegaLiteSpec => {
    const t = tensorOf(f.output);
    if (t.shape.length !== 2) skip(`output '${t.name}' has shape [${t.shape.join(', ')}], not a matrix`);
    return heatmap(f.title ?? t.name, t.data, t.shape[0], t.shape[1]);
  };
  const curve = (f: CurveFigure): VegaLiteSpec => {
    const o = outputOf(f.output);
    if (o.kind !== 'table') skip(`output '${o.name}' is a ${o.kind}, not a table`);
    const table = JSON.parse(readFileSync(o.file.replace(/\.csv$/, '.json'), 'utf8')) as Table;
    const x = f.x ?? (table.columns.includes('step') ? 'step' : table.columns[0]);
    const ys = f.y === undefined ? table.columns.filter((c) => c !== x && table.rows.some((r) => typeof r[c] === 'number')) : listOf(f.y);
    for (const c of [x, ...ys]) if (!table.columns.includes(c)) skip(`table '${o.name}' has no column '${c}' (columns: ${table.columns.join(', ')})`);
    const rows: SeriesRow[] = ys.flatMap((c) => table.rows.filter((r) => typeof r[c] === 'number' && typeof r[x] === 'number').map((r) => ({ x: r[x] as number, y: r[c] as number, series: c })));
    return seriesPlot(rows, { title: f.title ?? `${o.name}: ${ys.join(', ')}`, xTitle: x, yTitle: ys.length === 1 ? ys[0] : 'value', log: f.log });
  };
  return figures.map(({ name, spec: f }) => draw(name, () => (f.type === 'line' ? line(f) : f.type === 'heatmap' ? heat(f) : curve(f))));
}

export interface SweepData {
  grid: Record<string, unknown[]>;
  points: Array<{ coords: Record<string, unknown>; status: string; collected: Record<string, unknown> }>;
}

/**
 * Sweep figures: each y (an output collected at every point) against the swept axis x, averaged
 * over seeds (unless x is the seed), one line per y and per value of the other axes.
 */
export function sweepFigures(figures: Array<{ name: string; spec: LineFigure & { x: string } }>, sweep: SweepData, graphOutputs: Record<string, { node: string; port: string }>): Drawn[] {
  const ok = sweep.points.filter((p) => p.status === 'ok');
  return figures.map(({ name, spec: f }) => draw(name, () => {
    if (!(f.x in sweep.grid)) skip(`this sweep does not vary '${f.x}' (axes: ${Object.keys(sweep.grid).join(', ')})`);
    if (!sweep.grid[f.x].every((v) => typeof v === 'number')) skip(`axis '${f.x}' is not numeric`);
    const others = Object.keys(sweep.grid).filter((a) => a !== f.x && a !== 'seed');
    const ys = listOf(f.y).map((text) => outputNamed(text, graphOutputs) ?? skip(`'${text}' is not an output of the graph`));
    const groups = new Map<string, { x: number; series: string; sum: number; n: number }>();
    for (const y of ys) {
      for (const p of ok) {
        const v = scalar(p.collected[y]);
        if (v === undefined) skip(`'${y}' was not collected as a number at every point`);
        const label = [...(ys.length > 1 ? [y] : []), ...others.map((a) => `${a}=${JSON.stringify(p.coords[a])}`)].join(' ') || y;
        const key = JSON.stringify([p.coords[f.x], label]);
        const g = groups.get(key) ?? { x: Number(p.coords[f.x]), series: label, sum: 0, n: 0 };
        g.sum += v;
        g.n++;
        groups.set(key, g);
      }
    }
    const rows: SeriesRow[] = [...groups.values()].map((g) => ({ x: g.x, y: g.sum / g.n, series: g.series }));
    const seeds = f.x !== 'seed' && 'seed' in sweep.grid;
    return seriesPlot(rows, { title: f.title ?? `${ys.join(', ')} against ${f.x}${seeds ? ' (mean over seeds)' : ''}`, xTitle: f.x, yTitle: ys.join(', '), log: f.log, fitSlope: f.fit === 'slope' });
  }));
}

/** A collected value as one number: a scalar, or a claim's measured value. */
function scalar(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (v && typeof v === 'object' && typeof (v as { value?: unknown }).value === 'number') return (v as { value: number }).value;
  return undefined;
}

/** Splits declared figures by the folder kind that draws them, keeping their file names. */
export function figuresFor(kind: 'run' | 'sweep', named: Array<{ name: string; spec: FigureSpec }>, params: Record<string, unknown>) {
  return named.filter(({ spec }) => isSweepFigure(spec, params) === (kind === 'sweep'));
}
