// A trained WordPiece vocabulary as Hugging Face tokenizer files (tokenizer.json, tokenizer_config.json, vocab.txt,
// special_tokens_map.json) that transformers.js and Python's transformers load as a BERT tokenizer.
import { geulError } from '../../core/errors.js';
import { bertWords, literalPattern, type BertTextOptions } from './wordpiece-text.js';
import { MAX_WORD_CHARS, WordpieceCounter, WORDPIECE_PREFIX, trainWordpiece, type WordpieceVocab } from './wordpiece-trainer.js';

export const BERT_SPECIAL_TOKENS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] as const;

export interface WordpieceTokenizerOptions extends BertTextOptions {
  readonly vocabSize: number;
  readonly minFrequency?: number;
  readonly limitAlphabet?: number;
  /** Most distinct words held while counting (bounded memory). */
  readonly maxWords?: number;
  readonly onProgress?: (stage: 'count' | 'merge', done: number, total: number) => void;
  readonly signal?: AbortSignal;
}

/** Counts BERT words in `documents` (one pass, streamed) and trains a vocabulary on them. */
export async function trainWordpieceTokenizer(documents: AsyncIterable<string>, options: WordpieceTokenizerOptions): Promise<WordpieceVocab> {
  const counter = new WordpieceCounter(options.maxWords);
  const specials = literalPattern(BERT_SPECIAL_TOKENS);
  let docs = 0;
  for await (const text of documents) {
    if (options.signal?.aborted) throw geulError('CANCELLED');
    for (const word of bertWords(text, options, specials)) counter.add(word);
    if (++docs % 1000 === 0) options.onProgress?.('count', docs, 0);
  }
  if (counter.counts.size === 0) throw geulError('INVALID_INPUT', { detail: 'the corpus holds no words to train a WordPiece vocabulary on' });
  return trainWordpiece(counter.counts, {
    vocabSize: options.vocabSize, specials: BERT_SPECIAL_TOKENS, minFrequency: options.minFrequency, limitAlphabet: options.limitAlphabet,
    onProgress: options.onProgress && ((done, total) => options.onProgress?.('merge', done, total)),
  });
}

/** The four tokenizer files of a BERT WordPiece vocabulary; `maxLength` becomes model_max_length. */
export function wordpieceTokenizerFiles(vocab: WordpieceVocab, text: BertTextOptions, maxLength: number): Record<string, string> {
  const lowercase = text.lowercase ?? true;
  const stripAccents = text.stripAccents ?? false;
  const ids = new Map(vocab.map((t, i) => [t, i]));
  const id = (token: string): number => {
    const v = ids.get(token);
    if (v === undefined) throw geulError('INVALID_INPUT', { detail: `the WordPiece vocabulary lacks ${token}` });
    return v;
  };
  const special = (token: string) => ({ id: id(token), content: token, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  const tokenizer = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: BERT_SPECIAL_TOKENS.map(special),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: stripAccents, lowercase },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      pair: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } }, { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: Object.fromEntries(['[CLS]', '[SEP]'].map((t) => [t, { id: t, ids: [id(t)], tokens: [t] }])),
    },
    decoder: { type: 'WordPiece', prefix: WORDPIECE_PREFIX, cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: WORDPIECE_PREFIX, max_input_chars_per_word: MAX_WORD_CHARS, vocab: Object.fromEntries(ids) },
  };
  const specialsMap = { unk_token: '[UNK]', sep_token: '[SEP]', pad_token: '[PAD]', cls_token: '[CLS]', mask_token: '[MASK]' };
  const config = {
    tokenizer_class: 'BertTokenizer',
    do_lower_case: lowercase,
    strip_accents: stripAccents,
    tokenize_chinese_chars: true,
    model_max_length: maxLength,
    ...specialsMap,
    clean_up_tokenization_spaces: true,
  };
  return {
    'tokenizer.json': JSON.stringify(tokenizer),
    'tokenizer_config.json': JSON.stringify(config, null, 2),
    'special_tokens_map.json': JSON.stringify(specialsMap, null, 2),
    'vocab.txt': `${vocab.join('\n')}\n`,
  };
}
