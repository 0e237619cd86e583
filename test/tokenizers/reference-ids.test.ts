// Real tokenizer files from ../shared/data reproduce the reference ids of the original Python tokenizers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname } from 'node:path';
import { configureTransformers } from '../../src/runtime/transformers.js';
import { sharedDataPath } from '../helpers/shared-data.js';

const hf = configureTransformers();

async function tokenizerAt(t: import('node:test').TestContext, name: string) {
  const file = sharedDataPath(t, 'tokenizers', name, 'tokenizer.json');
  return file ? hf.AutoTokenizer.from_pretrained(dirname(file), { local_files_only: true }) : undefined;
}

test('roberta-base: ByteLevel BPE with <s> … </s>', async (t) => {
  const tok = await tokenizerAt(t, 'roberta-base');
  if (!tok) return;
  assert.deepEqual(tok.encode('Hello world'), [0, 31414, 232, 2]);
  const korean = '한국어 텍스트도 됩니다';
  assert.equal(tok.decode(tok.encode(korean), { skip_special_tokens: true }), korean);
});

test('all-MiniLM-L6-v2: BERT uncased WordPiece with [CLS] … [SEP]', async (t) => {
  const tok = await tokenizerAt(t, 'all-MiniLM-L6-v2');
  if (!tok) return;
  assert.deepEqual(tok.encode('Hello world'), [101, 7592, 2088, 102]);
  assert.deepEqual(tok.encode('unaffable'), [101, 14477, 20961, 3468, 102]);
});

test('t5-small: SentencePiece Unigram with </s>', async (t) => {
  const tok = await tokenizerAt(t, 't5-small');
  if (!tok) return;
  assert.deepEqual(tok.encode('Hello world'), [8774, 296, 1]);
});

test('bert-base-uncased vocab.txt → WordPiece tokenizer.json written by geul', async (t) => {
  const vocabFile = sharedDataPath(t, 'tokenizers', 'bert-base-uncased', 'vocab.txt');
  if (!vocabFile) return;
  const { mkdtempSync, readFileSync, writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const { bertTokenizerFiles, parseVocabTxt } = await import('../../src/fixtures/wordpiece-tokenizer.js');
  const dir = mkdtempSync(join(tmpdir(), 'geul-bert-tok-'));
  for (const [name, text] of Object.entries(bertTokenizerFiles(parseVocabTxt(readFileSync(vocabFile, 'utf8')), 512))) writeFileSync(join(dir, name), text);
  const tok = await hf.AutoTokenizer.from_pretrained(dir, { local_files_only: true });
  assert.deepEqual(tok.encode('Hello world'), [101, 7592, 2088, 102]);
  assert.deepEqual(tok.encode('unaffable'), [101, 14477, 20961, 3468, 102]);
});

test('GPT-2 encoder.json + vocab.bpe: "Hello world" → 15496, 995', async (t) => {
  const encoder = sharedDataPath(t, 'tokenizers', 'gpt2-openai', 'encoder.json');
  if (!encoder) return;
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const { gpt2TokenizerFiles, readOpenAiGpt2Vocab } = await import('../../src/fixtures/gpt2-tokenizer.js');
  const dir = mkdtempSync(join(tmpdir(), 'geul-gpt2-tok-'));
  for (const [name, text] of Object.entries(gpt2TokenizerFiles(await readOpenAiGpt2Vocab(dirname(encoder))))) writeFileSync(join(dir, name), text);
  const tok = await hf.AutoTokenizer.from_pretrained(dir, { local_files_only: true });
  assert.deepEqual(tok.encode('Hello world'), [15496, 995]);
  const korean = '안녕하세요, 세계';
  assert.equal(tok.decode(tok.encode(korean)), korean);
});
