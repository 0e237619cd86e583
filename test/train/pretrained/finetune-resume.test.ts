// Exact resume: a fine-tune cancelled mid-epoch (grad-accum, mid-epoch evaluations, dropout on) and resumed ends
// with the same weights, optimizer state and history as one uninterrupted run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCheckpoint } from '../../../src/train/checkpoint.js';
import type { TrainEvent } from '../../../src/train/events.js';
import { finetuneEncoder } from '../../../src/train/pretrained/finetune.js';
import type { FinetuneSpecInput } from '../../../src/train/pretrained/finetune-spec.js';
import { sharedDataPath } from '../../helpers/shared-data.js';
import { sentimentRows, tinyBase, writeJsonl } from './finetune-fixture.js';

test('cancel at steps 3 and 5, resume: weights, optimizer state and evaluations equal an uninterrupted run', async (t) => {
  const reference = sharedDataPath(t, 'reference-encoders', 'bert-cls');
  if (!reference) return;
  const base = tinyBase(reference);
  const dir = mkdtempSync(join(tmpdir(), 'geul-ft-resume-'));
  const data = writeJsonl(dir, 'train.jsonl', sentimentRows(50));
  const spec = (out: string, resume = false): FinetuneSpecInput => ({
    data: { source: data, groupByLength: true }, model: { base, freezeLayers: 1 },
    optim: { lr: 1e-3 }, run: { epochs: 2, batchSize: 4, gradAccum: 2, evalEvery: 2, seed: 9, threads: 1, resume }, output: { dir: out },
  });
  const whole = join(dir, 'whole');
  await finetuneEncoder(spec(whole));

  const split = join(dir, 'split');
  // Cancelled mid-epoch (step 3, after the step-2 evaluation), then resumed and cancelled again at the epoch's last
  // step (step 5, before its evaluation), then resumed to the end.
  for (const [stopAt, resume] of [[3, false], [5, true]] as const) {
    const controller = new AbortController();
    const events: TrainEvent[] = [];
    await assert.rejects(finetuneEncoder(spec(split, resume), {
      signal: controller.signal,
      onEvent: (e) => {
        events.push(e);
        if (e.type === 'step' && e.step === stopAt) controller.abort();
      },
    }), (err: Error & { code?: string }) => err.code === 'CANCELLED');
    assert.ok(events.some((e) => e.type === 'done' && e.reason === 'cancelled'));
    assert.equal((await loadCheckpoint(split)).meta.step, stopAt);
  }
  const resumed = await finetuneEncoder(spec(split, true));

  const a = await loadCheckpoint(whole);
  const b = await loadCheckpoint(split);
  assert.equal(b.meta.step, a.meta.step);
  assert.equal(a.meta.step, 2 * Math.ceil(Math.ceil(40 / 4) / 2));
  assert.deepEqual([...b.state.params.keys()].sort(), [...a.state.params.keys()].sort());
  for (const [name, values] of a.state.params) {
    assert.deepEqual(b.state.params.get(name), values, name);
    assert.deepEqual(b.state.states.get(name), a.state.states.get(name), `${name} optimizer state`);
  }
  const history = (a.meta.run as { history: { step: number; validAccuracy: number }[] }).history;
  assert.deepEqual(resumed.history.map((h) => [h.step, h.validAccuracy]), history.map((h) => [h.step, h.validAccuracy]));
  assert.ok(history.length > 2, 'evaluations every 2 steps and at epoch ends');
});
