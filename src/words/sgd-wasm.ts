// The Word2Vec inner loop in WebAssembly SIMD over one shared memory: skip-gram/CBOW × negative sampling/hier. softmax.
//
// Same algorithm as word2vec.c and gensim's Cython loops (sigmoid table clipped at ±6, reduced windows, lock-free
// "Hogwild" updates when threads share the weights), but four floats per instruction. Rows are padded to a multiple
// of 8 floats (the padding stays zero), so the vector loops need no tail. Each thread instantiates the module on the
// shared memory with its own globals (random state, scratch rows, sentence buffer).
import { Fn, assemble, wasm, type Label, type WasmMemory, type WasmModule } from '../core/wasm.js';

export const MAX_EXP = 6;
export const EXP_TABLE_SIZE = 1000;
/** Longest sentence a thread hands to the kernel at once (word2vec.c's MAX_SENTENCE_LENGTH is 1000, gensim's 10000). */
export const MAX_SENTENCE = 10000;
const PAGE = 65536;
const MAX_PAGES = 65536;

/** Byte offsets of everything in the shared memory. */
export interface Layout {
  pages: number;
  dim: number;
  /** Floats per padded row (a multiple of 8). */
  stride: number;
  vocab: number;
  syn0: number;
  syn1neg: number;
  syn1: number;
  exp: number;
  /** Alias method for negative draws: acceptance thresholds (u32) and alias word per slot. */
  aliasProb: number;
  aliasWord: number;
  codeOffset: number;
  codeLength: number;
  codes: number;
  points: number;
  /** Per-thread scratch: neu1, neu1e (one row each) then the sentence (MAX_SENTENCE i32). */
  scratch: number;
  scratchBytes: number;
}

/** Plans the memory; undefined when it would pass wasm32's 4 GiB (the caller then uses the JavaScript loop). */
export function planLayout(vocab: number, dim: number, negative: number, hs: boolean, threads: number, codeCount: number): Layout | undefined {
  const stride = Math.ceil(dim / 8) * 8;
  const rowBytes = stride * 4;
  let at = 64;
  const take = (bytes: number): number => {
    const start = at;
    at += Math.ceil(bytes / 64) * 64;
    return start;
  };
  const syn0 = take(vocab * rowBytes);
  const syn1neg = take(negative > 0 ? vocab * rowBytes : 0);
  const syn1 = take(hs ? vocab * rowBytes : 0);
  const exp = take(EXP_TABLE_SIZE * 4);
  const aliasProb = take(vocab * 4);
  const aliasWord = take(vocab * 4);
  const codeOffset = take(hs ? vocab * 4 : 0);
  const codeLength = take(hs ? vocab * 4 : 0);
  const codes = take(hs ? codeCount : 0);
  const points = take(hs ? codeCount * 4 : 0);
  const scratchBytes = Math.ceil((2 * rowBytes + MAX_SENTENCE * 4) / 64) * 64;
  const scratch = take(threads * scratchBytes);
  const pages = Math.ceil(at / PAGE);
  if (pages > MAX_PAGES) return undefined;
  return { pages, dim, stride, vocab, syn0, syn1neg, syn1, exp, aliasProb, aliasWord, codeOffset, codeLength, codes, points, scratch, scratchBytes };
}

// Per-instance globals.
const G = { syn0: 0, syn1neg: 1, syn1: 2, exp: 3, aliasProb: 4, aliasWord: 5, codeOffset: 6, codeLength: 7, codes: 8, points: 9,
  neu1: 10, neu1e: 11, sent: 12, rowBytes: 13, window: 14, negative: 15, hs: 16, vocab: 17, rng: 18 } as const;
const CONFIG_PARAMS = ['syn0', 'syn1neg', 'syn1', 'exp', 'aliasProb', 'aliasWord', 'codeOffset', 'codeLength', 'codes', 'points',
  'neu1', 'neu1e', 'sent', 'rowBytes', 'window', 'negative', 'hs', 'vocab'] as const;

