// WordPiece training: merges, bounded counting, and tokenizer files that transformers.js tokenises exactly as trained.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isGeulError } from '../../../src/core/errors.js';
import { SAMPLE_CORPUS } from '../../../src/fixtures/sample-corpus.js';
import { configureTransformers } from '../../../src/runtime/transformers.js';
import { BERT_SPECIAL_TOKENS, trainWordpieceTokenizer, wordpieceTokenizerFiles } from '../../../src/train/pretrained/wordpiece-files.js';
import { bertWords, literalPattern } from '../../../src/train/pretrained/wordpiece-text.js';
import { WordpieceCounter, trainWordpiece } from '../../../src/train/pretrained/wordpiece-trainer.js';

const KOREAN = ['영화가 정말 재미있었다. 배우들의 연기도 좋았다!', '이 영화는 별로였다… 지루하고 길었다.', '서울에서 본 영화 중 최고의 영화였다', '재미있는 영화를 또 보고 싶다'];
const MIXED = ['中文字符 and 日本語 text', 'Café naïve résumé — “quoted” text, $5 + 3 = <8> ^_^ `tick`', 'tabs\tand\nnew lines\u0007 with a bell and a\u200bzero-width space', 'SHOUTING Words AND [MASK] tokens [CLS] inside'];

async function* documents(texts: readonly string[]): AsyncGenerator<string> {
  for (const t of texts) yield t;
}

/** The greedy longest-match-first WordPiece the model type defines, as an oracle independent of transformers.js. */
function wordpieceIds(words: readonly string[], vocab: readonly string[]): number[] {
  const ids = new Map(vocab.map((t, i) => [t, i]));
  const out: number[] = [];
  for (const word of words) {
    if (ids.has(word) && BERT_SPECIAL_TOKENS.includes(word as (typeof BERT_SPECIAL_TOKENS)[number])) {
      out.push(ids.get(word)!);
      continue;
    }
    const chars = [...word];
    const pieces: number[] = [];
    let start = 0;
    while (start < chars.length) {
      let end = chars.length;
      let found: number | undefined;
      while (end > start) {
        const piece = (start > 0 ? '##' : '') + chars.slice(start, end).join('');
        found = ids.get(piece);
        if (found !== undefined) break;
        end--;
      }
      if (found === undefined) {
        pieces.length = 0;
        pieces.push(ids.get('[UNK]')!);
        break;
      }
      pieces.push(found);
      start = end;
    }
    out.push(...pieces);
  }
  return out;
}

test('the first merge joins the most frequent pair, continuation pieces keep ##, and specials come first', () => {
  const vocab = trainWordpiece(new Map([['hug', 10], ['pug', 5], ['hugs', 5], ['bun', 4]]), { vocabSize: 17, specials: BERT_SPECIAL_TOKENS });
  assert.deepEqual(vocab.slice(0, 5), [...BERT_SPECIAL_TOKENS]);
  // Alphabet: b h p (first letters) and g n s u (all letters); continuation pieces ##g ##n ##s ##u.
  assert.deepEqual(vocab.slice(5, 16), ['b', 'g', 'h', 'n', 'p', 's', 'u', '##g', '##n', '##s', '##u']);
  // (##u, ##g) occurs 10 + 5 + 5 = 20 times, more than any other pair.
  assert.equal(vocab[16], '##ug');
  const more = trainWordpiece(new Map([['hug', 10], ['pug', 5], ['hugs', 5], ['bun', 4], ['zap', 1]]), { vocabSize: 60, specials: BERT_SPECIAL_TOKENS });
  assert.ok(more.includes('hug') && more.includes('hugs') && more.includes('bun'), `learned: ${more.slice(16).join(' ')}`);
  // zap's pairs occur once, under the default minFrequency of 2: never merged, so training stops short of 60.
  assert.ok(!more.some((t) => t.includes('za') || t.includes('ap')), more.join(' '));
  assert.ok(more.length < 60);
});

