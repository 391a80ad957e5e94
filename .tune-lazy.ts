// scratch tuning script (not committed)
import { runGraph } from './core/index.js';
const [file, setsJson, seedsArg] = [process.argv[2], process.argv[3], process.argv[4] ?? '7'];
const sets = JSON.parse(setsJson);
for (const seed of seedsArg.split(',').map(Number)) {
  const t0 = Date.now();
  const r = await runGraph(file, { backend: 'wasm', cache: false, sets, seed }).result;
  const get = (n: string) => Array.from((r.stored[n] as any)?.tensor?.data ?? []).map((v: any) => Math.round(v * 1000) / 1000);
  const claims = r.manifest.claims.map((c: any) => `${c.node}:${c.pass}`).join(' ');
  console.log(`seed ${seed} ${r.status} ${((Date.now() - t0) / 1000).toFixed(1)}s tr=${get('t_train')} te=${get('t_test')} delay=${get('delays')} ${claims}`);
  if (r.status !== 'ok') console.log(JSON.stringify(Object.entries(r.manifest.nodes).filter(([k,v]:any)=>v.status!=="ok").map(([k,v]:any)=>[k,v.error ?? v])).slice(0,1500));
  if (process.env.SHOW) for (const a of ['a0','a1','a2']) { const m = (r.stored['metrics_'+a] as any); console.log(a, JSON.stringify(m?.table?.rows?.filter((_: any, i: number) => i % 5 === 0).map((x: any) => [x.step, +x.loss.toFixed(3), +x.val_loss.toFixed(3)]))); }
  r.dispose();
}
