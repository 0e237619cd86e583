// Seeded in-graph uniform noise: a function of (seed input, site, element) only, uniform on [0, 1), matching the host mix.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { GraphBuilder } from '../../src/graph/builder.js';
import { mix32, seededUniformLike } from '../../src/graph/random.js';

async function noise(): Promise<(seed: number, shape: number[]) => Promise<[Float32Array, Float32Array]>> {
  const g = new GraphBuilder('noise');
  const x = g.input('x', 'float32', ['a', 'b']);
  const seed = g.input('seed', 'int64', []);
  g.output(seededUniformLike(g, x, seed, 0), 'u0', { dtype: 'float32', shape: ['a', 'b'] });
  g.output(seededUniformLike(g, x, seed, 1), 'u1', { dtype: 'float32', shape: ['a', 'b'] });
  const session = await ort.InferenceSession.create(g.serialize());
  return async (s, shape) => {
    const out = await session.run({
      x: new ort.Tensor('float32', new Float32Array(shape[0] * shape[1]), shape),
      seed: new ort.Tensor('int64', BigInt64Array.of(BigInt(s)), []),
    });
    return [out.u0.data as Float32Array, out.u1.data as Float32Array];
  };
}

test('same seed, same numbers (also across runs of one session); another seed or site, other numbers', async () => {
  const draw = await noise();
  const [a0, a1] = await draw(7, [64, 64]);
  const [b0] = await draw(8, [64, 64]);
  const [again] = await draw(7, [64, 64]);
  assert.deepEqual(again, a0);
  const differ = (p: Float32Array, q: Float32Array) => p.filter((v, i) => v !== q[i]).length;
  assert.ok(differ(a0, b0) > 4000, 'another seed');
  assert.ok(differ(a0, a1) > 4000, 'another site');
  // Element i depends on i only, not on the shape around it.
  const [wide] = await draw(7, [1, 4096]);
  assert.deepEqual(wide, a0);
});

test('uniform on [0, 1): range, mean, variance and a keep rate of 1 - p for a dropout threshold', async () => {
  const draw = await noise();
  const [u] = await draw(12345, [512, 512]);
  let sum = 0;
  let sq = 0;
  let kept = 0;
  for (const v of u) {
    assert.ok(v >= 0 && v < 1);
    sum += v;
    sq += v * v;
    if (v > 0.3) kept++;
  }
  const n = u.length;
  const mean = sum / n;
  assert.ok(Math.abs(mean - 0.5) < 0.005, `mean ${mean}`);
  assert.ok(Math.abs(sq / n - mean * mean - 1 / 12) < 0.002, 'variance 1/12');
  assert.ok(Math.abs(kept / n - 0.7) < 0.005, `keep rate ${kept / n}`);
  // Neighbouring elements are not correlated.
  let lag = 0;
  for (let i = 1; i < n; i++) lag += (u[i] - 0.5) * (u[i - 1] - 0.5);
  assert.ok(Math.abs(lag / (n - 1)) < 0.002, `lag-1 covariance ${lag / (n - 1)}`);
});

test('mix32 spreads consecutive seeds: (almost) distinct outputs for 100k consecutive inputs', () => {
  const seen = new Set<number>();
  for (let i = 0; i < 100_000; i++) seen.add(mix32(i));
  // A random function of 32 bits collides about n²/2³³ ≈ 1 time in 100k draws.
  assert.ok(seen.size >= 99_990, `${seen.size} distinct`);
  assert.ok([...seen].every((v) => Number.isInteger(v) && v >= 0 && v < 2 ** 32));
});
