/**
 * The operator registry: a map from id to definition. Registering checks the definition (id
 * format, version, a params schema that compiles, well-formed ports) and refuses an id that is
 * already taken, naming both origins. Built-in operators are registered exactly like plugins.
 */
import { distance } from 'fastest-levenshtein';
import { createAjv, type ValidateFunction } from '../document/ajv.js';
import type { Operator } from './define-operator.js';
import type { Port } from './ports.js';

export const OPERATOR_ID = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;
const PORT_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const KINDS = new Set(['tensor', 'tensors', 'table', 'json']);

/** A definition that cannot be registered; `origin` names the module it came from. */
export class OperatorDefinitionError extends Error {
  override name = 'OperatorDefinitionError';
  constructor(message: string, readonly origin: string) {
    super(message);
  }
}

export class OperatorRegistry {
  private readonly operators = new Map<string, { op: Operator; origin: string }>();
  private readonly validators = new WeakMap<Operator, ValidateFunction>();
  private readonly ajv = createAjv();

  /** Adds an operator; throws OperatorDefinitionError when it is malformed or its id is taken. */
  register(op: Operator, origin: string): void {
    const problems = checkDefinition(op);
    const label = typeof op?.id === 'string' ? `operator '${op.id}'` : 'operator';
    if (problems.length) throw new OperatorDefinitionError(`${label} from ${origin} is invalid: ${problems.join('; ')}`, origin);
    const taken = this.operators.get(op.id);
    if (taken) {
      if (taken.op === op) return; // the same module listed twice
      throw new OperatorDefinitionError(`operator id '${op.id}' from ${origin} collides with the one from ${taken.origin}`, origin);
    }
    try {
      this.validators.set(op, this.ajv.compile(op.params));
    } catch (err) {
      throw new OperatorDefinitionError(`${label} from ${origin} has an invalid params schema: ${(err as Error).message}`, origin);
    }
    this.operators.set(op.id, { op, origin });
  }

  get(id: string): Operator | undefined {
    return this.operators.get(id)?.op;
  }

  origin(id: string): string | undefined {
    return this.operators.get(id)?.origin;
  }

  list(): Operator[] {
    return [...this.operators.values()].map((e) => e.op).sort((a, b) => a.id.localeCompare(b.id));
  }

  /** Compiled params validator (applies defaults in place). */
  paramsValidator(op: Operator): ValidateFunction {
    return this.validators.get(op)!;
  }

  /** Up to three registered ids close to `id`, for "did you mean …". */
  suggest(id: string): string[] {
    return [...this.operators.keys()]
      .map((known) => ({ known, d: distance(id, known) }))
      .filter(({ known, d }) => d <= Math.max(2, Math.floor(known.length / 3)))
      .sort((a, b) => a.d - b.d)
      .slice(0, 3)
      .map(({ known }) => known);
  }
}

function checkDefinition(op: Operator): string[] {
  const problems: string[] = [];
  if (typeof op !== 'object' || op === null) return ['not an object'];
  if (typeof op.id !== 'string' || !OPERATOR_ID.test(op.id)) {
    problems.push(`id ${JSON.stringify(op.id)} must look like family.name (lower case, e.g. math.matmul)`);
  }
  if (!Number.isInteger(op.version) || op.version < 1) problems.push('version must be a positive integer');
  if (typeof op.summary !== 'string' || op.summary.trim() === '') problems.push('summary is required');
  if (typeof op.params !== 'object' || op.params === null || (op.params as { type?: unknown }).type !== 'object') {
    problems.push('params must be a JSON Schema of type object');
  }
  if (typeof op.run !== 'function') problems.push('run must be a function');
  if (op.shape !== undefined && typeof op.shape !== 'function') problems.push('shape must be a function');
  for (const [side, ports] of [['inputs', op.inputs], ['outputs', op.outputs]] as const) {
    if (typeof ports !== 'object' || ports === null) {
      problems.push(`${side} must be an object of ports`);
      continue;
    }
    for (const [name, port] of Object.entries(ports as Record<string, Port>)) {
      if (!PORT_NAME.test(name)) problems.push(`${side} port name '${name}' is invalid`);
      if (!KINDS.has((port as Port)?.kind)) problems.push(`${side}.${name}: kind must be tensor, tensors, table or json`);
    }
  }
  if (op.outputs && Object.keys(op.outputs).length === 0) problems.push('an operator needs at least one output');
  return problems;
}
