// The finetune and pretrain jobs as plain functions, a few steps each: progress, metrics and logs as job events, the
// exported Hugging Face model as the artifact, a cancel that checkpoints, and a resumed attempt that continues from
// that checkpoint and ends with the uninterrupted run's weights; pretrain's exclusive choices are checked at submit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/core/config.js';
import { FINETUNE_RUN_FOLDER, finetuneJob } from '../../src/jobs/finetune-job.js';
import type { JobRunEvent, JobType } from '../../src/jobs/job-type.js';
import { isListField, parseJobParams } from '../../src/jobs/params.js';
import { PRETRAIN_RUN_FOLDER, pretrainJob } from '../../src/jobs/pretrain-job.js';
import { SAMPLE_CORPUS } from '../../src/fixtures/sample-corpus.js';
import { loadCheckpoint } from '../../src/train/checkpoint.js';
import { sharedDataPath } from '../helpers/shared-data.js';
import { sentimentRows, tinyBase, writeJsonl } from '../train/pretrained/finetune-fixture.js';

const work = mkdtempSync(join(tmpdir(), 'geul-finetune-job-'));
const config = loadConfig({ offline: true, cacheDir: join(work, 'cache'), dataDir: join(work, 'data'), logLevel: 'silent' }, { skipFile: true, env: {} });

/** Runs a job type's function in `dir`; `stopAt`: abort once progress reaches that step. */
async function run(type: JobType, dir: string, params: Record<string, unknown>, options: { resume?: boolean; stopAt?: number } = {}): Promise<JobRunEvent[]> {
  mkdirSync(dir, { recursive: true });
  const controller = new AbortController();
  const events: JobRunEvent[] = [];
  await type.run(parseJobParams(type, params) as never, {
    signal: controller.signal, workDir: dir, resume: options.resume ?? false, config,
    emit: (e) => {
      events.push(e);
      if (options.stopAt !== undefined && e.kind === 'progress' && e.step >= options.stopAt) controller.abort();
    },
  });
  return events;
}

const cancelled = (err: Error & { code?: string }) => err.code === 'CANCELLED';

async function sameWeights(a: string, b: string): Promise<void> {
  const [x, y] = [await loadCheckpoint(a), await loadCheckpoint(b)];
  assert.equal(y.meta.step, x.meta.step);
  for (const [name, values] of x.state.params) assert.deepEqual(y.state.params.get(name), values, name);
}

test('finetune job: events, the model folder as artifact, cancel → resume from the checkpoint = one uninterrupted run', async (t) => {
  const reference = sharedDataPath(t, 'reference-encoders', 'bert-cls');
  if (!reference) return;
  const base = tinyBase(reference);
  const data = writeJsonl(work, 'train.jsonl', sentimentRows(30));
  // 24 training rows in batches of 4: 6 steps an epoch, 2 epochs.
  const params = { data: { source: data }, model: { base }, optim: { lr: 1e-3 }, run: { epochs: 2, batchSize: 4, seed: 3, threads: 1 } };
  const whole = join(work, 'ft-whole');
  const events = await run(finetuneJob, whole, params);
  const progress = events.filter((e) => e.kind === 'progress') as { step: number; total: number }[];
  assert.deepEqual([progress[0].step, progress.at(-1)!.step, progress.at(-1)!.total], [0, 12, 12], 'progress from step 0 to the last of 12');
  assert.ok(events.some((e) => e.kind === 'metrics' && typeof e.values.loss === 'number'));
  assert.ok(events.some((e) => e.kind === 'metrics' && typeof e.values.valid_accuracy === 'number'), 'evaluations are metrics');
  for (const file of ['config.json', 'model.safetensors', 'tokenizer.json', 'onnx/model.onnx', 'metrics.json', 'checkpoint.bin']) assert.ok(existsSync(join(whole, FINETUNE_RUN_FOLDER, file)), file);

  const split = join(work, 'ft-split');
  await assert.rejects(run(finetuneJob, split, params, { stopAt: 4 }), cancelled);
  assert.equal((await loadCheckpoint(join(split, FINETUNE_RUN_FOLDER))).meta.step, 4, 'the cancel wrote a checkpoint');
  const resumed = await run(finetuneJob, split, params, { resume: true });
  assert.ok(resumed.some((e) => e.kind === 'log' && e.message === 'resuming from the last checkpoint'));
  assert.equal((resumed.find((e) => e.kind === 'progress') as { step: number }).step, 4, 'the second attempt starts at the checkpoint');
  await sameWeights(join(whole, FINETUNE_RUN_FOLDER), join(split, FINETUNE_RUN_FOLDER));
});

test('pretrain job: a few steps, cancel → resume = one uninterrupted run; submit-time checks name the fields', async () => {
  const corpus = join(work, 'corpus.txt');
  const texts = [...SAMPLE_CORPUS.en, ...SAMPLE_CORPUS.ko];
  writeFileSync(corpus, Array.from({ length: 120 }, (_, i) => `${texts[i % texts.length]} ${texts[(i * 7) % texts.length]}`).join('\n'));
  const params = { data: { sources: [corpus], heldOutFraction: 0.1 }, model: { size: 'tiny', vocabSize: 300 }, optim: { lr: 5e-3 }, run: { steps: 6, batchSize: 4, maxLength: 16, evalEvery: 3, seed: 2, threads: 1 } };
  const whole = join(work, 'pt-whole');
  const events = await run(pretrainJob, whole, params);
  assert.equal(events.filter((e) => e.kind === 'metrics' && 'mlm_loss' in e.values).length, 2, 'one metrics point per evaluation');
  assert.ok(events.some((e) => e.kind === 'log' && /^vocabulary: \d+ WordPiece merges done$/.test(e.message)), 'the vocabulary training is not silent');
  for (const file of ['config.json', 'model.safetensors', 'tokenizer.json', 'metrics.json', 'checkpoint.bin']) assert.ok(existsSync(join(whole, PRETRAIN_RUN_FOLDER, file)), file);

  const split = join(work, 'pt-split');
  await assert.rejects(run(pretrainJob, split, params, { stopAt: 2 }), cancelled);
  const resumed = await run(pretrainJob, split, params, { resume: true });
  assert.ok(resumed.some((e) => e.kind === 'log' && e.message === 'resuming from the last checkpoint'));
  assert.equal((resumed.find((e) => e.kind === 'progress') as { step: number }).step, 2);
  await sameWeights(join(whole, PRETRAIN_RUN_FOLDER), join(split, PRETRAIN_RUN_FOLDER));

  const bad = (p: Record<string, unknown>, field: RegExp) => assert.throws(() => parseJobParams(pretrainJob, p), (err: Error & { code?: string }) => err.code === 'INVALID_INPUT' && field.test(err.message), JSON.stringify(p));
  bad({ data: { sources: [corpus] }, model: { vocabSize: 300 } }, /params\.model\.size/);
  bad({ data: { sources: [corpus] }, model: { size: 'tiny', vocabSize: 300, tokenizer: 'x' } }, /params\.model\.tokenizer/);
  bad({ ...params, run: { steps: 6, resume: true } }, /params\.run\.resume: unknown field/);
  assert.throws(() => parseJobParams(finetuneJob, { data: { source: 'x' }, model: {} }), /params\.model\.base/);
  // The CLI appends uploads to list fields (pretrain's sources), and sets the others.
  assert.deepEqual([isListField(pretrainJob, 'data.sources'), isListField(finetuneJob, 'data.source'), isListField(pretrainJob, 'data.nothing')], [true, false, false]);
});
