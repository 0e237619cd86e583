// The text-classification run spec: one TypeBox schema in sections (data, model, optim, run, output) that validates,
// types and documents a run for the library, the CLI and a jobs API. Every number has bounds.
import { Value } from 'typebox/value';
import { geulError } from '../core/errors.js';
import { Type, type Static, type TSchema } from '../core/schema.js';
import { DATA_FORMATS } from './data/formats.js';

export const TEXT_MODELS = ['bow', 'mlp', 'rnn', 'gru', 'bigru', 'lstm', 'bilstm', 'transformer'] as const;
export const POOLINGS = ['last', 'mean', 'max'] as const;
export const OPTIMIZERS = ['sgd', 'adam', 'adamw'] as const;
export const SCHEDULES = ['constant', 'linear', 'cosine'] as const;
export type TextModelName = (typeof TEXT_MODELS)[number];

const oneOf = <T extends string[]>(values: readonly [...T], options: { default?: T[number]; description?: string } = {}) => Type.Enum(values, options);
const int = (minimum: number, maximum: number, options: { default?: number; description?: string } = {}) => Type.Integer({ minimum, maximum, ...options });
const closed = { additionalProperties: false } as const;

export const TrainDataSpec = Type.Object({
  source: Type.String({ minLength: 1, description: 'training data: a file, an aclImdb-style folder or hf://datasets/owner/name' }),
  valid: Type.Optional(Type.String({ minLength: 1, description: 'validation data (default: a stratified validFraction of source)' })),
  text: Type.String({ minLength: 1, default: 'text' }),
  label: Type.String({ minLength: 1, default: 'label' }),
  labels: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 2, description: 'class names in order' })),
  format: Type.Optional(oneOf(DATA_FORMATS)),
  encoding: Type.Optional(Type.String({ minLength: 1 })),
  emptyText: oneOf(['skip', 'error'] as const, { default: 'skip' }),
  split: Type.String({ minLength: 1, default: 'train' }),
  validSplit: Type.String({ minLength: 1, default: 'validation' }),
  validFraction: Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1, default: 0.2 }),
  maxLength: int(1, 1_000_000, { default: 256, description: 'tokens kept per text' }),
  vocabSize: int(2, 10_000_000, { default: 30000 }),
  minCount: int(1, 1_000_000_000, { default: 1 }),
  tokenizer: Type.Optional(Type.String({ minLength: 1 })),
  lowercase: Type.Boolean({ default: true }),
  memoryBudget: Type.Optional(int(0, Number.MAX_SAFE_INTEGER, { description: 'characters of text kept in memory between passes' })),
}, closed);

export const TrainModelSpec = Type.Object({
  name: oneOf(TEXT_MODELS),
  dim: Type.Optional(int(1, 65536)),
  hidden: Type.Optional(int(1, 65536)),
  layers: Type.Optional(int(1, 64)),
  buckets: Type.Optional(int(0, 1 << 26)),
  dropout: Type.Optional(Type.Number({ minimum: 0, exclusiveMaximum: 1 })),
  pooling: Type.Optional(oneOf(POOLINGS)),
}, closed);

export const TrainOptimSpec = Type.Object({
  name: oneOf(OPTIMIZERS, { default: 'adam' }),
  lr: Type.Optional(Type.Number({ minimum: 0, maximum: 3.4e38, description: 'default per model (float32 range)' })),
  momentum: Type.Optional(Type.Number({ minimum: 0, exclusiveMaximum: 1 })),
  weightDecay: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  clipNorm: Type.Optional(Type.Number({ minimum: 0, maximum: 1e6, description: 'default per model; 0: no clipping' })),
  schedule: Type.Optional(oneOf(SCHEDULES)),
  warmup: Type.Optional(int(0, 1e9)),
}, closed);

