/**
 * Plugin loading: a plugin is a JS/TS module whose exports include operators (made by
 * defineOperator, or arrays of them). Paths are relative to the graph file; anything else is a
 * package name resolved from the graph's folder. TypeScript plugins load through tsx.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { isOperator, type Operator } from './define-operator.js';
import { OperatorRegistry } from './registry.js';

export class PluginError extends Error {
  override name = 'PluginError';
}

export interface LoadedPlugin {
  spec: string;
  /** Absolute path of the module file. */
  file: string;
  operators: string[];
}

/** Loads one plugin module and registers its operators. Throws PluginError or OperatorDefinitionError. */
export async function loadPlugin(spec: string, baseDir: string, registry: OperatorRegistry): Promise<LoadedPlugin> {
  const file = resolvePlugin(spec, baseDir);
  let mod: Record<string, unknown>;
  try {
    mod = /\.(c|m)?ts$/.test(file)
      ? ((await (await import('tsx/esm/api')).tsImport(pathToFileURL(file).href, import.meta.url)) as Record<string, unknown>)
      : ((await import(pathToFileURL(file).href)) as Record<string, unknown>);
  } catch (err) {
    throw new PluginError(`plugin '${spec}' (${file}) failed to load: ${(err as Error).message}`);
  }
  const operators = collectOperators(mod);
  if (operators.length === 0) {
    throw new PluginError(`plugin '${spec}' (${file}) exports no operator (export values made with defineOperator)`);
  }
  for (const op of operators) registry.register(op, `plugin ${spec}`);
  return { spec, file, operators: operators.map((op) => op.id) };
}

/**
 * Every operator a module exports: named exports, the default export, arrays of them, and
 * re-exported module namespaces (`export * as family from './family/index.js'`).
 */
export function collectOperators(mod: Record<string, unknown>): Operator[] {
  const found = new Set<Operator>();
  const visit = (v: unknown): void => {
    if (isOperator(v)) found.add(v);
    else if (Array.isArray(v)) v.forEach(visit);
    else if (isModuleNamespace(v)) Object.values(v).forEach(visit);
  };
  Object.values(mod).forEach(visit);
  return [...found];
}

function isModuleNamespace(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && (v as { [Symbol.toStringTag]?: string })[Symbol.toStringTag] === 'Module';
}

function resolvePlugin(spec: string, baseDir: string): string {
  if (spec.startsWith('.') || path.isAbsolute(spec)) {
    const file = path.resolve(baseDir, spec);
    if (!existsSync(file)) throw new PluginError(`plugin file not found: ${file}`);
    return file;
  }
  try {
    return createRequire(path.join(baseDir, 'noop.js')).resolve(spec);
  } catch {
    throw new PluginError(`plugin package '${spec}' is not installed (looked from ${baseDir})`);
  }
}
