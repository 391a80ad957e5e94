/**
 * `kernelflow report <run-or-sweep-dir>`: a self-contained `report.html` and each figure as an
 * `.svg` beside it. For a sweep: every collected scalar against each numeric axis (one line per
 * value of the other axes, seeds averaged). For a run: its claims, 1-D outputs as lines, matrices
 * as heatmaps, and metrics tables as training curves.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../document/resolve-params.js';
import { decodeNpy } from '../io/npy.js';
import type { ClaimRecord, Manifest } from '../io/manifest.js';
import type { Table } from '../operator/values.js';
import { heatmap, linePlot } from './figures.js';
import { renderSvg, type VegaLiteSpec } from './render-svg.js';

interface Figure {
  name: string;
  spec: VegaLiteSpec;
}

export async function writeReport(dir: string): Promise<{ html: string; figures: string[] }> {
  const sweepFile = path.join(dir, 'sweep.json');
  const manifestFile = path.join(dir, 'manifest.json');
  let title: string;
  let figures: Figure[];
  let claims: ClaimRecord[] = [];
  if (existsSync(sweepFile)) {
    const sweep = JSON.parse(readFileSync(sweepFile, 'utf8'));
    title = `Sweep of ${path.basename(sweep.graph)}`;
    figures = sweepFigures(sweep);
    claims = (sweep.points as Array<{ claims: ClaimRecord[] }>).flatMap((p) => p.claims);
  } else if (existsSync(manifestFile)) {
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Manifest;
    title = `Run of ${manifest.graph.name}`;
    figures = runFigures(dir, manifest);
    claims = manifest.claims ?? [];
  } else {
    throw new UsageError(`${dir} holds neither a sweep.json nor a manifest.json`);
  }
  const figureDir = path.join(dir, 'figures');
  mkdirSync(figureDir, { recursive: true });
  const rendered: Array<{ name: string; svg: string }> = [];
  for (const f of figures) {
    const svg = await renderSvg(f.spec);
    writeFileSync(path.join(figureDir, `${f.name}.svg`), svg);
    rendered.push({ name: f.name, svg });
  }
  const html = page(title, claims, rendered);
  const htmlFile = path.join(dir, 'report.html');
  writeFileSync(htmlFile, html);
  return { html: htmlFile, figures: rendered.map((r) => path.join(figureDir, `${r.name}.svg`)) };
}

function sweepFigures(sweep: { grid: Record<string, unknown[]>; points: Array<{ coords: Record<string, unknown>; status: string; collected: Record<string, unknown> }> }): Figure[] {
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

function page(title: string, claims: ClaimRecord[], figures: Array<{ name: string; svg: string }>): string {
  const claimRows = claims.map((c) => `<tr class="${c.pass ? 'pass' : 'fail'}"><td>${c.pass ? 'PASS' : 'FAIL'}</td><td>${escapeHtml(c.node)}</td><td>${escapeHtml(c.message)}</td></tr>`).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:1100px}figure{display:inline-block;margin:1rem}table{border-collapse:collapse}td{padding:.2rem .6rem;border-bottom:1px solid #ddd}.pass td:first-child{color:#070}.fail td:first-child{color:#b00;font-weight:bold}</style>
</head><body>
<h1>${escapeHtml(title)}</h1>
${claims.length ? `<h2>Claims (${claims.filter((c) => c.pass).length}/${claims.length} pass)</h2>\n<table id="claims">\n${claimRows}\n</table>` : ''}
<h2>Figures</h2>
${figures.map((f) => `<figure id="fig-${escapeHtml(f.name)}">${f.svg}<figcaption>${escapeHtml(f.name)}</figcaption></figure>`).join('\n') || '<p>No plottable outputs.</p>'}
</body></html>
`;
}
