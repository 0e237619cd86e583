// Word2Vec training: one streaming pass encodes the corpus to ids, then worker threads update shared weights lock-free.
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { geulError } from '../core/errors.js';
import { Rng } from '../core/random.js';
import { siblingThreadEntry } from '../runtime/pool.js';
import { encodeCorpus, slices, type EncodeOptions } from './encode.js';
import { decayedAlpha, unigramTable, type SharedModel, type TrainParams } from './sgd.js';
import { parseWord2VecSpec, type Word2VecEvent } from './train-spec.js';
import { createWasmModel, wasmVectors } from './train-wasm.js';
import type { ThreadData } from './train-thread.js';
import { buildVocab, cumulativeTable, huffman, keepProbabilities, type Vocab } from './vocab.js';
import { WordVectors } from './vectors.js';

export type { Word2VecEvent } from './train-spec.js';

/** Word2VecSpecSchema (src/words/train-spec.ts) validates and bounds these options; the callbacks and signal are not part of it. */
export interface Word2VecOptions extends Omit<EncodeOptions, 'onBytes' | 'onWarning' | 'signal'> {
  vectorSize?: number;
  /** Maximum distance between the centre and a context word; each position samples its window in [1, window]. */
  window?: number;
  /** Skip-gram (true, default) or CBOW (mean of the context vectors, as gensim's cbow_mean=1). */
  sg?: boolean;
  /** Negative samples per positive (0 = none). */
  negative?: number;
  /** Hierarchical softmax. */
  hs?: boolean;
  /** Down-sampling threshold for frequent words (gensim's `sample`; 0 = off). */
  sample?: number;
  minCount?: number;
  /** Keep only the N most frequent words that reach minCount (gensim's max_final_vocab; 0 = all). */
  maxVocab?: number;
  alpha?: number;
  minAlpha?: number;
  epochs?: number;
  seed?: number;
  /** Worker threads (default: all cores). One thread with a fixed seed is reproducible bit for bit. */
  threads?: number;
  /** 'wasm' (WebAssembly SIMD, default when available) or 'js' (plain JavaScript loop). */
  kernel?: 'auto' | 'wasm' | 'js';
  /** Progress as JSON events: read (bytes), step (words, alpha, words/s), log (warnings: binary or invalid input), done. */
  onEvent?: (event: Word2VecEvent) => void;
  /** Stops reading or training (worker threads are terminated); the promise rejects with CANCELLED. */
  signal?: AbortSignal;
  /** The caller's name for an option in error messages (the CLI: "vectorSize" → "--vector-size"). */
  optionName?: (key: string) => string;
}

export interface TrainResult {
  vectors: WordVectors;
  vocab: Vocab;
  /** Corpus tokens read, words kept by the vocabulary (per epoch), seconds spent encoding and training. */
  stats: { tokens: number; trainWords: number; encodeSeconds: number; trainSeconds: number; kernel: 'wasm' | 'js'; threads: number };
}

function sharedFloat32(n: number): Float32Array {
  return new Float32Array(new SharedArrayBuffer(n * 4));
}

/** Starts a training thread; from TypeScript sources (tests, benchmarks) it registers tsx first. */
function startWorker(data: ThreadData, started: Worker[]): Promise<void> {
  const { entry, eval: fromSource } = siblingThreadEntry(import.meta.url, 'train-worker');
  return new Promise<void>((resolve, reject) => {
    const worker = new Worker(entry, { eval: fromSource, workerData: data });
    started.push(worker);
    let done = false;
    worker.once('message', () => { done = true; resolve(); });
    worker.once('error', (err) => reject(geulError('TRAINING_FAILED', { detail: err.message }, err)));
    worker.once('exit', (code) => (done || code === 0 ? resolve() : reject(geulError('TRAINING_FAILED', { detail: `worker exited with ${code}` }))));
  });
}

/** Trains Word2Vec on UTF-8 text files (one sentence per line) and returns the vectors, most frequent word first. */
export async function trainWord2Vec(paths: string[], options: Word2VecOptions = {}): Promise<WordVectors> {
  return (await trainWord2VecDetailed(paths, options)).vectors;
}

