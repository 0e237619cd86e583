// A tiny masked-LM pre-train: held-out loss falls, the folder is a fine-tunable HF checkpoint, resume, --base, bad input.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isGeulError } from '../../../src/core/errors.js';
import { readSafetensors } from '../../../src/core/weights/safetensors.js';
import { loadCheckpoint } from '../../../src/train/checkpoint.js';
import { SAMPLE_CORPUS } from '../../../src/fixtures/sample-corpus.js';
import { loadPretrainedEncoder } from '../../../src/train/pretrained/load.js';
import { finetuneEncoder } from '../../../src/train/pretrained/finetune.js';
import { pretrainEncoder, type PretrainResult } from '../../../src/train/pretrained/pretrain.js';
import type { PretrainEvent } from '../../../src/train/pretrained/pretrain-events.js';
import type { PretrainSpecInput } from '../../../src/train/pretrained/pretrain-spec.js';
import { trainWordpieceTokenizer, wordpieceTokenizerFiles } from '../../../src/train/pretrained/wordpiece-files.js';
import { sharedDataPath } from '../../helpers/shared-data.js';

const TEXTS = [...SAMPLE_CORPUS.en, ...SAMPLE_CORPUS.ko];
let dir: string;
let corpus: string;
let scratch: string;
let result: PretrainResult;
const events: PretrainEvent[] = [];

const spec = (out: string, extra: Partial<PretrainSpecInput> = {}): PretrainSpecInput => ({
  data: { sources: [corpus], heldOutFraction: 0.1 },
  model: { size: 'tiny', vocabSize: 400 },
  run: { steps: 40, batchSize: 8, maxLength: 32, evalEvery: 20, seed: 3 },
  optim: { lr: 5e-3 },
  output: { dir: out },
  ...extra,
});

const code = (expected: string) => (err: unknown) => isGeulError(err) && err.code === expected;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'geul-pretrain-'));
  corpus = join(dir, 'corpus.txt');
  // 300 distinct two-sentence documents, so the held-out slice (by a hash of each document) is like the rest.
  writeFileSync(corpus, Array.from({ length: 300 }, (_, i) => `${TEXTS[i % TEXTS.length]} ${TEXTS[(i * 7 + Math.floor(i / 20)) % TEXTS.length]}`).join('\n'));
  scratch = join(dir, 'scratch');
  result = await pretrainEncoder(spec(scratch), { onEvent: (e) => events.push(e) });
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('a tiny pre-train from scratch: held-out MLM loss falls below a uniform guess, with events and metrics', () => {
  assert.equal(result.reason, 'completed');
  assert.equal(result.steps, 40);
  assert.equal(result.history.length, 2);
  const [first, last] = result.history;
  const start = events.find((e) => e.type === 'start');
  assert.ok(start && start.type === 'start' && start.sequences > 0 && start.held_out_sequences > 0);
  // A uniform guess over the vocabulary scores ln(vocab); training goes well below it and keeps falling.
  const uniform = Math.log((start as { vocab_size: number }).vocab_size);
  assert.ok(first.loss < uniform, `${first.loss} vs ln(V) ${uniform}`);
  assert.ok(last.loss < first.loss, `held-out loss ${first.loss} → ${last.loss}`);
  assert.ok(last.accuracy > 0.05, `masked accuracy ${last.accuracy}`);
  assert.equal(events.filter((e) => e.type === 'step').length, 40);
  const metrics = JSON.parse(readFileSync(join(scratch, 'metrics.json'), 'utf8'));
  assert.equal(metrics.mlm_loss, last.loss);
  assert.equal(metrics.masked_accuracy, last.accuracy);
  assert.ok(metrics.tokens_per_s > 0);
  assert.equal(metrics.history.length, 2);
});

