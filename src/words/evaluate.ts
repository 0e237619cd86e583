// Standard evaluations of word vectors: the Google analogy set (gensim semantics) and word-similarity Spearman.
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { geulError } from '../core/errors.js';
import { WordVectors } from './vectors.js';

export interface SectionScore { correct: number; incorrect: number; accuracy: number }
export interface AnalogyReport {
  accuracy: number;
  correct: number;
  total: number;
  /** Questions skipped because a word is outside the (restricted) vocabulary. */
  skipped: number;
  sections: Record<string, SectionScore>;
}

async function readText(path: string): Promise<string> {
  return readFile(path, 'utf8').catch(() => { throw geulError('FILE_NOT_FOUND', { path }); });
}

/**
 * gensim `evaluate_word_analogies`: only the first `restrictVocab` words take part; matching is case-insensitive
 * (both sides upper-cased, the first — most frequent — spelling kept); a question with a word outside that
 * vocabulary is skipped (counted, not scored); the answer is the best 3CosAdd candidate other than a, b and c.
 */
export async function evaluateAnalogies(vectors: WordVectors, path: string, options: { restrictVocab?: number } = {}): Promise<AnalogyReport> {
  const limit = Math.min(options.restrictVocab ?? 30000, vectors.size);
  const upper = new Map<string, number>();
  for (let i = 0; i < limit; i++) {
    const key = vectors.words[i].toUpperCase();
    if (!upper.has(key)) upper.set(key, i);
  }
  const sections: Record<string, SectionScore> = {};
  let section: SectionScore | undefined;
  let skipped = 0;
  for (const raw of (await readText(path)).split(/\r?\n/)) {
    const line = raw.trim();
    if (!line) continue;
    if (line.startsWith(':')) {
      section = { correct: 0, incorrect: 0, accuracy: 0 };
      sections[line.slice(1).trim()] = section;
      continue;
    }
    if (!section) throw geulError('DATA_INVALID', { path, where: '', detail: 'questions before the first ": section" line' });
    const parts = line.toUpperCase().split(/\s+/);
    if (parts.length !== 4) throw geulError('DATA_INVALID', { path, where: '', detail: `expected 4 words: "${line}"` });
    const ids = parts.map((w) => upper.get(w));
    if (ids.some((i) => i === undefined)) {
      skipped++;
      continue;
    }
    const [a, b, c, expected] = ids as number[];
    const words = [a, b, c].map((i) => vectors.words[i]);
    const answers = vectors.mostSimilar({ positive: [words[1], words[2]], negative: [words[0]], topn: 4, restrictVocab: limit });
    const predicted = answers.find((s) => !parts.slice(0, 3).includes(s.word.toUpperCase()));
    if (predicted && predicted.word.toUpperCase() === vectors.words[expected].toUpperCase()) section.correct++;
    else section.incorrect++;
  }
  let correct = 0;
  let incorrect = 0;
  for (const s of Object.values(sections)) {
    s.accuracy = s.correct + s.incorrect > 0 ? s.correct / (s.correct + s.incorrect) : 0;
    correct += s.correct;
    incorrect += s.incorrect;
  }
  return { accuracy: correct + incorrect > 0 ? correct / (correct + incorrect) : 0, correct, total: correct + incorrect, skipped, sections };
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

export function spearman(x: number[], y: number[]): number {
  return pearson(ranks(x), ranks(y));
}

/** `spearman`/`pearson` are NaN when fewer than two pairs are known; `oov` is the share of pairs skipped. */
export interface SimilarityReport { spearman: number; pearson: number; pairs: number; oov: number }

/** `word1<TAB>word2<TAB>score` lines: Spearman/Pearson of cosine vs human scores over known pairs; oov = share skipped. */
export async function evaluateSimilarity(vectors: WordVectors, path: string): Promise<SimilarityReport> {
  const lower = new Map<string, string>();
  for (const w of vectors.words) if (!lower.has(w.toLowerCase())) lower.set(w.toLowerCase(), w);
  const human: number[] = [];
  const model: number[] = [];
  let total = 0;
  for (const raw of (await readText(path)).split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const parts = line.split(/\t|\s+/);
    if (parts.length < 3 || !Number.isFinite(Number(parts[2]))) throw geulError('DATA_INVALID', { path, where: '', detail: `expected "word word score": "${line}"` });
    total++;
    const a = lower.get(parts[0].toLowerCase());
    const b = lower.get(parts[1].toLowerCase());
    if (!a || !b) continue;
    human.push(Number(parts[2]));
    model.push(vectors.similarity(a, b));
  }
  if (total === 0) throw geulError('DATA_INVALID', { path, where: '', detail: 'no word pairs' });
  // Fewer than two known pairs have no correlation: NaN (null in JSON), as gensim reports.
  const enough = human.length >= 2;
  return { spearman: enough ? spearman(model, human) : NaN, pearson: enough ? pearson(model, human) : NaN, pairs: human.length, oov: (total - human.length) / total };
}

export function similaritySetName(path: string): string {
  return basename(path).replace(/\.[^.]+$/, '');
}
