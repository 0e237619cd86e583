// nn.exportClassifier: a classifier trained with the tensor API, exported, answers through the library, the CLI and
// the server with the labels and scores of its own forward + softmax.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { WordVocab, createGeul } from '../../src/index.js';
import { buildServer } from '../../src/server/app.js';
import { Generator, fromArray, nn, optim, type Tensor } from '../../src/tensor/index.js';
import { jsonLines, runCli } from '../helpers/cli.js';
import { post, serverConfig } from '../helpers/server.js';

const work = mkdtempSync(join(tmpdir(), 'geul-export-cls-'));
after(() => rmSync(work, { recursive: true, force: true }));
const env = { GEUL_CACHE_DIR: join(work, 'cache'), GEUL_CONFIG: join(work, 'none.json'), GEUL_OFFLINE: '1' };

const TRAIN: [string, number][] = [
  ['a great film', 1], ['wonderful and moving', 1], ['the plot was superb', 1], ['a lovely story', 1], ['great acting', 1], ['최고 영화', 1],
  ['a boring film', 0], ['dull and tedious', 0], ['the plot was weak', 0], ['an awful story', 0], ['boring acting', 0], ['별로 영화', 0],
];
const LABELS = ['NEGATIVE', 'POSITIVE'];
const MAX = 16;

/** Bag of embeddings: masked mean of word vectors, then a linear layer. */
class Bag extends nn.Module {
  emb: nn.Embedding;
  out: nn.Linear;
  constructor(vocab: number) {
    super();
    this.emb = new nn.Embedding(vocab, 8, { generator: new Generator(1) });
    this.out = new nn.Linear(8, 2, { generator: new Generator(2) });
  }
  forward(ids: Tensor, mask: Tensor): Tensor {
    const m = mask.float().unsqueeze(-1);
    return this.out.forward(this.emb.forward(ids).mul(m).sum(1).div(m.sum(1).clamp(1)));
  }
}

/** ids and mask [texts, longest] padded with [PAD] = 0. */
function batch(vocab: WordVocab, texts: string[]): [Tensor, Tensor] {
  const rows = texts.map((t) => vocab.encode(t, MAX));
  const width = Math.max(...rows.map((r) => r.length));
  const ids = new BigInt64Array(rows.length * width);
  const mask = new BigInt64Array(rows.length * width);
  rows.forEach((r, i) => r.forEach((id, j) => { ids[i * width + j] = BigInt(id); mask[i * width + j] = 1n; }));
  return [fromArray(ids, [rows.length, width]), fromArray(mask, [rows.length, width])];
}

let vocab: WordVocab;
let net: Bag;
const dir = join(work, 'models', 'bag-sentiment');
const TEXTS = ['a great story', 'the film was boring and dull', '최고'];
/** What the module itself says for each text alone: labels best first with softmax scores. */
let expected: { label: string; score: number }[][];

before(async () => {
  writeFileSync(env.GEUL_CONFIG, '{}');
  vocab = WordVocab.build(TRAIN.map(([t]) => t));
  net = new Bag(vocab.size);
  const [ids, mask] = batch(vocab, TRAIN.map(([t]) => t));
  const target = fromArray(BigInt64Array.from(TRAIN, ([, y]) => BigInt(y)));
  const opt = new optim.Adam(net.parameters(), { lr: 0.1 });
  for (let i = 0; i < 60; i++) {
    opt.zeroGrad();
    nn.crossEntropy(net.forward(ids, mask), target).backward();
    await opt.step();
  }
  await nn.exportClassifier(net, { dir, labels: LABELS, tokenizer: vocab, maxLength: MAX });
  net.eval();
  expected = [];
  for (const text of TEXTS) {
    const probs = ((await net.forward(...batch(vocab, [text])).softmax(-1).array()) as number[][])[0];
    expected.push(probs.map((score, i) => ({ label: LABELS[i], score })).sort((a, b) => b.score - a.score));
  }
});

function assertSame(actual: { label: string; score: number }[][], what: string): void {
  assert.equal(actual.length, expected.length, what);
  actual.forEach((ranked, i) => {
    assert.deepEqual(ranked.map((r) => r.label), expected[i].map((r) => r.label), `${what}: labels of "${TEXTS[i]}"`);
    ranked.forEach((r, j) => assert.ok(Math.abs(r.score - expected[i][j].score) < 1e-5, `${what}: ${r.score} vs ${expected[i][j].score} for "${TEXTS[i]}"`));
  });
}

test('the folder has what geul classifiers have: config with labels, tokenizer files, onnx/model.onnx; the module learned the toy task', () => {
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(config.model_type, 'geul-tensor');
  assert.deepEqual(config.id2label, { 0: 'NEGATIVE', 1: 'POSITIVE' });
  assert.deepEqual(config.label2id, { NEGATIVE: 0, POSITIVE: 1 });
  assert.equal(config.max_position_embeddings, MAX);
  assert.deepEqual(JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')), JSON.parse(vocab.tokenizerFiles(MAX)['tokenizer.json']));
  assert.ok(readFileSync(join(dir, 'onnx', 'model.onnx')).byteLength > 0);
  assert.deepEqual(expected.map((r) => r[0].label), ['POSITIVE', 'NEGATIVE', 'POSITIVE']);
});

test('(a) the library classifies with the same labels and scores as forward + softmax (texts batched together, padded)', async () => {
  const geul = createGeul({ offline: true, cacheDir: join(work, 'cache') });
  assertSame(await geul.classify(TEXTS, { model: dir }), 'library');
});

test('(b) `geul sentiment --model DIR` answers the same', async () => {
  const r = await runCli(['sentiment', '--model', dir, '--json', ...TEXTS], { env });
  assert.equal(r.code, 0, r.stderr);
  assertSame(jsonLines(r.stdout) as { label: string; score: number }[][], 'cli');
});

test('(c) the server (POST /v1/classify, models folder) answers the same', async () => {
  const app = await buildServer(serverConfig({ modelsDir: dirname(dir), defaults: { classify: basename(dir) } }));
  try {
    const res = await post(app, '/v1/classify', { inputs: TEXTS });
    assert.equal(res.status, 200, res.body);
    assertSame(JSON.parse(res.body) as { label: string; score: number }[][], 'server');
  } finally {
    await app.close();
  }
});

test('a forward whose logits do not match the labels, or a file where the folder should be, is refused', async () => {
  await assert.rejects(nn.exportClassifier(net, { dir: join(work, 'x'), labels: ['a', 'b', 'c'], tokenizer: vocab, maxLength: MAX }), /gives 2 logits per text, but 3 labels/);
  await assert.rejects(nn.exportClassifier(net, { dir: env.GEUL_CONFIG, labels: LABELS, tokenizer: vocab, maxLength: MAX }), (err: Error & { code?: string }) => err.code === 'OUTPUT_INVALID');
});
