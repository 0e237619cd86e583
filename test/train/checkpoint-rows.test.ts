// Sparse embedding tables are checkpointed by their touched rows only: a bow run folder stays small, and resuming
// from it ends with exactly the state of an uninterrupted run.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCheckpoint } from '../../src/train/checkpoint.js';
import { trainText } from '../../src/train/run.js';
import type { TrainSpecInput } from '../../src/train/spec.js';

const work = mkdtempSync(join(tmpdir(), 'geul-ckpt-rows-'));
const data = join(work, 'toy.tsv');

before(() => {
  const lines = ['text\tlabel'];
  for (let i = 0; i < 120; i++) lines.push(`the film was ${i % 2 ? 'great' : 'dull'} and ${['long', 'short', 'odd'][i % 3]}\t${i % 2 ? 'pos' : 'neg'}`);
  writeFileSync(data, `${lines.join('\n')}\n`);
});

const spec = (out: string, epochs: number, resume = false): TrainSpecInput => ({
  data: { source: data, maxLength: 8, vocabSize: 50 }, model: { name: 'bow', dim: 16, buckets: 1 << 16 },
  optim: { lr: 0.05 }, run: { epochs, batchSize: 16, seed: 2, threads: 1, resume }, output: { dir: out },
});

test('a bow checkpoint holds the touched rows only (not 3 × the 65k-row table), and resumes exactly', async () => {
  const full = join(work, 'full');
  await trainText(spec(full, 2));
  const table = (1 << 16) * 16 * 4;
  const size = statSync(join(full, 'checkpoint.bin')).size;
  assert.ok(size < table / 10, `checkpoint ${size} bytes; one table is ${table}`);
  const split = join(work, 'split');
  await trainText(spec(split, 1));
  await trainText(spec(split, 2, true));
  const [a, b] = [await loadCheckpoint(full), await loadCheckpoint(split)];
  assert.equal(b.state.step, a.state.step);
  assert.deepEqual(b.state.params, a.state.params);
  assert.deepEqual(b.state.states, a.state.states);
  const [ra, rb] = [a.state.rows?.get('embeddings.weight'), b.state.rows?.get('embeddings.weight')];
  assert.ok(ra && rb && ra.ids.length > 0 && ra.ids.length < 200, `${ra?.ids.length} touched rows`);
  assert.deepEqual(rb, ra);
});
