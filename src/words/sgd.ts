// The Word2Vec inner loop (skip-gram / CBOW × negative sampling / hierarchical softmax) over shared Float32Arrays.
//
// Hand-written because no maintained JavaScript Word2Vec exists; it follows word2vec.c and gensim's Cython loops:
// sigmoid from a 1000-entry table clipped at ±6, reduced windows, updates without locks ("Hogwild") when threads share memory.

export const MAX_EXP = 6;
const EXP_TABLE_SIZE = 1000;
const EXP_SCALE = EXP_TABLE_SIZE / MAX_EXP / 2;
const EXP_TABLE = (() => {
  const t = new Float32Array(EXP_TABLE_SIZE);
  for (let i = 0; i < EXP_TABLE_SIZE; i++) {
    const e = Math.exp(((i / EXP_TABLE_SIZE) * 2 - 1) * MAX_EXP);
    t[i] = e / (e + 1);
  }
  return t;
})();

export interface TrainParams {
  dim: number;
  window: number;
  negative: number;
  hs: boolean;
  sg: boolean;
  alpha: number;
  minAlpha: number;
  /** Words to process over all epochs (for the linear learning-rate decay). */
  totalWork: number;
}

export interface SharedModel {
  syn0: Float32Array;
  syn1neg: Float32Array;
  syn1: Float32Array;
  keep: Float32Array;
  cum: Float64Array;
  codeOffset: Int32Array;
  codeLength: Int32Array;
  codes: Uint8Array;
  points: Int32Array;
  /** Negative-sampling draws (see unigramTable). */
  table: Int32Array;
  /** [0]: words processed so far (all threads), updated every few thousand words. */
  progress: Int32Array;
}

/** A small fast generator (xorshift32); each thread seeds its own, so one thread with one seed is reproducible. */
export class FastRandom {
  // Kept as a signed 32-bit integer so V8 stays on small-integer arithmetic in the hot loop.
  private s: number;
  constructor(seed: number) {
    this.s = (seed ^ 0x9e3779b9) | 0 || 1;
  }
  /** A non-negative 31-bit integer. */
  next(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x;
    return x & 0x7fffffff;
  }
  float(): number {
    return this.next() / 2147483648;
  }
}

/** One negative-sampling update of output vectors for input row `l1` of `input`; gradient accumulates into `neu1e`. */
function negativeUpdate(input: Float32Array, l1: number, syn1neg: Float32Array, word: number, negative: number, table: Int32Array, rng: FastRandom, alpha: number, dim: number, neu1e: Float32Array): void {
  for (let d = 0; d <= negative; d++) {
    let target = word;
    let label = 1;
    if (d > 0) {
      target = table[rng.next() & (table.length - 1)];
      if (target === word) continue;
      label = 0;
    }
    const l2 = target * dim;
    let f = 0;
    for (let k = 0; k < dim; k++) f += input[l1 + k] * syn1neg[l2 + k];
    let g: number;
    if (f > MAX_EXP) g = (label - 1) * alpha;
    else if (f < -MAX_EXP) g = label * alpha;
    else g = (label - EXP_TABLE[((f + MAX_EXP) * EXP_SCALE) | 0]) * alpha;
    for (let k = 0; k < dim; k++) {
      const out = syn1neg[l2 + k];
      neu1e[k] += g * out;
      syn1neg[l2 + k] = out + g * input[l1 + k];
    }
  }
}

/** One hierarchical-softmax update along the word's Huffman path. */
function softmaxUpdate(input: Float32Array, l1: number, m: SharedModel, word: number, alpha: number, dim: number, neu1e: Float32Array): void {
  const { syn1, codes, points } = m;
  const off = m.codeOffset[word];
  const len = m.codeLength[word];
  for (let d = 0; d < len; d++) {
    const l2 = points[off + d] * dim;
    let f = 0;
    for (let k = 0; k < dim; k++) f += input[l1 + k] * syn1[l2 + k];
    if (f <= -MAX_EXP || f >= MAX_EXP) continue;
    const g = (1 - codes[off + d] - EXP_TABLE[((f + MAX_EXP) * EXP_SCALE) | 0]) * alpha;
    for (let k = 0; k < dim; k++) {
      const out = syn1[l2 + k];
      neu1e[k] += g * out;
      syn1[l2 + k] = out + g * input[l1 + k];
    }
  }
}

