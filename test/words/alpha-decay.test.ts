// The learning rate carries on across corpus blocks: a block trained after all the work is done must use min_alpha.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decayedAlpha, FastRandom, trainRange, unigramTable, type SharedModel, type TrainParams } from '../../src/words/sgd.js';
import { createWasmModel, trainRangeWasm, wasmKernel, wasmVectors } from '../../src/words/train-wasm.js';

const VOCAB = 6;
const DIM = 8;
// With min_alpha 0, a block that starts once every word of the schedule is done must not move any weight.
const params: TrainParams = { dim: DIM, window: 2, negative: 2, hs: false, sg: true, alpha: 0.025, minAlpha: 0, totalWork: 1000 };
const corpus = Int32Array.from({ length: 200 }, (_, i) => (i % 20 === 19 ? -1 : (i * 7) % VOCAB));
const init = (row: Float32Array, word = 0): void => { row.forEach((_, d) => { row[d] = ((word * DIM + d) % 13) / 100 - 0.06; }); };

test('decayedAlpha: linear from alpha to min_alpha over the total work, never below min_alpha', () => {
  const p = { ...params, minAlpha: 0.0001 };
  assert.equal(decayedAlpha(p, 0), 0.025);
  assert.ok(Math.abs(decayedAlpha(p, 500) - (0.025 + 0.0001) / 2) < 1e-12);
  assert.equal(decayedAlpha(p, 5000), 0.0001);
});

test('JavaScript loop: a block after the schedule ends uses min_alpha, not the starting alpha', () => {
  const syn0 = new Float32Array(VOCAB * DIM);
  for (let w = 0; w < VOCAB; w++) init(syn0.subarray(w * DIM, (w + 1) * DIM), w);
  const before = Float32Array.from(syn0);
  const cum = Float64Array.from({ length: VOCAB }, (_, i) => (i + 1) / VOCAB);
  const progress = new Int32Array(new SharedArrayBuffer(4));
  progress[0] = params.totalWork;
  const m: SharedModel = {
    syn0, syn1neg: new Float32Array(VOCAB * DIM).fill(0.1), syn1: new Float32Array(0), keep: new Float32Array(VOCAB).fill(1), cum,
    table: unigramTable(cum), codeOffset: new Int32Array(0), codeLength: new Int32Array(0), codes: new Uint8Array(0), points: new Int32Array(0), progress,
  };
  trainRange(params, m, corpus, 0, corpus.length, new FastRandom(1));
  assert.deepEqual(syn0, before);
  // The same block at the start of the schedule does learn (the test can fail).
  progress[0] = 0;
  trainRange(params, m, corpus, 0, corpus.length, new FastRandom(1));
  assert.notDeepEqual(syn0, before);
});

test('WebAssembly kernel: a block after the schedule ends uses min_alpha, not the starting alpha', (t) => {
  const model = createWasmModel({ vocabCounts: Array.from({ length: VOCAB }, (_, i) => 10 + i), dim: DIM, negative: 2, hs: false, threads: 1, keep: new Float32Array(VOCAB).fill(1), init });
  if (!model) {
    t.skip('no WebAssembly SIMD here');
    return;
  }
  const before = wasmVectors(model);
  const kernel = wasmKernel(model, params, 0, 1);
  model.progress[0] = params.totalWork;
  trainRangeWasm(params, model, kernel, corpus, 0, corpus.length, new FastRandom(1));
  assert.deepEqual(wasmVectors(model), before);
  model.progress[0] = 0;
  trainRangeWasm(params, model, kernel, corpus, 0, corpus.length, new FastRandom(1));
  assert.notDeepEqual(wasmVectors(model), before);
});
