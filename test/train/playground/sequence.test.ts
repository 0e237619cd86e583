// The playground's sequence race: the first-token task's batches, the gated cells' memory at initialisation, and the
// regression it fixed (LSTM and GRU stayed at chance on a 20 … 40-token first-token task while a plain RNN did not).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../../src/core/random.js';
import { gateBiases } from '../../../src/train/models/text.js';
import { FIRST_TOKEN_VOCAB, firstTokenBatch, sequenceRun, type SequenceProgress } from '../../../src/train/playground/sequence.js';

test('first-token batches: the marker is the class, noise follows, ⌈L/2⌉ … L real tokens, right-padded', () => {
  const { features, labels } = firstTokenBatch(new Rng(5), 200, 9);
  assert.deepEqual(firstTokenBatch(new Rng(5), 200, 9).labels, labels, 'seeded');
  assert.deepEqual(features.input_ids.dims, [200, 9]);
  const ids = features.input_ids.data as BigInt64Array;
  const mask = features.attention_mask.data as BigInt64Array;
  const lengths = new Set<number>();
  for (let b = 0; b < 200; b++) {
    const row = Array.from(ids.subarray(b * 9, b * 9 + 9), Number);
    const real = Array.from(mask.subarray(b * 9, b * 9 + 9), Number).reduce((a, v) => a + v, 0);
    lengths.add(real);
    assert.equal(row[0], 1 + Number(labels[b]), `row ${b}: marker`);
    row.forEach((id, t) => {
      if (t === 0) return;
      if (t < real) assert.ok(id >= 3 && id < FIRST_TOKEN_VOCAB, `row ${b}[${t}] = ${id}: noise`);
      else assert.equal(id, 0, `row ${b}[${t}]: padding`);
    });
  }
  assert.deepEqual([...lengths].sort(), [5, 6, 7, 8, 9]);
  const ones = Array.from(labels, Number).reduce((a, v) => a + v, 0);
  assert.ok(ones > 70 && ones < 130, `${ones} of 200 in class 1`);
});

test('gate biases: the units keep their state for about 1 … memory steps (LSTM forget/input, GRU update), RNN none', () => {
  const H = 8;
  const memory = 40;
  const lstm = gateBiases('lstm', H, memory);
  const gru = gateBiases('gru', H, memory);
  const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
  // A unit that keeps a share k of its state per step remembers for about 1 / (1 − k) steps.
  const steps = (bias: number) => 1 / (1 - sigmoid(bias));
  for (const [name, keep] of [['lstm forget', lstm.subarray(H, 2 * H)], ['gru update', gru.subarray(H, 2 * H)]] as const) {
    const scales = Array.from(keep, steps);
    assert.ok(scales[0] > 2 && scales[0] <= 2 + memory / H, `${name}: fastest unit ${scales[0]}`);
    assert.ok(scales[H - 1] > memory * 0.85 && scales[H - 1] <= memory, `${name}: slowest unit ${scales[H - 1]}`);
    scales.slice(1).forEach((s, j) => assert.ok(s > scales[j], `${name}: time scales rise`));
  }
  lstm.subarray(0, H).forEach((b, j) => assert.equal(b, -lstm[H + j], 'LSTM input bias is minus the forget bias'));
  assert.ok(lstm.subarray(2 * H).every((b) => b === 0) && gru.subarray(0, H).every((b) => b === 0) && gru.subarray(2 * H).every((b) => b === 0));
  assert.ok(gateBiases('rnn', H, memory).every((b) => b === 0));
});

test('at 20 … 40 tokens the LSTM and the GRU learn the first-token task within 150 steps; the plain RNN does not', async () => {
  const reports: SequenceProgress[] = [];
  for await (const p of sequenceRun({ length: 40, hidden: 16, lr: 0.01, batchSize: 32, steps: 150, every: 50, seed: 1 })) reports.push(p);
  assert.deepEqual(reports.map((r) => r.step), [0, 50, 100, 150]);
  for (const cell of ['rnn', 'lstm', 'gru'] as const) assert.ok(Math.abs(reports[0][cell].accuracy - 0.5) < 0.1, `${cell} starts at chance`);
  const end = reports.at(-1) as SequenceProgress;
  assert.ok(end.lstm.accuracy >= 0.95, `LSTM ${end.lstm.accuracy}`);
  assert.ok(end.gru.accuracy >= 0.95, `GRU ${end.gru.accuracy}`);
  assert.ok(end.lstm.loss < 0.1 && end.gru.loss < 0.1, `losses ${end.lstm.loss}, ${end.gru.loss}`);
  assert.ok(end.rnn.accuracy < 0.75, `RNN ${end.rnn.accuracy}: the plain RNN's memory fades over 20+ tokens`);
});

test('an aborted race stops within a step and releases its trainers', async () => {
  const stop = new AbortController();
  const seen: number[] = [];
  for await (const p of sequenceRun({ length: 10, hidden: 4, lr: 0.01, batchSize: 8, steps: 1000, every: 1, seed: 1 }, stop.signal)) {
    seen.push(p.step);
    if (p.step === 3) stop.abort();
  }
  assert.deepEqual(seen, [0, 1, 2, 3]);
});
