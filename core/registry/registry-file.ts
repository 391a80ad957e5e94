/**
 * Where the run registry lives: `--registry <file>`, else `$KERNELFLOW_REGISTRY`, else
 * `.kernelflow/registry.sqlite` beside the default cache folder — the same conventions as the cache.
 */
import path from 'node:path';

/** `$KERNELFLOW_REGISTRY` (relative to `cwd` when relative), else `<cwd>/.kernelflow/registry.sqlite`. */
export function defaultRegistryFile(cwd: string): string {
  const fromEnv = process.env.KERNELFLOW_REGISTRY;
  return fromEnv ? path.resolve(cwd, fromEnv) : path.join(cwd, '.kernelflow', 'registry.sqlite');
}

/** The registry file a command uses: an explicit path, none (`--no-registry` gives false), or the default. */
export function registryFileOf(option: string | boolean | undefined, cwd = process.cwd()): string | undefined {
  if (option === false) return undefined;
  return typeof option === 'string' ? path.resolve(cwd, option) : defaultRegistryFile(cwd);
}