export const TrainRunSpec = Type.Object({
  epochs: int(1, 100_000, { default: 5 }),
  batchSize: int(1, 1 << 20, { default: 32 }),
  seed: int(0, 2 ** 31 - 1, { default: 42 }),
  patience: Type.Optional(int(0, 100_000)),
  resume: Type.Boolean({ default: false }),
  threads: Type.Optional(int(1, 1024)),
}, closed);

export const TrainOutputSpec = Type.Object({
  dir: Type.String({ minLength: 1, description: 'run folder: model, checkpoint, metrics.json, report.html' }),
}, closed);

export const TrainSpecSchema = Type.Object({
  data: TrainDataSpec,
  model: TrainModelSpec,
  optim: Type.Optional(TrainOptimSpec),
  run: Type.Optional(TrainRunSpec),
  output: TrainOutputSpec,
}, closed);

/** A validated spec: every section present, defaults applied. */
export type TrainSpec = Static<typeof TrainSpecSchema> & { optim: Static<typeof TrainOptimSpec>; run: Static<typeof TrainRunSpec> };
/** A spec as written: only the data source, the model name and the output folder are required. */
export interface TrainSpecInput {
  data: Partial<TrainSpec['data']> & Pick<TrainSpec['data'], 'source'>;
  model: Partial<TrainSpec['model']> & Pick<TrainSpec['model'], 'name'>;
  optim?: Partial<TrainSpec['optim']>;
  run?: Partial<TrainSpec['run']>;
  output: TrainSpec['output'];
}

/** The schema node at a JSON-pointer path (for error messages). */
function schemaAt(schema: TSchema, path: string[]): TSchema | undefined {
  let node: TSchema | undefined = schema;
  for (const key of path) node = (node as { properties?: Record<string, TSchema> } | undefined)?.properties?.[key];
  return node;
}

/**
 * Validates a run spec against `schema` (its optional `sections` start empty so their defaults apply) and fills the
 * defaults; INVALID_INPUT names the option: `name(path)` turns a spec path ("run.batchSize") into the caller's word
 * for it (the CLI passes "--batch-size"), default the path itself. Shared by the train, finetune and pretrain specs.
 */
export function validateSpec<T>(schema: TSchema, input: unknown, sections: readonly string[], name: (path: string) => string = (p) => p): T {
  const withSections = { ...(input as Record<string, unknown>) };
  for (const key of sections) withSections[key] ??= {};
  const value = Value.Default(schema, Value.Clone(withSections));
  if (Value.Check(schema, value)) return value as T;
  const errors = [...Value.Errors(schema, value)];
  const dotted = (pointer: string) => pointer.split('/').filter(Boolean).join('.');
  const unknown = errors.find((e) => (e.params as { additionalProperties?: string[] }).additionalProperties?.length);
  if (unknown) {
    const [key] = (unknown.params as { additionalProperties: string[] }).additionalProperties;
    throw geulError('INVALID_INPUT', { detail: `unknown option ${name(dotted(`${unknown.instancePath}/${key}`))}` });
  }
  // The deepest error names the option best ("run.batchSize", not "run").
  const first = errors.sort((a, b) => b.instancePath.length - a.instancePath.length)[0];
  const pointer = first?.instancePath ?? '';
  const path = dotted(pointer);
  const got = path ? path.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], value) : undefined;
  // "must be one of …" for enums, else TypeBox's message.
  const node = schemaAt(schema, pointer.split('/').filter(Boolean)) as { enum?: unknown[] } | undefined;
  const message = node?.enum ? `must be one of ${node.enum.map(String).join(', ')}` : first?.message ?? 'does not match the schema';
  throw geulError('INVALID_INPUT', { detail: `${name(path || 'spec')} ${message}${got !== undefined && typeof got !== 'object' ? `, got ${JSON.stringify(got)}` : ''}` });
}

/** Validates a text-classification run spec and fills the defaults (see validateSpec). */
export function parseTrainSpec(input: unknown, name: (path: string) => string = (p) => p): TrainSpec {
  return validateSpec<TrainSpec>(TrainSpecSchema, input, ['optim', 'run'], name);
}
