// BERT's text pipeline before the vocabulary: BertNormalizer and BertPreTokenizer, as transformers.js runs them.
//
// Written to match @huggingface/tokenizers (what `AutoTokenizer` in transformers.js executes) character for character,
// so the words a WordPiece vocabulary is trained on are the words inference will look up. Hangul is not a "Chinese
// character" in BERT's rule (only CJK ideograph blocks are split one per character), so Korean words stay whole and
// WordPiece splits them into `영화 ##가`-style pieces.

export interface BertTextOptions {
  /** Lower-case the text (BertNormalizer `lowercase`). Default true. */
  readonly lowercase?: boolean;
  /**
   * Remove accents (NFD, then drop non-spacing marks). Default false: NFD turns Hangul syllables into conjoining jamo,
   * so a stripped vocabulary would hold jamo rather than syllables; English loses little by keeping accents.
   */
  readonly stripAccents?: boolean;
}

/** The ASCII punctuation ranges BERT adds to Unicode's P categories (so `$`, `+`, `<`, `^`, `` ` `` split too). */
const PUNCTUATION = '\\p{P}\\u0021-\\u002F\\u003A-\\u0040\\u005B-\\u0060\\u007B-\\u007E';
const WORD_OR_PUNCT = new RegExp(`[^\\s${PUNCTUATION}]+|[${PUNCTUATION}]`, 'gu');
const CONTROL = /^\p{Cc}|\p{Cf}|\p{Co}|\p{Cs}$/u;
const WHITESPACE = /^\s$/;
const NON_SPACING_MARK = /\p{Mn}/gu;

/** CJK ideograph blocks BERT surrounds with spaces (code units, as transformers.js tests them). */
function isChineseChar(cp: number): boolean {
  return (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0x3400 && cp <= 0x4dbf) || (cp >= 0x20000 && cp <= 0x2a6df) || (cp >= 0x2a700 && cp <= 0x2b73f)
    || (cp >= 0x2b740 && cp <= 0x2b81f) || (cp >= 0x2b820 && cp <= 0x2ceaf) || (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0x2f800 && cp <= 0x2fa1f);
}

/** BertNormalizer with clean_text and handle_chinese_chars on. */
export function bertNormalize(text: string, options: BertTextOptions = {}): string {
  let cleaned = '';
  for (const char of text) {
    const unit = char.charCodeAt(0);
    if (unit === 0 || unit === 0xfffd || (char !== '\t' && char !== '\n' && char !== '\r' && CONTROL.test(char))) continue;
    cleaned += WHITESPACE.test(char) ? ' ' : char;
  }
  let spaced = '';
  // Code units, not code points: transformers.js tests `charCodeAt` of each unit, so astral ideographs are left alone.
  for (let i = 0; i < cleaned.length; i++) {
    const unit = cleaned.charCodeAt(i);
    spaced += isChineseChar(unit) ? ` ${cleaned[i]} ` : cleaned[i];
  }
  let out = (options.lowercase ?? true) ? spaced.toLowerCase() : spaced;
  if (options.stripAccents) out = out.normalize('NFD').replace(NON_SPACING_MARK, '');
  return out;
}

/** BertPreTokenizer: runs of non-space, non-punctuation characters, and each punctuation character alone. */
export function bertPreTokenize(normalized: string): string[] {
  return normalized.trim().match(WORD_OR_PUNCT) ?? [];
}

/** The words of `text` as BERT's WordPiece model sees them; literal special tokens are cut out first, as the tokenizer does. */
export function bertWords(text: string, options: BertTextOptions = {}, specials?: RegExp): string[] {
  const parts = specials ? text.split(specials) : [text];
  const words: string[] = [];
  for (const part of parts) {
    if (part.length === 0) continue;
    for (const word of bertPreTokenize(bertNormalize(part, options))) words.push(word);
  }
  return words;
}

/** A regular expression matching any of `tokens` literally (for splitting them out of text). */
export function literalPattern(tokens: readonly string[]): RegExp {
  return new RegExp(tokens.map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g');
}