/** Leaves the next 32 random bits (the high half of a 64-bit LCG, Knuth's MMIX constants) on the stack as i32. */
function random(f: Fn): void {
  f.globalGet(G.rng).i64(6364136223846793005n).op('i64.mul').i64(1442695040888963407n).op('i64.add');
  f.globalSet(G.rng);
  f.globalGet(G.rng).i64(32n).op('i64.shr_u', 'i32.wrap_i64');
}

/** Leaves ⌊random·n⌋ on the stack, n an i32 local or global pushed by `n()`. */
function randomBelow(f: Fn, n: () => void): void {
  random(f);
  f.op('i64.extend_i32_u');
  n();
  f.op('i64.extend_i32_u', 'i64.mul').i64(32n).op('i64.shr_u', 'i32.wrap_i64');
}

/** `for (k = 0; k < rowBytes; k += 32)`: two SIMD lanes of four floats per step. */
function rows(f: Fn, k: number, body: () => void): void {
  f.for(k, () => f.i32(0), () => f.globalGet(G.rowBytes), 32, body);
}

/** Leaves dot(row a, row b) (f32) on the stack; a and b are i32 locals holding byte addresses. */
function dot(f: Fn, a: number, b: number, k: number, acc0: number, acc1: number): void {
  f.v128f(0).set(acc0).v128f(0).set(acc1);
  rows(f, k, () => {
    f.get(acc0).get(a).get(k).op('i32.add').mem('v128.load').get(b).get(k).op('i32.add').mem('v128.load').op('f32x4.mul', 'f32x4.add').set(acc0);
    f.get(acc1).get(a).get(k).op('i32.add').mem('v128.load', 16).get(b).get(k).op('i32.add').mem('v128.load', 16).op('f32x4.mul', 'f32x4.add').set(acc1);
  });
  f.get(acc0).get(acc1).op('f32x4.add').tee(acc0).lane(0).get(acc0).lane(1).op('f32.add').get(acc0).lane(2).get(acc0).lane(3).op('f32.add', 'f32.add');
}

/** neu1e += g·out; out += g·in (reading out before writing it), for one padded row. */
function update(f: Fn, input: number, out: number, k: number, gv: number, o: number, p: number, q: number): void {
  rows(f, k, () => {
    for (const off of [0, 16]) {
      f.get(out).get(k).op('i32.add').tee(p).mem('v128.load', off).set(o);
      f.globalGet(G.neu1e).get(k).op('i32.add').tee(q).get(q).mem('v128.load', off).get(gv).get(o).op('f32x4.mul', 'f32x4.add').mem('v128.store', off);
      f.get(p).get(o).get(gv).get(input).get(k).op('i32.add').mem('v128.load', off).op('f32x4.mul', 'f32x4.add').mem('v128.store', off);
    }
  });
}

/** row[dst] = 0 (dst an i32 global), or row[dst] += row[src] when `src` is given. */
function fill(f: Fn, k: number, dst: () => void, src?: () => void): void {
  const p = f.local('i32');
  rows(f, k, () => {
    for (const off of [0, 16]) {
      dst(); f.get(k).op('i32.add').set(p);
      f.get(p);
      if (src) {
        f.get(p).mem('v128.load', off);
        src(); f.get(k).op('i32.add').mem('v128.load', off).op('f32x4.add');
      } else f.v128f(0);
      f.mem('v128.store', off);
    }
  });
}

/** σ(f) from the table; callers handle |f| ≥ MAX_EXP. Leaves f32. */
function sigmoid(f: Fn, x: number): void {
  f.globalGet(G.exp);
  f.get(x).f32(MAX_EXP).op('f32.add').f32(EXP_TABLE_SIZE / MAX_EXP / 2).op('f32.mul').f32(EXP_TABLE_SIZE - 1).op('f32.min', 'i32.trunc_f32_s');
  f.i32(2).op('i32.shl', 'i32.add').mem('f32.load');
}

