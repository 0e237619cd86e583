// Word2Vec training: one streaming pass encodes the corpus to ids, then worker threads update shared weights lock-free.
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { geulError } from '../core/errors.js';
import { Rng } from '../core/random.js';
import { siblingWorker } from '../runtime/pool.js';
import { encodeCorpus, slices, type EncodeOptions } from './encode.js';
import { decayedAlpha, unigramTable, type SharedModel, type TrainParams } from './sgd.js';
import { createWasmModel, wasmVectors } from './train-wasm.js';
import type { ThreadData } from './train-thread.js';
import { buildVocab, cumulativeTable, huffman, keepProbabilities, type Vocab } from './vocab.js';
import { WordVectors } from './vectors.js';

export interface TrainProgress {
  /** 'encode': reading the corpus (done/total in bytes); 'train': training (done/total in words over all epochs). */
  phase: 'encode' | 'train';
  done: number;
  total: number;
  alpha: number;
  wordsPerSecond: number;
}

export interface Word2VecOptions extends EncodeOptions {
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
  onProgress?: (info: TrainProgress) => void;
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
function startWorker(data: ThreadData): Promise<void> {
  const { filename } = siblingWorker(import.meta.url, 'train-worker');
  const fromSource = filename.endsWith('.ts');
  const entry = fromSource
    ? `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(pathToFileURL(filename).href)}); })`
    : filename;
  return new Promise<void>((resolve, reject) => {
    const worker = new Worker(entry, { eval: fromSource, workerData: data });
    let done = false;
    worker.once('message', () => { done = true; resolve(); });
    worker.once('error', (err) => reject(geulError('TRAINING_FAILED', { detail: err.message }, err)));
    worker.once('exit', (code) => (done || code === 0 ? resolve() : reject(geulError('TRAINING_FAILED', { detail: `worker exited with ${code}` }))));
  });
}

function validate(o: Word2VecOptions): void {
  const positive = (name: string, v: number | undefined) => {
    if (v !== undefined && (!Number.isInteger(v) || v < 1)) throw geulError('INVALID_INPUT', { detail: `${name} must be a whole number ≥ 1, got ${v}` });
  };
  positive('vectorSize', o.vectorSize);
  positive('window', o.window);
  positive('epochs', o.epochs);
  positive('threads', o.threads);
  if ((o.negative ?? 5) === 0 && !o.hs) throw geulError('INVALID_INPUT', { detail: 'use negative sampling (--negative > 0) or hierarchical softmax (--hs)' });
  if ((o.sample ?? 1e-3) < 0 || (o.alpha ?? 0.025) <= 0 || (o.minAlpha ?? 0.0001) < 0) throw geulError('INVALID_INPUT', { detail: 'sample, alpha and min_alpha must be non-negative (alpha > 0)' });
}

/** Trains Word2Vec on UTF-8 text files (one sentence per line) and returns the vectors, most frequent word first. */
export async function trainWord2Vec(paths: string[], options: Word2VecOptions = {}): Promise<WordVectors> {
  return (await trainWord2VecDetailed(paths, options)).vectors;
}

export async function trainWord2VecDetailed(paths: string[], options: Word2VecOptions = {}): Promise<TrainResult> {
  validate(options);
  const dim = options.vectorSize ?? 100;
  const epochs = options.epochs ?? 5;
  const threads = options.threads ?? availableParallelism();
  const negative = options.negative ?? 5;
  const hs = options.hs ?? false;
  const seed = options.seed ?? 1;
  const minCount = options.minCount ?? 5;
  const encodeStart = Date.now();

  const encoded = await encodeCorpus(paths, {
    ...options,
    onBytes: (done, total) => options.onProgress?.({ phase: 'encode', done, total, alpha: options.alpha ?? 0.025, wordsPerSecond: 0 }),
  });
  try {
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
    const keep = keepProbabilities(vocab, options.sample ?? 1e-3);
    const wantWasm = (options.kernel ?? 'auto') !== 'js';
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
      dim, window: options.window ?? 5, negative, hs, sg: options.sg ?? true,
      alpha: options.alpha ?? 0.025, minAlpha: options.minAlpha ?? 0.0001, totalWork: vocab.totalWords * epochs,
    };
    const progress = (wasm?.progress ?? js?.progress) as Int32Array;
    const trainStart = Date.now();
    const report = (): void => {
      const done = Atomics.load(progress, 0);
      const alpha = decayedAlpha(params, done);
      options.onProgress?.({ phase: 'train', done, total: params.totalWork, alpha, wordsPerSecond: done / Math.max((Date.now() - trainStart) / 1000, 1e-3) });
    };
    const timer = setInterval(report, 250);
    try {
      const parts = slices(encoded.store, threads);
      await Promise.all(parts.map(([start, end], t) => startWorker({
        params, wasm, js, store: encoded.store, remap, start, end, epochs, thread: t,
        // Thread 0 of a given seed always draws the same numbers, so one thread is reproducible.
        seed: (seed + 7919 * (t + 1)) | 0,
      })));
    } finally {
      clearInterval(timer);
    }
    report();
    const trainSeconds = (Date.now() - trainStart) / 1000;
    const data = wasm ? wasmVectors(wasm) : Float32Array.from((js as SharedModel).syn0);
    return {
      vectors: new WordVectors(vocab.words, dim, data),
      vocab,
      stats: { tokens: encoded.words, trainWords: vocab.totalWords, encodeSeconds: (trainStart - encodeStart) / 1000, trainSeconds, kernel: wasm ? 'wasm' : 'js', threads },
    };
  } finally {
    encoded.dispose();
  }
}
