// Cancelling a run between steps (AbortSignal): CANCELLED, a checkpoint of the last finished step, and a resume that
// ends exactly where the uninterrupted run does; progress comes as plain JSON events; the export says what it is.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCheckpoint } from '../../src/train/checkpoint.js';
import type { TrainEvent } from '../../src/train/events.js';
import { trainText, type EpochReport } from '../../src/train/run.js';
import type { TrainSpecInput } from '../../src/train/spec.js';

const work = mkdtempSync(join(tmpdir(), 'geul-cancel-'));
const data = join(work, 'toy.tsv');

before(() => {
  const words = { positive: ['wonderful', 'great', 'lovely', 'superb'], negative: ['awful', 'dull', 'weak', 'tedious'] };
  const filler = ['the', 'film', 'was', 'a', 'plot', 'and', 'story'];
  const lines = ['text\tlabel'];
  for (let i = 0; i < 160; i++) {
    const label = i % 2 === 0 ? 'positive' : 'negative';
    const text = Array.from({ length: 3 + (i % 4) }, (_, k) => filler[(i + k * 3) % filler.length]);
    text.splice(i % text.length, 0, words[label][(i >> 1) % 4]);
    lines.push(`${text.join(' ')}\t${label}`);
  }
  writeFileSync(data, `${lines.join('\n')}\n`);
});

const spec = (out: string, resume = false): TrainSpecInput => ({
  data: { source: data, maxLength: 10, vocabSize: 50 },
  model: { name: 'lstm', dim: 8, hidden: 8, dropout: 0.3 },
  optim: { lr: 0.02 },
  run: { epochs: 2, batchSize: 16, seed: 5, threads: 1, resume },
  output: { dir: out },
});

/** History without the wall-clock fields. */
const trained = (history: EpochReport[]) => history.map(({ seconds: _s, examplesPerSecond: _e, ...rest }) => rest);

async function cancelAt(out: string, step: number): Promise<TrainEvent[]> {
  const controller = new AbortController();
  const events: TrainEvent[] = [];
  await assert.rejects(trainText(spec(out), {
    signal: controller.signal,
    onEvent: (e) => {
      events.push(e);
      if (e.type === 'step' && e.step === step) controller.abort();
    },
  }), (err: Error & { code?: string }) => err.code === 'CANCELLED');
  return events;
}

for (const [where, step] of [['mid-epoch', 11], ['before the evaluation', 8]] as const) {
  test(`cancel ${where} (after step ${step}), then --resume: exactly the weights and history of an uninterrupted run`, async () => {
    const full = join(work, `full-${step}`);
    const uninterrupted = await trainText(spec(full));
    const split = join(work, `split-${step}`);
    const events = await cancelAt(split, step);
    const done = events.at(-1);
    assert.ok(done?.type === 'done');
    assert.deepEqual([done.reason, done.step, done.epoch, done.out], ['cancelled', step, step > 8 ? 1 : 0, split]);
    const saved = await loadCheckpoint(split);
    assert.equal(saved.state.step, step, 'the checkpoint holds the last finished step');
    const resumed = await trainText(spec(split, true));
    const [a, b] = [await loadCheckpoint(full), await loadCheckpoint(split)];
    assert.equal(b.state.step, a.state.step);
    for (const [name, values] of a.state.params) assert.deepEqual(b.state.params.get(name), values, name);
    for (const [name, values] of a.state.states) assert.deepEqual(b.state.states.get(name), values, name);
    assert.deepEqual(trained(resumed.history), trained(uninterrupted.history));
  });
}

test('progress events are plain JSON with the documented fields, in order', async () => {
  const events: TrainEvent[] = [];
  const out = join(work, 'events');
  await trainText(spec(out), { onEvent: (e) => events.push(e) });
  for (const e of events) assert.deepEqual(JSON.parse(JSON.stringify(e)), e);
  const types = events.map((e) => e.type).filter((t) => t !== 'read' && t !== 'log');
  assert.deepEqual(types, ['start', ...Array(8).fill('step'), 'epoch', 'start', ...Array(8).fill('step'), 'epoch', 'done']);
  const step = events.find((e) => e.type === 'step');
  assert.ok(step && step.type === 'step');
  assert.deepEqual(Object.keys(step).sort(), ['accuracy', 'epoch', 'examples', 'examples_per_s', 'loss', 'lr', 'step', 'total', 'type']);
  assert.equal(step.total, 16);
  assert.ok(step.examples_per_s > 0 && Number.isFinite(step.loss));
  const epoch = events.find((e) => e.type === 'epoch');
  assert.ok(epoch && epoch.type === 'epoch' && epoch.valid_accuracy >= 0 && epoch.best);

  const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(config.model_type, 'geul-lstm');
  assert.deepEqual(config.architectures, ['GeulLstmForSequenceClassification']);
  assert.equal(config.num_labels, 2);
  assert.deepEqual(config.id2label, { 0: 'negative', 1: 'positive' });
});
