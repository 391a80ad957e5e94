/**
 * Port declarations: what an operator takes and gives. A port is one of four value kinds that the
 * engine knows how to hash, cache and write: a tensor, a named record of tensors, a table of rows of
 * scalars, or a small JSON value.
 */

export type DType = 'float32' | 'int32' | 'bool';

/** A dimension: a known size, a symbolic name (equal names are equal sizes), or null (unknown). */
export type Dim = number | string | null;
export type Shape = Dim[];

interface PortCommon {
  /** One line for `kernelflow ops describe`. */
  doc?: string;
  /** The node may leave this input unconnected (inputs only). */
  optional?: boolean;
}

export interface TensorPort extends PortCommon {
  kind: 'tensor';
  /** Accepted dtype(s) for inputs; the produced dtype for outputs (float32 when absent). */
  dtype?: DType | DType[];
  /** Accepted rank(s); checked statically when the upstream rank is known. */
  rank?: number | number[];
  /** The input takes an array of references (e.g. the terms of a sum). */
  variadic?: boolean;
}
export interface TensorsPort extends PortCommon { kind: 'tensors' }
export interface TablePort extends PortCommon { kind: 'table' }
export interface JsonPort extends PortCommon {
  kind: 'json';
  /** Optional JSON Schema the value must satisfy. */
  schema?: object;
}
export type Port = TensorPort | TensorsPort | TablePort | JsonPort;
export type PortMap = Record<string, Port>;

export function tensor<const O extends Omit<TensorPort, 'kind'>>(options?: O): { kind: 'tensor' } & O {
  return { kind: 'tensor', ...(options as O) };
}
export function tensors<const O extends Omit<TensorsPort, 'kind'>>(options?: O): { kind: 'tensors' } & O {
  return { kind: 'tensors', ...(options as O) };
}
export function table<const O extends Omit<TablePort, 'kind'>>(options?: O): { kind: 'table' } & O {
  return { kind: 'table', ...(options as O) };
}
export function json<const O extends Omit<JsonPort, 'kind'>>(options?: O): { kind: 'json' } & O {
  return { kind: 'json', ...(options as O) };
}

/** The dtypes a tensor port accepts, as a list. */
export function portDTypes(port: TensorPort): DType[] {
  if (port.dtype === undefined) return ['float32', 'int32', 'bool'];
  return Array.isArray(port.dtype) ? port.dtype : [port.dtype];
}
