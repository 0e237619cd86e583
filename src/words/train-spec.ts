// The Word2Vec training spec (one TypeBox schema: validation, types, docs; every number bounded) and its progress
// events, the same plain-JSON shape as text-classifier training (read, step, log, done).
import { Value } from 'typebox/value';
import { geulError } from '../core/errors.js';
import { Type, type Static } from '../core/schema.js';

export const Word2VecSpecSchema = Type.Object({
  vectorSize: Type.Integer({ minimum: 1, maximum: 10_000, default: 100 }),
  window: Type.Integer({ minimum: 1, maximum: 1000, default: 5, description: 'maximum context distance; each position samples 1..window' }),
  sg: Type.Boolean({ default: true, description: 'skip-gram (true) or CBOW' }),
  negative: Type.Integer({ minimum: 0, maximum: 1000, default: 5 }),
  hs: Type.Boolean({ default: false }),
  sample: Type.Number({ minimum: 0, maximum: 1, default: 1e-3 }),
  minCount: Type.Integer({ minimum: 1, maximum: 2 ** 31 - 1, default: 5 }),
  maxVocab: Type.Integer({ minimum: 0, maximum: 2 ** 31 - 1, default: 0 }),
  alpha: Type.Number({ exclusiveMinimum: 0, maximum: 10, default: 0.025 }),
  minAlpha: Type.Number({ minimum: 0, maximum: 10, default: 0.0001 }),
  epochs: Type.Integer({ minimum: 1, maximum: 100_000, default: 5 }),
  seed: Type.Integer({ minimum: -(2 ** 31), maximum: 2 ** 31 - 1, default: 1 }),
  threads: Type.Optional(Type.Integer({ minimum: 1, maximum: 1024, description: 'default: all cores' })),
  kernel: Type.Enum(['auto', 'wasm', 'js'], { default: 'auto' }),
  lowercase: Type.Boolean({ default: true }),
  tokenizer: Type.String({ minLength: 1, default: 'words', description: 'words, whitespace, or a regular expression' }),
  stripGutenberg: Type.Boolean({ default: false }),
  memoryLimit: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })),
  tmpDir: Type.Optional(Type.String({ minLength: 1 })),
});
export type Word2VecSpec = Static<typeof Word2VecSpecSchema>;

/** Validates the serialisable options and fills the defaults; INVALID_INPUT names the option (`name` maps it, e.g. to a flag). */
export function parseWord2VecSpec(input: Record<string, unknown>, name: (key: string) => string = (k) => k): Word2VecSpec {
  const known = Object.fromEntries(Object.entries(input).filter(([k, v]) => k in Word2VecSpecSchema.properties && v !== undefined));
  const value = Value.Default(Word2VecSpecSchema, Value.Clone(known));
  if (Value.Check(Word2VecSpecSchema, value)) {
    const spec = value as Word2VecSpec;
    if (spec.negative === 0 && !spec.hs) throw geulError('INVALID_INPUT', { detail: `use negative sampling (${name('negative')} > 0) or hierarchical softmax (${name('hs')})` });
    return spec;
  }
  const [first] = Value.Errors(Word2VecSpecSchema, value);
  const key = first.instancePath.split('/').filter(Boolean)[0] ?? '';
  const got = (value as Record<string, unknown>)[key];
  throw geulError('INVALID_INPUT', { detail: `${name(key)} ${first.message}${got !== undefined ? `, got ${JSON.stringify(got)}` : ''}` });
}

/** Reading the corpus (bytes over all files). */
export interface Word2VecReadEvent {
  type: 'read';
  done: number;
  total: number;
}

/** Training progress: words processed over all epochs and threads (`step`) of `total`. */
export interface Word2VecStepEvent {
  type: 'step';
  step: number;
  total: number;
  progress: number;
  alpha: number;
  words_per_s: number;
}

export interface Word2VecLogEvent {
  type: 'log';
  level: 'info' | 'warning';
  message: string;
}

export interface Word2VecDoneEvent {
  type: 'done';
  reason: 'completed' | 'cancelled';
  words: number;
  seconds: number;
}

export type Word2VecEvent = Word2VecReadEvent | Word2VecStepEvent | Word2VecLogEvent | Word2VecDoneEvent;
