// The masked-LM pre-training spec: one TypeBox schema (data, model, masking, optim, run, output) that validates,
// types and documents a run for the library, the CLI and a jobs API. Every number has bounds.
import { geulError } from '../../core/errors.js';
import { Type, type Static } from '../../core/schema.js';
import { validateSpec } from '../spec.js';
import { DOCUMENT_UNITS } from './mlm-corpus.js';
import { ENCODER_SIZES } from './sizes.js';

const int = (minimum: number, maximum: number, options: { default?: number; description?: string } = {}) => Type.Integer({ minimum, maximum, ...options });
const closed = { additionalProperties: false } as const;

export const PretrainDataSpec = Type.Object({
  sources: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, description: 'text files, JSONL/CSV/TSV/Parquet files or folders of them' }),
  text: Type.String({ minLength: 1, default: 'text', description: 'text column of table files' }),
  documents: Type.Enum(DOCUMENT_UNITS, { default: 'line', description: 'what one document of a plain text file is' }),
  stripGutenberg: Type.Boolean({ default: false }),
  heldOutFraction: Type.Number({ minimum: 0, exclusiveMaximum: 1, default: 0.05, description: 'share of documents held out for evaluation' }),
  maxHeldOutSequences: int(1, 1_000_000, { default: 256 }),
}, closed);

export const PretrainModelSpec = Type.Object({
  size: Type.Optional(Type.Enum(ENCODER_SIZES, { description: 'from scratch: tiny, mini (4×256), small (4×512), base (12×768)' })),
  base: Type.Optional(Type.String({ minLength: 1, description: 'continue pre-training this checkpoint folder' })),
  tokenizer: Type.Optional(Type.String({ minLength: 1, description: 'a tokenizer folder (tokenizer.json)' })),
  vocabSize: Type.Optional(int(16, 1_000_000, { description: 'train a WordPiece vocabulary of this size on the corpus' })),
  lowercase: Type.Boolean({ default: true }),
  stripAccents: Type.Boolean({ default: false }),
  minFrequency: int(1, 1_000_000_000, { default: 2 }),
  dropout: Type.Number({ minimum: 0, exclusiveMaximum: 1, default: 0.1 }),
}, closed);

export const PretrainMaskingSpec = Type.Object({
  probability: Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1, default: 0.15 }),
  wholeWord: Type.Boolean({ default: false }),
}, closed);

export const PretrainOptimSpec = Type.Object({
  lr: Type.Number({ exclusiveMinimum: 0, maximum: 3.4e38, default: 5e-4, description: 'peak learning rate (float32 range)' }),
  warmup: Type.Number({ minimum: 0, maximum: 1e9, default: 0.06, description: 'warmup: a fraction of the steps (< 1) or a step count' }),
  weightDecay: Type.Number({ minimum: 0, maximum: 1, default: 0.01 }),
  clipNorm: Type.Number({ minimum: 0, maximum: 1e6, default: 1, description: '0: no clipping' }),
}, closed);

export const PretrainRunSpec = Type.Object({
  steps: int(1, 100_000_000, { default: 1000 }),
  batchSize: int(1, 65536, { default: 32 }),
  maxLength: int(8, 8192, { default: 128, description: 'sequence length, [CLS] and [SEP] included' }),
  seed: int(0, 2 ** 31 - 1, { default: 42 }),
  evalEvery: Type.Optional(int(1, 100_000_000, { description: 'steps between held-out evaluations (default: steps / 10)' })),
  checkpointEvery: Type.Optional(int(1, 100_000_000, { description: 'steps between checkpoints (default: every evaluation)' })),
  resume: Type.Boolean({ default: false }),
  threads: Type.Optional(int(1, 1024)),
}, closed);

export const PretrainSpecSchema = Type.Object({
  data: PretrainDataSpec,
  model: PretrainModelSpec,
  masking: Type.Optional(PretrainMaskingSpec),
  optim: Type.Optional(PretrainOptimSpec),
  run: Type.Optional(PretrainRunSpec),
  output: Type.Object({ dir: Type.String({ minLength: 1 }) }, closed),
}, closed);

export type PretrainSpec = Static<typeof PretrainSpecSchema> & {
  masking: Static<typeof PretrainMaskingSpec>;
  optim: Static<typeof PretrainOptimSpec>;
  run: Static<typeof PretrainRunSpec>;
};

/** A spec as written: only the corpus, the model choice and the output folder are required. */
export interface PretrainSpecInput {
  data: Partial<PretrainSpec['data']> & Pick<PretrainSpec['data'], 'sources'>;
  model: Partial<PretrainSpec['model']>;
  masking?: Partial<PretrainSpec['masking']>;
  optim?: Partial<PretrainSpec['optim']>;
  run?: Partial<PretrainSpec['run']>;
  output: PretrainSpec['output'];
}

/**
 * Validates a spec and fills the defaults; INVALID_INPUT names the option through `name` (the CLI turns
 * "run.batchSize" into "--batch-size"). Also checks the choices that exclude each other.
 */
export function parsePretrainSpec(input: unknown, name: (path: string) => string = (p) => p): PretrainSpec {
  const spec = validateSpec<PretrainSpec>(PretrainSpecSchema, input, ['masking', 'optim', 'run'], name);
  const m = spec.model;
  if ((m.size === undefined) === (m.base === undefined)) {
    throw geulError('INVALID_INPUT', { detail: `give exactly one of ${name('model.size')} (pre-train from scratch) and ${name('model.base')} (continue a checkpoint)` });
  }
  if (m.vocabSize !== undefined && m.tokenizer !== undefined) throw geulError('INVALID_INPUT', { detail: `${name('model.vocabSize')} trains a new vocabulary; ${name('model.tokenizer')} uses an existing one: give one of them` });
  if (m.base !== undefined && m.vocabSize !== undefined) throw geulError('INVALID_INPUT', { detail: `${name('model.base')} keeps the checkpoint's vocabulary; ${name('model.vocabSize')} cannot change it` });
  if (m.size !== undefined && m.vocabSize === undefined && m.tokenizer === undefined) {
    throw geulError('INVALID_INPUT', { detail: `pre-training from scratch needs a vocabulary: ${name('model.vocabSize')} N (trained on the corpus) or ${name('model.tokenizer')} FOLDER` });
  }
  return spec;
}

/** Warmup steps: a fraction (< 1) of the run's steps, or a count. */
export function warmupSteps(spec: PretrainSpec): number {
  const w = spec.optim.warmup;
  return w < 1 ? Math.round(w * spec.run.steps) : Math.round(w);
}