test('the counter holds at most maxWords words and keeps frequent words exact', () => {
  const counter = new WordpieceCounter(100);
  for (let i = 0; i < 5000; i++) {
    counter.add(`rare${i}`);
    if (i % 10 === 0) counter.add('often');
  }
  assert.ok(counter.counts.size <= 100, `${counter.counts.size} words held`);
  assert.equal(counter.total, 5500);
  assert.ok((counter.counts.get('often') ?? 0) >= 400, `often counted ${counter.counts.get('often')}`);
});

test('a trained vocabulary loads in transformers.js and tokenises English, Korean and mixed text exactly as trained', async () => {
  const corpus = [...SAMPLE_CORPUS.en, ...SAMPLE_CORPUS.ko, ...SAMPLE_CORPUS.fr, ...KOREAN, ...MIXED];
  const vocab = await trainWordpieceTokenizer(documents([...corpus, ...corpus]), { vocabSize: 400 });
  assert.ok(vocab.length <= 400 && vocab.length > 150, `${vocab.length} tokens`);
  assert.deepEqual(vocab.slice(0, 5), [...BERT_SPECIAL_TOKENS]);
  assert.equal(new Set(vocab).size, vocab.length, 'no duplicate tokens');
  const dir = mkdtempSync(join(tmpdir(), 'geul-wordpiece-'));
  try {
    for (const [name, text] of Object.entries(wordpieceTokenizerFiles(vocab, {}, 64))) writeFileSync(join(dir, name), text);
    const tokenizer = await configureTransformers().AutoTokenizer.from_pretrained(dir, { local_files_only: true });
    const specials = literalPattern(BERT_SPECIAL_TOKENS);
    const unseen = ['Unseen words like xylophone and 한국어 문장', '영화 재미'];
    for (const text of [...corpus, ...unseen]) {
      const words = text.split(/(\[MASK\]|\[CLS\])/).flatMap((part) => (specials.test(part) ? [part] : bertWords(part)));
      specials.lastIndex = 0;
      const expected = wordpieceIds(words, vocab);
      assert.deepEqual(tokenizer.encode(text, { add_special_tokens: false }), expected, text);
    }
    // Hangul stays in syllables (not jamo, not one token per character like CJK ideographs): pieces rejoin to words.
    const pieces = tokenizer.tokenize('영화가 정말 재미있었다');
    assert.ok(!pieces.includes('[UNK]'), pieces.join(' '));
    assert.equal(pieces.join(' ').replace(/ ##/g, ''), '영화가 정말 재미있었다');
    assert.deepEqual(tokenizer.tokenize('中文字'), ['中', '文', '字']);
    const encoded = tokenizer.encode('hello world');
    assert.equal(encoded[0], vocab.indexOf('[CLS]'));
    assert.equal(encoded.at(-1), vocab.indexOf('[SEP]'));
    assert.equal(tokenizer.decode(tokenizer.encode('the cat is sleeping'), { skip_special_tokens: true }), 'the cat is sleeping');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('stripping accents is an option written into tokenizer.json and applied while training', async () => {
  const vocab = await trainWordpieceTokenizer(documents(['café café résumé naïve', 'cafe']), { vocabSize: 60, stripAccents: true });
  assert.ok(!vocab.some((t) => /[éï]/.test(t)), vocab.join(' '));
  const json = JSON.parse(wordpieceTokenizerFiles(vocab, { stripAccents: true }, 32)['tokenizer.json']);
  assert.equal(json.normalizer.strip_accents, true);
  assert.equal(json.model.type, 'WordPiece');
});

test('bad inputs: a vocabulary no larger than the specials, and a corpus with no words', async () => {
  await assert.rejects(trainWordpieceTokenizer(documents(['some words']), { vocabSize: 5 }), (err) => isGeulError(err) && err.code === 'INVALID_INPUT');
  await assert.rejects(trainWordpieceTokenizer(documents(['   ', '\u0007']), { vocabSize: 100 }), (err) => isGeulError(err) && err.code === 'INVALID_INPUT');
});
