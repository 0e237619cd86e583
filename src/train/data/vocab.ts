// Word vocabulary for from-scratch models: Unicode-aware tokenisation (Hangul words stay whole), counting (streamable),
// max size / min frequency, and the tokenizer.json that makes transformers.js split text exactly as training did.
import { geulError } from '../../core/errors.js';

export const PAD = '[PAD]';
export const UNK = '[UNK]';

/**
 * Word characters as transformers.js compiles `\w` in a tokenizer.json regex (Unicode, like the Rust tokenizers):
 * letters of every script (Hangul, Han, Latin with accents …), combining marks, digits and connector punctuation.
 */
const WORD = '\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\u00B2\\u00B3\\u00B9\\u00BC-\\u00BE';
const TOKEN = new RegExp(`[${WORD}]+|[^${WORD}\\p{White_Space}]+`, 'gu');
/** The same pattern as written into tokenizer.json (a Split pre-tokenizer keeping the matches). */
const TOKEN_PATTERN = '\\w+|[^\\w\\s]+';

export interface TokenizeOptions {
  /** Lower-case before splitting (default true). */
  lowercase?: boolean;
}

/** NFC, optionally lower-cased, then runs of word characters and runs of other non-space characters. */
export function tokenize(text: string, options: TokenizeOptions = {}): string[] {
  const normal = text.normalize('NFC');
  return (options.lowercase === false ? normal : normal.toLowerCase()).match(TOKEN) ?? [];
}

export interface VocabOptions extends TokenizeOptions {
  /** Words kept, including [PAD] and [UNK] (default 30000). */
  maxSize?: number;
  /** Words seen fewer times are dropped (default 1). */
  minCount?: number;
}

/** Counts words text by text, so a corpus can be streamed instead of held in memory. */
export class WordCounter {
  readonly counts = new Map<string, number>();
  texts = 0;

  constructor(readonly options: TokenizeOptions = {}) {}

  add(text: string): void {
    this.texts++;
    for (const w of tokenize(text, this.options)) this.counts.set(w, (this.counts.get(w) ?? 0) + 1);
  }

  /** Most frequent words first (ties in code-point order), after [PAD]=0 and [UNK]=1. */
  vocab(options: VocabOptions = {}): WordVocab {
    const maxSize = options.maxSize ?? 30000;
    if (!Number.isInteger(maxSize) || maxSize < 3) throw geulError('INVALID_INPUT', { detail: `vocabulary size must be at least 3, got ${maxSize}` });
    const minCount = options.minCount ?? 1;
    const words = [...this.counts].filter(([, c]) => c >= minCount)
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([w]) => w);
    return new WordVocab([PAD, UNK, ...words.slice(0, maxSize - 2)], { lowercase: this.options.lowercase !== false });
  }
}

export class WordVocab {
  readonly ids = new Map<string, number>();
  readonly lowercase: boolean;

  constructor(readonly words: string[], options: { lowercase?: boolean } = {}) {
    words.forEach((w, i) => this.ids.set(w, i));
    this.lowercase = options.lowercase !== false;
  }

  /** Builds from texts (an array or any iterable; use WordCounter directly to stream). */
  static build(texts: Iterable<string>, options: VocabOptions = {}): WordVocab {
    const counter = new WordCounter(options);
    for (const t of texts) counter.add(t);
    return counter.vocab(options);
  }

  get size(): number {
    return this.words.length;
  }

  /** Token ids, cut to maxLength; an empty text becomes [UNK] so every row has a token. */
  encode(text: string, maxLength: number): number[] {
    const ids = tokenize(text, { lowercase: this.lowercase }).slice(0, maxLength).map((w) => this.ids.get(w) ?? 1);
    return ids.length === 0 ? [1] : ids;
  }

  /** What vocab.json keeps (with the run's labels) to rebuild this vocabulary on resume. */
  toJSON(): { words: string[]; lowercase: boolean } {
    return { words: this.words, lowercase: this.lowercase };
  }

  /** tokenizer.json (WordLevel; NFC [+ Lowercase]; Split on \w+|[^\w\s]+) and tokenizer_config.json for transformers.js. */
  tokenizerFiles(maxLength: number): Record<string, string> {
    const normalizers = [{ type: 'NFC' }, ...(this.lowercase ? [{ type: 'Lowercase' }] : [])];
    const tokenizer = {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: [PAD, UNK].map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
      normalizer: { type: 'Sequence', normalizers },
      pre_tokenizer: { type: 'Split', pattern: { Regex: TOKEN_PATTERN }, behavior: 'Removed', invert: true },
      post_processor: null,
      decoder: null,
      model: { type: 'WordLevel', vocab: Object.fromEntries(this.ids), unk_token: UNK },
    };
    const config = { tokenizer_class: 'PreTrainedTokenizerFast', model_max_length: maxLength, pad_token: PAD, unk_token: UNK, do_lower_case: this.lowercase };
    return { 'tokenizer.json': JSON.stringify(tokenizer), 'tokenizer_config.json': JSON.stringify(config, null, 2) };
  }
}
