// The fused GELU node equals exact GELU written with opset-17 ops, in value and in gradient.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { gradients } from '../../../src/graph/autodiff.js';
import { GraphBuilder } from '../../../src/graph/builder.js';
import { fusedGelu } from '../../../src/train/pretrained/fused-ops.js';
import { runGraph } from '../../helpers/run-graph.js';

test('fused GELU: forward and gradient match the decomposed exact GELU', async () => {
  const xs = Float32Array.from({ length: 41 }, (_, i) => -6 + i * 0.3);
  const weights = Float32Array.from(xs, (_, i) => Math.cos(i));
  const g = new GraphBuilder('gelu');
  const x = g.input('x', 'float32', [xs.length]);
  const w = g.input('w', 'float32', [xs.length]);
  const fused = fusedGelu(g, x);
  const plain = g.gelu(x);
  // A weighted sum makes every element's gradient distinct.
  const [dFused] = gradients(g, g.reduceSum(g.mul(fused, w), undefined, false), [x]);
  const [dPlain] = gradients(g, g.reduceSum(g.mul(plain, w), undefined, false), [x]);
  g.output(fused, 'fused');
  g.output(plain, 'plain');
  g.output(dFused, 'd_fused');
  g.output(dPlain, 'd_plain');
  const out = await runGraph(g, { x: new ort.Tensor('float32', xs, [xs.length]), w: new ort.Tensor('float32', weights, [xs.length]) });
  const [a, b, da, db] = ['fused', 'plain', 'd_fused', 'd_plain'].map((k) => out[k].data as Float32Array);
  xs.forEach((v, i) => {
    assert.ok(Math.abs(a[i] - b[i]) <= 1e-6, `gelu(${v}): ${a[i]} vs ${b[i]}`);
    assert.ok(Math.abs(da[i] - db[i]) <= 2e-6, `gelu'(${v}): ${da[i]} vs ${db[i]}`);
  });
  // Spot values: gelu(0.9) = 0.9·Φ(0.9), gelu'(0) = 0.5.
  assert.ok(Math.abs(a[xs.findIndex((v) => Math.abs(v - 0.9) < 1e-6)] - 0.9 * 0.8159398) < 1e-5);
  assert.ok(Math.abs(da[20] / weights[20] - 0.5) < 1e-6);
});