/**
 * word2vec.c's unigram table: each word fills a share of slots proportional to count^0.75, so a draw is one
 * lookup. The size is a power of two (at most 2^23) so a draw is a mask, not a division.
 */
export function unigramTable(cum: Float64Array, maxSize = 1 << 23): Int32Array {
  let size = 1 << 10;
  while (size < maxSize && size < cum.length * 1000) size <<= 1;
  const table = new Int32Array(new SharedArrayBuffer(size * 4));
  let word = 0;
  for (let i = 0; i < table.length; i++) {
    while (word < cum.length - 1 && (i + 0.5) / table.length > cum[word]) word++;
    table[i] = word;
  }
  return table;
}

/** The learning rate after `done` of `p.totalWork` words: linear from alpha down to minAlpha, as word2vec.c and gensim. */
export function decayedAlpha(p: TrainParams, done: number): number {
  return Math.max(p.minAlpha, p.alpha - (p.alpha - p.minAlpha) * (done / p.totalWork));
}

/** Trains on corpus[start, end) (word ids, −1 ends a sentence) for one epoch; returns words processed. */
export function trainRange(p: TrainParams, m: SharedModel, corpus: Int32Array, start: number, end: number, rng: FastRandom): number {
  const { dim, window, negative, hs, sg } = p;
  const { syn0, syn1neg, keep, progress } = m;
  const neu1 = new Float32Array(dim);
  const neu1e = new Float32Array(dim);
  const sentence: number[] = [];
  let processed = 0;
  let reported = 0;
  // Continue the decay from the words all threads have done so far: this range is one block of many.
  let alpha = decayedAlpha(p, Atomics.load(progress, 0));

  const table = m.table;
  const learn = (input: Float32Array, l1: number, word: number): void => {
    if (hs) softmaxUpdate(input, l1, m, word, alpha, dim, neu1e);
    if (negative > 0) negativeUpdate(input, l1, syn1neg, word, negative, table, rng, alpha, dim, neu1e);
  };

  const trainSentence = (): void => {
    const len = sentence.length;
    for (let pos = 0; pos < len; pos++) {
      const word = sentence[pos];
      const b = rng.next() % window;
      if (sg) {
        for (let a = b; a < window * 2 + 1 - b; a++) {
          if (a === window) continue;
          const c = pos - window + a;
          if (c < 0 || c >= len) continue;
          const l1 = sentence[c] * dim;
          neu1e.fill(0);
          learn(syn0, l1, word);
          for (let k = 0; k < dim; k++) syn0[l1 + k] += neu1e[k];
        }
      } else {
        neu1.fill(0);
        let cw = 0;
        for (let a = b; a < window * 2 + 1 - b; a++) {
          const c = pos - window + a;
          if (a === window || c < 0 || c >= len) continue;
          const l1 = sentence[c] * dim;
          for (let k = 0; k < dim; k++) neu1[k] += syn0[l1 + k];
          cw++;
        }
        if (cw === 0) continue;
        for (let k = 0; k < dim; k++) neu1[k] /= cw;
        neu1e.fill(0);
        learn(neu1, 0, word);
        for (let a = b; a < window * 2 + 1 - b; a++) {
          const c = pos - window + a;
          if (a === window || c < 0 || c >= len) continue;
          const l1 = sentence[c] * dim;
          for (let k = 0; k < dim; k++) syn0[l1 + k] += neu1e[k];
        }
      }
    }
  };

  for (let i = start; i < end; i++) {
    const id = corpus[i];
    if (id >= 0) {
      processed++;
      if (keep[id] >= 1 || keep[id] >= rng.float()) sentence.push(id);
      // Long "sentences" are cut like word2vec.c's MAX_SENTENCE_LENGTH.
      if (sentence.length < 10000) continue;
    }
    if (sentence.length > 0) trainSentence();
    sentence.length = 0;
    if (processed - reported >= 10000) {
      const done = Atomics.add(progress, 0, processed - reported) + processed - reported;
      reported = processed;
      alpha = decayedAlpha(p, done);
    }
  }
  if (sentence.length > 0) trainSentence();
  Atomics.add(progress, 0, processed - reported);
  return processed;
}
