// The fine-tuning run spec (geul finetune): one TypeBox schema in sections (data, model, optim, run, output) that
// validates, types and documents a run for the library, the CLI and a jobs API. Every number has bounds.
import { Type, type Static } from '../../core/schema.js';
import { DATA_FORMATS } from '../data/formats.js';
import { validateSpec } from '../spec.js';

const int = (minimum: number, maximum: number, options: { default?: number; description?: string } = {}) => Type.Integer({ minimum, maximum, ...options });
const closed = { additionalProperties: false } as const;

export const FinetuneDataSpec = Type.Object({
  source: Type.String({ minLength: 1, description: 'training data: a file, an aclImdb-style folder or hf://datasets/owner/name' }),
  valid: Type.Optional(Type.String({ minLength: 1, description: 'validation data (default: a stratified validFraction of source)' })),
  text: Type.String({ minLength: 1, default: 'text' }),
  label: Type.String({ minLength: 1, default: 'label' }),
  labels: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 2, description: 'class names in order' })),
  format: Type.Optional(Type.Enum(DATA_FORMATS)),
  encoding: Type.Optional(Type.String({ minLength: 1 })),
  emptyText: Type.Enum(['skip', 'error'] as const, { default: 'skip' }),
  split: Type.String({ minLength: 1, default: 'train' }),
  validSplit: Type.String({ minLength: 1, default: 'validation' }),
  validFraction: Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1, default: 0.2 }),
  maxLength: Type.Optional(int(2, 1_000_000, { description: 'tokens kept per text, special tokens included (default: the model\'s limit, at most 512)' })),
  groupByLength: Type.Boolean({ default: false, description: 'batch texts of similar length together (less padding)' }),
}, closed);

export const FinetuneModelSpec = Type.Object({
  base: Type.String({ minLength: 1, description: 'the pretrained checkpoint: a folder with config.json, weights and tokenizer.json' }),
  freezeEmbeddings: Type.Boolean({ default: false }),
  freezeLayers: int(0, 1000, { default: 0, description: 'freeze the lowest N transformer layers' }),
}, closed);

export const FinetuneOptimSpec = Type.Object({
  lr: Type.Number({ exclusiveMinimum: 0, maximum: 3.4e38, default: 2e-5 }),
  warmup: Type.Number({ minimum: 0, maximum: 1e9, default: 0.1, description: 'below 1: a fraction of the optimizer steps; from 1: a number of steps' }),
  weightDecay: Type.Number({ minimum: 0, maximum: 1, default: 0.01, description: 'AdamW decay; biases and LayerNorm weights are exempt' }),
  clipNorm: Type.Number({ minimum: 0, maximum: 1e6, default: 1, description: 'global gradient norm clip (0: none)' }),
  beta1: Type.Number({ minimum: 0, exclusiveMaximum: 1, default: 0.9 }),
  beta2: Type.Number({ minimum: 0, exclusiveMaximum: 1, default: 0.999 }),
  eps: Type.Number({ exclusiveMinimum: 0, maximum: 1, default: 1e-8 }),
}, closed);

export const FinetuneRunSpec = Type.Object({
  epochs: int(1, 100_000, { default: 3 }),
  batchSize: int(1, 1 << 20, { default: 16, description: 'rows per micro-batch' }),
  gradAccum: int(1, 4096, { default: 1, description: 'micro-batches per optimizer step' }),
  evalEvery: Type.Optional(int(1, 1e9, { description: 'evaluate every N optimizer steps (default: every epoch)' })),
  patience: Type.Optional(int(0, 100_000, { description: 'stop after this many evaluations without a better accuracy' })),
  seed: int(0, 2 ** 31 - 1, { default: 42 }),
  resume: Type.Boolean({ default: false }),
  threads: Type.Optional(int(1, 1024)),
}, closed);

export const FinetuneSpecSchema = Type.Object({
  data: FinetuneDataSpec,
  model: FinetuneModelSpec,
  optim: Type.Optional(FinetuneOptimSpec),
  run: Type.Optional(FinetuneRunSpec),
  output: Type.Object({ dir: Type.String({ minLength: 1, description: 'run folder: a Hugging Face model plus checkpoint, metrics.json, report.html' }) }, closed),
}, closed);

export type FinetuneSpec = Static<typeof FinetuneSpecSchema> & { optim: Static<typeof FinetuneOptimSpec>; run: Static<typeof FinetuneRunSpec> };
/** A spec as written: only the data source, the base checkpoint and the output folder are required. */
export interface FinetuneSpecInput {
  data: Partial<FinetuneSpec['data']> & Pick<FinetuneSpec['data'], 'source'>;
  model: Partial<FinetuneSpec['model']> & Pick<FinetuneSpec['model'], 'base'>;
  optim?: Partial<FinetuneSpec['optim']>;
  run?: Partial<FinetuneSpec['run']>;
  output: FinetuneSpec['output'];
}

/** Validates a spec and fills the defaults; INVALID_INPUT names the option through `name` (the CLI: "--batch-size"). */
export function parseFinetuneSpec(input: unknown, name: (path: string) => string = (p) => p): FinetuneSpec {
  return validateSpec<FinetuneSpec>(FinetuneSpecSchema, input, ['optim', 'run'], name);
}

/** Warmup in optimizer steps: a fraction of `totalSteps` below 1, else a step count. */
export function warmupSteps(warmup: number, totalSteps: number): number {
  return warmup < 1 ? Math.ceil(warmup * totalSteps) : Math.round(warmup);
}