test('the output folder is a Hugging Face BertForMaskedLM checkpoint that finetuneEncoder fine-tunes', async () => {
  for (const file of ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json', 'vocab.txt', 'special_tokens_map.json']) {
    assert.ok(existsSync(join(scratch, file)), file);
  }
  const config = JSON.parse(readFileSync(join(scratch, 'config.json'), 'utf8'));
  assert.deepEqual(config.architectures, ['BertForMaskedLM']);
  assert.equal(config.num_hidden_layers, 2);
  const { tensors } = readSafetensors(join(scratch, 'model.safetensors'));
  assert.ok(tensors.has('bert.embeddings.word_embeddings.weight') && tensors.has('cls.predictions.bias'));
  assert.ok(!tensors.has('cls.predictions.decoder.weight'), 'the tied decoder is not stored twice');
  assert.equal(tensors.get('bert.embeddings.word_embeddings.weight')!.shape[0], config.vocab_size);
  // As a masked LM everything loads; as a classifier only the pooler and the new head are initialised.
  assert.deepEqual(loadPretrainedEncoder(scratch).weights.newlyInitialized, []);
  const asClassifier = loadPretrainedEncoder(scratch, 'sequence-classification');
  assert.deepEqual(asClassifier.weights.newlyInitialized.sort(), ['bert.pooler.dense.bias', 'bert.pooler.dense.weight', 'classifier.bias', 'classifier.weight']);
  // `geul finetune --base runs/<id>`: the folder fine-tunes as it is.
  const rows = Array.from({ length: 48 }, (_, i) => `${i % 2 === 0 ? 'wonderful great film' : 'boring bad film'} ${TEXTS[i % TEXTS.length]}\t${i % 2}`);
  const data = join(dir, 'labelled.tsv');
  writeFileSync(data, `text\tlabel\n${rows.join('\n')}\n`);
  const tuned = await finetuneEncoder({ data: { source: data }, model: { base: scratch }, run: { epochs: 1, batchSize: 8 }, optim: { lr: 1e-3 }, output: { dir: join(dir, 'tuned') } });
  assert.ok(tuned.best >= 0 && tuned.best <= 1);
  assert.deepEqual(tuned.newlyInitialized.sort(), ['bert.pooler.dense.bias', 'bert.pooler.dense.weight', 'classifier.bias', 'classifier.weight']);
  assert.equal(loadPretrainedEncoder(join(dir, 'tuned')).config.head, 'sequence-classification');
});

test('a cancelled run resumes to exactly the weights of an uninterrupted one', async () => {
  const whole = join(dir, 'whole');
  const parts = join(dir, 'parts');
  const run = { steps: 24, batchSize: 4, maxLength: 32, evalEvery: 12, seed: 5 };
  await pretrainEncoder(spec(whole, { run }));
  const controller = new AbortController();
  const cancelled = await pretrainEncoder(spec(parts, { run }), { signal: controller.signal, onEvent: (e) => { if (e.type === 'step' && e.step === 9) controller.abort(); } });
  assert.equal(cancelled.reason, 'cancelled');
  assert.equal(cancelled.steps, 9);
  assert.ok(!existsSync(join(parts, 'metrics.json')));
  const resumed = await pretrainEncoder(spec(parts, { run: { ...run, resume: true } }));
  assert.equal(resumed.steps, 24);
  const a = readSafetensors(join(whole, 'model.safetensors')).tensors;
  const b = readSafetensors(join(parts, 'model.safetensors')).tensors;
  assert.deepEqual([...a.keys()], [...b.keys()]);
  for (const [name, t] of a) {
    const u = b.get(name)!.data;
    let max = 0;
    for (let i = 0; i < t.data.length; i++) max = Math.max(max, Math.abs(t.data[i] - u[i]));
    assert.ok(max < 1e-6, `${name} differs by ${max}`);
  }
  assert.deepEqual(resumed.history.map((h) => h.step), [12, 24]);
  assert.ok(Math.abs(resumed.history[1].loss - JSON.parse(readFileSync(join(whole, 'metrics.json'), 'utf8')).mlm_loss) < 1e-6);
});

test('--base continues pre-training a checkpoint with its own tokenizer (domain adaptation) and whole-word masking', async () => {
  const adapted = join(dir, 'adapted');
  const korean = join(dir, 'korean.txt');
  writeFileSync(korean, Array.from({ length: 120 }, (_, i) => `${SAMPLE_CORPUS.ko[i % SAMPLE_CORPUS.ko.length]} ${i}`).join('\n'));
  const r = await pretrainEncoder({ data: { sources: [korean] }, model: { base: scratch }, masking: { wholeWord: true }, run: { steps: 6, batchSize: 4, maxLength: 32 }, output: { dir: adapted } });
  assert.equal(r.steps, 6);
  assert.equal(readFileSync(join(adapted, 'tokenizer.json'), 'utf8'), readFileSync(join(scratch, 'tokenizer.json'), 'utf8'));
  const before = readSafetensors(join(scratch, 'model.safetensors')).tensors.get('bert.encoder.layer.0.attention.self.query.weight')!.data;
  const after = readSafetensors(join(adapted, 'model.safetensors')).tensors.get('bert.encoder.layer.0.attention.self.query.weight')!.data;
  assert.notDeepEqual(after, before);
  assert.deepEqual(JSON.parse(readFileSync(join(adapted, 'config.json'), 'utf8')).architectures, ['BertForMaskedLM']);
});

