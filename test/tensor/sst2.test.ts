// The tensor-API text classifier (examples/sst2-classifier.ts) against the built-in bow (the model table's `bow` run
// by the library's Trainer) on SST-2: same training slice, same start, same batches, both evaluated on SST-2 dev
// (never trained or tuned on); their accuracies must agree within one point.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../src/core/random.js';
import { fromArray, Generator, optim, WordCounter } from '../../src/index.js';
import { batches, evaluate, tensors } from '../../src/train/batches.js';
import { stratifiedMask } from '../../src/train/data/split.js';
import { TEXT_MODEL_TABLE } from '../../src/train/models/table.js';
import type { Encoded } from '../../src/train/text-data.js';
import { Trainer } from '../../src/train/trainer.js';
import { accuracy, BagOfWords, batchIds, DEFAULTS, features, readSst2, trainStep, type Example } from '../../examples/sst2-classifier.js';
import { sharedDataPath } from '../helpers/shared-data.js';

/** A stratified 20,000 of the 67,349 training sentences: one epoch of both models in about a minute on 2 cores. */
const SUBSET = 20000;
const SUBSET_SEED = 7;
const SEED = 1;
/** Fewer bigram buckets than the built-in default (2^18): the tensor model's update is dense over the whole table. */
const BUCKETS = 1 << 14;

function stratifiedSubset(all: Example[]): Example[] {
  const inSubset = stratifiedMask(all.map((e) => String(e.label)), SUBSET / all.length, SUBSET_SEED);
  return all.filter((_, i) => inSubset[i] === 1);
}

test('a bag-of-words classifier written with the tensor API trains on SST-2 to the built-in bow\'s dev accuracy within one point', async (t) => {
  const trainPath = sharedDataPath(t, 'sst2', 'train.tsv');
  const devPath = sharedDataPath(t, 'sst2', 'dev.tsv');
  if (!trainPath || !devPath) return;
  const train = stratifiedSubset(readSst2(trainPath));
  const dev = readSst2(devPath);
  assert.equal(train.length, SUBSET);
  const o = { ...DEFAULTS, buckets: BUCKETS, seed: SEED };
  // The vocabulary as `geul train` builds it: words of the training rows, most frequent first, 30,000 at most.
  const counter = new WordCounter();
  for (const e of train) counter.add(e.text);
  const vocab = counter.vocab({ maxSize: o.vocabSize });
  const encode = (rows: Example[]): Encoded => ({ ids: rows.map((e) => vocab.encode(e.text, o.maxLength)), labels: rows.map((e) => e.label) });
  const [trainRows, devRows] = [encode(train), encode(dev)];

  // The built-in bow at its defaults (dim 64, Adam lr 0.005 with row-wise table updates, batch 32), one epoch,
  // in the batches trainText would make: shuffled, length-sorted within windows.
  const entry = TEXT_MODEL_TABLE.bow;
  const def = entry.build({ name: 'bow', buckets: BUCKETS }, { vocab: vocab.size, classes: 2, maxLength: o.maxLength });
  const order = batches(trainRows, o.batchSize, new Rng(SEED + 1));
  const trainer = await Trainer.create(def, { name: 'adam', lr: entry.lr, clipNorm: entry.clipNorm }, { seed: SEED, totalSteps: order.length });
  // Its initial weights, copied before the first step updates them in place: the tensor model starts from them.
  const start = new Map([...trainer.state.params].map(([name, data]) => [name, data.slice()]));
  let bow: number;
  try {
    for (const rows of order) {
      const { features: inputs, labels } = tensors(trainRows, rows);
      await trainer.step(inputs, labels);
    }
    bow = (await evaluate(trainer, devRows, o.batchSize, ['0', '1'])).accuracy;
  } finally {
    await trainer.release();
  }

  // The tensor-API model: same start (the built-in keeps the classifier as [in, out], torch's layout is [out, in]),
  // same batches, SparseAdam at the same learning rate.
  const model = new BagOfWords(vocab.size + BUCKETS, o.dim, 2, new Generator(SEED));
  const w = start.get('classifier.weight') as Float32Array;
  model.loadStateDict({
    'bag.weight': fromArray(start.get('embeddings.weight') as Float32Array, [vocab.size + BUCKETS, o.dim]),
    'classifier.weight': fromArray(Float32Array.from({ length: w.length }, (_, i) => w[(i % o.dim) * 2 + Math.floor(i / o.dim)]), [2, o.dim]),
    'classifier.bias': fromArray(start.get('classifier.bias') as Float32Array, [2]),
  });
  const opt = new optim.SparseAdam(model.parameters(), { lr: o.lr });
  const ids = train.map((e) => features(vocab, e.text, o));
  for (const rows of order) await trainStep(model, opt, batchIds(rows.map((r) => ids[r])), fromArray(BigInt64Array.from(rows, (r) => BigInt(train[r].label))));
  const tensorAcc = await accuracy({ model, vocab, options: o, losses: [] }, dev);

  t.diagnostic(`SST-2 dev accuracy after one epoch on ${SUBSET} sentences: built-in bow ${(100 * bow).toFixed(2)} %, tensor API ${(100 * tensorAcc).toFixed(2)} %`);
  // Chance is 51 % (444 of the 872 dev sentences are positive).
  assert.ok(bow > 0.75 && tensorAcc > 0.75, `both well above chance: bow ${bow}, tensor ${tensorAcc}`);
  assert.ok(Math.abs(tensorAcc - bow) <= 0.01, `tensor API ${(100 * tensorAcc).toFixed(2)} % vs built-in ${(100 * bow).toFixed(2)} %`);
});
