/**
 * Bad input: every fixture in tests/fixtures/bad is rejected with a diagnostic that names the file,
 * the JSON pointer, and (where there is one) the node and operator — all problems at once.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatDiagnostic, validateGraph, type Diagnostic } from '../../core/index.js';

const bad = (name: string) => path.join('tests/fixtures/bad', name);

interface Expected {
  code: string;
  pointer: string;
  message: RegExp;
  node?: string;
  op?: string;
}

const cases: Record<string, Expected> = {
  'missing-version.json': { code: 'schema', pointer: '', message: /missing required field 'kernelflow'/ },
  'wrong-version.json': { code: 'schema', pointer: '/kernelflow', message: /must be "1"/ },
  'unknown-field.json': { code: 'schema', pointer: '/nodez', message: /unknown field 'nodez'/ },
  'bad-node-id.json': { code: 'schema', pointer: '/nodes/1x', message: /invalid name '1x'/ },
  'unknown-op.json': { code: 'unknown_op', pointer: '/nodes/x/op', message: /unknown operator 'data.norml' — did you mean 'data.normal'/, node: 'x' },
  'unknown-param.json': { code: 'params', pointer: '/nodes/x/params/sdt', message: /unknown field 'sdt'/, node: 'x', op: 'data.normal' },
  'wrong-param-type.json': { code: 'params', pointer: '/nodes/x/params/shape', message: /must be array/, node: 'x', op: 'data.normal' },
  'out-of-range-param.json': { code: 'params', pointer: '/nodes/x/params/std', message: /must be > 0/, node: 'x', op: 'data.normal' },
  'unknown-input-port.json': { code: 'unknown_port', pointer: '/nodes/y/inputs/bb', message: /math.matmul has no input 'bb' — did you mean 'b'/, node: 'y', op: 'math.matmul' },
  'missing-input-port.json': { code: 'missing_input', pointer: '/nodes/y/inputs', message: /missing required input 'b'/, node: 'y', op: 'math.matmul' },
  'missing-node-ref.json': { code: 'dangling_reference', pointer: '/nodes/y/inputs/b', message: /reference 'z' names no node/, node: 'y' },
  'missing-port-ref.json': { code: 'unknown_port', pointer: '/nodes/y/inputs/b', message: /node 'x' \(data.normal\) has no output 'values'/, node: 'y' },
  'cycle.json': { code: 'cycle', pointer: '/nodes/a/inputs', message: /cycle: a → b → c → a/ },
  'shape-mismatch.json': { code: 'shape', pointer: '/nodes/ab/inputs', message: /inner dimensions differ/, node: 'ab', op: 'math.matmul' },
  'unresolved-param.json': { code: 'unresolved_param', pointer: '/nodes/a/params/shape/0/$param', message: /unresolved \$param "m" \(declared: n\)/, node: 'a' },
  'missing-output-node.json': { code: 'dangling_reference', pointer: '/outputs/result', message: /reference 'b' names no node/ },
  'plugin-missing.json': { code: 'plugin', pointer: '/plugins/0', message: /plugin file not found: .*no-such-plugin\.js/ },
  'plugin-no-operator.json': { code: 'plugin', pointer: '/plugins/0', message: /exports no operator/ },
  'plugin-invalid-operator.json': { code: 'plugin', pointer: '/plugins/0', message: /id "Bad-Id" must look like family.name.*version must be a positive integer/ },
  'plugin-collision.json': { code: 'plugin', pointer: '/plugins/0', message: /operator id 'math.matmul' from plugin .* collides with the one from kernelflow \(built-in\)/ },
  'load-escape.json': { code: 'params', pointer: '/nodes/a/params/path', message: /path '..\/..\/..\/package.json' escapes the graph's folder/, node: 'a', op: 'data.load' },
  'load-absolute.json': { code: 'params', pointer: '/nodes/a/params/path', message: /absolute path '\/etc\/passwd' is not allowed/, node: 'a', op: 'data.load' },
};

describe('invalid graphs', () => {
  for (const [file, want] of Object.entries(cases)) {
    it(`${file}: ${want.code} at ${want.pointer || '/'}`, async () => {
      const diagnostics = await validateGraph(bad(file));
      const match = diagnostics.find((d) => d.code === want.code && d.pointer === want.pointer);
      expect(match, `got: ${diagnostics.map(formatDiagnostic).join('\n')}`).toBeDefined();
      expect(match!.message).toMatch(want.message);
      expect(match!.file).toBe(bad(file));
      if (want.node) expect(match!.node).toBe(want.node);
      if (want.op) expect(match!.op).toBe(want.op);
    });
  }

  it('a syntax error reports line and column', async () => {
    const [d] = await validateGraph(bad('malformed.json'));
    expect(d).toMatchObject({ code: 'syntax', file: bad('malformed.json') });
    expect(d.line).toBeGreaterThanOrEqual(5);
    expect(d.column).toBeGreaterThan(0);
    expect(formatDiagnostic(d)).toMatch(/^tests\/fixtures\/bad\/malformed\.json:\d+:\d+: \/: invalid JSON: /);
  });

  it('reports every problem at once, each as one line with file, pointer, node and op', async () => {
    const diagnostics = await validateGraph(bad('many-errors.json'));
    const lines = diagnostics.map(formatDiagnostic);
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^tests\/fixtures\/bad\/many-errors\.json: \/nodes\/a\/params\/std: node 'a' \(data\.normal\): must be > 0$/),
        expect.stringMatching(/\/nodes\/b\/op: node 'b' \(math\.matmull\): unknown operator 'math\.matmull' — did you mean 'math\.matmul'/),
        expect.stringMatching(/\/nodes\/c\/inputs\/b: node 'c' \(math\.matmul\): reference 'nowhere' names no node/),
      ]),
    );
    expect(diagnostics.length).toBeGreaterThanOrEqual(3);
  });

  it('an unknown --set name is an error, and a malformed --set is a usage error', async () => {
    const graph = 'graphs/random-projection.json';
    const diagnostics = await validateGraph(graph, { sets: { nn: 3 } });
    expect(diagnostics).toEqual([expect.objectContaining({ code: 'unknown_param', message: expect.stringMatching(/--set nn: the graph declares no param 'nn'/) })]);
    const { parseSet } = await import('../../core/index.js');
    expect(() => parseSet('n')).toThrow(/malformed --set 'n'/);
    expect(parseSet('n=12')).toEqual({ name: 'n', value: 12 });
    expect(parseSet('name=abc')).toEqual({ name: 'name', value: 'abc' });
    expect(parseSet('v=[1,2]')).toEqual({ name: 'v', value: [1, 2] });
  });

  it('--set overrides change resolved shapes', async () => {
    const { prepareGraph } = await import('../../core/index.js');
    const p = await prepareGraph('graphs/random-projection.json', { sets: { n: 10 } });
    expect(p.plan.nodes.get('gram')!.outputs.out).toMatchObject({ shape: [10, 10] });
  });

  it('validate --no-plugins checks wiring without loading the plugin', async () => {
    const graph = {
      kernelflow: '1', plugins: ['./does-not-exist.js'],
      nodes: { x: { op: 'data.normal', params: { shape: [3] } }, y: { op: 'mine.op', inputs: { x: 'x' } }, z: { op: 'mine.other', inputs: { x: 'nope' } } },
    };
    const diagnostics: Diagnostic[] = await validateGraph(graph, { noPlugins: true });
    expect(diagnostics.map((d) => d.code)).toEqual(['dangling_reference']);
  });
});
