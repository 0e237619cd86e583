// Counter-based random numbers in the graph: uniform noise hashed from a seed INPUT, so one session draws fresh,
// reproducible numbers per run (ONNX's RandomUniform* take the seed as an attribute and advance hidden state).
//
//   const seed = g.input('train/seed', 'int64', []);         // fed per step, e.g. from (run seed, step)
//   const u = seededUniformLike(g, x, seed, 3);              // float32 in [0, 1), shape of x; site 3 of the graph
import type { GraphBuilder, Value } from './builder.js';

/** ONNX TensorProto.UINT32: unsigned arithmetic wraps modulo 2^32 by definition, which the hash relies on. */
const UINT32 = 12;
const GOLDEN = 0x9e3779b1;

/**
 * A 32-bit version of Widynski's "Squares" counter-based generator: x = counter·key, then rounds of
 * x = rot16(x² + y) alternating y with y + key. Squaring is the non-linear step (opset 17 has no BitwiseXor), the
 * rotation feeds the well-mixed high bits back into the low ones.
 */
function squares(counter: number, key: number): number {
  const y = Math.imul(counter, key) >>> 0;
  const z = (y + key) >>> 0;
  let x = y;
  for (const add of [y, z, y, z]) {
    x = (Math.imul(x, x) + add) >>> 0;
    x = ((x >>> 16) | (x << 16)) >>> 0;
  }
  return x;
}

/** The host's mixer for seeds (a resumed run recomputes the same per-step seed). */
export function mix32(value: number): number {
  return squares(value >>> 0, 0xc8e4fd15 | 1);
}

function u32(g: GraphBuilder, value: number): Value {
  return g.op1('Cast', [g.int(value >>> 0)], { to: UINT32 });
}

function squaresInGraph(g: GraphBuilder, counter: Value, key: Value): Value {
  const shift = (x: Value, direction: 'LEFT' | 'RIGHT') => g.op1('BitShift', [x, u32(g, 16)], { direction });
  const y = g.op1('Mul', [counter, key]);
  const z = g.op1('Add', [y, key]);
  let x = y;
  for (const add of [y, z, y, z]) {
    x = g.op1('Add', [g.op1('Mul', [x, x]), add]);
    x = g.op1('Add', [shift(x, 'RIGHT'), shift(x, 'LEFT')]); // the halves do not overlap: + is |
  }
  return x;
}

/**
 * Uniform float32 noise in [0, 1) with the shape of `like`, a function of (seed, site, element index) only. `seed` is
 * an int64 scalar (its low 32 bits count); each `site` of one graph gets its own key from the seed.
 */
export function seededUniformLike(g: GraphBuilder, like: Value, seed: Value, site: number): Value {
  const seed32 = g.op1('Cast', [seed], { to: UINT32 });
  const mixed = squaresInGraph(g, g.op1('Add', [seed32, u32(g, Math.imul(site + 1, GOLDEN))]), u32(g, 0xc8e4fd15 | 1));
  // Squares wants an odd key with well-spread bits.
  const key = g.op1('Add', [g.op1('Mul', [mixed, u32(g, 2)]), u32(g, 1)]);
  const shape = g.op1('Shape', [like]);
  const count = g.op1('ReduceProd', [shape], { keepdims: 0 });
  const index = g.op1('Cast', [g.op1('Range', [g.int(0), count, g.int(1)])], { to: UINT32 });
  const hashed = squaresInGraph(g, index, key);
  // The top 24 bits as a float: exact in float32, so the result stays below 1.
  const top = g.cast(g.op1('BitShift', [hashed, u32(g, 8)], { direction: 'RIGHT' }), 'float32');
  return g.op1('Reshape', [g.op1('Mul', [top, g.scalar(2 ** -24)]), shape], {}, { dtype: 'float32', shape: like.shape });
}
