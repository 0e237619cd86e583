// Standard evaluations of word vectors: the Google analogy set and word-similarity sets, with gensim's semantics.
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { geulError } from '../core/errors.js';
import { topIndices, type WordVectors } from './vectors.js';

export interface SectionScore { correct: number; incorrect: number; accuracy: number }
export interface AnalogyReport {
  /** correct / (correct + incorrect) over all sections (gensim's "Total accuracy"). */
  accuracy: number;
  correct: number;
  /** Questions scored (correct + incorrect). */
  total: number;
  /** Questions with a word outside the (restricted) vocabulary: skipped, or scored wrong with dummy4unknown. */
  skipped: number;
  /** Questions read (valid lines). */
  questions: number;
  /** skipped / questions. */
  oovRatio: number;
  sections: Record<string, SectionScore>;
}

export interface AnalogyOptions {
  /** Only the N most frequent words (file order) are known and candidates: gensim's restrict_vocab (default 30,000). */
  restrictVocab?: number;
  /** Count questions with unknown words as wrong instead of skipping them (gensim's dummy4unknown). */
  dummy4unknown?: boolean;
  /** 3CosAdd (gensim's evaluate_word_analogies) or 3CosMul. */
  method?: 'add' | 'mul';
}

async function readText(path: string): Promise<string> {
  return readFile(path, 'utf8').catch(() => { throw geulError('FILE_NOT_FOUND', { path }); });
}

/** Upper-cased word → row of its most frequent spelling among the first `limit` rows (gensim's ok_vocab). */
function upperVocab(vectors: WordVectors, limit: number): Map<string, number> {
  const upper = new Map<string, number>();
  for (let i = 0; i < limit; i++) {
    const key = vectors.words[i].toUpperCase();
    if (!upper.has(key)) upper.set(key, i);
  }
  return upper;
}

/**
 * gensim `evaluate_word_analogies`: case-insensitive (both sides upper-cased, the most frequent spelling wins); only
 * the first `restrictVocab` words take part; a question with an unknown word is skipped (counted); the prediction is
 * the best of the top 5 candidates (inputs excluded) whose upper-case form is not one of a, b, c.
 */
export async function evaluateAnalogies(vectors: WordVectors, path: string, options: AnalogyOptions = {}): Promise<AnalogyReport> {
  const limit = vectors.limit(options.restrictVocab ?? 30000);
  const upper = upperVocab(vectors, limit);
  const sections: Record<string, SectionScore> = {};
  const pending: { section: SectionScore; words: string[]; ids: number[] }[] = [];
  let section: SectionScore | undefined;
  let skipped = 0;
  let questions = 0;
  for (const raw of (await readText(path)).split('\n')) {
    if (raw.startsWith(': ')) {
      section = { correct: 0, incorrect: 0, accuracy: 0 };
      sections[raw.slice(2).trim()] = section;
      continue;
    }
    const words = raw.trim().toUpperCase().split(/\s+/);
    if (words.length !== 4) continue; // gensim skips invalid lines (and blank ones)
    if (!section) throw geulError('DATA_INVALID', { path, where: '', detail: 'a question comes before the first ": section" line' });
    questions++;
    const ids = words.map((w) => upper.get(w));
    if (ids.some((i) => i === undefined)) {
      skipped++;
      if (options.dummy4unknown) section.incorrect++;
      continue;
    }
    pending.push({ section, words, ids: ids as number[] });
  }
  const BATCH = 64;
  for (let start = 0; start < pending.length; start += BATCH) {
    const batch = pending.slice(start, start + BATCH);
    const results = options.method === 'mul'
      ? batch.map((q) => vectors.mostSimilarCosmul({ positive: [vectors.words[q.ids[1]], vectors.words[q.ids[2]]], negative: [vectors.words[q.ids[0]]], topn: 5, restrictVocab: limit }).map((s) => s.word))
      : cosAdd(vectors, batch.map((q) => q.ids), limit);
    batch.forEach((q, j) => {
      const ignore = new Set(q.words.slice(0, 3));
      let predicted: string | undefined;
      for (const word of results[j]) {
        predicted = word.toUpperCase();
        if (upper.has(predicted) && !ignore.has(predicted)) break;
      }
      if (predicted === q.words[3]) q.section.correct++;
      else q.section.incorrect++;
    });
  }
  let correct = 0;
  let incorrect = 0;
  for (const s of Object.values(sections)) {
    s.accuracy = s.correct + s.incorrect > 0 ? s.correct / (s.correct + s.incorrect) : 0;
    correct += s.correct;
    incorrect += s.incorrect;
  }
  return {
    accuracy: correct + incorrect > 0 ? correct / (correct + incorrect) : 0, correct, total: correct + incorrect,
    skipped, questions, oovRatio: questions > 0 ? skipped / questions : 0, sections,
  };
}