export async function trainWord2VecDetailed(paths: string[], input: Word2VecOptions = {}): Promise<TrainResult> {
  const options = { ...input, ...parseWord2VecSpec({ ...input }, input.optionName) };
  const { signal } = input;
  const emit = input.onEvent ?? (() => {});
  const dim = options.vectorSize;
  const epochs = options.epochs;
  const threads = options.threads ?? availableParallelism();
  const { negative, hs, seed, minCount } = options;
  const encodeStart = Date.now();
  const cancelled = () => {
    emit({ type: 'done', reason: 'cancelled', words: 0, seconds: (Date.now() - encodeStart) / 1000 });
    return geulError('CANCELLED');
  };

  const encoded = await encodeCorpus(paths, {
    ...options, signal,
    onBytes: (done, total) => emit({ type: 'read', done, total }),
    onWarning: (message) => emit({ type: 'log', level: 'warning', message }),
  }).catch((err: unknown) => {
    throw signal?.aborted ? cancelled() : err;
  });
  try {
    if (encoded.words === 0) throw geulError('DATA_INVALID', { path: paths.join(', '), where: '', detail: 'no text to train on (empty, binary or not UTF-8)' });
    const vocab = buildVocab(new Map(encoded.tokens.map((t, i) => [t, encoded.counts[i]])), minCount, options.maxVocab ?? 0);
    if (vocab.words.length < 2) throw geulError('INVALID_INPUT', { detail: `only ${vocab.words.length} distinct words occur at least ${minCount} times (min_count)` });
    const remap = new Int32Array(new SharedArrayBuffer(Math.max(1, encoded.tokens.length) * 4));
    encoded.tokens.forEach((t, i) => { remap[i] = vocab.index.get(t) ?? -2; });

    // gensim-like initialisation: uniform in ±0.5/dim, from the seed.
    const rng = new Rng(seed);
    const init = (row: Float32Array): void => {
      for (let d = 0; d < row.length; d++) row[d] = (rng.next() - 0.5) / dim;
    };
    const tree = hs ? huffman(vocab) : undefined;
    const keep = keepProbabilities(vocab, options.sample);
    const wantWasm = options.kernel !== 'js';
    const wasm = wantWasm ? createWasmModel({ vocabCounts: vocab.counts, dim, negative, hs, threads, tree, keep, init }) : undefined;
    if (options.kernel === 'wasm' && !wasm) throw geulError('INVALID_INPUT', { detail: 'the WebAssembly kernel is unavailable here (no SIMD, or the model needs more than 4 GiB)' });
    let js: SharedModel | undefined;
    if (!wasm) {
      const syn0 = sharedFloat32(vocab.words.length * dim);
      for (let w = 0; w < vocab.words.length; w++) init(syn0.subarray(w * dim, (w + 1) * dim));
      const cum = cumulativeTable(vocab);
      js = {
        syn0,
        syn1neg: sharedFloat32(negative > 0 ? vocab.words.length * dim : 0),
        syn1: sharedFloat32(hs ? vocab.words.length * dim : 0),
        keep, cum, table: unigramTable(cum),
        codeOffset: tree?.offset ?? new Int32Array(0), codeLength: tree?.length ?? new Int32Array(0),
        codes: tree?.codes ?? new Uint8Array(0), points: tree?.points ?? new Int32Array(0),
        progress: new Int32Array(new SharedArrayBuffer(4)),
      };
    }
    const params: TrainParams = {
      dim, window: options.window, negative, hs, sg: options.sg,
      alpha: options.alpha, minAlpha: options.minAlpha, totalWork: vocab.totalWords * epochs,
    };
    const progress = (wasm?.progress ?? js?.progress) as Int32Array;
    const trainStart = Date.now();
    const report = (): void => {
      const done = Atomics.load(progress, 0);
      const alpha = decayedAlpha(params, done);
      const total = params.totalWork;
      emit({ type: 'step', step: done, total, progress: total > 0 ? Math.min(1, done / total) : 1, alpha, words_per_s: done / Math.max((Date.now() - trainStart) / 1000, 1e-3) });
    };
    const timer = setInterval(report, 250);
    const workers: Worker[] = [];
    let aborted = false;
    const stop = () => {
      aborted = true;
      for (const w of workers) void w.terminate();
    };
    if (signal?.aborted) throw cancelled();
    signal?.addEventListener('abort', stop, { once: true });
    try {
      const parts = slices(encoded.store, threads);
      await Promise.all(parts.map(([start, end], t) => startWorker({
        params, wasm, js, store: encoded.store, remap, start, end, epochs, thread: t,
        // Thread 0 of a given seed always draws the same numbers, so one thread is reproducible.
        seed: (seed + 7919 * (t + 1)) | 0,
      }, workers)));
    } catch (err) {
      throw aborted ? cancelled() : err;
    } finally {
      clearInterval(timer);
      signal?.removeEventListener('abort', stop);
    }
    if (aborted) throw cancelled();
    report();
    const trainSeconds = (Date.now() - trainStart) / 1000;
    const data = wasm ? wasmVectors(wasm) : Float32Array.from((js as SharedModel).syn0);
    emit({ type: 'done', reason: 'completed', words: params.totalWork, seconds: (Date.now() - encodeStart) / 1000 });
    return {
      vectors: new WordVectors(vocab.words, dim, data),
      vocab,
      stats: { tokens: encoded.words, trainWords: vocab.totalWords, encodeSeconds: (trainStart - encodeStart) / 1000, trainSeconds, kernel: wasm ? 'wasm' : 'js', threads },
    };
  } finally {
    encoded.dispose();
  }
}
