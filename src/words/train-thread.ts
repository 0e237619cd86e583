// One Word2Vec training thread: every epoch over its share of the encoded corpus, on the wasm or JavaScript kernel.
import { blocks, type CorpusStore } from './encode.js';
import { FastRandom, trainRange, type SharedModel, type TrainParams } from './sgd.js';
import { trainRangeWasm, wasmKernel, type WasmModel } from './train-wasm.js';

export interface ThreadData {
  params: TrainParams;
  /** The WebAssembly SIMD kernel's model, or the JavaScript loop's (fallback) — exactly one is set. */
  wasm?: WasmModel;
  js?: SharedModel;
  store: CorpusStore;
  /** Store id → vocabulary id, −2 for words dropped by min_count / max_vocab. */
  remap: Int32Array;
  start: number;
  end: number;
  epochs: number;
  seed: number;
  thread: number;
}

export function runThread(d: ThreadData): void {
  const rng = new FastRandom(d.seed);
  const kernel = d.wasm ? wasmKernel(d.wasm, d.params, d.thread, d.seed) : undefined;
  for (let e = 0; e < d.epochs; e++) {
    for (const block of blocks(d.store, d.remap, d.start, d.end)) {
      if (d.wasm && kernel) trainRangeWasm(d.params, d.wasm, kernel, block, 0, block.length, rng);
      else if (d.js) trainRange(d.params, d.js, block, 0, block.length, rng);
    }
  }
}
