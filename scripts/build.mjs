// Bundles the CLI and the library with esbuild. tfjs, its backends, Dawn and tsx stay external:
// they are loaded lazily (only when something runs), which keeps `validate` and `plan` fast.
import { build } from 'esbuild';

// vega is large and only `kernelflow report` needs it: keep it out of the bundle, loaded lazily.
// better-sqlite3 (the run registry) is a native addon that finds its .node file at run time.
const external = ['@tensorflow/*', 'webgpu', 'tsx', 'tsx/*', 'vega', 'vega-lite', 'better-sqlite3'];
// bullmq (and its ioredis) only run for --queue and `worker`: a dependency, loaded when needed.
external.push('bullmq', 'ioredis');
const common = { bundle: true, platform: 'node', format: 'esm', target: 'node20', external, mainFields: ['module', 'main'], sourcemap: true, logLevel: 'warning',
  // Bundled CommonJS dependencies may call require(); give the ESM bundle one.
  banner: { js: "import { createRequire as __kfCreateRequire } from 'node:module'; const require = __kfCreateRequire(import.meta.url);" } };

await Promise.all([
  build({ ...common, entryPoints: ['core/cli/bin.ts'], outfile: 'dist/cli.js' }),
  build({ ...common, entryPoints: ['core/index.ts'], outfile: 'dist/index.js' }),
  // Sweep workers load this file beside the bundle (core/sweep/run-sweep.ts looks for it).
  build({ ...common, entryPoints: ['core/sweep/sweep-worker.ts'], outfile: 'dist/sweep-worker.js' }),
  // `kernelflow worker --concurrency N` runs jobs in these threads (core/queue/thread-pool.ts looks for it).
  build({ ...common, entryPoints: ['core/queue/job-thread.ts'], outfile: 'dist/queue-thread.js' }),
]);
