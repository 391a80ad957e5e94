/**
 * The operator contract: everything a built-in or plugin operator imports from kernelflow.
 * Nothing here loads tfjs.
 */
export { defineOperator, isOperator } from './define-operator.js';
export type { Operator, OperatorSpec, OperatorExample, ExampleInput, InputValues, OutputValues, InputMetas, InferredOutputs } from './define-operator.js';
export { tensor, tensors, table, json, portDTypes } from './ports.js';
export type { DType, Dim, Shape, Port, PortMap, TensorPort, TensorsPort, TablePort, JsonPort } from './ports.js';
export type { Table, JsonValue, Value, Meta, TensorMeta, TensorsMeta, TableMeta, JsonMeta } from './values.js';
export { sizeOf, formatShape, bytesPerElement } from './values.js';
export type { TF, RunContext, StaticContext, Progress, Checkpoint, CheckpointState } from './context.js';
export { ShapeError, ParamError, OperatorError } from './errors.js';
export { dimsMayMatch, mergeDim, expectDim, expectRank, broadcastShapes, normalizeAxes, reductionAxes } from './shape.js';
export { fitLine } from './least-squares.js';
export { Type } from '@sinclair/typebox';
export type { Static, TSchema } from '@sinclair/typebox';
