/**
 * Generated artifacts: the operator reference and params schemas are up to date with the
 * definitions (CI fails when the committed copies are stale), and the combined schema validates
 * every graph in graphs/ and rejects bad params as an editor would.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createAjv } from '../../core/document/ajv.js';
import { generatedArtifacts, staleArtifacts } from '../../core/docs/artifacts.js';
import { createRegistry } from '../../core/prepare.js';

const ops = (await createRegistry()).list();
const files = generatedArtifacts(ops);

describe('generated docs and schemas', () => {
  it('are committed and up to date (run `npx kernelflow docs` after changing an operator)', () => {
    expect(staleArtifacts('.', files)).toEqual([]);
  });

  it('document every operator with its ports, params and an example node', () => {
    const md = files.get('docs/operators.md')!;
    for (const op of ops) expect(md).toContain(`## \`${op.id}\``);
    expect(md).toMatch(/\| `transpose_b` \| boolean \| `false` \|/);
    expect(md).toMatch(/\| `std` \| number \| `1` \| > 0 \|/);
    expect(md).toContain('{"op":"math.matmul","inputs":{"a":"<node>","b":"<node>"},"params":{"transpose_b":true}}');
  });

  it('the combined schema accepts every graph in graphs/ and rejects a bad param', () => {
    const ajv = createAjv();
    const validate = ajv.compile(JSON.parse(files.get('schemas/graph.operators.schema.json')!));
    for (const file of readdirSync('graphs').filter((f) => f.endsWith('.json'))) {
      const graph = JSON.parse(readFileSync(path.join('graphs', file), 'utf8'));
      expect(validate(graph), `${file}: ${JSON.stringify(validate.errors)}`).toBe(true);
    }
    const bad = { kernelflow: '1', nodes: { x: { op: 'data.normal', params: { shape: [2], std: -1 } } } };
    expect(validate(bad)).toBe(false);
    expect(validate.errors!.some((e) => e.instancePath === '/nodes/x/params/std')).toBe(true);
    const unknownParam = { kernelflow: '1', nodes: { m: { op: 'math.matmul', params: { transpose_c: true } } } };
    expect(validate(unknownParam)).toBe(false);
  });

  it('each operator schema is a valid JSON Schema of its params', () => {
    const ajv = createAjv();
    for (const op of ops) {
      const schema = JSON.parse(files.get(`schemas/operators/${op.id}.json`)!);
      expect(() => ajv.compile(schema), op.id).not.toThrow();
    }
  });
});
