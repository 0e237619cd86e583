// `geul export` end to end: a reference classifier exported and served by `geul sentiment` at fp32 and q8, a Hub export, and every bad input with nothing left in --out.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../../src/core/config.js';
import { isGeulError } from '../../../src/core/errors.js';
import { readSafetensors } from '../../../src/core/weights/safetensors.js';
import { bertTokenizerFiles, smallBertVocab } from '../../../src/fixtures/wordpiece-tokenizer.js';
import { exportCheckpoint } from '../../../src/train/pretrained/export-folder.js';
import type { ExportTask } from '../../../src/train/pretrained/export.js';
import { jsonLines, runCli } from '../../helpers/cli.js';
import { startFakeHub, type FakeHub } from '../../helpers/fake-hub.js';
import { torchSave } from '../../helpers/torch-save.js';
import { sharedDataDir } from '../../helpers/shared-data.js';

const references = sharedDataDir() && join(sharedDataDir()!, 'reference-encoders');
const skip = references && existsSync(join(references, 'bert-cls')) ? false : 'shared test data not found: ../shared/data/reference-encoders';
const work = mkdtempSync(join(tmpdir(), 'geul-export-cli-'));
const env = { GEUL_CACHE_DIR: join(work, 'cache'), GEUL_CONFIG: join(work, 'none.json') };
let hub: FakeHub | undefined;
after(async () => {
  await hub?.close();
  rmSync(work, { recursive: true, force: true });
});

/** A copy of a reference checkpoint, with a WordPiece tokenizer of `vocabSize` tokens (the reference has none). */
function checkpoint(name: string, reference: string, vocabSize?: number): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  for (const file of ['config.json', 'model.safetensors']) copyFileSync(join(references!, reference, file), join(dir, file));
  if (vocabSize !== undefined) {
    for (const [file, text] of Object.entries(bertTokenizerFiles(smallBertVocab().slice(0, vocabSize), 64, { stripAccents: false }))) writeFileSync(join(dir, file), text);
  }
  return dir;
}

let bertCls: string;
before(() => {
  if (skip) return;
  writeFileSync(env.GEUL_CONFIG, '{}');
  bertCls = checkpoint('bert-cls', 'bert-cls', 200);
});

const hubConfig = (extra: Record<string, unknown> = {}) => loadConfig({ cacheDir: env.GEUL_CACHE_DIR, ...extra }, { env: {}, skipFile: true });

test('export a reference classifier, then `geul sentiment` serves it at fp32 and q8 with the same labels', { skip }, async () => {
  const out = join(work, 'out-cls');
  const r = await runCli(['export', '--model', bertCls, '--task', 'classify', '--out', out, '--json'], { env });
  assert.equal(r.code, 0, r.stderr);
  const result = jsonLines(r.stdout)[0] as { files: string[]; architecture: string };
  assert.equal(result.architecture, 'BertForSequenceClassification');
  assert.deepEqual(readdirSync(out).sort(), ['config.json', 'onnx', 'special_tokens_map.json', 'tokenizer.json', 'tokenizer_config.json', 'vocab.txt']);
  assert.deepEqual(readdirSync(join(out, 'onnx')).sort(), ['model.onnx', 'model_quantized.onnx']);
  const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as { architectures: string[]; id2label: Record<string, string> };
  assert.deepEqual(config.architectures, ['BertForSequenceClassification']);

  const scores: Record<string, Record<string, number>> = {};
  for (const dtype of ['fp32', 'q8']) {
    const s = await runCli(['sentiment', '--model', out, '--dtype', dtype, '--json', 'a great film'], { env });
    assert.equal(s.code, 0, s.stderr);
    const [labels] = jsonLines(s.stdout) as { label: string; score: number }[][];
    scores[dtype] = Object.fromEntries(labels!.map((l) => [l.label, l.score]));
  }
  assert.deepEqual(Object.keys(scores['fp32']!).sort(), Object.values(config.id2label).sort());
  for (const label of Object.keys(scores['fp32']!)) {
    assert.ok(Math.abs(scores['fp32']![label]! - scores['q8']![label]!) < 0.02, `${label}: fp32 ${scores['fp32']![label]} vs q8 ${scores['q8']![label]}`);
  }
});

test('a Hub checkpoint with only pytorch_model.bin exports through the fake hub, then again offline from the cache', { skip }, async () => {
  const { tensors } = readSafetensors(join(references!, 'distilbert-cls', 'model.safetensors'));
  const bin = torchSave([...tensors].map(([name, t]) => [name, t] as const));
  hub = await startFakeHub({ repos: { 'acme/distil': { main: { 'config.json': readFileSync(join(references!, 'distilbert-cls', 'config.json')), 'pytorch_model.bin': bin } } } });
  const out = join(work, 'out-hub');
  const result = await exportCheckpoint({ model: 'acme/distil', task: 'embeddings', out, hub: hubConfig({ hubUrl: hub.url }) });
  assert.equal(result.architecture, 'DistilBertModel');
  const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as { architectures: string[] };
  assert.deepEqual(config.architectures, ['DistilBertModel']);
  assert.ok(existsSync(join(out, 'onnx', 'model_quantized.onnx')));
  hub.clearRequests();
  await exportCheckpoint({ model: 'acme/distil', task: 'embeddings', out: join(work, 'out-hub-2'), hub: hubConfig({ hubUrl: hub.url, offline: true }) });
  assert.equal(hub.count(), 0);
});

