// The WebAssembly kernel against a scalar reference written from word2vec.c: same draws, same float32 results, bit for bit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EXP_TABLE_SIZE, MAX_EXP } from '../../src/words/sgd-wasm.js';
import { aliasTables, createWasmModel, wasmKernel } from '../../src/words/train-wasm.js';
import { huffman, type Vocab } from '../../src/words/vocab.js';
import type { TrainParams } from '../../src/words/sgd.js';

const f = Math.fround;
const MASK = (1n << 64n) - 1n;

/** The kernel's generator: 64-bit LCG (Knuth's MMIX constants), high 32 bits out. */
class Lcg {
  private s: bigint;
  constructor(lo: number, hi: number) {
    this.s = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
  }
  next(): number {
    this.s = (this.s * 6364136223846793005n + 1442695040888963407n) & MASK;
    return Number(this.s >> 32n);
  }
  below(n: number): number {
    return Number((BigInt(this.next()) * BigInt(n)) >> 32n);
  }
}

interface Ref { syn0: Float32Array[]; syn1neg: Float32Array[]; syn1: Float32Array[]; exp: Float32Array }

/** Dot product in the kernel's order: two 4-lane accumulators over 8-float steps, then (l0+l1)+(l2+l3). */
function dot(a: Float32Array, b: Float32Array): number {
  const acc = new Float32Array(8);
  for (let k = 0; k < a.length; k += 8) for (let l = 0; l < 8; l++) acc[l] = f(acc[l] + f((a[k + l] ?? 0) * (b[k + l] ?? 0)));
  const s = [0, 1, 2, 3].map((l) => f(acc[l] + acc[l + 4]));
  return f(f(s[0] + s[1]) + f(s[2] + s[3]));
}

function sigmoid(ref: Ref, x: number): number {
  const i = Math.trunc(Math.min(f(f(x + MAX_EXP) * f(EXP_TABLE_SIZE / MAX_EXP / 2)), EXP_TABLE_SIZE - 1));
  return ref.exp[i];
}

function update(neu1e: Float32Array, out: Float32Array, input: Float32Array, g: number): void {
  for (let k = 0; k < out.length; k++) {
    const o = out[k];
    neu1e[k] = f(neu1e[k] + f(g * o));
    out[k] = f(o + f(g * input[k]));
  }
}

function learn(ref: Ref, p: TrainParams, rng: Lcg, alias: { prob: Uint32Array; alias: Int32Array }, tree: ReturnType<typeof huffman> | undefined, input: Float32Array, word: number, alpha: number, neu1e: Float32Array): void {
  if (p.hs && tree) {
    for (let d = 0; d < tree.length[word]; d++) {
      const out = ref.syn1[tree.points[tree.offset[word] + d]];
      const x = dot(input, out);
      if (x <= -MAX_EXP || x >= MAX_EXP) continue;
      update(neu1e, out, input, f(f(f(1 - tree.codes[tree.offset[word] + d]) - sigmoid(ref, x)) * alpha));
    }
  }
  for (let d = 0; d <= p.negative && p.negative > 0; d++) {
    let target = word;
    let label = 1;
    if (d > 0) {
      const slot = rng.below(alias.prob.length);
      target = rng.next() < alias.prob[slot] ? slot : alias.alias[slot];
      if (target === word) continue;
      label = 0;
    }
    const x = dot(input, ref.syn1neg[target]);
    const g = x > MAX_EXP ? label - 1 : x < -MAX_EXP ? label : f(label - sigmoid(ref, x));
    update(neu1e, ref.syn1neg[target], input, f(g * alpha));
  }
}

function trainReference(ref: Ref, p: TrainParams, rng: Lcg, counts: number[], tree: ReturnType<typeof huffman> | undefined, sent: number[], alpha: number): void {
  const alias = aliasTables(counts);
  const neu1e = new Float32Array(p.dim);
  const neu1 = new Float32Array(p.dim);
  for (let i = 0; i < sent.length; i++) {
    const b = rng.below(p.window);
    const start = Math.max(0, i - p.window + b);
    const end = Math.min(sent.length, i + p.window + 1 - b);
    const context = [];
    for (let j = start; j < end; j++) if (j !== i) context.push(sent[j]);
    if (p.sg) {
      for (const c of context) {
        neu1e.fill(0);
        learn(ref, p, rng, alias, tree, ref.syn0[c], sent[i], alpha, neu1e);
        for (let k = 0; k < p.dim; k++) ref.syn0[c][k] = f(ref.syn0[c][k] + neu1e[k]);
      }
    } else {
      if (context.length === 0) continue;
      neu1.fill(0);
      for (const c of context) for (let k = 0; k < p.dim; k++) neu1[k] = f(neu1[k] + ref.syn0[c][k]);
      const scale = f(1 / context.length);
      for (let k = 0; k < p.dim; k++) neu1[k] = f(neu1[k] * scale);
      neu1e.fill(0);
      learn(ref, p, rng, alias, tree, neu1, sent[i], alpha, neu1e);
      for (const c of context) for (let k = 0; k < p.dim; k++) ref.syn0[c][k] = f(ref.syn0[c][k] + neu1e[k]);
    }
  }
}

