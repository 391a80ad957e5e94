/**
 * Subgraphs as blocks: a graph with declared inputs used as a node of other graphs, validated
 * through, cached like any node (a block used twice on the same inputs computes once), with
 * errors that point into the block file and name the caller's node.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { formatDiagnostic, prepareGraph, runGraph, validateGraph } from '../../core/index.js';
import type { OperatorRegistry } from '../../core/operator/registry.js';
import { useBackend } from '../helpers/backends.js';
import { calls, testRegistry } from '../helpers/test-operators.js';

const fixture = (name: string) => `tests/fixtures/blocks/${name}`;
let registry: OperatorRegistry;
beforeAll(async () => {
  await useBackend('wasm');
  registry = await testRegistry();
});

const scalar = async (r: { outputs: Record<string, unknown> }, name: string) => (await (r.outputs[name] as { tensor: tf.Tensor }).tensor.data())[0];

describe('blocks', () => {
  it('a block used twice on the same inputs computes once, and on other inputs computes again', async () => {
    calls.clear();
    const before = tf.memory().numTensors;
    const r = await runGraph(fixture('twice.json'), { backend: 'wasm', registry, cache: { dir: null, memoryBytes: 64e6 } }).result;
    expect(r.status, JSON.stringify(r.manifest.nodes)).toBe('ok');
    expect(Object.keys(r.manifest.nodes)).toEqual(expect.arrayContaining(['first/gram_a', 'again/gram_a', 'swapped/err']));
    // `ga` (a counted op) ran once for first/again together, once for swapped.
    expect((calls.get('first/ga') ?? 0) + (calls.get('again/ga') ?? 0)).toBe(1);
    expect(calls.get('swapped/ga')).toBe(1);
    const first = await scalar(r, 'first');
    expect(await scalar(r, 'again')).toBe(first);
    expect(await scalar(r, 'total')).toBeCloseTo(first + (await scalar(r, 'swapped')), 5);
    expect(r.stored.gram).toMatchObject({ kind: 'tensor', tensor: { shape: [6, 6] } });
    r.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('matches the same computation written without the block', async () => {
    const inline = await runGraph({
      kernelflow: '1',
      nodes: {
        x: { op: 'data.normal', params: { shape: [6, 3] } },
        y: { op: 'data.normal', params: { shape: [6, 5] } },
        gx: { op: 'math.matmul', inputs: { a: 'x', b: 'x' }, params: { transpose_b: true } },
        gy: { op: 'math.matmul', inputs: { a: 'y', b: 'y' }, params: { transpose_b: true } },
        err: { op: 'metric.rel_error', inputs: { a: 'gx', b: 'gy' } },
      },
      outputs: { err: 'err' },
    }, { backend: 'wasm', registry, cache: false }).result;
    const viaBlock = await runGraph(fixture('twice.json'), { backend: 'wasm', registry, cache: false }).result;
    expect(await scalar(viaBlock, 'first')).toBe(await scalar(inline, 'err'));
    inline.dispose();
    viaBlock.dispose();
  });

  it('one block serves two graphs; blocks nest; params reach inside', async () => {
    const p = await prepareGraph(fixture('other-user.json'), { registry });
    expect(p.plan.nodes.get('deep/inner/noise')!.params).toMatchObject({ std: 0.5, shape: [4, 2] });
    expect(p.graph.blocks.map((b) => b.id)).toEqual(['cmp', 'deep', 'deep/inner']);
    const r = await runGraph(fixture('other-user.json'), { backend: 'wasm', registry, cache: false }).result;
    expect(r.status).toBe('ok');
    expect(r.stored.deep).toMatchObject({ kind: 'tensor', tensor: { shape: [4, 2] } });
    r.dispose();
  });

  it('a wiring mismatch at the block boundary names the caller node and the block input', async () => {
    const lines = (await validateGraph(fixture('bad-boundary.json'), { registry })).map(formatDiagnostic);
    expect(lines).toContain(
      "tests/fixtures/blocks/bad-boundary.json: /nodes/reg/inputs/a: node 'reg' (graph:./blocks/gram-error.json): block input 'a' expects rank 2, got shape [6] (wired to 'v')",
    );
  });

  it('an error inside a block points into the block file with the caller named, through nesting', async () => {
    const lines = (await validateGraph(fixture('bad-inner-param.json'), { registry })).map(formatDiagnostic);
    expect(lines).toContain(
      "tests/fixtures/blocks/bad-inner-param.json: /nodes/reg: node 'reg' (graph:./blocks/noisy.json): in blocks/noisy.json: /nodes/noise/params/std: node 'noise' (data.normal): must be > 0",
    );
    expect(lines).toContain(
      "tests/fixtures/blocks/bad-inner-param.json: /nodes/deep: node 'deep' (graph:./blocks/nested.json): in blocks/nested.json: /nodes/inner: in noisy.json: /nodes/noise/params/std: node 'noise' (data.normal): must be > 0",
    );
  });

  it('unknown block inputs, params and outputs are errors at the caller', async () => {
    const lines = (await validateGraph(fixture('bad-interface.json'), { registry })).map(formatDiagnostic);
    expect(lines).toEqual(expect.arrayContaining([
      expect.stringMatching(/bad-interface\.json: \/nodes\/reg\/inputs\/xx: .*block blocks\/noisy\.json has no input 'xx' \(inputs: x\)/),
      expect.stringMatching(/bad-interface\.json: \/nodes\/reg\/inputs: .*missing block input 'x'/),
      expect.stringMatching(/bad-interface\.json: \/nodes\/reg\/params\/nope: .*in blocks\/noisy\.json: the block declares no param 'nope' \(declared: n, d, std\)/),
      expect.stringMatching(/bad-interface\.json: \/nodes\/use\/inputs\/x: block 'reg' \(graph:\.\/blocks\/noisy\.json\) has no output 'mean' \(outputs: out\)/),
    ]));
  });

  it('a block that includes itself, directly or not, is an error printed as a path', async () => {
    const lines = (await validateGraph(fixture('self-including.json'), { registry })).map(formatDiagnostic);
    expect(lines).toEqual(expect.arrayContaining([
      "tests/fixtures/blocks/self-including.json: /nodes/s: node 's' (graph:./blocks/self.json): block cycle: self-including.json → blocks/self.json → blocks/self.json",
      "tests/fixtures/blocks/self-including.json: /nodes/p: node 'p' (graph:./blocks/ping.json): block cycle: self-including.json → blocks/ping.json → blocks/pong.json → blocks/ping.json",
    ]));
  });

  it('plan and viz show blocks collapsed by default and expanded on request', async () => {
    const { renderDag } = await import('../../core/graph/viz.js');
    const { collapseBlocks, planReport } = await import('../../core/plan/plan-report.js');
    const p = await prepareGraph(fixture('twice.json'), { registry });
    const collapsed = renderDag(p.dag, 'mermaid');
    expect(collapsed).toMatch(/n_first\["first<br\/><i>graph:\.\/blocks\/gram-error\.json<\/i>"\]/);
    expect(collapsed).toMatch(/n_x -->\|a\| n_first/);
    expect(collapsed).toMatch(/n_first -->\|err→a\| n_total/);
    expect(collapsed).not.toMatch(/gram_a/);
    expect(renderDag(p.dag, 'dot', { expand: true })).toMatch(/"first\/gram_a" -> "first\/ga"/);
    const full = planReport(p.plan, undefined, undefined);
    const rows = collapseBlocks(full, p.plan).rows;
    expect(rows.map((r) => r.node)).toEqual(['x', 'y', 'first', 'again', 'swapped', 'total']);
    expect(rows[2]).toMatchObject({ op: 'graph:./blocks/gram-error.json', outputs: { err: 'float32[]', gram: 'float32[6,6]' }, bytes: 436 });
    expect(full.rows.length).toBe(2 + 3 * 4 + 1);
  });

  it('a package can ship blocks: graph:<package>/<path>', async () => {
    const { mkdtempSync, mkdirSync, writeFileSync, copyFileSync } = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const root = mkdtempSync(path.join(os.tmpdir(), 'kf-pkg-'));
    const pkg = path.join(root, 'node_modules', 'kf-blocks');
    mkdirSync(path.join(pkg, 'blocks'), { recursive: true });
    writeFileSync(path.join(pkg, 'package.json'), JSON.stringify({ name: 'kf-blocks', version: '1.0.0' }));
    copyFileSync(fixture('blocks/noisy.json'), path.join(pkg, 'blocks', 'noisy.json'));
    const graph = path.join(root, 'g.json');
    writeFileSync(graph, JSON.stringify({
      kernelflow: '1',
      nodes: { x: { op: 'data.constant', params: { value: [[0, 0], [0, 0]] } }, n: { op: 'graph:kf-blocks/blocks/noisy.json', inputs: { x: 'x' }, params: { n: 2, std: 0.1 } } },
      outputs: { n: 'n' },
    }));
    const r = await runGraph(graph, { backend: 'wasm', registry, cache: false }).result;
    expect(r.status).toBe('ok');
    expect(r.stored.n).toMatchObject({ kind: 'tensor', tensor: { shape: [2, 2] } });
    r.dispose();
  });

  it('running a block on its own says it is a block', async () => {
    const [d] = await validateGraph(fixture('blocks/noisy.json'), { registry });
    expect(d.message).toMatch(/'x' is an input of this graph, which makes it a block/);
  });
});
