/**
 * Run-time values and their static descriptions (metas). Metas are what shape inference sees;
 * values are what `run` sees. Both are plain data, so this file never loads tfjs.
 */
import type { Tensor } from '@tensorflow/tfjs-core';
import type { DType, Shape } from './ports.js';

/** Rows of named scalars, e.g. metrics per training step. */
export interface Table {
  columns: string[];
  rows: Array<Record<string, number | string | null>>;
}

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export type Value =
  | { kind: 'tensor'; tensor: Tensor }
  | { kind: 'tensors'; tensors: Record<string, Tensor> }
  | { kind: 'table'; table: Table }
  | { kind: 'json'; json: JsonValue };

/** What is known of a tensor before it is computed. `shape` undefined means the rank is unknown. */
export interface TensorMeta { kind: 'tensor'; dtype: DType; shape?: Shape }
export interface TensorsMeta { kind: 'tensors'; entries?: Record<string, TensorMeta> }
export interface TableMeta { kind: 'table'; columns?: string[] }
/** `value` is present when it is known statically (e.g. a cached upstream result). */
export interface JsonMeta { kind: 'json'; value?: JsonValue }
export type Meta = TensorMeta | TensorsMeta | TableMeta | JsonMeta;

/** Number of elements of a fully known shape, or undefined. */
export function sizeOf(shape: Shape | undefined): number | undefined {
  if (!shape) return undefined;
  let n = 1;
  for (const d of shape) {
    if (typeof d !== 'number') return undefined;
    n *= d;
  }
  return n;
}

export function bytesPerElement(dtype: DType): number {
  return dtype === 'bool' ? 1 : 4;
}

export function formatShape(shape: Shape | undefined): string {
  if (!shape) return '[?]';
  return `[${shape.map((d) => (d === null ? '?' : String(d))).join(',')}]`;
}
