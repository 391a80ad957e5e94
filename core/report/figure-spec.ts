/**
 * Figures declared in a graph's `figures` array (schemas/graph.schema.json is the source of truth):
 * what `kernelflow report` draws instead of its automatic figures. Pure data, plus the rules that
 * say which names a figure refers to.
 */

export type Axis = 'x' | 'y';

interface FigureCommon {
  /** File name of the SVG (without .svg); derived from the figure when absent. */
  name?: string;
  title?: string;
}

/**
 * Values against values. In a run folder `x` and `y` name graph outputs (1-D tensors of equal
 * length; no `x`: the index). When `x` names a graph param or `seed`, it is a sweep figure: `y`
 * names outputs collected at every point of a sweep over that axis.
 */
export interface LineFigure extends FigureCommon {
  type: 'line';
  x?: string;
  y: string | string[];
  /** Log axes; absent: log wherever the values are positive and span a factor of 10. */
  log?: Axis[];
  /** Least-squares line of log y over log x, drawn dashed, its slope in the subtitle. */
  fit?: 'slope';
}

/** A rank-2 tensor output (e.g. a kernel matrix) as a heatmap. */
export interface HeatmapFigure extends FigureCommon {
  type: 'heatmap';
  output: string;
}

/** Columns of a table output (e.g. `fit.metrics`) against a column (default `step`). */
export interface CurveFigure extends FigureCommon {
  type: 'curve';
  output: string;
  x?: string;
  y?: string | string[];
  log?: Axis[];
}

export type FigureSpec = LineFigure | HeatmapFigure | CurveFigure;

export function listOf(v: string | string[] | undefined): string[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** A line figure is drawn from a sweep when its x is a sweep axis: a graph param or `seed`. */
export function isSweepFigure(f: FigureSpec, params: Record<string, unknown>): f is LineFigure & { x: string } {
  return f.type === 'line' && f.x !== undefined && (f.x === 'seed' || Object.hasOwn(params, f.x));
}

/**
 * The graph output a figure's reference names: an output name, or the reference an output maps to
 * (`node.port`, or `node` for its default port). `defaultPort` says a node's default port when known.
 */
export function outputNamed(
  text: string,
  outputs: Record<string, { node: string; port: string }>,
  defaultPort?: (node: string) => string | undefined,
): string | undefined {
  if (Object.hasOwn(outputs, text)) return text;
  const dot = text.indexOf('.');
  const node = dot < 0 ? text : text.slice(0, dot);
  const fromNode = Object.entries(outputs).filter(([, o]) => o.node === node);
  let port = dot < 0 ? defaultPort?.(node) : text.slice(dot + 1);
  // Without operators (at report time) a bare node means its only written port, else `out`.
  if (port === undefined) port = new Set(fromNode.map(([, o]) => o.port)).size === 1 ? fromNode[0][1].port : 'out';
  return fromNode.find(([, o]) => o.port === port)?.[0];
}

/** File names for the figures: the declared name, else one derived from what it shows; unique. */
export function figureNames(figures: FigureSpec[]): string[] {
  const used = new Set<string>();
  return figures.map((f) => {
    const base = f.name ?? derivedName(f);
    let name = base;
    for (let i = 2; used.has(name); i++) name = `${base}-${i}`;
    used.add(name);
    return name;
  });
}

function derivedName(f: FigureSpec): string {
  const safe = (s: string) => s.replace(/[^A-Za-z0-9_.-]+/g, '_');
  if (f.type === 'line') return safe(`${listOf(f.y).join('+')}-vs-${f.x ?? 'index'}`);
  if (f.type === 'heatmap') return safe(f.output);
  return safe(`${f.output}${f.y === undefined ? '' : `-${listOf(f.y).join('+')}`}`);
}
