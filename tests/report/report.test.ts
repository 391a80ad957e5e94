/**
 * Reports: figures rendered to SVG headlessly with vega — sweep line plots with their axes and a
 * point per grid value, heatmaps of matrices, ntk-convergence's declared figures, and the claims
 * table. (Checked as SVG/HTML text; no browser is needed to make the page.)
 */
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runGraph, writeRun } from '../../core/index.js';
import { writeReport } from '../../core/report/write-report.js';
import { runSweep } from '../../core/sweep/run-sweep.js';
import { useBackend } from '../helpers/backends.js';

beforeAll(async () => useBackend('wasm'));

describe('kernelflow report', () => {
  it('a sweep report plots each collected scalar against each numeric axis, seeds averaged', async () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'kf-report-sweep-'));
    await runSweep('graphs/random-projection.json', { grid: { n: [10, 20, 40], seed: [0, 1] }, sets: { d: 32 }, collect: ['distortion'], out, cacheDir: null, backend: 'wasm' });
    const { html, figures } = await writeReport(out);
    expect(figures.map((f) => path.basename(f))).toEqual(['distortion-vs-n.svg']);
    const svg = readFileSync(figures[0], 'utf8');
    expect(svg).toMatch(/^<svg/);
    expect(svg).toContain('role-axis');
    expect(svg).toMatch(/>n</); // the x axis title
    expect(svg).toMatch(/>distortion</); // the y axis title
    // two axes, one line, and one point per grid value of n (3), seeds averaged into it
    expect(svg.match(/aria-roledescription="axis"/g)).toHaveLength(2);
    expect(svg.match(/aria-roledescription="line mark"/g)).toHaveLength(1);
    expect(svg.match(/aria-roledescription="point"/g)).toHaveLength(3);
    const page = readFileSync(html, 'utf8');
    expect(page).toContain('<figure id="fig-distortion-vs-n"><svg');
  });

  it('a run report draws matrices as heatmaps and lists the claims', async () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'kf-report-run-'));
    const r = await runGraph('graphs/papers/ntk-convergence.json', { backend: 'wasm', cache: false, variant: 'ci' }).result;
    expect(r.status).toBe('ok');
    writeRun(out, { stored: r.stored, manifest: r.manifest, resolvedGraph: r.prepared.graph });
    r.dispose();
    const { html } = await writeReport(out);
    const names = readdirSync(path.join(out, 'figures'));
    expect(names).toContain('analytic.svg');
    // the ci variant's 6×6 analytic NTK: one cell per entry, and a colour legend
    const heat = readFileSync(path.join(out, 'figures', 'analytic.svg'), 'utf8');
    expect(heat.match(/aria-roledescription="rect mark"/g)).toHaveLength(36);
    expect(heat).toContain('aria-roledescription="legend"');
    const page = readFileSync(html, 'utf8');
    expect(page).toMatch(/<h2>Claims \(\d\/1 pass\)<\/h2>/);
    expect(page).toMatch(/<td>claim_slope<\/td>/);
    // its declared log–log figure fits the same slope that check.slope measured for the claim
    const claim = JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8')).claims[0];
    const line = readFileSync(path.join(out, 'figures', 'errors-vs-widths.svg'), 'utf8');
    expect(line).toContain(`fitted log–log slope ${claim.value.toPrecision(3)}`);
    expect(line.match(/aria-roledescription="point"/g)).toHaveLength(28);
  });
});
