import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // Plugins import 'kernelflow'; in tests that is the source, not the bundle.
    alias: { kernelflow: fileURLToPath(new URL('./core/index.ts', import.meta.url)) },
  },
  test: {
    include: ['tests/**/*.test.ts'],
    // Operators scaffolded by the new-operator test run under their own config.
    exclude: ['**/node_modules/**', 'tests/.scaffold-tmp/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // tfjs keeps one global engine per process: isolate test files in forks so backends never mix.
    pool: 'forks',
  },
});
