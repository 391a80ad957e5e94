/**
 * report.html as a person sees it: opened in a headless Chromium (Debian's, driven by
 * playwright-core), every figure is laid out with both axes (titles, ticks, labels) and one visible
 * mark per data point, and the claims table shows each claim with PASS or FAIL. Skipped, with the
 * reason printed, where no Chromium is installed.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runGraph, writeRun } from '../../core/index.js';
import { writeReport } from '../../core/report/write-report.js';
import { useBackend } from '../helpers/backends.js';

const CHROMIUM = process.env.KERNELFLOW_CHROMIUM ?? '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
if (!HAVE_CHROMIUM) console.warn(`tests/report/browser.test.ts skipped: no Chromium at ${CHROMIUM} (install chromium or set KERNELFLOW_CHROMIUM)`);

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

interface Box { x: number; y: number; width: number; height: number }

describe.skipIf(!HAVE_CHROMIUM)(`report.html in headless Chromium${HAVE_CHROMIUM ? '' : ` (skipped: no Chromium at ${CHROMIUM})`}`, () => {
  let browser: Browser;
  let page: Page;
  let metricsRows: number;

  beforeAll(async () => {
    await useBackend('wasm');
    const out = mkdtempSync(path.join(os.tmpdir(), 'kf-report-browser-'));
    const r = await runGraph('tests/report/fixtures/figures.json', { backend: 'wasm', cache: false }).result;
    writeRun(out, { stored: r.stored, manifest: r.manifest, resolvedGraph: r.prepared.graph });
    r.dispose();
    const { html } = await writeReport(out);
    metricsRows = JSON.parse(readFileSync(path.join(out, 'metrics.json'), 'utf8')).rows.length;
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
    page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    await page.goto(pathToFileURL(html).href);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
  });

  /** What the browser laid out for one figure: axes and the boxes of its data marks. */
  async function figure(name: string, mark: 'point' | 'rect mark') {
    return page.locator(`figure[id="fig-${name}"] > svg`).evaluate((svg, role) => {
      const box = (e: Element) => {
        const r = e.getBoundingClientRect();
        return { x: r.x, y: r.y, width: r.width, height: r.height };
      };
      const texts = (sel: string) => [...svg.querySelectorAll(sel)].map((t) => t.textContent ?? '').filter((t) => t.trim() !== '');
      return {
        svg: box(svg),
        axes: [...svg.querySelectorAll('[aria-roledescription="axis"]')].map((axis) => ({
          title: [...axis.querySelectorAll('.role-axis-title text')].map((t) => t.textContent).join(''),
          ticks: axis.querySelectorAll('.role-axis-tick line').length,
          labels: [...axis.querySelectorAll('.role-axis-label text')].map((t) => t.textContent ?? '').filter((t) => t !== ''),
        })),
        marks: [...svg.querySelectorAll(`[aria-roledescription="${role}"]`)].map(box),
        title: texts('.role-title text').join(' | '),
      };
    }, mark);
  }

  const inside = (m: Box, svg: Box) => m.width > 0 && m.height > 0 && m.x >= svg.x && m.y >= svg.y && m.x + m.width <= svg.x + svg.width && m.y + m.height <= svg.y + svg.height;

  it('a log–log line figure: both axes with ticks and labels, a visible point per data point, the fitted slope', async () => {
    const f = await figure('decay', 'point');
    expect(f.svg.width).toBeGreaterThan(100);
    expect(f.axes.map((a) => a.title).sort()).toEqual(['errs', 'widths']);
    for (const a of f.axes) {
      expect(a.ticks).toBeGreaterThan(1);
      expect(a.labels.length).toBeGreaterThan(1);
    }
    // widths [1, 4, 16, 64] and errs [1, ½, ¼, ⅛]: 4 points, left to right and top to bottom
    expect(f.marks).toHaveLength(4);
    expect(f.marks.every((m) => inside(m, f.svg))).toBe(true);
    const xs = f.marks.map((m) => m.x);
    const ys = f.marks.map((m) => m.y);
    expect([...xs].sort((a, b) => a - b)).toEqual(xs);
    expect([...ys].sort((a, b) => a - b)).toEqual(ys);
    // equal steps on log axes: each factor 4 in width moves the same distance
    const steps = xs.slice(1).map((x, i) => x - xs[i]);
    for (const s of steps) expect(s).toBeCloseTo(steps[0], 0);
    expect(f.title).toContain('fitted log–log slope -0.500');
  });

  it('a heatmap of the 5×5 kernel matrix: one cell per entry, axis titles', async () => {
    const f = await figure('k.k', 'rect mark');
    expect(f.axes.map((a) => a.title).sort()).toEqual(['column', 'row']);
    expect(f.marks).toHaveLength(25);
    expect(f.marks.every((m) => inside(m, f.svg))).toBe(true);
    // a 5×5 grid of distinct cells
    expect(new Set(f.marks.map((m) => Math.round(m.x))).size).toBe(5);
    expect(new Set(f.marks.map((m) => Math.round(m.y))).size).toBe(5);
  });

  it('a training curve: a point per metrics row against step', async () => {
    const f = await figure('fit.metrics-loss', 'point');
    expect(f.axes.map((a) => a.title).sort()).toEqual(['loss', 'step']);
    for (const a of f.axes) expect(a.labels.length).toBeGreaterThan(1);
    expect(metricsRows).toBe(4);
    expect(f.marks).toHaveLength(metricsRows);
    expect(f.marks.every((m) => inside(m, f.svg))).toBe(true);
  });

  it('the claims table lists each claim with PASS or FAIL', async () => {
    const rows = await page.locator('#claims tr').evaluateAll((trs) => trs.map((tr) => {
      const cells = [...tr.querySelectorAll('td')];
      return { verdict: cells[0].textContent, node: cells[1].textContent, color: getComputedStyle(cells[0]).color };
    }));
    expect(rows).toEqual([
      { verdict: 'PASS', node: 'claim_slope', color: 'rgb(0, 119, 0)' },
      { verdict: 'FAIL', node: 'claim_false', color: 'rgb(187, 0, 0)' },
    ]);
    expect(await page.locator('h2', { hasText: 'Claims' }).textContent()).toBe('Claims (1/2 pass)');
  });
});
