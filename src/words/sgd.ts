// The Word2Vec inner loop (skip-gram / CBOW × negative sampling / hierarchical softmax) over shared Float32Arrays.
//
// Hand-written because no maintained JavaScript Word2Vec exists; it follows word2vec.c and gensim's Cython loops:
// sigmoid from a 1000-entry table clipped at ±6, reduced windows, updates without locks ("Hogwild") when threads share memory.

export const MAX_EXP = 6;
const EXP_TABLE_SIZE = 1000;
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
  /** [0]: words processed so far (all threads), updated every few thousand words. */
  progress: Int32Array;
}

/** A small fast generator (xorshift32); each thread seeds its own, so one thread with one seed is reproducible. */
export class FastRandom {
  private s: number;
  constructor(seed: number) {
    this.s = (seed ^ 0x9e3779b9) >>> 0 || 1;
  }
  next(): number {
    let x = this.s;
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    this.s = x;
    return x;
  }
  float(): number {
    return this.next() / 4294967296;
  }
}

function drawNegative(cum: Float64Array, r: number): number {
  let lo = 0;
  let hi = cum.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cum[mid] < r) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Trains on corpus[start, end) (word ids, −1 ends a sentence) for one epoch; returns words processed. */
export function trainRange(p: TrainParams, m: SharedModel, corpus: Int32Array, start: number, end: number, rng: FastRandom): number {
  const { dim, window, negative, hs, sg } = p;
  const { syn0, syn1neg, syn1, keep, cum, codeOffset, codeLength, codes, points, progress } = m;
  const neu1 = new Float32Array(dim);
  const neu1e = new Float32Array(dim);
  const sentence: number[] = [];
  let processed = 0;
  let reported = 0;
  let alpha = p.alpha;

  // One output update (NS or HS) for input vector `l1` (in `input`) and target word `word`; accumulates into neu1e.
  const learn = (input: Float32Array, l1: number, word: number): void => {
    if (hs) {
      const off = codeOffset[word];
      for (let d = 0; d < codeLength[word]; d++) {
        const l2 = points[off + d] * dim;
        let f = 0;
        for (let k = 0; k < dim; k++) f += input[l1 + k] * syn1[l2 + k];
        if (f <= -MAX_EXP || f >= MAX_EXP) continue;
        f = EXP_TABLE[Math.floor((f + MAX_EXP) * (EXP_TABLE_SIZE / MAX_EXP / 2))];
        const g = (1 - codes[off + d] - f) * alpha;
        for (let k = 0; k < dim; k++) neu1e[k] += g * syn1[l2 + k];
        for (let k = 0; k < dim; k++) syn1[l2 + k] += g * input[l1 + k];
      }
    }
    for (let d = 0; d <= negative && negative > 0; d++) {
      let target = word;
      let label = 1;
      if (d > 0) {
        target = drawNegative(cum, rng.float());
        if (target === word) continue;
        label = 0;
      }
      const l2 = target * dim;
      let f = 0;
      for (let k = 0; k < dim; k++) f += input[l1 + k] * syn1neg[l2 + k];
      let g: number;
      if (f > MAX_EXP) g = (label - 1) * alpha;
      else if (f < -MAX_EXP) g = label * alpha;
      else g = (label - EXP_TABLE[Math.floor((f + MAX_EXP) * (EXP_TABLE_SIZE / MAX_EXP / 2))]) * alpha;
      for (let k = 0; k < dim; k++) neu1e[k] += g * syn1neg[l2 + k];
      for (let k = 0; k < dim; k++) syn1neg[l2 + k] += g * input[l1 + k];
    }
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
      alpha = Math.max(p.minAlpha, p.alpha - (p.alpha - p.minAlpha) * (done / p.totalWork));
    }
  }
  if (sentence.length > 0) trainSentence();
  Atomics.add(progress, 0, processed - reported);
  return processed;
}
