// geul's library API: `createGeul()` gives one function per task, sharing one config and model cache. Option and
// result types are derived from the registry's schemas, so they cannot drift from what the tasks validate.
import type { Static } from './core/schema.js';
import { loadConfig, type ConfigOverrides, type GeulConfig } from './core/config.js';
import { ModelStore, type ModelStoreOptions } from './runtime/models.js';
import { runMode, runTask, streamTask } from './tasks/run.js';
import { prepareOptions, prepareRequest } from './tasks/request.js';
import { TASKS, type TaskId, type TaskTable } from './tasks/registry.js';
import type { Language } from './tasks/translate.js';

export { GeulError, isGeulError, ERROR_CATALOG, type ErrorCode } from './core/errors.js';
export { loadConfig, type GeulConfig } from './core/config.js';
export { TASKS, TASK_LIST, getTask, type TaskId } from './tasks/registry.js';
export type { Task } from './tasks/types.js';
export type { Language };
// Word vectors (gensim's semantics): files, queries (mostSimilar, similarity, analogy, doesntMatch, nearest), training, evaluation.
export { WordVectors, type Scored, type SimilarOptions, type AnalogyMethod } from './words/vectors.js';
export { readVectors, writeVectors, type ReadOptions, type WriteOptions } from './words/formats.js';
export { trainWord2Vec, type Word2VecOptions } from './words/train.js';
export { evaluateAnalogies, evaluateSimilarity, type AnalogyReport, type SimilarityReport } from './words/evaluate.js';
// The word tokenizer and vocabulary of geul's from-scratch text models: token ids for models written with the tensor
// API, and the tokenizer a tensor-API classifier exports with (nn.exportClassifier).
export { WordCounter, WordVocab, tokenize, type VocabOptions } from './train/data/vocab.js';
// Tensors with autograd, lazily compiled to ONNX (PyTorch's names): `tensor`, creation functions, `nn`, `optim`.
export {
  Tensor, tensor, fromArray, zeros, ones, full, zerosLike, onesLike, arange, linspace, eye, rand, randn, randint, cat, stack, where,
  manualSeed, Generator, noGrad, isGradEnabled, realize, tensorStats, nn, optim, type TensorDType, type SliceSpec,
} from './tensor/index.js';

/** A task's full request, as its schema validates it. */
export type TaskRequest<K extends TaskId> = Static<TaskTable[K]['request']>;
/** One input item of a task (a text, or a pair of texts for similarity). */
export type TaskItem<K extends TaskId> = Static<TaskTable[K]['item']>;
/** A task's result for one input item. */
export type TaskResult<K extends TaskId> = Static<TaskTable[K]['result']>;
/** A task's options in the library: every request field but `inputs`, all optional (defaults come from the schema). */
export type TaskCallOptions<K extends TaskId> = Partial<Omit<TaskRequest<K>, 'inputs'>> & { signal?: AbortSignal };

export type GenerateResult = TaskResult<'generate'>;
export type Label = TaskResult<'classify'>[number];
export type MaskCandidate = TaskResult<'fill-mask'>[number];
export type SearchHit = TaskResult<'search'>[number];

/** One item gives one result; an array of items gives an array of results. */
type Answer<I, K extends TaskId> = I extends readonly unknown[] ? TaskResult<K>[] : TaskResult<K>;

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
  const call = <K extends TaskId, R>(task: K, inputs: unknown, opts: TaskCallOptions<K> = {}): Promise<R> => {
    const { signal, ...rest } = opts;
    return runTask(TASKS[task], { ...rest, inputs }, { models, signal }) as Promise<R>;
  };
  return {
    config,
    models,
    generate: <I extends string | string[]>(inputs: I, opts?: TaskCallOptions<'generate'>) => call<'generate', Answer<I, 'generate'>>('generate', inputs, opts),
    /** Streams generated text pieces for one prompt; the iterator's return value is the full result. */
    async *streamGenerate(prompt: string, opts: TaskCallOptions<'generate'> = {}): AsyncGenerator<string, GenerateResult> {
      const { signal, ...rest } = opts;
      const task = TASKS.generate;
      const { items, options } = prepareRequest(task, { ...rest, inputs: prompt });
      return (yield* streamTask(task, items[0], options, { models, signal })) as GenerateResult;
    },
    classify: <I extends string | string[]>(inputs: I, opts?: TaskCallOptions<'classify'>) => call<'classify', Answer<I, 'classify'>>('classify', inputs, opts),
    embed: <I extends string | string[]>(inputs: I, opts?: TaskCallOptions<'embeddings'>) => call<'embeddings', Answer<I, 'embeddings'>>('embeddings', inputs, opts),
    similarity: (a: string, b: string, opts?: TaskCallOptions<'similarity'>) => call<'similarity', TaskResult<'similarity'>>('similarity', [a, b], opts),
    /** All-pairs cosine matrix of texts (the CLI's `similarity --matrix`). */
    async similarityMatrix(texts: string[], opts: Omit<TaskCallOptions<'similarity'>, 'signal'> = {}): Promise<number[][]> {
      return ((await runMode(TASKS.similarity, 'matrix', texts, prepareOptions(TASKS.similarity, opts), { models })).value as { matrix: number[][] }).matrix;
    },
    search: <I extends string | string[]>(query: I, documents: string[], opts?: Omit<TaskCallOptions<'search'>, 'documents'>) =>
      call<'search', Answer<I, 'search'>>('search', query, { ...opts, documents }),
    translate: <I extends string | string[]>(inputs: I, opts: TaskCallOptions<'translate'>) => call<'translate', Answer<I, 'translate'>>('translate', inputs, opts),
    /** The languages a translation model translates between (empty for single-direction models). */
    async languages(model?: string): Promise<Language[]> {
      const options = prepareOptions(TASKS.translate, model === undefined ? {} : { model });
      return (await runMode(TASKS.translate, 'languages', [], options, { models })).value as Language[];
    },
    fillMask: <I extends string | string[]>(inputs: I, opts?: TaskCallOptions<'fill-mask'>) => call<'fill-mask', Answer<I, 'fill-mask'>>('fill-mask', inputs, opts),
    /** Language identification (built in, no model): candidates `{language, confidence 0–100}`, best first. */
    detect: <I extends string | string[]>(inputs: I, opts?: TaskCallOptions<'detect'>) => call<'detect', Answer<I, 'detect'>>('detect', inputs, opts),
    /** Runs any registry task with a raw request (what the HTTP API does). */
    run: (task: string, request: unknown, signal?: AbortSignal) => runTask(task, request, { models, signal }),
    dispose: () => models.dispose(),
  };
}

export type Geul = ReturnType<typeof createGeul>;
