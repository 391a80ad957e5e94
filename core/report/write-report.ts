/**
 * `kernelflow report <run-or-sweep-dir>`: a self-contained `report.html` and each figure as an
 * `.svg` beside it. The figures the graph declares (`figures`, see docs/reports.md) when it declares
 * any for this kind of folder; otherwise automatic ones. For a sweep: every collected scalar against
 * each numeric axis (one line per value of the other axes, seeds averaged). For a run: its claims,
 * 1-D outputs as lines, matrices as heatmaps, and metrics tables as training curves.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../document/resolve-params.js';
import { decodeNpy } from '../io/npy.js';
import type { ClaimRecord, Manifest } from '../io/manifest.js';
import type { Table } from '../operator/values.js';
import { figuresFor, runFigures as declaredRunFigures, sweepFigures as declaredSweepFigures, type Drawn, type SweepData } from './declared-figures.js';
import { figureNames, type FigureSpec, type LineFigure } from './figure-spec.js';
import { heatmap, linePlot } from './figures.js';
import { renderSvg, type VegaLiteSpec } from './render-svg.js';

interface Figure {
  name: string;
  spec: VegaLiteSpec;
}

export interface ReportResult {
  html: string;
  figures: string[];
  /** Declared figures that this folder's data cannot draw, and why. */
  skipped: Array<{ name: string; reason: string }>;
}

/** The graph's declared figures with their file names, and its params (to tell sweep figures apart). */
interface Declared {
  figures: Array<{ name: string; spec: FigureSpec }>;
  params: Record<string, unknown>;
}

function declaredIn(doc: { figures?: FigureSpec[]; params?: Record<string, unknown> } | undefined): Declared {
  const figures = doc?.figures ?? [];
  const names = figureNames(figures);
  return { figures: figures.map((spec, i) => ({ name: names[i], spec })), params: doc?.params ?? {} };
}

function readJson(file: string): unknown {
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined;
}

export async function writeReport(dir: string): Promise<ReportResult> {
  const sweepFile = path.join(dir, 'sweep.json');
  const manifestFile = path.join(dir, 'manifest.json');
  let title: string;
  let drawn: Drawn[];
  let claims: ClaimRecord[] = [];
  if (existsSync(sweepFile)) {
    const sweep = JSON.parse(readFileSync(sweepFile, 'utf8'));
    title = `Sweep of ${path.basename(sweep.graph)}`;
    // The sweep records the graph file as it was named (relative to the working directory then).
    const declared = declaredIn(readJson(path.resolve(sweep.graph)) as never);
    const mine = figuresFor('sweep', declared.figures, declared.params) as Array<{ name: string; spec: LineFigure & { x: string } }>;
    drawn = mine.length ? declaredSweepFigures(mine, sweep as SweepData, sweepOutputs(dir)) : sweepFigures(sweep);
    claims = (sweep.points as Array<{ claims: ClaimRecord[] }>).flatMap((p) => p.claims);
  } else if (existsSync(manifestFile)) {
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Manifest;
    title = `Run of ${manifest.graph.name}`;
    const declared = declaredIn(readJson(path.join(dir, 'graph.resolved.json')) as never);
    const mine = figuresFor('run', declared.figures, declared.params);
    drawn = mine.length ? declaredRunFigures(mine, dir, manifest) : runFigures(dir, manifest);
    claims = manifest.claims ?? [];
  } else {
    throw new UsageError(`${dir} holds neither a sweep.json nor a manifest.json`);
  }
  const figureDir = path.join(dir, 'figures');
  mkdirSync(figureDir, { recursive: true });
  const rendered: Array<{ name: string; svg: string }> = [];
  const skipped: ReportResult['skipped'] = [];
  for (const f of drawn) {
    if (!('spec' in f)) {
      skipped.push({ name: f.name, reason: f.skipped });
      continue;
    }
    const svg = await renderSvg(f.spec);
    writeFileSync(path.join(figureDir, `${f.name}.svg`), svg);
    rendered.push({ name: f.name, svg });
  }
  const html = page(title, claims, rendered, skipped);
  const htmlFile = path.join(dir, 'report.html');
  writeFileSync(htmlFile, html);
  return { html: htmlFile, figures: rendered.map((r) => path.join(figureDir, `${r.name}.svg`)), skipped };
}

/** Output name → node and port, as a point of the sweep recorded them. */
function sweepOutputs(dir: string): Record<string, { node: string; port: string }> {
  const pointsDir = path.join(dir, 'points');
  for (const id of existsSync(pointsDir) ? readdirSync(pointsDir) : []) {
    const m = readJson(path.join(pointsDir, id, 'manifest.json')) as Manifest | undefined;
    if (m?.outputs) return m.outputs;
  }
  return {};
}

