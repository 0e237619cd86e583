// geul's library API: `createGeul()` gives one function per task, sharing one config and model cache.
import { loadConfig, type ConfigOverrides, type GeulConfig } from './core/config.js';
import { ModelStore, type ModelStoreOptions } from './runtime/models.js';
import { runTask } from './tasks/run.js';
import { streamGenerate, type GenerateRequestOptions, type GenerateResult } from './tasks/generate.js';
import { modelLanguages, type Language } from './tasks/translate.js';
import { similarityMatrix } from './tasks/embeddings.js';
import { parseWith } from './core/schema.js';
import { generateTask } from './tasks/generate.js';

export { GeulError, isGeulError, ERROR_CATALOG, type ErrorCode } from './core/errors.js';
export { loadConfig, type GeulConfig } from './core/config.js';
export { TASKS, getTask, type TaskId } from './tasks/registry.js';
export type { GenerateResult, Language };
// Word vectors (gensim's semantics): files, queries (mostSimilar, similarity, analogy, doesntMatch, nearest), training, evaluation.
export { WordVectors, type Scored, type SimilarOptions, type AnalogyMethod } from './words/vectors.js';
export { readVectors, writeVectors, type ReadOptions, type WriteOptions } from './words/formats.js';
export { trainWord2Vec, type Word2VecOptions } from './words/train.js';
export { evaluateAnalogies, evaluateSimilarity, type AnalogyReport, type SimilarityReport } from './words/evaluate.js';

type Inputs<T> = T | T[];
type Result<I, R> = I extends unknown[] ? R[] : R;
type Options<T> = Partial<T> & { model?: string; signal?: AbortSignal };

export interface Label { label: string; score: number }
export interface MaskCandidate { token: string; token_id: number; score: number; sequence: string }
export interface SearchHit { index: number; score: number; text: string }

/**
 * The library entry point. Example:
 * ```ts
 * const geul = createGeul({ offline: true });
 * await geul.classify('a great film', { model: './models/tiny-bert-sentiment' }); // [{ label: 'POSITIVE', score: 0.51 }, …]
 * ```
 */
export function createGeul(overrides: ConfigOverrides = {}, options: ModelStoreOptions = {}) {
  const config: GeulConfig = loadConfig(overrides);
  const models = new ModelStore(config, options);
  const call = <R>(task: string, inputs: unknown, opts: Options<Record<string, unknown>> = {}): Promise<R> => {
    const { signal, ...rest } = opts;
    return runTask(task, { ...rest, inputs }, { models, signal }) as Promise<R>;
  };
  return {
    config,
    models,
    generate: <I extends Inputs<string>>(inputs: I, opts?: Options<GenerateRequestOptions>) => call<Result<I, GenerateResult>>('generate', inputs, opts),
    /** Streams generated text pieces for one prompt; the iterator's return value is the full result. */
    async *streamGenerate(prompt: string, opts: Options<GenerateRequestOptions> = {}): AsyncGenerator<string, GenerateResult> {
      const { signal, model, ...rest } = opts;
      const parsed = parseWith(generateTask.request, { ...rest, model, inputs: prompt }) as GenerateRequestOptions & { model?: string };
      const loaded = await models.load(model ?? generateTask.defaultModel, generateTask.kind, generateTask.id);
      return yield* streamGenerate(loaded, prompt, parsed, signal);
    },
    classify: <I extends Inputs<string>>(inputs: I, opts?: Options<{ top_k: number; long_text: 'truncate' | 'chunk' }>) => call<Result<I, Label[]>>('classify', inputs, opts),
    embed: <I extends Inputs<string>>(inputs: I, opts?: Options<{ pooling: 'mean' | 'cls'; normalize: boolean }>) => call<Result<I, number[]>>('embeddings', inputs, opts),
    similarity: (a: string, b: string, opts?: Options<{ pooling: 'mean' | 'cls' }>) => call<{ score: number }>('similarity', [a, b], opts),
    async similarityMatrix(texts: string[], opts: { model?: string; pooling?: 'mean' | 'cls' } = {}): Promise<number[][]> {
      const loaded = await models.load(opts.model ?? 'Xenova/all-MiniLM-L6-v2', 'feature-extraction', 'similarity');
      return similarityMatrix(loaded, texts, opts.pooling);
    },
    search: <I extends Inputs<string>>(query: I, documents: string[], opts?: Options<{ top_k: number; pooling: 'mean' | 'cls' }>) =>
      call<Result<I, SearchHit[]>>('search', query, { ...opts, documents }),
    translate: <I extends Inputs<string>>(inputs: I, opts: Options<{ from: string; to: string; max_new_tokens: number }>) => call<Result<I, { text: string }>>('translate', inputs, opts),
    async languages(model?: string): Promise<Language[]> {
      return modelLanguages(await models.load(model ?? 'Xenova/m2m100_418M', 'seq2seq-lm', 'translate'));
    },
    fillMask: <I extends Inputs<string>>(inputs: I, opts?: Options<{ top_k: number }>) => call<Result<I, MaskCandidate[]>>('fill-mask', inputs, opts),
    /** Runs any registry task with a raw request (what the HTTP API does). */
    run: (task: string, request: unknown, signal?: AbortSignal) => runTask(task, request, { models, signal }),
    dispose: () => models.dispose(),
  };
}

export type Geul = ReturnType<typeof createGeul>;
