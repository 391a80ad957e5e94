/**
 * Plugins are code, and a queue job comes from whoever can write to Redis: a worker loads only
 * plugin files inside the folders it was started with (`--plugin-dir`), after resolving symlinks.
 */
import { realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

export class PluginRefused extends Error {
  override name = 'PluginRefused';
}

/** Throws PluginRefused naming every plugin outside `allowedDirs`. `baseDir` resolves relative specs. */
export function checkPlugins(specs: Array<{ spec: string; baseDir: string }>, allowedDirs: string[]): void {
  if (!specs.length) return;
  const allowed = allowedDirs.map((d) => real(path.resolve(d)));
  const refused: string[] = [];
  for (const { spec, baseDir } of specs) {
    const file = locate(spec, baseDir);
    const inside = file !== undefined && allowed.some((dir) => file === dir || file.startsWith(dir + path.sep));
    if (!inside) refused.push(`'${spec}'${file ? ` (${file})` : ' (not found)'}`);
  }
  if (refused.length) {
    throw new PluginRefused(`this worker refuses plugin ${refused.join(', ')}: not inside a --plugin-dir (${allowed.length ? allowed.join(', ') : 'none given'})`);
  }
}

function locate(spec: string, baseDir: string): string | undefined {
  try {
    const file = spec.startsWith('.') || path.isAbsolute(spec) ? path.resolve(baseDir, spec) : createRequire(path.join(baseDir, 'noop.js')).resolve(spec);
    return realpathSync(file);
  } catch {
    return undefined;
  }
}

function real(dir: string): string {
  try {
    return realpathSync(dir);
  } catch {
    return dir;
  }
}
