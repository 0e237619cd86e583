// Trains a BERT WordPiece vocabulary from word counts: bounded-memory counting, then BPE-style merges with `##` pieces.
//
// Written by hand because no maintained pure-JS tokenizer trainer exists in the registry (the `tokenizers` binding
// downloads native binaries). It follows Hugging Face's WordPieceTrainer: words are split into their first character
// and `##`-prefixed continuation characters, the most frequent adjacent pair is merged until the vocabulary is full
// (or no pair occurs `minFrequency` times), and the vocabulary is specials + alphabet + `##` alphabet + merges.
// Encoding then uses WordPiece's greedy longest match, as the tokenizer does.
import { geulError } from '../../core/errors.js';

export const WORDPIECE_PREFIX = '##';
/** BERT's tokenizer maps longer words to [UNK] (max_input_chars_per_word), so they teach the vocabulary nothing. */
export const MAX_WORD_CHARS = 100;

/**
 * Word → count in bounded memory: when more than `maxWords` distinct words are held, the rarest are dropped with a
 * rising threshold (word2vec's ReduceVocab), so a huge corpus costs at most `maxWords` entries; counts of words seen
 * again after being dropped restart from zero, which only touches rare words.
 */
export class WordpieceCounter {
  readonly counts = new Map<string, number>();
  private floor = 1;
  /** Words added in total (including those later pruned). */
  total = 0;

  constructor(private readonly maxWords = 2_000_000) {
    if (!(maxWords >= 1)) throw geulError('INVALID_INPUT', { detail: `maxWords must be at least 1, got ${maxWords}` });
  }

  add(word: string, count = 1): void {
    this.total += count;
    this.counts.set(word, (this.counts.get(word) ?? 0) + count);
    if (this.counts.size > this.maxWords) this.prune();
  }

  private prune(): void {
    while (this.counts.size > this.maxWords * 0.75) {
      for (const [word, count] of this.counts) if (count <= this.floor) this.counts.delete(word);
      this.floor++;
    }
  }
}

export interface WordpieceTrainOptions {
  /** Vocabulary size wanted, specials included. The whole alphabet is always kept, even when it alone is larger. */
  readonly vocabSize: number;
  /** Special tokens, given ids 0, 1, … in this order. */
  readonly specials: readonly string[];
  /** A pair must occur this often to be merged (Hugging Face's BertWordPieceTokenizer uses 2). */
  readonly minFrequency?: number;
  /** Keep only the most frequent characters (default 1000, as Hugging Face); words with others are skipped. */
  readonly limitAlphabet?: number;
  /** Told the merges done so far and the most that can be done. */
  readonly onProgress?: (done: number, total: number) => void;
}

/** The token list: index = id. */
export type WordpieceVocab = string[];

const PAIR_BASE = 2 ** 24;
const pairKey = (a: number, b: number) => a * PAIR_BASE + b;

interface HeapEntry { count: number; key: number }

/** Max-heap on count, then smallest pair key (deterministic ties). */
class PairHeap {
  private readonly items: HeapEntry[] = [];
  get size(): number { return this.items.length; }
  private before(a: HeapEntry, b: HeapEntry): boolean { return a.count > b.count || (a.count === b.count && a.key < b.key); }
  push(entry: HeapEntry): void {
    const items = this.items;
    items.push(entry);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(items[i], items[parent])) break;
      [items[i], items[parent]] = [items[parent], items[i]];
      i = parent;
    }
  }
  pop(): HeapEntry | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let best = i;
        if (l < items.length && this.before(items[l], items[best])) best = l;
        if (r < items.length && this.before(items[r], items[best])) best = r;
        if (best === i) break;
        [items[i], items[best]] = [items[best], items[i]];
        i = best;
      }
    }
    return top;
  }
}

/** The alphabet: every character, or the `limit` most frequent (ties by code point order). */
function alphabetOf(counts: ReadonlyMap<string, number>, limit: number): string[] {
  const chars = new Map<string, number>();
  for (const [word, count] of counts) for (const c of word) chars.set(c, (chars.get(c) ?? 0) + count);
  const sorted = [...chars].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return sorted.slice(0, limit).map(([c]) => c).sort();
}

