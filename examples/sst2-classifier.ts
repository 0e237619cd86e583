// A fastText-style sentiment classifier written with geul's tensor API, trained on SST-2: words and hashed word
// bigrams → nn.EmbeddingBag (mean) → nn.Linear. The same model as `geul train --model bow`, spelled out.
//
//   npx tsx examples/sst2-classifier.ts ../shared/data/sst2/train.tsv ../shared/data/sst2/dev.tsv [epochs]
//
// In your own project import from 'geul' instead of '../src/index.js'.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { fromArray, Generator, nn, noGrad, optim, WordCounter, type Tensor, type WordVocab } from '../src/index.js';

/** One labelled sentence. */
export interface Example {
  text: string;
  label: number;
}

/** SST-2 as GLUE ships it: a header line, then `sentence<TAB>label` (0 negative, 1 positive). */
export function readSst2(path: string): Example[] {
  return readFileSync(path, 'utf8').split('\n').slice(1).filter((line) => line.trim()).map((line) => {
    const [text, label] = line.split('\t');
    return { text, label: Number(label) };
  });
}

export interface BowOptions {
  /** Embedding width (the built-in bow's default: 64). */
  dim?: number;
  /** Hash buckets for word bigrams (0: words only). */
  buckets?: number;
  /** Words kept, most frequent first ([PAD] and [UNK] included). */
  vocabSize?: number;
  /** Tokens kept per sentence. */
  maxLength?: number;
  epochs?: number;
  batchSize?: number;
  lr?: number;
  seed?: number;
}

export const DEFAULTS: Required<BowOptions> = { dim: 64, buckets: 1 << 14, vocabSize: 30000, maxLength: 256, epochs: 1, batchSize: 32, lr: 0.005, seed: 42 };

/** The same bigram hash as the built-in bow (src/train/models/text.ts), so both see the same features. */
const BIGRAM_PRIME = 1000003;

/** Word ids followed by the ids of the hashed bigrams of neighbouring words (placed after the word rows of the table). */
export function features(vocab: WordVocab, text: string, o: Required<BowOptions>): number[] {
  const words = vocab.encode(text, o.maxLength);
  const bigrams: number[] = [];
  if (o.buckets > 0) for (let i = 0; i + 1 < words.length; i++) bigrams.push(vocab.size + ((words[i] * BIGRAM_PRIME + words[i + 1]) % o.buckets));
  return [...words, ...bigrams];
}

/** Mean of the word and bigram embeddings, then a linear layer to the class scores. */
export class BagOfWords extends nn.Module {
  readonly bag: nn.EmbeddingBag;
  readonly classifier: nn.Linear;

  constructor(rows: number, dim: number, classes: number, generator: Generator) {
    super();
    // Id 0 is [PAD]: padding adds nothing to a sentence's mean and does not count in it.
    this.bag = new nn.EmbeddingBag(rows, dim, { mode: 'mean', paddingIdx: 0, generator });
    // fastText's start: small uniform embeddings, so the first means are close to zero.
    nn.init.uniform_(this.bag.weight, -1 / dim, 1 / dim, { generator });
    this.classifier = new nn.Linear(dim, classes, { generator });
  }

  forward(ids: Tensor): Tensor {
    return this.classifier.forward(this.bag.forward(ids));
  }
}

/**
 * A batch as int64 ids [rows, length], padded with 0. The length is rounded up to a multiple of 16: every new shape
 * compiles a new ONNX Runtime session, and a handful of lengths compile a handful of times.
 */
export function batchIds(rows: readonly number[][]): Tensor {
  const longest = Math.max(...rows.map((r) => r.length));
  const length = Math.ceil(longest / 16) * 16;
  const ids = new BigInt64Array(rows.length * length);
  rows.forEach((r, b) => r.forEach((id, t) => (ids[b * length + t] = BigInt(id))));
  return fromArray(ids, [rows.length, length]);
}

/** One training step on a batch: loss, gradients and the update in one session run; returns the batch's mean loss. */
export async function trainStep(model: nn.Module, opt: optim.Optimizer, ids: Tensor, labels: Tensor): Promise<number> {
  opt.zeroGrad();
  const loss = nn.crossEntropy(model.forward(ids), labels);
  loss.backward();
  await opt.step();
  return loss.item(); // computed by the step's run already
}

export interface Trained {
  model: BagOfWords;
  vocab: WordVocab;
  options: Required<BowOptions>;
  /** Mean training loss of each epoch. */
  losses: number[];
}

/** Builds the vocabulary from `train` and trains the classifier on it (SparseAdam, batches in a seeded order). */
export async function trainBagOfWords(train: readonly Example[], options: BowOptions = {}): Promise<Trained> {
  const o = { ...DEFAULTS, ...options };
  const counter = new WordCounter();
  for (const e of train) counter.add(e.text);
  const vocab = counter.vocab({ maxSize: o.vocabSize });
  const encoded = train.map((e) => features(vocab, e.text, o));
  const classes = Math.max(...train.map((e) => e.label)) + 1;
  const generator = new Generator(o.seed);
  const model = new BagOfWords(vocab.size + o.buckets, o.dim, classes, generator);
  // SparseAdam moves only the table rows this batch looked up, as the built-in bow does; plain Adam would keep
  // moving every row a word ever touched, and on SST-2 that cost 1–4 points. The classifier's rows all get a
  // gradient every step, so for them this is Adam.
  const opt = new optim.SparseAdam(model.parameters(), { lr: o.lr });
  const losses: number[] = [];
  for (let epoch = 0; epoch < o.epochs; epoch++) {
    const order = generator.rng.shuffle(train.map((_, i) => i));
    let total = 0;
    for (let start = 0; start < order.length; start += o.batchSize) {
      const rows = order.slice(start, start + o.batchSize);
      const labels = fromArray(BigInt64Array.from(rows, (r) => BigInt(train[r].label)));
      total += (await trainStep(model, opt, batchIds(rows.map((r) => encoded[r])), labels)) * rows.length;
    }
    losses.push(total / order.length);
  }
  return { model, vocab, options: o, losses };
}

/** Share of `data` the model labels correctly. */
export async function accuracy({ model, vocab, options }: Trained, data: readonly Example[], batchSize = 256): Promise<number> {
  model.eval();
  let correct = 0;
  for (let start = 0; start < data.length; start += batchSize) {
    const rows = data.slice(start, start + batchSize);
    const predicted = noGrad(() => model.forward(batchIds(rows.map((e) => features(vocab, e.text, options)))).argmax(1));
    const labels = (await predicted.array()) as number[];
    labels.forEach((p, i) => (correct += Number(p === rows[i].label)));
  }
  model.train();
  return correct / data.length;
}

async function main(trainPath: string, devPath: string, epochs: number): Promise<void> {
  const started = performance.now();
  const trained = await trainBagOfWords(readSst2(trainPath), { epochs });
  const acc = await accuracy(trained, readSst2(devPath));
  console.log(`train loss by epoch ${trained.losses.map((l) => l.toFixed(4)).join(', ')}; dev accuracy ${(100 * acc).toFixed(2)} % (${((performance.now() - started) / 1000).toFixed(1)} s)`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [trainPath, devPath, epochs] = process.argv.slice(2);
  if (!trainPath || !devPath) {
    console.error('usage: npx tsx examples/sst2-classifier.ts TRAIN.tsv DEV.tsv [epochs]');
    process.exit(2);
  }
  await main(trainPath, devPath, Number(epochs ?? 1));
}
