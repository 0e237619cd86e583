// Word vectors in memory with gensim's query semantics: most_similar, similarity, 3CosAdd/3CosMul analogies, doesnt_match.
import { geulError } from '../core/errors.js';
import { Int8Screen, type ScreenOptions, type ScreenQuery } from './screen.js';
import { createScorer, type Scorer } from './similarity-kernel.js';

export interface Scored { word: string; score: number }

export interface SimilarOptions {
  positive?: string[];
  negative?: string[];
  topn?: number;
  /** Only the first N words (the most frequent, in file order) are candidates, as gensim's restrict_vocab. */
  restrictVocab?: number;
}

export type AnalogyMethod = 'add' | 'mul';

/** A vocabulary of words with one vector each (row-major Float32Array), in file order (most frequent first). */
export class WordVectors {
  readonly index = new Map<string, number>();
  private scorer?: Scorer;
  private raw?: Float32Array;
  private screen?: Promise<Int8Screen>;

  constructor(readonly words: string[], readonly dim: number, data: Float32Array) {
    if (data.length !== words.length * dim) throw geulError('INVALID_INPUT', { detail: `expected ${words.length}×${dim} values, got ${data.length}` });
    this.raw = data;
    // gensim keeps the first of duplicate words; so do we.
    words.forEach((w, i) => { if (!this.index.has(w)) this.index.set(w, i); });
  }

  /** The raw vectors, row-major (gone after releaseRaw()). */
  get data(): Float32Array {
    if (!this.raw) throw geulError('INVALID_INPUT', { detail: 'this vector set is query-only (its raw vectors were released)' });
    return this.raw;
  }

  /**
   * Builds the unit-length matrix queries use, then drops the raw vectors: a query-only set in about half the memory
   * (the server keeps its sets this way). `data`, `vector()` and writing the set are no longer possible.
   */
  releaseRaw(): this {
    void this.unit;
    this.raw = undefined;
    return this;
  }

  get size(): number {
    return this.words.length;
  }

  has(word: string): boolean {
    return this.index.has(word);
  }

  /** The row of `word`; UNKNOWN_WORD (naming it, and its other-case spelling when the vectors have one) when absent. */
  indexOf(word: string): number {
    const i = this.index.get(word);
    if (i === undefined) {
      const lower = word.toLowerCase();
      const other = [lower, word.toUpperCase(), lower.charAt(0).toUpperCase() + lower.slice(1)].find((w) => w !== word && this.index.has(w));
      throw geulError('UNKNOWN_WORD', { word, hint: other === undefined ? '' : ` (but "${other}" is; words are case-sensitive)` });
    }
    return i;
  }

  /** A copy of the raw vector of `word`. */
  vector(word: string): Float32Array {
    const i = this.indexOf(word);
    return this.data.slice(i * this.dim, (i + 1) * this.dim);
  }

  /** Normalises all rows once (gensim's fill_norms) into the scoring kernel's memory. */
  private get unit(): Scorer {
    this.scorer ??= createScorer(this.data, this.size, this.dim);
    return this.scorer;
  }

  /** The unit-length vector of row i (a read-only view). */
  unitRow(i: number): Float32Array {
    return this.unit.unitRow(i);
  }

  /** Dot products of each query with the first `limit` unit rows (cosines, when the queries are unit length). */
  scores(queries: Float32Array[], limit = this.size): Float32Array[] {
    return this.unit.scores(queries, Math.min(limit, this.size));
  }

  /**
   * Builds the int8 screening index (screen.ts, +25 % memory) that `search` and `similar` then use: a lone query reads
   * a quarter of the bytes of a full pass and many queries share one pass. Answers stay exact.
   */
  async prepareSearch(options: ScreenOptions = {}): Promise<this> {
    this.screen ??= Int8Screen.build(this.size, this.dim, (i) => this.unitRow(i), options);
    await this.screen;
    return this;
  }

  /** Releases the screening index's ONNX Runtime session (queries then scan in full again). */
  async releaseSearch(): Promise<void> {
    const screen = this.screen;
    this.screen = undefined;
    await (await screen)?.release();
  }

  /**
   * The exact top-k rows of each query vector, best first, queries answered together: screened with the int8 index
   * after prepareSearch(), else one SIMD pass per four queries.
   */
  async search(queries: ScreenQuery[]): Promise<Scored[][]> {
    const screened = this.screen ? await (await this.screen).search(queries) : [];
    const missing = queries.flatMap((q, j) => (screened[j] ? [] : [j]));
    const full = new Map<number, Scored[]>();
    for (const limit of new Set(missing.map((j) => Math.min(queries[j].limit, this.size)))) {
      const group = missing.filter((j) => Math.min(queries[j].limit, this.size) === limit);
      const scores = this.scores(group.map((j) => queries[j].vector), limit);
      group.forEach((j, g) => full.set(j, this.top(scores[g], queries[j].exclude, queries[j].topn)));
    }
    return queries.map((_, j) => full.get(j) ?? screened[j]!.map((h) => ({ word: this.words[h.index], score: h.score })));
  }

  /** most_similar through `search` (async; fastest after prepareSearch()). */
  async similar(options: SimilarOptions): Promise<Scored[]> {
    const [query] = this.similarQueries([options]);
    return (await this.search([query]))[0];
  }

  /** The search queries of most_similar calls: the normalised mean, the input words excluded. */
  similarQueries(calls: SimilarOptions[]): ScreenQuery[] {
    return calls.map((o) => {
      const { mean, used } = this.meanVector(o.positive ?? [], o.negative ?? []);
      return { vector: mean, exclude: used, topn: o.topn ?? 10, limit: this.limit(o.restrictVocab) };
    });
  }

