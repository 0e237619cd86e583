// Counter-based random masks in the graph, hashed from a seed INPUT, so one session draws fresh, reproducible masks
// per run (ONNX's RandomUniform* take the seed as an attribute and advance hidden state between runs).
//
//   const seed = g.input('train/seed', 'int64', []);          // fed per step, e.g. from (run seed, step)
//   const keep = seededKeepMask(g, x, seed, 3, 0.9);          // float32 1/0 with the shape of x; dropout site 3
import type { GraphBuilder, Value } from './builder.js';

const GOLDEN = 0x9e3779b1;
const SEED_KEY = 0xc8e4fd15;
const ROUNDS = 3;

/**
 * A 32-bit variant of Widynski's counter-based "Squares" generator: x = counter·key, then rounds of x = x² + y
 * (y alternating with y + key) and x += x >> 16. Squaring is the non-linear step (opset 17 has no BitwiseXor); the
 * shift feeds the mixed high bits back down. Three rounds: neighbouring counters, seeds and sites show no correlation
 * above sampling noise (test/graph/random.test.ts), and each element costs about 12 uint32 ops.
 */
export function squares32(counter: number, key: number): number {
  const y = Math.imul(counter, key) >>> 0;
  const z = (y + key) >>> 0;
  let x = y;
  for (let r = 0; r < ROUNDS; r++) {
    x = (Math.imul(x, x) + (r % 2 ? z : y)) >>> 0;
    x = (x + (x >>> 16)) >>> 0;
  }
  return x;
}

/** The odd key of one (seed, site): every dropout site of a graph draws its own stream from the step's seed. */
export function siteKey(seed: number, site: number): number {
  return (squares32((seed + Math.imul(site + 1, GOLDEN)) >>> 0, SEED_KEY) * 2 + 1) >>> 0;
}

/** The host's 32-bit mixer for seeds (a resumed run recomputes the same per-step seed). */
export function mix32(value: number): number {
  return squares32(value >>> 0, SEED_KEY);
}

/** A uint32 constant: unsigned arithmetic wraps modulo 2^32 by definition, which the hash relies on. */
function u32(g: GraphBuilder, value: number): Value {
  return g.cast(g.int(value >>> 0), 'uint32');
}

function squaresInGraph(g: GraphBuilder, counter: Value, key: Value): Value {
  const y = g.mul(counter, key);
  const z = g.add(y, key);
  const sixteen = u32(g, 16);
  let x = y;
  for (let r = 0; r < ROUNDS; r++) {
    x = g.add(g.mul(x, x), r % 2 ? z : y);
    // BitShift has no typed helper.
    x = g.add(x, g.op1('BitShift', [x, sixteen], { direction: 'RIGHT' }));
  }
  return x;
}

/** squares32(element index, siteKey(seed, site)) for every element of `like` (uint32, flat [count]). */
export function seededHashLike(g: GraphBuilder, like: Value, seed: Value, site: number): Value {
  const seed32 = g.cast(seed, 'uint32');
  const mixed = squaresInGraph(g, g.add(seed32, u32(g, Math.imul(site + 1, GOLDEN))), u32(g, SEED_KEY));
  const key = g.add(g.mul(mixed, u32(g, 2)), u32(g, 1));
  const count = g.size(like);
  const index = g.cast(g.range(0, count, 1), 'uint32');
  return squaresInGraph(g, index, key);
}

/**
 * A float32 mask with the shape of `like`: 1 with probability `keep`, else 0, a function of (seed, site, element
 * index) only. `seed` is an int64 scalar (its low 32 bits count). Compared as integers: no float noise is made.
 */
export function seededKeepMask(g: GraphBuilder, like: Value, seed: Value, site: number, keep: number): Value {
  const threshold = Math.max(0, Math.min(2 ** 32 - 1, Math.round((1 - keep) * 2 ** 32) - 1));
  const kept = g.greater(seededHashLike(g, like, seed, site), u32(g, threshold));
  const mask = g.reshape(g.cast(kept, 'float32'), g.shape(like));
  return like.shape ? g.withShape(mask, like.shape) : mask;
}