test('continuing the reference BERT-MLM with --max-length over its 64 positions packs to 64, with one warning', async (t) => {
  const reference = sharedDataPath(t, 'reference-encoders', 'bert-mlm');
  if (!reference) return;
  const base = join(dir, 'reference-mlm');
  mkdirSync(base);
  for (const file of ['config.json', 'model.safetensors']) writeFileSync(join(base, file), readFileSync(join(reference, file)));
  async function* docs() { for (const text of SAMPLE_CORPUS.en) yield text; }
  const vocab = await trainWordpieceTokenizer(docs(), { vocabSize: 150 });
  for (const [name, text] of Object.entries(wordpieceTokenizerFiles(vocab, {}, 64))) writeFileSync(join(base, name), text);
  const english = join(dir, 'english.txt');
  writeFileSync(english, Array.from({ length: 80 }, (_, i) => `${SAMPLE_CORPUS.en[i % 10]} ${SAMPLE_CORPUS.en[(i * 3 + 1) % 10]}`).join('\n'));
  const seen: PretrainEvent[] = [];
  const r = await pretrainEncoder({ data: { sources: [english] }, model: { base }, run: { steps: 3, batchSize: 2, maxLength: 128 }, output: { dir: join(dir, 'reference-out') } }, { onEvent: (e) => seen.push(e) });
  assert.equal(r.steps, 3);
  const warnings = seen.filter((e) => e.type === 'log' && e.level === 'warning');
  assert.equal(warnings.length, 1);
  assert.match((warnings[0] as { message: string }).message, /64 positions/);
  assert.equal(JSON.parse(readFileSync(join(dir, 'reference-out', 'metrics.json'), 'utf8')).max_length, 64);
});

test('a diverging run (NaN loss) stops with TRAINING_FAILED and keeps the last checkpoint, with finite weights', async () => {
  const out = join(dir, 'diverged');
  const run = pretrainEncoder(spec(out, { optim: { lr: 1e30, warmup: 0, clipNorm: 0 }, run: { steps: 20, batchSize: 4, maxLength: 32, evalEvery: 1 } }));
  await assert.rejects(run, (err) => isGeulError(err) && err.code === 'TRAINING_FAILED' && /loss became .* keeps the checkpoint and model of step \d+/.test(err.message));
  const kept = await loadCheckpoint(out);
  assert.ok(kept.meta.step >= 1);
  for (const values of kept.state.params.values()) assert.ok(values.every(Number.isFinite), 'the checkpoint holds finite weights');
  assert.ok(existsSync(join(out, 'model.safetensors')));
  // Diverging at once, before any checkpoint, leaves no run folder behind.
  const early = join(dir, 'diverged-early');
  await assert.rejects(pretrainEncoder(spec(early, { optim: { lr: 1e30, warmup: 0, clipNorm: 0 }, run: { steps: 20, batchSize: 4, maxLength: 32, evalEvery: 50 } })), (err) => isGeulError(err) && /no checkpoint was written yet/.test(err.message));
  assert.ok(!existsSync(early));
});

test('bad inputs fail with catalogued errors and leave nothing in --out', async (t) => {
  const out = join(dir, 'bad');
  await assert.rejects(pretrainEncoder(spec(out, { model: { size: 'tiny', base: scratch } })), code('INVALID_INPUT'));
  await assert.rejects(pretrainEncoder(spec(out, { model: {} })), code('INVALID_INPUT'));
  await assert.rejects(pretrainEncoder(spec(out, { model: { size: 'tiny' } })), code('INVALID_INPUT'));
  await assert.rejects(pretrainEncoder(spec(out, { model: { size: 'tiny', vocabSize: 100, tokenizer: scratch } })), code('INVALID_INPUT'));
  await assert.rejects(pretrainEncoder(spec(out, { model: { size: 'huge' as 'tiny', vocabSize: 100 } })), code('INVALID_INPUT'));
  await assert.rejects(pretrainEncoder(spec(out, { run: { steps: 0 } })), code('INVALID_INPUT'));
  await assert.rejects(pretrainEncoder(spec(out, { data: { sources: [join(dir, 'missing.txt')] } })), code('FILE_NOT_FOUND'));
  await assert.rejects(pretrainEncoder(spec(corpus)), code('OUTPUT_INVALID'));
  // A base that is no encoder, and a tokenizer with more ids than the base has embeddings.
  const gpt2 = join(dir, 'gpt2');
  mkdirSync(gpt2);
  writeFileSync(join(gpt2, 'config.json'), JSON.stringify({ model_type: 'gpt2', vocab_size: 50 }));
  await assert.rejects(pretrainEncoder(spec(out, { model: { base: gpt2 } })), code('MODEL_INVALID'));
  const reference = sharedDataPath(t, 'reference-encoders', 'bert-mlm');
  if (reference) {
    const big = join(dir, 'big-vocab');
    mkdirSync(big);
    for (const file of ['config.json', 'model.safetensors']) writeFileSync(join(big, file), readFileSync(join(reference, file)));
    async function* docs() { for (const text of TEXTS) yield text; }
    const vocab = await trainWordpieceTokenizer(docs(), { vocabSize: 400 });
    assert.ok(vocab.length > 160);
    for (const [name, text] of Object.entries(wordpieceTokenizerFiles(vocab, {}, 64))) writeFileSync(join(big, name), text);
    await assert.rejects(pretrainEncoder(spec(out, { model: { base: big } })), code('TOKENIZER_VOCAB_MISMATCH'));
  }
  assert.ok(!existsSync(out) || readdirSync(out).length === 0, `nothing written: ${existsSync(out) ? readdirSync(out).join(', ') : ''}`);
});
