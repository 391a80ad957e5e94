/**
 * `kernelflow report` draws the figures a graph declares: run figures from a run folder (lines over
 * outputs with a fitted slope, heatmaps, training curves), sweep figures from a sweep folder, the
 * automatic figures where none are declared for the folder, and says which it could not draw.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runGraph, writeRun } from '../../core/index.js';
import { writeReport } from '../../core/report/write-report.js';
import { runSweep } from '../../core/sweep/run-sweep.js';
import { useBackend } from '../helpers/backends.js';

const FIXTURE = 'tests/report/fixtures/figures.json';

beforeAll(async () => useBackend('wasm'));

async function runInto(file: string): Promise<string> {
  const out = mkdtempSync(path.join(os.tmpdir(), 'kf-report-declared-'));
  const r = await runGraph(file, { backend: 'wasm', cache: false }).result;
  writeRun(out, { stored: r.stored, manifest: r.manifest, resolvedGraph: r.prepared.graph });
  r.dispose();
  return out;
}

const count = (svg: string, role: string) => svg.match(new RegExp(`aria-roledescription="${role}"`, 'g'))?.length ?? 0;

describe('declared figures', () => {
  it('a run folder gets the run figures the graph declares, and only those', async () => {
    const out = await runInto(FIXTURE);
    const { figures, skipped } = await writeReport(out);
    expect(figures.map((f) => path.basename(f))).toEqual(['decay.svg', 'k.k.svg', 'fit.metrics-loss.svg']);
    expect(skipped).toEqual([]);
    const [decay, heat, curve] = figures.map((f) => readFileSync(f, 'utf8'));
    // errs = widths^-1/2 exactly: 4 points, log axes, and a fitted slope of -0.5
    expect(count(decay, 'point')).toBe(4);
    expect(count(decay, 'axis')).toBe(2);
    expect(decay).toContain('fitted log–log slope -0.500');
    expect(decay).toMatch(/>widths</);
    expect(decay).toMatch(/>errs</);
    // a data line and the dashed fit
    expect(count(decay, 'line mark')).toBe(2);
    // the 5×5 kernel matrix, one cell per entry
    expect(count(heat, 'rect mark')).toBe(25);
    // one point per metrics row (steps 0, 2, 4, 6)
    const rows = JSON.parse(readFileSync(path.join(out, 'metrics.json'), 'utf8')).rows.length;
    expect(rows).toBe(4);
    expect(count(curve, 'point')).toBe(rows);
    expect(curve).toMatch(/>loss</);
    expect(curve).toMatch(/>step</);
  });

  it('a sweep folder gets the sweep figures: one point per value of the axis, seeds averaged', async () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'kf-report-declared-sweep-'));
    await runSweep(FIXTURE, { grid: { scale: [1, 2, 4], seed: [0, 1] }, collect: ['scaled'], out, cacheDir: null, backend: 'wasm' });
    const { figures, html } = await writeReport(out);
    expect(figures.map((f) => path.basename(f))).toEqual(['scaled-vs-scale.svg']);
    const svg = readFileSync(figures[0], 'utf8');
    expect(count(svg, 'point')).toBe(3);
    expect(svg).toContain('scaled against scale (mean over seeds)');
    // scaled = scale·1: the points lie on y = x (their aria labels give the values)
    const pairs = [...svg.matchAll(/aria-label="scale: (\d+); scaled: (\d+)" role="graphics-symbol" aria-roledescription="point"/g)].map((m) => [Number(m[1]), Number(m[2])]);
    expect(pairs).toEqual([[1, 1], [2, 2], [4, 4]]);
    expect(readFileSync(html, 'utf8')).toContain('<figure id="fig-scaled-vs-scale"><svg');
  });

  it('a declared figure the folder cannot draw is listed with the reason', async () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'kf-report-declared-skip-'));
    await runSweep(FIXTURE, { grid: { seed: [0, 1] }, collect: ['scaled'], out, cacheDir: null, backend: 'wasm' });
    const { figures, skipped, html } = await writeReport(out);
    expect(figures).toEqual([]);
    expect(skipped).toEqual([{ name: 'scaled-vs-scale', reason: "this sweep does not vary 'scale' (axes: seed)" }]);
    expect(readFileSync(html, 'utf8')).toContain("<li>scaled-vs-scale: this sweep does not vary 'scale' (axes: seed)</li>");
  });

  it('a run of a graph that declares only sweep figures gets the automatic figures', async () => {
    const fixture = JSON.parse(readFileSync(FIXTURE, 'utf8'));
    const dir = mkdtempSync(path.join(os.tmpdir(), 'kf-report-declared-auto-'));
    const file = path.join(dir, 'graph.json');
    writeFileSync(file, JSON.stringify({ ...fixture, $schema: undefined, figures: fixture.figures.filter((f: { x?: string }) => f.x === 'scale') }));
    const out = await runInto(file);
    const names = (await writeReport(out)).figures.map((f) => path.basename(f));
    // automatic: 1-D outputs as lines (by output name), the matrix, each numeric metrics column
    expect(names).toEqual(['widths.svg', 'errs.svg', 'k.svg', 'metrics-epoch.svg', 'metrics-loss.svg']);
  });
});
