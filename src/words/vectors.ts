// Word vectors in memory with gensim's query semantics: most_similar, similarity, 3CosAdd/3CosMul analogies, doesnt_match.
import { geulError } from '../core/errors.js';

export interface Scored { word: string; score: number }

export interface SimilarOptions {
  positive?: string[];
  negative?: string[];
  topn?: number;
  /** Only the first N words (the most frequent, in file order) are candidates, as gensim's restrict_vocab. */
  restrictVocab?: number;
}

/** A vocabulary of words with one vector each (row-major Float32Array), in file order (most frequent first). */
export class WordVectors {
  readonly index = new Map<string, number>();
  private unit?: Float32Array;

  constructor(readonly words: string[], readonly dim: number, readonly data: Float32Array) {
    if (data.length !== words.length * dim) throw geulError('INVALID_INPUT', { detail: `expected ${words.length}×${dim} values, got ${data.length}` });
    words.forEach((w, i) => { if (!this.index.has(w)) this.index.set(w, i); });
  }

  get size(): number {
    return this.words.length;
  }

  has(word: string): boolean {
    return this.index.has(word);
  }

  indexOf(word: string): number {
    const i = this.index.get(word);
    if (i === undefined) throw geulError('UNKNOWN_WORD', { word });
    return i;
  }

  vector(word: string): Float32Array {
    const i = this.indexOf(word);
    return this.data.slice(i * this.dim, (i + 1) * this.dim);
  }

  /** Unit-length copies of every vector, computed once (gensim's `fill_norms`). */
  normalized(): Float32Array {
    if (!this.unit) {
      const unit = new Float32Array(this.data.length);
      for (let r = 0; r < this.size; r++) {
        let norm = 0;
        for (let d = 0; d < this.dim; d++) norm += this.data[r * this.dim + d] ** 2;
        const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
        for (let d = 0; d < this.dim; d++) unit[r * this.dim + d] = this.data[r * this.dim + d] * inv;
      }
      this.unit = unit;
    }
    return this.unit;
  }

  private unitRow(i: number): Float32Array {
    return this.normalized().subarray(i * this.dim, (i + 1) * this.dim);
  }

  similarity(a: string, b: string): number {
    return dot(this.unitRow(this.indexOf(a)), this.unitRow(this.indexOf(b)));
  }

  /** Cosine of `query` (any vector) with every candidate row: one pass over the normalised matrix. */
  private scores(query: Float32Array, limit: number): Float32Array {
    const unit = this.normalized();
    const out = new Float32Array(limit);
    const dim = this.dim;
    for (let r = 0; r < limit; r++) {
      let s = 0;
      const base = r * dim;
      for (let d = 0; d < dim; d++) s += unit[base + d] * query[d];
      out[r] = s;
    }
    return out;
  }

  /** gensim most_similar: mean of unit vectors (negatives weighted −1), normalised, cosine against all words. */
  mostSimilar(options: SimilarOptions): Scored[] {
    const positive = options.positive ?? [];
    const negative = options.negative ?? [];
    if (positive.length + negative.length === 0) throw geulError('INVALID_INPUT', { detail: 'give at least one word' });
    const mean = new Float32Array(this.dim);
    const exclude = new Set<number>();
    for (const [words, weight] of [[positive, 1], [negative, -1]] as const) {
      for (const w of words) {
        const i = this.indexOf(w);
        exclude.add(i);
        const row = this.unitRow(i);
        for (let d = 0; d < this.dim; d++) mean[d] += weight * row[d];
      }
    }
    normalize(mean);
    return this.top(this.scores(mean, this.limit(options.restrictVocab)), exclude, options.topn ?? 10);
  }

  /** Nearest words to an arbitrary vector. */
  nearest(vector: ArrayLike<number>, topn = 10, exclude: string[] = []): Scored[] {
    if (vector.length !== this.dim) throw geulError('INVALID_INPUT', { detail: `vector has ${vector.length} dimensions, expected ${this.dim}` });
    const q = Float32Array.from(vector);
    normalize(q);
    return this.top(this.scores(q, this.size), new Set(exclude.map((w) => this.indexOf(w))), topn);
  }

  /** a : b = c : ? — 3CosAdd (gensim most_similar) or 3CosMul (gensim most_similar_cosmul, Levy & Goldberg 2014). */
  analogy(a: string, b: string, c: string, options: { method?: 'add' | 'mul'; topn?: number; restrictVocab?: number } = {}): Scored[] {
    if ((options.method ?? 'add') === 'add') return this.mostSimilar({ positive: [b, c], negative: [a], topn: options.topn, restrictVocab: options.restrictVocab });
    const limit = this.limit(options.restrictVocab);
    const shift = (s: Float32Array) => s.map((v) => (1 + v) / 2);
    const [sa, sb, sc] = [a, b, c].map((w) => shift(this.scores(this.unitRow(this.indexOf(w)), limit)));
    const combined = new Float32Array(limit);
    for (let r = 0; r < limit; r++) combined[r] = (sb[r] * sc[r]) / (sa[r] + 1e-6);
    return this.top(combined, new Set([a, b, c].map((w) => this.indexOf(w))), options.topn ?? 10);
  }

  /** gensim doesnt_match: the word whose unit vector is farthest from the mean of all the words' unit vectors. */
  doesntMatch(words: string[]): string {
    if (words.length < 2) throw geulError('INVALID_INPUT', { detail: 'give at least two words' });
    const mean = new Float32Array(this.dim);
    for (const w of words) {
      const row = this.unitRow(this.indexOf(w));
      for (let d = 0; d < this.dim; d++) mean[d] += row[d] / words.length;
    }
    normalize(mean);
    let worst = words[0];
    let worstScore = Infinity;
    for (const w of words) {
      const s = dot(this.unitRow(this.indexOf(w)), mean);
      if (s < worstScore) [worst, worstScore] = [w, s];
    }
    return worst;
  }

  private limit(restrict?: number): number {
    return restrict && restrict > 0 ? Math.min(restrict, this.size) : this.size;
  }

  /** The `topn` best rows not excluded, best first (a partial selection, not a full sort). */
  private top(scores: Float32Array, exclude: Set<number>, topn: number): Scored[] {
    const best: { i: number; s: number }[] = [];
    for (let i = 0; i < scores.length; i++) {
      if (exclude.has(i)) continue;
      const s = scores[i];
      if (best.length < topn) {
        best.push({ i, s });
        if (best.length === topn) best.sort((x, y) => y.s - x.s);
      } else if (s > best[topn - 1].s) {
        let at = topn - 1;
        while (at > 0 && best[at - 1].s < s) at--;
        best.splice(at, 0, { i, s });
        best.pop();
      }
    }
    best.sort((x, y) => y.s - x.s);
    return best.map(({ i, s }) => ({ word: this.words[i], score: s }));
  }
}

export function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function normalize(v: Float32Array): void {
  let n = 0;
  for (const x of v) n += x * x;
  const inv = n > 0 ? 1 / Math.sqrt(n) : 0;
  for (let i = 0; i < v.length; i++) v[i] *= inv;
}
