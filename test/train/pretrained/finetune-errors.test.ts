// geul finetune's bad inputs: each a catalogued error, with nothing written to --out; NaN keeps the last checkpoint.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, truncateSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCheckpoint } from '../../../src/train/checkpoint.js';
import { finetuneEncoder } from '../../../src/train/pretrained/finetune.js';
import type { FinetuneSpecInput } from '../../../src/train/pretrained/finetune-spec.js';
import { sharedDataPath } from '../../helpers/shared-data.js';
import { sentimentRows, tinyBase, tinyVocab, writeJsonl } from './finetune-fixture.js';

const setup = (t: TestContext) => {
  const reference = sharedDataPath(t, 'reference-encoders', 'bert-cls');
  if (!reference) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'geul-ft-bad-'));
  const data = writeJsonl(dir, 'train.jsonl', sentimentRows(30));
  const out = join(dir, 'run');
  const spec = (base: string, extra: Partial<FinetuneSpecInput> = {}): FinetuneSpecInput => ({
    data: { source: data }, model: { base }, run: { epochs: 1, batchSize: 8, threads: 1 }, output: { dir: out }, ...extra,
  });
  return { reference, dir, data, out, spec };
};

const rejectsWith = async (run: Promise<unknown>, code: string, message: RegExp) => {
  await assert.rejects(run, (err: Error & { code?: string }) => {
    assert.equal(err.code, code, err.message);
    assert.match(err.message, message);
    return true;
  });
};

test('a base of another architecture (GPT-2) names the supported types; --out stays absent', async (t) => {
  const s = setup(t);
  if (!s) return;
  const base = tinyBase(s.reference);
  writeFileSync(join(base, 'config.json'), JSON.stringify({ model_type: 'gpt2', architectures: ['GPT2LMHeadModel'], n_embd: 64, n_layer: 2, vocab_size: 200 }));
  await rejectsWith(finetuneEncoder(s.spec(base)), 'MODEL_INVALID', /"gpt2" is not a supported encoder \(supported: bert, distilbert, roberta, xlm-roberta\)/);
  assert.ok(!existsSync(s.out));
});

test('a tokenizer making more ids than the embeddings have rows → TOKENIZER_VOCAB_MISMATCH; --out stays absent', async (t) => {
  const s = setup(t);
  if (!s) return;
  const base = tinyBase(s.reference, tinyVocab(150));
  await rejectsWith(finetuneEncoder(s.spec(base)), 'TOKENIZER_VOCAB_MISMATCH', /ids up to 2\d\d but its embeddings have 200 rows/);
  assert.ok(!existsSync(s.out));
});

test('validation labels training never saw → DATA_LABEL_UNKNOWN naming the row; --out stays absent', async (t) => {
  const s = setup(t);
  if (!s) return;
  const valid = writeJsonl(s.dir, 'valid.jsonl', [{ text: 'good film', label: 'pos' }, { text: 'a plot', label: 'mixed' }]);
  await rejectsWith(finetuneEncoder({ ...s.spec(tinyBase(s.reference)), data: { source: s.data, valid } }), 'DATA_LABEL_UNKNOWN', /Label "mixed" in .*valid\.jsonl line 2 is not in the label set \(the training labels: neg, pos\)/);
  assert.ok(!existsSync(s.out));
});

test('a truncated safetensors file → WEIGHTS_OFFSETS_INVALID; --out stays absent', async (t) => {
  const s = setup(t);
  if (!s) return;
  const base = tinyBase(s.reference);
  const weights = join(base, 'model.safetensors');
  truncateSync(weights, statSync(weights).size - 100);
  await rejectsWith(finetuneEncoder(s.spec(base)), 'WEIGHTS_OFFSETS_INVALID', /run past the .*data buffer \(truncated file\?\)/);
  assert.ok(!existsSync(s.out));
});

test('a missing base folder, a missing tokenizer.json and --freeze-layers beyond the model are clear errors', async (t) => {
  const s = setup(t);
  if (!s) return;
  await rejectsWith(finetuneEncoder(s.spec(join(s.dir, 'nowhere'))), 'MODEL_NOT_FOUND', /nowhere/);
  const bare = tinyBase(s.reference);
  writeFileSync(join(bare, 'tokenizer.json'), '');
  await rejectsWith(finetuneEncoder(s.spec(bare)), 'MODEL_INVALID', /tokenizer/);
  await rejectsWith(finetuneEncoder({ ...s.spec(tinyBase(s.reference)), model: { base: tinyBase(s.reference), freezeLayers: 3 } }), 'INVALID_INPUT', /--freeze-layers 3: the model has 2 layers/);
  await rejectsWith(finetuneEncoder({ ...s.spec(tinyBase(s.reference)), run: { batchSize: 0 } }), 'INVALID_INPUT', /run\.batchSize/);
  assert.ok(!existsSync(s.out));
});

test('a diverging run (NaN loss) stops with TRAINING_FAILED and keeps the last good checkpoint', async (t) => {
  const s = setup(t);
  if (!s) return;
  const run = finetuneEncoder({ ...s.spec(tinyBase(s.reference)), optim: { lr: 1e30, warmup: 0, clipNorm: 0 }, run: { epochs: 3, batchSize: 4, evalEvery: 1, threads: 1 } });
  await rejectsWith(run, 'TRAINING_FAILED', /loss became (NaN|Infinity|-Infinity) at step (\d+).*keeps the checkpoint of step \d+/);
  const kept = await loadCheckpoint(s.out);
  assert.ok(kept.meta.step >= 1);
  for (const values of kept.state.params.values()) assert.ok(values.every(Number.isFinite), 'the checkpoint holds finite weights');
  assert.ok(JSON.parse(readFileSync(join(s.out, 'metrics.json'), 'utf8')));
});

test('a run diverging before its first checkpoint leaves no run folder behind', async (t) => {
  const s = setup(t);
  if (!s) return;
  const run = finetuneEncoder({ ...s.spec(tinyBase(s.reference)), optim: { lr: 1e30, warmup: 0, clipNorm: 0 }, run: { epochs: 1, batchSize: 4, threads: 1 } });
  await rejectsWith(run, 'TRAINING_FAILED', /no checkpoint was written yet/);
  assert.ok(!existsSync(s.out));
});