/** ns(l1, word, alpha): the positive word and `negative` draws against input row l1; gradient into neu1e. */
function negativeSampling(): Fn {
  const f = new Fn('ns', ['i32', 'i32', 'f32']);
  const [l1, word, alpha] = [0, 1, 2];
  const d = f.local('i32'); const target = f.local('i32'); const l2 = f.local('i32'); const k = f.local('i32');
  const slot = f.local('i32'); const p = f.local('i32'); const q = f.local('i32');
  const x = f.local('f32'); const g = f.local('f32'); const label = f.local('f32');
  const acc0 = f.local('v128'); const acc1 = f.local('v128'); const gv = f.local('v128'); const o = f.local('v128');
  f.for(d, () => f.i32(0), () => f.globalGet(G.negative).i32(1).op('i32.add'), 1, (next: Label) => {
    f.get(d).op('i32.eqz');
    f.if(() => { f.get(word).set(target).f32(1).set(label); }, () => {
      randomBelow(f, () => f.globalGet(G.vocab));
      f.set(slot);
      // Alias method: keep the slot's own word with its acceptance probability, else take its alias.
      f.get(slot).globalGet(G.aliasWord).get(slot).i32(2).op('i32.shl', 'i32.add').mem('i32.load');
      random(f);
      f.globalGet(G.aliasProb).get(slot).i32(2).op('i32.shl', 'i32.add').mem('i32.load').op('i32.lt_u', 'select').tee(target);
      f.get(word).op('i32.eq').brIf(next);
      f.f32(0).set(label);
    });
    f.globalGet(G.syn1neg).get(target).globalGet(G.rowBytes).op('i32.mul', 'i32.add').set(l2);
    dot(f, l1, l2, k, acc0, acc1);
    f.set(x);
    // g = (label − σ(x))·alpha, σ clipped to 0/1 beyond ±MAX_EXP as in word2vec.c.
    f.get(x).f32(MAX_EXP).op('f32.gt');
    f.if(() => { f.get(label).f32(1).op('f32.sub').set(g); }, () => {
      f.get(x).f32(-MAX_EXP).op('f32.lt');
      f.if(() => { f.get(label).set(g); }, () => { f.get(label); sigmoid(f, x); f.op('f32.sub').set(g); });
    });
    f.get(g).get(alpha).op('f32.mul', 'f32x4.splat').set(gv);
    update(f, l1, l2, k, gv, o, p, q);
  });
  return f;
}

/** hs(l1, word, alpha): one logistic unit per inner node on the word's Huffman path. */
function hierarchicalSoftmax(): Fn {
  const f = new Fn('hs', ['i32', 'i32', 'f32']);
  const [l1, word, alpha] = [0, 1, 2];
  const d = f.local('i32'); const off = f.local('i32'); const len = f.local('i32'); const l2 = f.local('i32'); const k = f.local('i32');
  const p = f.local('i32'); const q = f.local('i32');
  const x = f.local('f32'); const acc0 = f.local('v128'); const acc1 = f.local('v128'); const gv = f.local('v128'); const o = f.local('v128');
  f.globalGet(G.codeOffset).get(word).i32(2).op('i32.shl', 'i32.add').mem('i32.load').set(off);
  f.globalGet(G.codeLength).get(word).i32(2).op('i32.shl', 'i32.add').mem('i32.load').set(len);
  f.for(d, () => f.i32(0), () => f.get(len), 1, (next) => {
    f.globalGet(G.syn1).globalGet(G.points).get(off).get(d).op('i32.add').i32(2).op('i32.shl', 'i32.add').mem('i32.load');
    f.globalGet(G.rowBytes).op('i32.mul', 'i32.add').set(l2);
    dot(f, l1, l2, k, acc0, acc1);
    f.tee(x).f32(-MAX_EXP).op('f32.le').brIf(next);
    f.get(x).f32(MAX_EXP).op('f32.ge').brIf(next);
    // g = (1 − code − σ(x))·alpha
    f.f32(1).globalGet(G.codes).get(off).get(d).op('i32.add', 'i32.add').mem('i32.load8_u').op('f32.convert_i32_u', 'f32.sub');
    sigmoid(f, x);
    f.op('f32.sub').get(alpha).op('f32.mul', 'f32x4.splat').set(gv);
    update(f, l1, l2, k, gv, o, p, q);
  });
  return f;
}

