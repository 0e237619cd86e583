// Encoder batches group texts of similar length (less padding) and still answer in the caller's order.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGeul, type Geul } from '../../src/index.js';
import { ENCODER_BATCH, lengthSortedSlices, tokenBudgetCalls } from '../../src/tasks/encoder.js';
import { fixturesDir } from '../helpers/fixtures.js';

let T: string;
let geul: Geul;

/** 70 texts (more than two encoder batches) of lengths that vary from one word to a long sentence, in no order. */
const TEXTS = Array.from({ length: 70 }, (_, i) => `${'word '.repeat(1 + ((i * 37) % 23))}${i % 3 === 0 ? '정말 재미있다' : 'end'}`);

before(async () => {
  T = await fixturesDir();
  geul = createGeul({ offline: true, cacheDir: mkdtempSync(join(tmpdir(), 'geul-cache-')) });
});
after(() => geul.dispose());

test('lengthSortedSlices covers every index once, longest first, at most one batch per slice', () => {
  const slices = lengthSortedSlices(TEXTS);
  assert.deepEqual(slices.flat().sort((a, b) => a - b), TEXTS.map((_, i) => i));
  assert.ok(slices.every((s) => s.length <= ENCODER_BATCH));
  const lengths = slices.flat().map((i) => TEXTS[i].length);
  assert.deepEqual(lengths, [...lengths].sort((a, b) => b - a));
});

test('tokenBudgetCalls covers every index once, shortest first, within the item cap and the padded-token budget', () => {
  // Token counts of a mixed window: many short rows, some long ones, one over the budget on its own.
  const lengths = Array.from({ length: 300 }, (_, i) => (i % 5 === 0 ? 120 + (i % 7) : 8 + (i % 11)));
  lengths[17] = 700;
  const calls = tokenBudgetCalls(lengths, 64, 4096);
  assert.deepEqual(calls.flat().sort((a, b) => a - b), lengths.map((_, i) => i));
  const flat = calls.flat().map((i) => lengths[i]);
  assert.deepEqual(flat, [...flat].sort((a, b) => a - b), 'ascending token counts across calls');
  for (const call of calls) {
    assert.ok(call.length <= 64);
    const padded = call.length * Math.max(...call.map((i) => lengths[i]));
    assert.ok(padded <= 4096 || call.length === 1, `a call of ${call.length} rows pads to ${padded} tokens`);
  }
  assert.deepEqual(calls.find((c) => c.includes(17)), [17], 'a row over the budget runs alone');
  // Short and long rows are not padded together: no call mixes a row of ≤ 18 tokens with one of ≥ 120.
  assert.ok(calls.every((c) => !(c.some((i) => lengths[i] <= 18) && c.some((i) => lengths[i] >= 120))));
});

test('embeddings of a mixed-length batch equal one-at-a-time embeddings, in input order', async () => {
  const model = join(T, 'tiny-bert-embed');
  const batch = await geul.embed(TEXTS, { model });
  assert.equal(batch.length, TEXTS.length);
  for (const i of [0, 1, 5, 22, 40, 69]) {
    const single = await geul.embed(TEXTS[i], { model });
    single.forEach((v, d) => assert.ok(Math.abs(v - batch[i][d]) < 1e-5, `text ${i}, dim ${d}: ${v} vs ${batch[i][d]}`));
  }
});

test('classification of a mixed-length batch equals one-at-a-time results, in input order', async () => {
  const model = join(T, 'tiny-bert-sentiment');
  const batch = await geul.classify(TEXTS, { model });
  for (const i of [0, 3, 31, 32, 68]) {
    const single = await geul.classify(TEXTS[i], { model });
    assert.deepEqual(batch[i].map((l) => l.label), single.map((l) => l.label));
    single.forEach((l, k) => assert.ok(Math.abs(l.score - batch[i][k].score) < 1e-5, `text ${i}`));
  }
});