/** Top-5 3CosAdd answers (b − a + c over unit vectors) for many questions at once, scored four per matrix pass. */
function cosAdd(vectors: WordVectors, questions: number[][], limit: number): string[][] {
  const means = questions.map(([a, b, c]) => vectors.meanVector([vectors.words[b], vectors.words[c]], [vectors.words[a]]).mean);
  const scores = vectors.scores(means, limit);
  return questions.map(([a, b, c], j) => topIndices(scores[j], new Set([a, b, c]), 5).map((i) => vectors.words[i]));
}

/** Average ranks (ties share the mean rank), as Spearman's correlation needs. */
export function ranks(values: number[]): number[] {
  const order = values.map((v, i) => [v, i] as const).sort((x, y) => x[0] - y[0]);
  const out = new Array<number>(values.length);
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && order[j + 1][0] === order[i][0]) j++;
    for (let k = i; k <= j; k++) out[order[k][1]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return out;
}

export function pearson(x: number[], y: number[]): number {
  const n = x.length;
  const mx = x.reduce((a, b) => a + b, 0) / n;
  const my = y.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
    syy += (y[i] - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}

/** Spearman's ρ: Pearson's r of the average ranks (scipy.stats.spearmanr). NaN when a side is constant. */
export function spearman(x: number[], y: number[]): number {
  return pearson(ranks(x), ranks(y));
}

/** `spearman`/`pearson` are NaN (null in JSON) when fewer than two pairs are known; `oov` is the share skipped. */
export interface SimilarityReport { spearman: number; pearson: number; pairs: number; oov: number }

export interface SimilarityOptions {
  /** Only the first N words count as known (gensim's evaluate_word_pairs default: 300,000). */
  restrictVocab?: number;
  /** Score unknown pairs as similarity 0 instead of skipping them (gensim's dummy4unknown). */
  dummy4unknown?: boolean;
}

/**
 * gensim `evaluate_word_pairs`: `word1<TAB>word2<TAB>score` lines (whitespace when a line has no tab), `#` comments
 * and malformed lines skipped, case-insensitive; Spearman and Pearson of cosine vs the human scores over known pairs.
 */
export async function evaluateSimilarity(vectors: WordVectors, path: string, options: SimilarityOptions = {}): Promise<SimilarityReport> {
  const upper = upperVocab(vectors, vectors.limit(options.restrictVocab ?? 300000));
  const human: number[] = [];
  const model: number[] = [];
  let oov = 0;
  for (const raw of (await readText(path)).split('\n')) {
    if (!raw.trim() || raw.startsWith('#')) continue;
    const parts = (raw.includes('\t') ? raw.split('\t') : raw.trim().split(/\s+/)).map((p) => p.trim());
    const gold = Number(parts[2]);
    if (parts.length !== 3 || parts[2] === '' || !Number.isFinite(gold)) continue;
    const a = upper.get(parts[0].toUpperCase());
    const b = upper.get(parts[1].toUpperCase());
    if (a === undefined || b === undefined) {
      oov++;
      if (options.dummy4unknown) {
        human.push(gold);
        model.push(0);
      }
      continue;
    }
    human.push(gold);
    model.push(vectors.similarity(vectors.words[a], vectors.words[b]));
  }
  const total = options.dummy4unknown ? human.length : human.length + oov;
  if (total === 0) throw geulError('DATA_INVALID', { path, where: '', detail: 'no "word1 TAB word2 TAB score" lines' });
  const enough = human.length >= 2;
  return {
    spearman: enough ? spearman(model, human) : NaN,
    pearson: enough ? pearson(model, human) : NaN,
    pairs: options.dummy4unknown ? human.length - oov : human.length,
    oov: oov / total,
  };
}

export function similaritySetName(path: string): string {
  return basename(path).replace(/\.[^.]+$/, '');
}
