// Seeded in-graph masks: a function of (seed input, site, element) only, equal to the host hash, uniform and uncorrelated.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { GraphBuilder } from '../../src/graph/builder.js';
import { mix32, seededHashLike, seededKeepMask, siteKey, squares32 } from '../../src/graph/random.js';

const UINT32_TO_INT64 = 7;

async function graph(keep: number): Promise<(seed: number, shape: number[]) => Promise<{ hash: BigInt64Array; mask0: Float32Array; mask1: Float32Array }>> {
  const g = new GraphBuilder('noise');
  const x = g.input('x', 'float32', ['a', 'b']);
  const seed = g.input('seed', 'int64', []);
  g.output(g.op1('Cast', [seededHashLike(g, x, seed, 0)], { to: UINT32_TO_INT64 }), 'hash', { dtype: 'int64', shape: ['n'] });
  g.output(seededKeepMask(g, x, seed, 0, keep), 'mask0', { dtype: 'float32', shape: ['a', 'b'] });
  g.output(seededKeepMask(g, x, seed, 1, keep), 'mask1', { dtype: 'float32', shape: ['a', 'b'] });
  const session = await ort.InferenceSession.create(g.serialize());
  return async (s, shape) => {
    const out = await session.run({
      x: new ort.Tensor('float32', new Float32Array(shape[0] * shape[1]), shape),
      seed: new ort.Tensor('int64', BigInt64Array.of(BigInt(s)), []),
    });
    return { hash: out.hash.data as BigInt64Array, mask0: out.mask0.data as Float32Array, mask1: out.mask1.data as Float32Array };
  };
}

test('the graph computes the host hash: squares32(index, siteKey(seed, site))', async () => {
  const draw = await graph(0.5);
  const { hash } = await draw(123456789, [8, 32]);
  const key = siteKey(123456789, 0);
  assert.deepEqual(Array.from(hash, Number), Array.from({ length: 256 }, (_, i) => squares32(i, key)));
});

test('same seed, same mask (across runs of one session and shapes); another seed or site, another mask', async () => {
  const draw = await graph(0.7);
  const a = await draw(7, [64, 64]);
  const again = await draw(7, [64, 64]);
  const b = await draw(8, [64, 64]);
  assert.deepEqual(again.mask0, a.mask0);
  assert.deepEqual((await draw(7, [1, 4096])).mask0, a.mask0, 'element i depends on i only');
  const agree = (p: Float32Array, q: Float32Array) => p.filter((v, i) => v === q[i]).length / p.length;
  // Independent masks with keep 0.7 agree on 0.7² + 0.3² = 58 % of the elements.
  assert.ok(Math.abs(agree(a.mask0, b.mask0) - 0.58) < 0.03, 'another seed');
  assert.ok(Math.abs(agree(a.mask0, a.mask1) - 0.58) < 0.03, 'another site');
});

test('keep rate, uniformity of the hash and no correlation between neighbours, seeds or sites', async () => {
  const draw = await graph(0.9);
  const { mask0 } = await draw(2024, [512, 512]);
  const rate = mask0.reduce((s, v) => s + v, 0) / mask0.length;
  assert.ok(Math.abs(rate - 0.9) < 0.003, `keep rate ${rate}`);
  const n = 1 << 18;
  const uniform = (seed: number, site: number) => {
    const key = siteKey(seed, site);
    return Float64Array.from({ length: n }, (_, i) => squares32(i, key) / 2 ** 32);
  };
  const u = uniform(1, 0);
  const correlation = (p: Float64Array, q: Float64Array, lag = 0) => {
    let s = 0;
    for (let i = lag; i < n; i++) s += (p[i] - 0.5) * (q[i - lag] - 0.5);
    return (12 * s) / (n - lag);
  };
  const mean = u.reduce((s, v) => s + v, 0) / n;
  assert.ok(Math.abs(mean - 0.5) < 0.005, `mean ${mean}`);
  // 16 bins of equal mass (chi-square with 15 degrees of freedom stays far below 50).
  const bins = new Array<number>(16).fill(0);
  for (const v of u) bins[Math.floor(v * 16)]++;
  const chi = bins.reduce((s, c) => s + (c - n / 16) ** 2 / (n / 16), 0);
  assert.ok(chi < 50, `chi-square ${chi}`);
  // Sampling noise of a correlation over n pairs is about 1/√n ≈ 0.002.
  for (const lag of [1, 2, 64, 128, 4096]) assert.ok(Math.abs(correlation(u, u, lag)) < 0.01, `lag ${lag}`);
  assert.ok(Math.abs(correlation(u, uniform(2, 0))) < 0.01, 'consecutive seeds');
  assert.ok(Math.abs(correlation(u, uniform(1, 1))) < 0.01, 'consecutive sites');
});

test('mix32 spreads consecutive seeds: (almost) distinct outputs for 100k consecutive inputs', () => {
  const seen = new Set<number>();
  for (let i = 0; i < 100_000; i++) seen.add(mix32(i));
  // A random function of 32 bits collides about n²/2³³ ≈ 1 time in 100k draws.
  assert.ok(seen.size >= 99_990, `${seen.size} distinct`);
  assert.ok([...seen].every((v) => Number.isInteger(v) && v >= 0 && v < 2 ** 32));
});
