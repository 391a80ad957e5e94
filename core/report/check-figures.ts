/**
 * Validation of a graph's `figures`: every name a figure uses must be something `kernelflow report`
 * will find — a written output of the right kind (and, once shapes are inferred, the right shape),
 * a sweep axis, a table column when the operator declares its columns. Problems are diagnostics
 * with JSON pointers into the graph, reported by `validate` with all the others.
 */
import { pointer, type Diagnostic } from '../diagnostics.js';
import type { Dag } from '../graph/build-dag.js';
import type { Operator } from '../operator/define-operator.js';
import { defaultOutputPort, type Ref } from '../graph/reference.js';
import type { Port } from '../operator/ports.js';
import { sizeOf, type Meta } from '../operator/values.js';
import type { Plan } from '../plan/plan-graph.js';
import { isSweepFigure, listOf, outputNamed, type FigureSpec } from './figure-spec.js';

type Want = 'tensor' | 'table' | 'scalar';

interface Use {
  /** JSON pointer of the field naming the output. */
  at: string;
  text: string;
  want: Want;
  figure: FigureSpec;
  index: number;
}

/** Every output a figure names, with what the figure needs it to be. */
function uses(figures: FigureSpec[], params: Record<string, unknown>): Use[] {
  const out: Use[] = [];
  figures.forEach((figure, index) => {
    const at = (...t: Array<string | number>) => pointer('figures', index, ...t);
    const many = (field: 'y', value: string | string[], want: Want) =>
      listOf(value).forEach((text, j) => out.push({ at: Array.isArray(value) ? at(field, j) : at(field), text, want, figure, index }));
    if (figure.type === 'line') {
      const sweep = isSweepFigure(figure, params);
      if (figure.x !== undefined && !sweep) out.push({ at: at('x'), text: figure.x, want: 'tensor', figure, index });
      many('y', figure.y, sweep ? 'scalar' : 'tensor');
    } else {
      out.push({ at: at('output'), text: figure.output, want: figure.type === 'heatmap' ? 'tensor' : 'table', figure, index });
    }
  });
  return out;
}

function resolve(dag: Dag, text: string): Ref | undefined {
  const name = outputNamed(text, dag.outputs, (node) => {
    const op = dag.nodes.get(node)?.op;
    return op && defaultOutputPort(op);
  });
  return name === undefined ? undefined : dag.outputs[name];
}

/**
 * Names and kinds: run once the DAG is built. `isLoaded` tells real operators from stand-ins for
 * plugins that were not loaded (validate --no-plugins), whose output kinds are unknown.
 */
export function checkFigureRefs(dag: Dag, isLoaded: (op: Operator) => boolean = () => true): Diagnostic[] {
  const graph = dag.graph;
  const figures = graph.figures ?? [];
  const diagnostics: Diagnostic[] = [];
  const report = (at: string, message: string) => diagnostics.push({ code: 'figure', file: graph.file, pointer: at, message });
  const allOutputs = Object.keys(graph.outputs);
  const outputNames = allOutputs.length > 12 ? [...allOutputs.slice(0, 12), `… (${allOutputs.length} in all)`] : allOutputs;
  const declared = new Map<string, number>();
  figures.forEach((f, i) => {
    if (f.name !== undefined) {
      if (declared.has(f.name)) report(pointer('figures', i, 'name'), `figure name '${f.name}' is already used by figure ${declared.get(f.name)}`);
      declared.set(f.name, i);
    }
    if (f.type !== 'curve' && f.type !== 'line') return;
    if (f.type === 'line' && f.fit === 'slope' && !(f.log?.includes('x') && f.log.includes('y'))) {
      report(pointer('figures', i, 'fit'), 'a fitted slope is a log–log slope: add "log": ["x", "y"]');
    }
  });
  for (const u of uses(figures, graph.params)) {
    const ref = resolve(dag, u.text);
    if (!ref) {
      report(u.at, `figure ${u.index} draws '${u.text}', which is not an output of the graph (outputs: ${outputNames.join(', ') || 'none'}); add it to "outputs"${u.figure.type === 'line' && u.at.endsWith('/x') ? ' or name a param to draw a sweep' : ''}`);
      continue;
    }
    const op = dag.nodes.get(ref.node)?.op;
    const port: Port | undefined = op?.outputs[ref.port];
    if (!op || !port || !isLoaded(op)) continue;
    const ok = u.want === 'scalar' ? port.kind === 'tensor' || port.kind === 'json' : port.kind === u.want;
    if (!ok) report(u.at, `figure ${u.index} (${u.figure.type}) needs ${u.want === 'table' ? 'a table' : u.want === 'scalar' ? 'a scalar (tensor or json)' : 'a tensor'} output; '${u.text}' is a ${port.kind} (${ref.node}.${ref.port})`);
  }
  return diagnostics;
}

/** Shapes and table columns, where the plan knows them. */
export function checkFigureShapes(plan: Plan): Diagnostic[] {
  const graph = plan.dag.graph;
  const figures = graph.figures ?? [];
  const diagnostics: Diagnostic[] = [];
  const report = (at: string, message: string) => diagnostics.push({ code: 'figure', file: graph.file, pointer: at, message });
  const metaOf = (text: string): Meta | undefined => {
    const ref = resolve(plan.dag, text);
    return ref && plan.nodes.get(ref.node)?.outputs[ref.port];
  };
  const sizeOfOutput = (text: string | undefined) => {
    const m = text === undefined ? undefined : metaOf(text);
    return m?.kind === 'tensor' ? sizeOf(m.shape) : undefined;
  };
  figures.forEach((f, i) => {
    const at = (...t: Array<string | number>) => pointer('figures', i, ...t);
    if (f.type === 'heatmap') {
      const m = metaOf(f.output);
      if (m?.kind === 'tensor' && m.shape && m.shape.length !== 2) report(at('output'), `a heatmap draws a matrix; '${f.output}' has rank ${m.shape.length} (shape [${m.shape.join(', ')}])`);
    } else if (f.type === 'curve') {
      const m = metaOf(f.output);
      if (m?.kind === 'table' && m.columns) {
        const columns = m.columns;
        const check = (name: string, p: string) => {
          if (!columns.includes(name)) report(p, `table '${f.output}' has no column '${name}' (columns: ${columns.join(', ')})`);
        };
        if (f.x !== undefined) check(f.x, at('x'));
        listOf(f.y).forEach((c, j) => check(c, Array.isArray(f.y) ? at('y', j) : at('y')));
      }
    } else if (isSweepFigure(f, graph.params)) {
      listOf(f.y).forEach((y, j) => {
        const n = sizeOfOutput(y);
        if (n !== undefined && n !== 1) report(Array.isArray(f.y) ? at('y', j) : at('y'), `a sweep figure plots one value per point; '${y}' has ${n} elements`);
      });
    } else if (f.x !== undefined) {
      const nx = sizeOfOutput(f.x);
      listOf(f.y).forEach((y, j) => {
        const ny = sizeOfOutput(y);
        if (nx !== undefined && ny !== undefined && nx !== ny) report(Array.isArray(f.y) ? at('y', j) : at('y'), `'${y}' has ${ny} elements but x '${f.x}' has ${nx}`);
      });
    }
  });
  return diagnostics;
}