  similarity(a: string, b: string): number {
    return dot(this.unitRow(this.indexOf(a)), this.unitRow(this.indexOf(b)));
  }

  /** gensim's most_similar query vector: the mean of unit vectors (negatives weighted −1), normalised. */
  meanVector(positive: string[], negative: string[] = []): { mean: Float32Array; used: Set<number> } {
    if (positive.length + negative.length === 0) throw geulError('INVALID_INPUT', { detail: 'give at least one word' });
    const mean = new Float32Array(this.dim);
    const used = new Set<number>();
    for (const [words, weight] of [[positive, 1], [negative, -1]] as const) {
      for (const w of words) {
        const i = this.indexOf(w);
        used.add(i);
        const row = this.unitRow(i);
        for (let d = 0; d < this.dim; d++) mean[d] += weight * row[d];
      }
    }
    normalize(mean);
    return { mean, used };
  }

  /** gensim most_similar: cosine of the mean query with every (allowed) word, input words excluded. */
  mostSimilar(options: SimilarOptions): Scored[] {
    const { mean, used } = this.meanVector(options.positive ?? [], options.negative ?? []);
    const [scores] = this.scores([mean], this.limit(options.restrictVocab));
    return this.top(scores, used, options.topn ?? 10);
  }

  /** gensim most_similar_cosmul (Levy & Goldberg 2014): ∏(1+cos(pos))/2 ÷ (∏(1+cos(neg))/2 + 1e-6). */
  mostSimilarCosmul(options: SimilarOptions): Scored[] {
    const positive = options.positive ?? [];
    const negative = options.negative ?? [];
    if (positive.length === 0) throw geulError('INVALID_INPUT', { detail: 'give at least one positive word' });
    const ids = [...positive, ...negative].map((w) => this.indexOf(w));
    const limit = this.limit(options.restrictVocab);
    const sims = this.scores(ids.map((i) => this.unitRow(i)), limit);
    const combined = new Float32Array(limit);
    for (let r = 0; r < limit; r++) {
      let num = 1;
      let den = 1;
      for (let j = 0; j < sims.length; j++) {
        if (j < positive.length) num *= (1 + sims[j][r]) / 2;
        else den *= (1 + sims[j][r]) / 2;
      }
      combined[r] = num / (den + 1e-6);
    }
    return this.top(combined, new Set(ids), options.topn ?? 10);
  }

  /** Nearest words to an arbitrary vector (gensim similar_by_vector). */
  nearest(vector: ArrayLike<number>, topn = 10, exclude: string[] = []): Scored[] {
    if (vector.length !== this.dim) throw geulError('INVALID_INPUT', { detail: `vector has ${vector.length} dimensions, expected ${this.dim}` });
    const q = Float32Array.from(vector);
    normalize(q);
    const [scores] = this.scores([q]);
    return this.top(scores, new Set(exclude.map((w) => this.indexOf(w))), topn);
  }

  /** a : b = c : ? — 3CosAdd (gensim most_similar) or 3CosMul (gensim most_similar_cosmul). */
  analogy(a: string, b: string, c: string, options: { method?: AnalogyMethod; topn?: number; restrictVocab?: number } = {}): Scored[] {
    const query = { positive: [b, c], negative: [a], topn: options.topn, restrictVocab: options.restrictVocab };
    return (options.method ?? 'add') === 'add' ? this.mostSimilar(query) : this.mostSimilarCosmul(query);
  }

  /**
   * gensim doesnt_match: the word whose unit vector is farthest from the normalised mean of the words' unit vectors.
   * Unlike gensim, which drops unknown words with a warning, an unknown word is an error naming it.
   */
  doesntMatch(words: string[]): string {
    if (words.length < 2) throw geulError('INVALID_INPUT', { detail: 'give at least two words' });
    const { mean } = this.meanVector(words);
    let worst = words[0];
    let worstScore = Infinity;
    for (const w of words) {
      const s = dot(this.unitRow(this.indexOf(w)), mean);
      if (s < worstScore) [worst, worstScore] = [w, s];
    }
    return worst;
  }

  limit(restrict?: number): number {
    return restrict && restrict > 0 ? Math.min(restrict, this.size) : this.size;
  }

  /** The `topn` best rows not excluded, best first (a partial selection, not a full sort). */
  top(scores: Float32Array, exclude: Set<number>, topn: number): Scored[] {
    const best = topIndices(scores, exclude, topn);
    return best.map((i) => ({ word: this.words[i], score: scores[i] }));
  }
}

/** Indices of the `topn` largest scores outside `exclude`, best first. */
export function topIndices(scores: Float32Array, exclude: Set<number>, topn: number): number[] {
  if (topn <= 0) return [];
  const idx: number[] = [];
  const val: number[] = [];
  let floor = -Infinity;
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i];
    if (idx.length === topn && !(s > floor)) continue;
    if (exclude.has(i) || Number.isNaN(s)) continue;
    let at = idx.length;
    while (at > 0 && val[at - 1] < s) at--;
    idx.splice(at, 0, i);
    val.splice(at, 0, s);
    if (idx.length > topn) {
      idx.pop();
      val.pop();
    }
    if (idx.length === topn) floor = val[topn - 1];
  }
  return idx;
}

export function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

export function normalize(v: Float32Array): void {
  let n = 0;
  for (const x of v) n += x * x;
  const inv = n > 0 ? 1 / Math.sqrt(n) : 0;
  for (let i = 0; i < v.length; i++) v[i] *= inv;
}
