/**
 * Figures declared in a graph are validated with the rest of it: names that are not outputs (or
 * params, for a line's x), outputs of the wrong kind or shape, and fits without log axes are
 * diagnostics with JSON pointers into `figures`.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GraphError, type Diagnostic } from '../../core/diagnostics.js';
import type { FigureSpec } from '../../core/report/figure-spec.js';
import { prepareGraph } from '../../core/prepare.js';

const fixture = JSON.parse(readFileSync(new URL('./fixtures/figures.json', import.meta.url), 'utf8'));

async function problems(figures: unknown[]): Promise<Diagnostic[]> {
  try {
    await prepareGraph({ ...fixture, figures });
    return [];
  } catch (err) {
    if (err instanceof GraphError) return err.diagnostics;
    throw err;
  }
}

const at = (ds: Diagnostic[]) => ds.map((d) => d.pointer);

describe('figures in validate', () => {
  it('accepts every figure type naming outputs by name or by node.port, and a sweep axis', async () => {
    expect(await problems(fixture.figures)).toEqual([]);
    const byRef: FigureSpec[] = [{ type: 'line', x: 'widths.out', y: ['errs'] }, { type: 'heatmap', output: 'k' }, { type: 'line', x: 'seed', y: 'scaled.out' }];
    expect(await problems(byRef)).toEqual([]);
  });

  it('names that are not outputs, with the pointer of the field', async () => {
    const ds = await problems([{ type: 'line', x: 'widths', y: ['errs', 'errz'] }, { type: 'heatmap', output: 'grid' }, { type: 'line', x: 'nope', y: 'errs' }]);
    expect(at(ds)).toEqual(['/figures/0/y/1', '/figures/1/output', '/figures/2/x']);
    expect(ds.every((d) => d.code === 'figure')).toBe(true);
    expect(ds[0].message).toContain("'errz', which is not an output");
    // grid is a node but not an output: it is never written, so it cannot be drawn
    expect(ds[1].message).toContain('add it to "outputs"');
    expect(ds[2].message).toContain('or name a param');
  });

  it('outputs of the wrong kind', async () => {
    const ds = await problems([{ type: 'curve', output: 'k' }, { type: 'heatmap', output: 'metrics' }]);
    expect(at(ds)).toEqual(['/figures/0/output', '/figures/1/output']);
    expect(ds[0].message).toMatch(/needs a table output; 'k' is a tensor/);
    expect(ds[1].message).toMatch(/needs a tensor output; 'metrics' is a table/);
  });

  it('shapes: a heatmap needs a matrix, a line equal lengths, a sweep figure one value per point', async () => {
    const ds = await problems([{ type: 'heatmap', output: 'errs' }, { type: 'line', x: 'widths', y: 'k' }, { type: 'line', x: 'scale', y: ['scaled', 'errs'] }]);
    expect(at(ds)).toEqual(['/figures/0/output', '/figures/1/y', '/figures/2/y/1']);
    expect(ds[0].message).toContain('rank 1 (shape [4])');
    expect(ds[1].message).toContain("'k' has 25 elements but x 'widths' has 4");
    expect(ds[2].message).toContain("'errs' has 4 elements");
  });

  it('a fitted slope needs log–log axes; names are unique', async () => {
    const ds = await problems([{ type: 'line', x: 'widths', y: 'errs', fit: 'slope', log: ['y'], name: 'a' }, { type: 'heatmap', output: 'k', name: 'a' }]);
    expect(at(ds)).toEqual(['/figures/0/fit', '/figures/1/name']);
  });

  it('the schema rejects unknown types and fields', async () => {
    const ds = await problems([{ type: 'bar', output: 'k' }, { type: 'heatmap', output: 'k', y: 'errs' }, { type: 'curve' }]);
    expect(ds.map((d) => [d.pointer, d.message])).toEqual([
      ['/figures/0/type', 'must be one of "line", "heatmap", "curve"'],
      ['/figures/1/y', "unknown field 'y'"],
      ['/figures/2', "missing required field 'output'"],
    ]);
  });
});