function check(sg: boolean, hs: boolean, negative: number): void {
  const dim = 12; // not a multiple of 8: the row padding must stay invisible
  const counts = [40, 30, 20, 12, 9, 7, 5, 4, 3, 2];
  const vocab: Vocab = { words: counts.map((_, i) => `w${i}`), counts, index: new Map(), totalWords: 132 };
  const tree = hs ? huffman(vocab) : undefined;
  let seed = 7;
  const model = createWasmModel({
    vocabCounts: counts, dim, negative, hs, threads: 1, tree, keep: new Float32Array(counts.length).fill(1),
    init: (row) => { for (let d = 0; d < dim; d++) row[d] = ((seed = (seed * 48271) % 2147483647) / 2147483647 - 0.5) / dim; },
  });
  assert.ok(model, 'WebAssembly SIMD is available');
  const stride = model.layout.stride;
  const rows = (at: number) => counts.map((_, w) => new Float32Array(model.memory.buffer, at + w * stride * 4, dim));
  const ref: Ref = {
    syn0: rows(model.layout.syn0).map((r) => r.slice()), syn1neg: rows(model.layout.syn1neg).map((r) => r.slice()),
    syn1: rows(model.layout.syn1).map((r) => r.slice()), exp: new Float32Array(model.memory.buffer, model.layout.exp, EXP_TABLE_SIZE),
  };
  const p: TrainParams = { dim, window: 3, negative, hs, sg, alpha: 0.05, minAlpha: 0.05, totalWork: 1 };
  const kernel = wasmKernel(model, p, 0, 11);
  const rng = new Lcg(11, (Math.imul(11, 0x9e3779b9) ^ 1) | 0);
  let s = 3;
  for (let n = 0; n < 30; n++) {
    const sent = Array.from({ length: 5 + (n % 9) }, () => (s = (s * 16807) % 2147483647) % counts.length);
    kernel.sentence.set(sent);
    if (sg) kernel.sg(sent.length, 0.05);
    else kernel.cbow(sent.length, 0.05);
    trainReference(ref, p, rng, counts, tree, sent, f(0.05));
  }
  const label = `sg=${sg} hs=${hs} negative=${negative}`;
  assert.deepEqual(rows(model.layout.syn0).map((r) => Array.from(r)), ref.syn0.map((r) => Array.from(r)), label);
  if (negative > 0) assert.deepEqual(rows(model.layout.syn1neg).map((r) => Array.from(r)), ref.syn1neg.map((r) => Array.from(r)), label);
  if (hs) assert.deepEqual(rows(model.layout.syn1).map((r) => Array.from(r)), ref.syn1.map((r) => Array.from(r)), label);
}

test('wasm kernel equals the scalar reference: skip-gram and CBOW, negative sampling and hierarchical softmax', () => {
  check(true, false, 3);
  check(false, false, 3);
  check(true, true, 0);
  check(false, true, 2);
});

test('alias tables draw words in proportion to count^0.75', () => {
  const counts = [1000, 100, 10, 1];
  const { prob, alias } = aliasTables(counts);
  const z = counts.map((c) => c ** 0.75);
  const total = z.reduce((a, b) => a + b);
  // Exact: the probability mass of word w over all slots.
  const mass = counts.map((_, w) => counts.reduce((m, _c, s) => m + ((s === w ? prob[s] : 0) + (alias[s] === w ? 2 ** 32 - prob[s] : 0)) / 2 ** 32 / counts.length, 0));
  mass.forEach((m, w) => assert.ok(Math.abs(m - z[w] / total) < 1e-6, `word ${w}: ${m} vs ${z[w] / total}`));
});
