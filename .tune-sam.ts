import { runGraph } from './core/index.js';
const [file, setsJson, seedsArg] = [process.argv[2], process.argv[3], process.argv[4] ?? '5'];
for (const seed of seedsArg.split(',').map(Number)) {
  const t0 = Date.now();
  const r = await runGraph(file, { backend: 'wasm', cache: false, sets: JSON.parse(setsJson), seed }).result;
  const g = (n: string) => ((r.stored[n] as any)?.tensor?.data?.[0] ?? NaN).toFixed(4);
  console.log(`seed ${seed} ${r.status} ${((Date.now() - t0) / 1000).toFixed(1)}s sharp sgd=${g('sharpness_sgd')} sam=${g('sharpness_sam')} acc sgd=${g('accuracy_sgd')} sam=${g('accuracy_sam')} ${r.manifest.claims.map((c: any) => `${c.node}:${c.pass}`).join(' ')}`);
  if (r.status !== 'ok') console.log(JSON.stringify(Object.entries(r.manifest.nodes).filter(([, v]: any) => v.status !== 'ok').map(([k, v]: any) => [k, v.error])).slice(0, 800));
  if (process.env.SHOW) for (const k of ['sgd', 'sam']) console.log(k, JSON.stringify((r.stored['metrics_' + k] as any)?.table?.rows));
  r.dispose();
}