/** Pushes the byte address of syn0's row for sentence[j]. */
function syn0Row(f: Fn, j: number): void {
  f.globalGet(G.syn0).globalGet(G.sent).get(j).i32(2).op('i32.shl', 'i32.add').mem('i32.load').globalGet(G.rowBytes).op('i32.mul', 'i32.add');
}

/** The window around position i, shrunk by a random b in [0, window) as word2vec's "reduced window". */
function windowBounds(f: Fn, i: number, len: number, start: number, end: number): void {
  const b = f.local('i32');
  randomBelow(f, () => f.globalGet(G.window));
  f.set(b);
  f.get(i).globalGet(G.window).op('i32.sub').get(b).op('i32.add').tee(start).i32(0).op('i32.lt_s');
  f.if(() => { f.i32(0).set(start); });
  f.get(i).globalGet(G.window).op('i32.add').i32(1).op('i32.add').get(b).op('i32.sub').tee(end).get(len).op('i32.gt_s');
  f.if(() => { f.get(len).set(end); });
}

/** Calls hs and/or ns (function indices 0 and 1) for input row `l1` and the centre word. */
function learn(f: Fn, l1: () => void, word: number, alpha: number): void {
  f.globalGet(G.hs).if(() => { l1(); f.get(word).get(alpha).call(1); });
  f.globalGet(G.negative).if(() => { l1(); f.get(word).get(alpha).call(0); });
}

/** sg(len, alpha): skip-gram over the sentence in the thread's buffer; each context row predicts the centre word. */
function skipGram(): Fn {
  const f = new Fn('sg', ['i32', 'f32']);
  const [len, alpha] = [0, 1];
  const i = f.local('i32'); const j = f.local('i32'); const word = f.local('i32'); const start = f.local('i32'); const end = f.local('i32');
  const l1 = f.local('i32'); const k = f.local('i32');
  f.for(i, () => f.i32(0), () => f.get(len), 1, () => {
    f.globalGet(G.sent).get(i).i32(2).op('i32.shl', 'i32.add').mem('i32.load').set(word);
    windowBounds(f, i, len, start, end);
    f.for(j, () => f.get(start), () => f.get(end), 1, (next) => {
      f.get(j).get(i).op('i32.eq').brIf(next);
      syn0Row(f, j);
      f.set(l1);
      fill(f, k, () => f.globalGet(G.neu1e));
      learn(f, () => f.get(l1), word, alpha);
      fill(f, k, () => f.get(l1), () => f.globalGet(G.neu1e));
    });
  });
  return f;
}