/** Trains the vocabulary from `counts` (word → occurrences). */
export function trainWordpiece(counts: ReadonlyMap<string, number>, options: WordpieceTrainOptions): WordpieceVocab {
  const minFrequency = options.minFrequency ?? 2;
  if (!Number.isInteger(options.vocabSize) || options.vocabSize < options.specials.length + 1) {
    throw geulError('INVALID_INPUT', { detail: `the vocabulary size must be an integer above the ${options.specials.length} special tokens, got ${options.vocabSize}` });
  }
  const usable = new Map<string, number>();
  for (const [word, count] of counts) if (word.length > 0 && [...word].length <= MAX_WORD_CHARS && !word.startsWith(WORDPIECE_PREFIX)) usable.set(word, count);
  const alphabet = alphabetOf(usable, options.limitAlphabet ?? 1000);
  const known = new Set(alphabet);
  const tokens: string[] = [];
  const ids = new Map<string, number>();
  const intern = (token: string): number => {
    let id = ids.get(token);
    if (id === undefined) {
      id = tokens.length;
      tokens.push(token);
      ids.set(token, id);
    }
    return id;
  };
  for (const s of options.specials) intern(s);
  for (const c of alphabet) intern(c);
  // Continuation characters: every alphabet character that occurs inside some word.
  const inner = new Set<string>();
  const split: string[][] = [];
  const wordCounts: number[] = [];
  for (const [word, count] of [...usable].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) {
    const chars = [...word];
    if (!chars.every((c) => known.has(c))) continue;
    for (const c of chars.slice(1)) inner.add(c);
    split.push(chars.map((c, i) => (i === 0 ? c : WORDPIECE_PREFIX + c)));
    wordCounts.push(count);
  }
  for (const c of [...inner].sort()) intern(WORDPIECE_PREFIX + c);
  const words = split.map((pieces) => pieces.map(intern));
  const merges = Math.max(0, options.vocabSize - tokens.length);
  if (merges === 0) return tokens;

  const pairCounts = new Map<number, number>();
  const pairWords = new Map<number, Set<number>>();
  const count = (w: number, delta: number) => {
    const s = words[w];
    for (let i = 0; i + 1 < s.length; i++) {
      const key = pairKey(s[i], s[i + 1]);
      pairCounts.set(key, (pairCounts.get(key) ?? 0) + delta);
      if (delta > 0) {
        let set = pairWords.get(key);
        if (!set) pairWords.set(key, (set = new Set()));
        set.add(w);
      }
    }
  };
  for (let w = 0; w < words.length; w++) count(w, wordCounts[w]);
  const heap = new PairHeap();
  for (const [key, c] of pairCounts) heap.push({ count: c, key });

  const start = tokens.length;
  while (tokens.length < options.vocabSize && heap.size > 0) {
    const top = heap.pop()!;
    const current = pairCounts.get(top.key) ?? 0;
    if (current !== top.count) {
      // Stale entry: a lower current count needs its own entry; a higher one was pushed when it grew.
      if (current > 0 && current < top.count) heap.push({ count: current, key: top.key });
      continue;
    }
    if (current < minFrequency) break;
    const a = Math.floor(top.key / PAIR_BASE);
    const b = top.key % PAIR_BASE;
    const merged = intern(tokens[a] + tokens[b].slice(WORDPIECE_PREFIX.length));
    const affected = pairWords.get(top.key) ?? new Set<number>();
    pairWords.delete(top.key);
    const grown = new Set<number>();
    for (const w of affected) {
      const s = words[w];
      let has = false;
      for (let i = 0; i + 1 < s.length; i++) if (s[i] === a && s[i + 1] === b) { has = true; break; }
      if (!has) continue;
      count(w, -wordCounts[w]);
      const next: number[] = [];
      for (let i = 0; i < s.length; i++) {
        if (i + 1 < s.length && s[i] === a && s[i + 1] === b) { next.push(merged); i++; } else next.push(s[i]);
      }
      words[w] = next;
      count(w, wordCounts[w]);
      for (let i = 0; i + 1 < next.length; i++) if (next[i] === merged || next[i + 1] === merged) grown.add(pairKey(next[i], next[i + 1]));
    }
    pairCounts.delete(top.key);
    for (const key of grown) heap.push({ count: pairCounts.get(key) ?? 0, key });
    const done = tokens.length - start;
    if (options.onProgress && (done % 256 === 0 || done === merges)) options.onProgress(done, merges);
  }
  return tokens;
}
