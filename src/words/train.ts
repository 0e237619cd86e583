// Word2Vec training: vocabulary pass, corpus encoded once into shared memory, then threads updating shared weights.
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { geulError } from '../core/errors.js';
import { Rng } from '../core/random.js';
import { siblingWorker } from '../runtime/pool.js';
import { sentences, type CorpusOptions } from './corpus.js';
import { FastRandom, trainRange, unigramTable, type SharedModel, type TrainParams } from './sgd.js';
import { buildVocab, cumulativeTable, huffman, keepProbabilities } from './vocab.js';
import { WordVectors } from './vectors.js';

export interface Word2VecOptions extends CorpusOptions {
  vectorSize?: number;
  window?: number;
  /** Skip-gram (true, default) or CBOW. */
  sg?: boolean;
  /** Negative samples per positive (0 = none). */
  negative?: number;
  /** Hierarchical softmax. */
  hs?: boolean;
  sample?: number;
  minCount?: number;
  maxVocab?: number;
  alpha?: number;
  minAlpha?: number;
  epochs?: number;
  seed?: number;
  /** Worker threads; 1 trains in this thread and is reproducible bit for bit. Default: all cores. */
  threads?: number;
  onProgress?: (info: { done: number; total: number; alpha: number; wordsPerSecond: number }) => void;
}

function sharedFloat32(n: number): Float32Array {
  return new Float32Array(new SharedArrayBuffer(n * 4));
}

/** Sentence-aligned slices of the corpus, one per thread. */
function slices(corpus: Int32Array, parts: number): [number, number][] {
  const out: [number, number][] = [];
  let start = 0;
  for (let t = 1; t <= parts; t++) {
    let end = t === parts ? corpus.length : Math.floor((corpus.length * t) / parts);
    while (end < corpus.length && corpus[end - 1] !== -1) end++;
    out.push([start, end]);
    start = end;
  }
  return out;
}

export async function trainWord2Vec(paths: string[], options: Word2VecOptions = {}): Promise<WordVectors> {
  const dim = options.vectorSize ?? 100;
  const epochs = options.epochs ?? 5;
  const threads = Math.max(1, options.threads ?? availableParallelism());
  const negative = options.negative ?? 5;
  const hs = options.hs ?? false;
  if (negative === 0 && !hs) throw geulError('INVALID_INPUT', { detail: 'use negative sampling (--negative > 0) or hierarchical softmax (--hs)' });

  // Pass 1: counts. Pass 2: ids into a compact Int32Array (−1 ends a sentence), shared with the threads.
  const counts = new Map<string, number>();
  for await (const tokens of sentences(paths, options)) for (const t of tokens) counts.set(t, (counts.get(t) ?? 0) + 1);
  const vocab = buildVocab(counts, options.minCount ?? 5, options.maxVocab ?? 0);
  if (vocab.words.length < 2) throw geulError('INVALID_INPUT', { detail: `only ${vocab.words.length} words reach min_count ${options.minCount ?? 5}` });
  let ids = new Int32Array(1 << 16);
  let n = 0;
  const push = (v: number) => {
    if (n === ids.length) {
      const grown = new Int32Array(ids.length * 2);
      grown.set(ids);
      ids = grown;
    }
    ids[n++] = v;
  };
  for await (const tokens of sentences(paths, options)) {
    for (const t of tokens) {
      const id = vocab.index.get(t);
      if (id !== undefined) push(id);
    }
    push(-1);
  }
  const corpus = new Int32Array(new SharedArrayBuffer(n * 4));
  corpus.set(ids.subarray(0, n));

  const tree = hs ? huffman(vocab) : undefined;
  const rng = new Rng(options.seed ?? 1);
  const syn0 = sharedFloat32(vocab.words.length * dim);
  for (let i = 0; i < syn0.length; i++) syn0[i] = (rng.next() - 0.5) / dim;
  const model: SharedModel = {
    syn0,
    syn1neg: sharedFloat32(negative > 0 ? vocab.words.length * dim : 0),
    syn1: sharedFloat32(hs ? vocab.words.length * dim : 0),
    keep: keepProbabilities(vocab, options.sample ?? 1e-3),
    cum: cumulativeTable(vocab),
    table: unigramTable(cumulativeTable(vocab)),
    codeOffset: tree?.offset ?? new Int32Array(0),
    codeLength: tree?.length ?? new Int32Array(0),
    codes: tree?.codes ?? new Uint8Array(0),
    points: tree?.points ?? new Int32Array(0),
    progress: new Int32Array(new SharedArrayBuffer(4)),
  };
  const params: TrainParams = {
    dim,
    window: options.window ?? 5,
    negative,
    hs,
    sg: options.sg ?? true,
    alpha: options.alpha ?? 0.025,
    minAlpha: options.minAlpha ?? 0.0001,
    totalWork: vocab.totalWords * epochs,
  };

  const started = Date.now();
  const report = () => {
    const done = Atomics.load(model.progress, 0);
    const alpha = Math.max(params.minAlpha, params.alpha - (params.alpha - params.minAlpha) * (done / params.totalWork));
    options.onProgress?.({ done, total: params.totalWork, alpha, wordsPerSecond: done / Math.max((Date.now() - started) / 1000, 1e-3) });
  };
  const seed = options.seed ?? 1;
  if (threads === 1) {
    const random = new FastRandom(seed);
    for (let e = 0; e < epochs; e++) {
      trainRange(params, model, corpus, 0, corpus.length, random);
      report();
    }
  } else {
    const timer = setInterval(report, 250);
    const { filename } = siblingWorker(import.meta.url, 'train-worker');
    // From TypeScript sources (tests, benchmarks) the thread registers tsx first, then imports the module.
    const fromSource = filename.endsWith('.ts');
    const entry = fromSource
      ? `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(pathToFileURL(filename).href)}); })`
      : filename;
    try {
      await Promise.all(slices(corpus, threads).map(([start, end], t) => new Promise<void>((resolve, reject) => {
        const worker = new Worker(entry, { eval: fromSource, workerData: { params, model, corpus, start, end, epochs, seed: seed + 7919 * (t + 1) } });
        worker.once('message', () => resolve());
        worker.once('error', reject);
        worker.once('exit', (code) => (code === 0 ? resolve() : reject(geulError('TRAINING_FAILED', { detail: `worker exited with ${code}` }))));
      })));
    } finally {
      clearInterval(timer);
    }
    report();
  }
  return new WordVectors(vocab.words, dim, Float32Array.from(model.syn0));
}
