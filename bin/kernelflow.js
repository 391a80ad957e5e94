#!/usr/bin/env node
// The CLI is bundled by `npm run build` (esbuild) into dist/cli.js so that it starts fast.
import('../dist/cli.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/cli.js')) {
    process.stderr.write('kernelflow: dist/cli.js is missing — run `npm run build` first\n');
    process.exit(2);
  }
  throw err;
});
