// Word2Vec on the WebAssembly kernel: lays out the shared memory (weights, tables) and feeds one thread's corpus share.
import { EXP_TABLE_SIZE, MAX_EXP, MAX_SENTENCE, WasmKernel, kernelModule, planLayout, type Layout } from './sgd-wasm.js';
import { wasm, wasmSimdAvailable, type WasmMemory, type WasmModule } from '../core/wasm.js';
import { decayedAlpha, type FastRandom, type TrainParams } from './sgd.js';
import type { Huffman } from './vocab.js';

/** Everything a thread needs to build its kernel; structured-clonable (the memory is shared, the module compiled once). */
export interface WasmModel {
  module: WasmModule;
  memory: WasmMemory;
  layout: Layout;
  /** Subsampling keep probabilities (shared). */
  keep: Float32Array;
  /** [0]: words processed so far by all threads. */
  progress: Int32Array;
}

/**
 * Walker's alias tables for drawing word i with probability ∝ counts[i]^power in O(1) from two small arrays
 * (instead of word2vec.c's 10^8-slot table, which misses the cache on every draw).
 */
export function aliasTables(counts: ArrayLike<number>, power = 0.75): { prob: Uint32Array; alias: Int32Array } {
  const n = counts.length;
  const scaled = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += Math.pow(counts[i], power);
  for (let i = 0; i < n; i++) scaled[i] = (Math.pow(counts[i], power) / sum) * n;
  const prob = new Uint32Array(n);
  const alias = new Int32Array(n);
  const small: number[] = [];
  const large: number[] = [];
  for (let i = 0; i < n; i++) (scaled[i] < 1 ? small : large).push(i);
  while (small.length > 0 && large.length > 0) {
    const s = small.pop() as number;
    const l = large.pop() as number;
    prob[s] = Math.min(0xffffffff, Math.round(scaled[s] * 2 ** 32));
    alias[s] = l;
    scaled[l] = scaled[l] + scaled[s] - 1;
    (scaled[l] < 1 ? small : large).push(l);
  }
  for (const i of [...small, ...large]) {
    prob[i] = 0xffffffff;
    alias[i] = i;
  }
  return { prob, alias };
}

export interface WasmModelOptions {
  vocabCounts: number[];
  dim: number;
  negative: number;
  hs: boolean;
  threads: number;
  tree?: Huffman;
  keep: Float32Array;
  /** Fills the initial input vectors, row by row (dim floats each). */
  init: (row: Float32Array, word: number) => void;
}

/** Builds the shared memory and module, or undefined when SIMD is missing or the model passes 4 GiB. */
export function createWasmModel(o: WasmModelOptions): WasmModel | undefined {
  const vocab = o.vocabCounts.length;
  if (!wasmSimdAvailable()) return undefined;
  const layout = planLayout(vocab, o.dim, o.negative, o.hs, o.threads, o.tree?.codes.length ?? 0);
  if (!layout) return undefined;
  const memory = new wasm.Memory({ initial: layout.pages, maximum: layout.pages, shared: true });
  const buffer = memory.buffer;
  for (let w = 0; w < vocab; w++) o.init(new Float32Array(buffer, layout.syn0 + w * layout.stride * 4, o.dim), w);
  const exp = new Float32Array(buffer, layout.exp, EXP_TABLE_SIZE);
  for (let i = 0; i < EXP_TABLE_SIZE; i++) {
    const e = Math.exp(((i / EXP_TABLE_SIZE) * 2 - 1) * MAX_EXP);
    exp[i] = e / (e + 1);
  }
  const { prob, alias } = aliasTables(o.vocabCounts);
  new Uint32Array(buffer, layout.aliasProb, vocab).set(prob);
  new Int32Array(buffer, layout.aliasWord, vocab).set(alias);
  if (o.hs && o.tree) {
    new Int32Array(buffer, layout.codeOffset, vocab).set(o.tree.offset);
    new Int32Array(buffer, layout.codeLength, vocab).set(o.tree.length);
    new Uint8Array(buffer, layout.codes, o.tree.codes.length).set(o.tree.codes);
    new Int32Array(buffer, layout.points, o.tree.points.length).set(o.tree.points);
  }
  const keep = new Float32Array(new SharedArrayBuffer(vocab * 4));
  keep.set(o.keep);
  return { module: kernelModule(layout.pages), memory, layout, keep, progress: new Int32Array(new SharedArrayBuffer(4)) };
}

/** The trained input vectors without row padding. */
export function wasmVectors(model: WasmModel): Float32Array {
  const { layout } = model;
  const out = new Float32Array(layout.vocab * layout.dim);
  for (let w = 0; w < layout.vocab; w++) {
    out.set(new Float32Array(model.memory.buffer, layout.syn0 + w * layout.stride * 4, layout.dim), w * layout.dim);
  }
  return out;
}

export function wasmKernel(model: WasmModel, p: TrainParams, thread: number, seed: number): WasmKernel {
  return new WasmKernel(model.module, model.memory, model.layout, p, thread, seed);
}

/** One epoch over corpus[start, end) (word ids, −1 ends a sentence): subsampling here, the updates in the kernel. */
export function trainRangeWasm(p: TrainParams, model: WasmModel, kernel: WasmKernel, corpus: Int32Array, start: number, end: number, rng: FastRandom): number {
  const { keep, progress } = model;
  const sentence = kernel.sentence;
  const sg = p.sg;
  let len = 0;
  let processed = 0;
  let reported = 0;
  // Continue the decay from the words all threads have done so far: this range is one block of many.
  let alpha = decayedAlpha(p, Atomics.load(progress, 0));
  for (let i = start; i < end; i++) {
    const id = corpus[i];
    if (id >= 0) {
      processed++;
      const k = keep[id];
      if (k >= 1 || k >= rng.float()) sentence[len++] = id;
      if (len < MAX_SENTENCE) continue;
    }
    if (len > 0) {
      if (sg) kernel.sg(len, alpha);
      else kernel.cbow(len, alpha);
      len = 0;
    }
    if (processed - reported >= 10000) {
      const done = Atomics.add(progress, 0, processed - reported) + processed - reported;
      reported = processed;
      alpha = decayedAlpha(p, done);
    }
  }
  if (len > 0) {
    if (sg) kernel.sg(len, alpha);
    else kernel.cbow(len, alpha);
  }
  Atomics.add(progress, 0, processed - reported);
  return processed;
}
