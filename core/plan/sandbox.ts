/**
 * Path sandboxing for data a graph reads: a graph is data that people share, so it may read only
 * inside its own folder and the folders given with `--data-dir`. Absolute paths, `..` escapes and
 * symlinks that lead outside are refused with an error naming the path.
 */
import { existsSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { ParamError } from '../operator/errors.js';

export type PathResolver = (relative: string, pointer: string) => string;

export function makePathResolver(graphDir: string, dataDirs: string[] = []): PathResolver {
  const roots = [graphDir, ...dataDirs].map((d) => path.resolve(d));
  const realRoots = roots.map((r) => (existsSync(r) ? realpathSync(r) : r));
  const inside = (candidate: string, within: string[]) =>
    within.some((root) => candidate === root || candidate.startsWith(root + path.sep));

  return (relative, pointer) => {
    if (path.isAbsolute(relative)) {
      throw new ParamError(`absolute path '${relative}' is not allowed: give a path relative to the graph's folder (or pass --data-dir)`, pointer);
    }
    const full = path.resolve(roots[0], relative);
    if (!inside(full, roots)) {
      throw new ParamError(`path '${relative}' escapes the graph's folder (${roots[0]})${roots.length > 1 ? ' and the --data-dir folders' : ''}`, pointer);
    }
    // The lexical check passed; follow symlinks and check again. A missing file is the reader's error.
    if (existsSync(full) && !inside(realpathSync(full), realRoots)) {
      throw new ParamError(`path '${relative}' leads outside the allowed folders through a symlink`, pointer);
    }
    return full;
  };
}