/** Runs an export expected to fail with `code`; `out` and its parent must hold no trace of it afterwards. */
async function failsCleanly(model: string, task: ExportTask, code: string, message?: RegExp, out = join(work, 'parent', 'out-bad')): Promise<void> {
  mkdirSync(join(work, 'parent'), { recursive: true });
  const before = readdirSync(join(work, 'parent'));
  await assert.rejects(exportCheckpoint({ model, task, out, hub: hubConfig() }), (err: unknown) => {
    assert.ok(isGeulError(err), String(err));
    assert.equal(err.code, code, err.message);
    if (message) assert.match(err.message, message);
    return true;
  });
  assert.deepEqual(readdirSync(join(work, 'parent')), before, 'nothing half-written next to --out');
}

test('bad input: other architectures, a truncated safetensors, a head the checkpoint lacks, a tokenizer larger than the embeddings, a used --out', { skip }, async () => {
  for (const [type, arch] of [['gpt2', 'GPT2LMHeadModel'], ['m2m_100', 'M2M100ForConditionalGeneration']]) {
    const dir = checkpoint(`other-${type}`, 'bert-cls');
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: type, architectures: [arch] }));
    await failsCleanly(dir, 'classify', 'MODEL_INVALID', new RegExp(`"${type}".*supported: bert, distilbert, roberta, xlm-roberta`));
  }
  const truncated = checkpoint('truncated', 'bert-cls');
  const bytes = readFileSync(join(truncated, 'model.safetensors'));
  writeFileSync(join(truncated, 'model.safetensors'), bytes.subarray(0, bytes.length - 100));
  await failsCleanly(truncated, 'classify', 'WEIGHTS_OFFSETS_INVALID');
  const garbage = checkpoint('garbage', 'bert-cls');
  writeFileSync(join(garbage, 'model.safetensors'), Buffer.alloc(64, 0xff));
  await failsCleanly(garbage, 'classify', 'WEIGHTS_HEADER_TOO_LARGE');

  await failsCleanly(join(references!, 'bert-base-noprefix'), 'classify', 'TASK_NOT_SUPPORTED', /newly initialized: classifier\.weight, classifier\.bias/);
  await failsCleanly(join(references!, 'bert-cls'), 'fill-mask', 'TASK_NOT_SUPPORTED', /masked-LM head/);
  await failsCleanly(checkpoint('big-tokenizer', 'bert-cls', 300), 'classify', 'TOKENIZER_VOCAB_MISMATCH', /ids up to 299 but its embeddings have 200 rows/);

  const used = join(work, 'parent', 'used');
  mkdirSync(used, { recursive: true });
  writeFileSync(join(used, 'keep.txt'), 'mine');
  await failsCleanly(bertCls, 'classify', 'OUTPUT_INVALID', /not empty/, used);
  assert.equal(readFileSync(join(used, 'keep.txt'), 'utf8'), 'mine');
});

test('an unknown --task is a one-line INVALID_INPUT naming the tasks', { skip }, async () => {
  const r = await runCli(['export', '--model', bertCls, '--task', 'translate', '--out', join(work, 'out-task')], { env });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /--task must be one of classify, fill-mask, embeddings.*\[INVALID_INPUT\]/);
  assert.ok(!existsSync(join(work, 'out-task')));
});

test('embeddings of an MLM checkpoint and fill-mask of its head both export (every task the checkpoint can do)', { skip }, async () => {
  for (const task of ['embeddings', 'fill-mask'] as const) {
    const result = await exportCheckpoint({ model: join(references!, 'bert-mlm'), task, out: join(work, `mlm-${task}`), hub: hubConfig() });
    assert.equal(result.architecture, task === 'embeddings' ? 'BertModel' : 'BertForMaskedLM');
    assert.ok(result.sizes.q8 < result.sizes.fp32);
  }
});

test('an exported MLM serves `geul fill-mask` and its base encoder `geul embed`, at q8', { skip }, async () => {
  const mlm = checkpoint('bert-mlm-tok', 'bert-mlm', 160);
  const fill = join(work, 'served-fill');
  const embed = join(work, 'served-embed');
  await exportCheckpoint({ model: mlm, task: 'fill-mask', out: fill, hub: hubConfig() });
  await exportCheckpoint({ model: mlm, task: 'embeddings', out: embed, hub: hubConfig() });
  const f = await runCli(['fill-mask', '--model', fill, '--dtype', 'q8', '--json', 'a [MASK] b'], { env });
  assert.equal(f.code, 0, f.stderr);
  const [candidates] = jsonLines(f.stdout) as { token: string; score: number }[][];
  assert.ok(candidates!.length > 0 && candidates!.every((c) => typeof c.token === 'string' && c.score >= 0 && c.score <= 1));
  const e = await runCli(['embed', '--model', embed, '--dtype', 'q8', '--json', 'a b'], { env });
  assert.equal(e.code, 0, e.stderr);
  const [vector] = jsonLines(e.stdout) as number[][];
  assert.equal(vector!.length, 48);
});