function sweepFigures(sweep: SweepData): Figure[] {
  const axes = Object.keys(sweep.grid).filter((a) => a !== 'seed');
  const numericAxes = axes.filter((a) => sweep.grid[a].every((v) => typeof v === 'number'));
  const ok = sweep.points.filter((p) => p.status === 'ok');
  const scalars = [...new Set(ok.flatMap((p) => Object.keys(p.collected)))].filter((n) => ok.every((p) => typeof scalarOf(p.collected[n]) === 'number'));
  const figures: Figure[] = [];
  for (const x of numericAxes) {
    const others = axes.filter((a) => a !== x);
    for (const y of scalars) {
      // Average over seeds: one point per (x, other axes).
      const groups = new Map<string, { row: Record<string, number | string>; sum: number; n: number }>();
      for (const p of ok) {
        const series = others.map((a) => `${a}=${JSON.stringify(p.coords[a])}`).join(' ');
        const key = `${p.coords[x]}|${series}`;
        const g = groups.get(key) ?? { row: { [x]: Number(p.coords[x]), series }, sum: 0, n: 0 };
        g.sum += scalarOf(p.collected[y]) as number;
        g.n++;
        groups.set(key, g);
      }
      const rows = [...groups.values()].map((g) => ({ ...g.row, [y]: g.sum / g.n }));
      figures.push({ name: `${y}-vs-${x}`, spec: linePlot(`${y} against ${x}${sweep.grid.seed ? ' (mean over seeds)' : ''}`, rows, x, y, others.length ? 'series' : undefined) });
    }
  }
  return figures;
}

function runFigures(dir: string, manifest: Manifest): Figure[] {
  const figures: Figure[] = [];
  for (const [name, o] of Object.entries(manifest.outputs)) {
    if (!o.file) continue;
    const file = path.join(dir, o.file);
    if (o.kind === 'tensor' && o.file.endsWith('.npy') && existsSync(file)) {
      const t = decodeNpy(readFileSync(file));
      if (t.shape.length === 1 && t.shape[0] > 1) {
        figures.push({ name, spec: linePlot(name, Array.from(t.data, (v, i) => ({ index: i, value: v })), 'index', 'value') });
      } else if (t.shape.length === 2 && t.shape[0] > 1 && t.shape[1] > 1) {
        figures.push({ name, spec: heatmap(name, t.data, t.shape[0], t.shape[1]) });
      }
    } else if (o.kind === 'table' && existsSync(file.replace(/\.csv$/, '.json'))) {
      const table = JSON.parse(readFileSync(file.replace(/\.csv$/, '.json'), 'utf8')) as Table;
      const x = table.columns.includes('step') ? 'step' : table.columns[0];
      for (const y of table.columns.filter((c) => c !== x && table.rows.some((r) => typeof r[c] === 'number'))) {
        const rows = table.rows.filter((r) => typeof r[y] === 'number').map((r) => ({ [x]: Number(r[x]), [y]: r[y] as number }));
        figures.push({ name: `${name}-${y}`, spec: linePlot(`${name}: ${y}`, rows, x, y) });
      }
    }
  }
  return figures;
}

function scalarOf(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (v && typeof v === 'object' && typeof (v as { mean?: unknown }).mean === 'number') return (v as { mean: number }).mean;
  if (v && typeof v === 'object' && typeof (v as { value?: unknown }).value === 'number') return (v as { value: number }).value;
  return undefined;
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function page(title: string, claims: ClaimRecord[], figures: Array<{ name: string; svg: string }>, skipped: ReportResult['skipped']): string {
  const claimRows = claims.map((c) => `<tr class="${c.pass ? 'pass' : 'fail'}"><td>${c.pass ? 'PASS' : 'FAIL'}</td><td>${escapeHtml(c.node)}</td><td>${escapeHtml(c.message)}</td></tr>`).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:1100px}figure{display:inline-block;margin:1rem}table{border-collapse:collapse}td{padding:.2rem .6rem;border-bottom:1px solid #ddd}.pass td:first-child{color:#070}.fail td:first-child{color:#b00;font-weight:bold}</style>
</head><body>
<h1>${escapeHtml(title)}</h1>
${claims.length ? `<h2>Claims (${claims.filter((c) => c.pass).length}/${claims.length} pass)</h2>\n<table id="claims">\n${claimRows}\n</table>` : ''}
<h2>Figures</h2>
${figures.map((f) => `<figure id="fig-${escapeHtml(f.name)}">${f.svg}<figcaption>${escapeHtml(f.name)}</figcaption></figure>`).join('\n') || '<p>No plottable outputs.</p>'}
${skipped.length ? `<h2>Figures not drawn</h2>\n<ul id="skipped">\n${skipped.map((s) => `<li>${escapeHtml(s.name)}: ${escapeHtml(s.reason)}</li>`).join('\n')}\n</ul>` : ''}
</body></html>
`;
}