/** cbow(len, alpha): the mean of the context rows predicts the centre word; every context row gets the gradient. */
function cbow(): Fn {
  const f = new Fn('cbow', ['i32', 'f32']);
  const [len, alpha] = [0, 1];
  const i = f.local('i32'); const j = f.local('i32'); const word = f.local('i32'); const start = f.local('i32'); const end = f.local('i32');
  const cw = f.local('i32'); const l = f.local('i32'); const k = f.local('i32'); const p = f.local('i32'); const scale = f.local('v128');
  f.for(i, () => f.i32(0), () => f.get(len), 1, (nextWord) => {
    f.globalGet(G.sent).get(i).i32(2).op('i32.shl', 'i32.add').mem('i32.load').set(word);
    windowBounds(f, i, len, start, end);
    fill(f, k, () => f.globalGet(G.neu1));
    f.i32(0).set(cw);
    f.for(j, () => f.get(start), () => f.get(end), 1, (next) => {
      f.get(j).get(i).op('i32.eq').brIf(next);
      syn0Row(f, j);
      f.set(l);
      fill(f, k, () => f.globalGet(G.neu1), () => f.get(l));
      f.get(cw).i32(1).op('i32.add').set(cw);
    });
    f.get(cw).op('i32.eqz').brIf(nextWord);
    f.f32(1).get(cw).op('f32.convert_i32_s', 'f32.div', 'f32x4.splat').set(scale);
    rows(f, k, () => {
      for (const off of [0, 16]) {
        f.globalGet(G.neu1).get(k).op('i32.add').tee(p).get(p).mem('v128.load', off).get(scale).op('f32x4.mul').mem('v128.store', off);
      }
    });
    fill(f, k, () => f.globalGet(G.neu1e));
    learn(f, () => f.globalGet(G.neu1), word, alpha);
    f.for(j, () => f.get(start), () => f.get(end), 1, (next) => {
      f.get(j).get(i).op('i32.eq').brIf(next);
      syn0Row(f, j);
      f.set(l);
      fill(f, k, () => f.get(l), () => f.globalGet(G.neu1e));
    });
  });
  return f;
}

/** configure(…): this instance's pointers and parameters; seed(lo, hi) starts its random sequence. */
function configure(): Fn {
  const f = new Fn('configure', CONFIG_PARAMS.map(() => 'i32' as const));
  CONFIG_PARAMS.forEach((name, i) => f.get(i).globalSet(G[name]));
  return f;
}

function seed(): Fn {
  const f = new Fn('seed', ['i32', 'i32']);
  f.get(1).op('i64.extend_i32_u').i64(32n).op('i64.shl').get(0).op('i64.extend_i32_u').op('i64.or').globalSet(G.rng);
  return f;
}

/** The kernel module for a memory of `pages` pages. Function order matters: ns = 0, hs = 1 (see `learn`). */
export function kernelModule(pages: number): WasmModule {
  const bytes = assemble({
    memory: { initial: pages, maximum: pages },
    globals: [...CONFIG_PARAMS.map(() => ({ type: 'i32' as const })), { type: 'i64', init: 1n }],
    functions: [negativeSampling(), hierarchicalSoftmax(), skipGram(), cbow(), configure(), seed()],
    exports: ['sg', 'cbow', 'configure', 'seed'],
  });
  return new wasm.Module(bytes);
}

export interface KernelExports {
  sg(len: number, alpha: number): void;
  cbow(len: number, alpha: number): void;
  configure(...args: number[]): void;
  seed(lo: number, hi: number): void;
}

/** One thread's kernel instance: its scratch area, sentence buffer and random state. */
export class WasmKernel {
  readonly sentence: Int32Array;
  private readonly exports: KernelExports;

  constructor(module: WasmModule, memory: WasmMemory, layout: Layout, params: { window: number; negative: number; hs: boolean }, thread: number, seedValue: number) {
    const instance = new wasm.Instance(module, { env: { memory } });
    this.exports = instance.exports as unknown as KernelExports;
    const rowBytes = layout.stride * 4;
    const base = layout.scratch + thread * layout.scratchBytes;
    this.sentence = new Int32Array(memory.buffer, base + 2 * rowBytes, MAX_SENTENCE);
    this.exports.configure(layout.syn0, layout.syn1neg, layout.syn1, layout.exp, layout.aliasProb, layout.aliasWord, layout.codeOffset,
      layout.codeLength, layout.codes, layout.points, base, base + rowBytes, base + 2 * rowBytes, rowBytes, params.window,
      params.negative, params.hs ? 1 : 0, layout.vocab);
    this.exports.seed(seedValue | 0, (Math.imul(seedValue, 0x9e3779b9) ^ (thread + 1)) | 0);
  }

  /** Trains on the first `len` words of `sentence`. */
  sg(len: number, alpha: number): void {
    this.exports.sg(len, alpha);
  }

  cbow(len: number, alpha: number): void {
    this.exports.cbow(len, alpha);
  }
}
