// Encoder batches group texts of similar length (less padding) and still answer in the caller's order.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGeul, type Geul } from '../../src/index.js';
import { ENCODER_BATCH, lengthSortedSlices } from '../../src/tasks/encoder.js';
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
