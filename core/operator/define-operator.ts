/**
 * `defineOperator`: an operator is data, declared once — id, version, params schema (TypeBox, so
 * the params type is derived from the schema), typed ports, static shape inference, and `run`.
 */
import type { Static, TSchema } from '@sinclair/typebox';
import type { Tensor } from '@tensorflow/tfjs-core';
import type { RunContext, StaticContext } from './context.js';
import type { Port, PortMap, Shape } from './ports.js';
import type { JsonMeta, JsonValue, Meta, Table, TableMeta, TensorMeta, TensorsMeta } from './values.js';

type ValueOf<P extends Port> = P extends { kind: 'tensor'; variadic: true }
  ? Tensor[]
  : P extends { kind: 'tensor' }
    ? Tensor
    : P extends { kind: 'tensors' }
      ? Record<string, Tensor>
      : P extends { kind: 'table' }
        ? Table
        : JsonValue;

type MetaOf<P extends Port> = P extends { kind: 'tensor'; variadic: true }
  ? TensorMeta[]
  : P extends { kind: 'tensor' }
    ? TensorMeta
    : P extends { kind: 'tensors' }
      ? TensorsMeta
      : P extends { kind: 'table' }
        ? TableMeta
        : JsonMeta;

/** What shape inference returns for an output: a tensor's shape (dtype from the port), or a meta. */
type InferredOf<P extends Port> = P extends { kind: 'tensor' } ? Shape | TensorMeta : MetaOf<P>;

type OptionalKeys<M extends PortMap> = { [K in keyof M]: M[K] extends { optional: true } ? K : never }[keyof M];
type RequiredKeys<M extends PortMap> = Exclude<keyof M, OptionalKeys<M>>;
/** A record over ports whose optional ports may be absent (or undefined). */
type PortRecord<M extends PortMap, V extends Record<keyof M, unknown>> = { [K in RequiredKeys<M>]: V[K] } & { [K in OptionalKeys<M>]?: V[K] | undefined };

export type InputValues<I extends PortMap> = PortRecord<I, { [K in keyof I]: ValueOf<I[K]> }>;
export type OutputValues<O extends PortMap> = PortRecord<O, { [K in keyof O]: ValueOf<O[K]> }>;
export type InputMetas<I extends PortMap> = PortRecord<I, { [K in keyof I]: MetaOf<I[K]> }>;
export type InferredOutputs<O extends PortMap> = { [K in keyof O]?: InferredOf<O[K]> };

/**
 * A small valid use of an operator: params, and for each input how to make a random value —
 * `{shape}` (normal entries), `{shape, fill: 'uniform' | 'positive' | 'spd' | 'int'}`,
 * `{json: value}`, or `{from: {op, port, …}}` (another node's output); a variadic port takes an
 * array of those.
 */
export interface OperatorExample {
  description?: string;
  params?: Record<string, unknown>;
  inputs: Record<string, ExampleInput | ExampleInput[]>;
}

export type ExampleInput =
  | { shape: number[]; fill?: 'normal' | 'uniform' | 'positive' | 'spd' | 'int' }
  | { json: unknown }
  /**
   * The output `port` of another operator's node, for inputs no literal can make (a network's
   * parameters, a metrics table). Specs with the same `key` share one node.
   */
  | { from: { op: string; port: string; params?: Record<string, unknown>; inputs?: Record<string, ExampleInput | ExampleInput[]>; key?: string } };

export interface OperatorSpec<P extends TSchema, I extends PortMap, O extends PortMap> {
  /** `family.name`, lower case: `math.matmul`. */
  id: string;
  /** Bump when results change: it is part of every cache key. */
  version: number;
  /** One line: what it computes (the formula where there is one). */
  summary: string;
  /** Longer docs: reference, conventions, tolerances. */
  description?: string;
  params: P;
  inputs: I;
  outputs: O;
  /** Draws random numbers from `ctx.seed`: the seed enters the cache key. */
  stochastic?: boolean;
  /** Small valid uses, for the docs' example nodes and the conformance kit (see OperatorExample). */
  examples?: OperatorExample[];
  /**
   * Backends this operator must not run on, with the reason (e.g. a known kernel bug there); on
   * those the engine runs its nodes on cpu and records that in the manifest.
   */
  unsupportedBackends?: Record<string, string>;
  /**
   * Outputs that measure the machine rather than compute a function of the inputs (wall-clock
   * time), with what they measure: the conformance kit does not compare them across backends.
   */
  measured?: Record<string, string>;
  /**
   * Static shape/dtype inference from input metas and params. Throw ShapeError on a mismatch.
   * Called only when every connected tensor input has a known rank. Omitted outputs stay unknown.
   */
  shape?: (inputs: InputMetas<I>, params: Static<P>, ctx: StaticContext) => InferredOutputs<O>;
  /**
   * Extra cache-key material that params alone do not capture, such as the bytes of a file the
   * operator reads. Called before every run; keep it cheap relative to `run`.
   */
  fingerprint?: (params: Static<P>, ctx: StaticContext) => string;
  run: (
    inputs: InputValues<I>,
    params: Static<P>,
    ctx: RunContext,
  ) => OutputValues<O> | Promise<OutputValues<O>>;
}

/** An operator as the engine holds it, its generic types erased. */
export interface Operator {
  readonly id: string;
  readonly version: number;
  readonly summary: string;
  readonly description?: string;
  readonly params: TSchema;
  readonly inputs: PortMap;
  readonly outputs: PortMap;
  readonly stochastic: boolean;
  readonly examples?: OperatorExample[];
  readonly unsupportedBackends?: Record<string, string>;
  readonly measured?: Record<string, string>;
  readonly shape?: (inputs: Record<string, Meta | Meta[] | undefined>, params: any, ctx: StaticContext) => Record<string, Shape | Meta | undefined>;
  readonly fingerprint?: (params: any, ctx: StaticContext) => string;
  readonly run: (inputs: Record<string, unknown>, params: any, ctx: RunContext) => unknown;
  /** Marks objects made by defineOperator, so plugin loading can find them among a module's exports. */
  readonly __kernelflowOperator: true;
}

export function defineOperator<P extends TSchema, const I extends PortMap, const O extends PortMap>(
  spec: OperatorSpec<P, I, O>,
): Operator {
  return Object.freeze({
    ...spec,
    stochastic: spec.stochastic ?? false,
    __kernelflowOperator: true as const,
  }) as unknown as Operator;
}

export function isOperator(value: unknown): value is Operator {
  return typeof value === 'object' && value !== null && (value as Operator).__kernelflowOperator === true;
}
