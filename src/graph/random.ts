// Counter-based random numbers in the graph: uniform noise hashed from a seed INPUT, so one session draws fresh,
// reproducible numbers per run (ONNX's RandomUniform* take the seed as an attribute and advance hidden state).
//
//   const seed = g.input('train/seed', 'int64', []);         // fed per step, e.g. from (run seed, step)
//   const u = seededUniformLike(g, x, seed, 3);              // float32 in [0, 1), shape of x; site 3 of the graph
import type { GraphBuilder, Value } from './builder.js';

/** ONNX TensorProto.UINT32: unsigned arithmetic wraps modulo 2^32 by definition, which the hash relies on. */
const UINT32 = 12;

/** Odd multipliers and shifts of a 32-bit integer finaliser (after Wellons' lowbias32, with adds for xors: opset 17 has no BitwiseXor). */
const MIX: readonly [number, number][] = [[0x7feb352d, 15], [0x846ca68b, 16], [0x2c1b3c6d, 13]];
const GOLDEN = 0x9e3779b1;

/** The same 32-bit mix on the host (Math.imul wraps like uint32 Mul), for per-step seeds and tests. */
export function mix32(value: number): number {
  let h = value >>> 0;
  for (const [k, s] of MIX) {
    h = Math.imul(h, k) >>> 0;
    h = (h + (h >>> s)) >>> 0;
  }
  return h;
}

function u32(g: GraphBuilder, value: number): Value {
  return g.op1('Cast', [g.int(value >>> 0)], { to: UINT32 });
}

function mixInGraph(g: GraphBuilder, x: Value): Value {
  let h = x;
  for (const [k, s] of MIX) {
    h = g.op1('Mul', [h, u32(g, k)]);
    h = g.op1('Add', [h, g.op1('BitShift', [h, u32(g, s)], { direction: 'RIGHT' })]);
  }
  return h;
}

/**
 * Uniform float32 noise in [0, 1) with the shape of `like`, a function of (seed, site, element index) only. `seed` is
 * an int64 scalar (its low 32 bits count); each `site` of one graph gets its own odd multiplier and offset from the
 * seed, so two sites never draw shifted copies of each other.
 */
export function seededUniformLike(g: GraphBuilder, like: Value, seed: Value, site: number): Value {
  const seed32 = g.op1('Cast', [seed], { to: UINT32 });
  const key = mixInGraph(g, g.op1('Add', [seed32, u32(g, Math.imul(site + 1, GOLDEN))]));
  const odd = g.op1('Add', [g.op1('Mul', [key, u32(g, 2)]), u32(g, 1)]);
  const offset = mixInGraph(g, g.op1('Add', [key, u32(g, GOLDEN)]));
  const shape = g.op1('Shape', [like]);
  const count = g.op1('ReduceProd', [shape], { keepdims: 0 });
  const index = g.op1('Cast', [g.op1('Range', [g.int(0), count, g.int(1)])], { to: UINT32 });
  const hashed = mixInGraph(g, g.op1('Add', [g.op1('Mul', [index, odd]), offset]));
  // The top 24 bits as a float: exact in float32, so the result stays below 1.
  const top = g.op1('Cast', [g.op1('BitShift', [hashed, u32(g, 8)], { direction: 'RIGHT' })], { to: 1 });
  return g.op1('Reshape', [g.op1('Mul', [top, g.scalar(2 ** -24)]), shape], {}, { dtype: 'float32', shape: like.shape });
}
