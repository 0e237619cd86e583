// ModelContext.dropout: the output and the gradient use the same seeded mask, the backward pass hashing it again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { Rng } from '../../src/core/random.js';
import { gradients } from '../../src/graph/autodiff.js';
import { GraphBuilder } from '../../src/graph/builder.js';
import { seededKeepMask } from '../../src/graph/random.js';
import { DROPOUT_SEED_INPUT, ModelContext } from '../../src/train/model.js';
import { runGraph } from '../helpers/run-graph.js';

test('dropout: y = x·mask/(1−p) and ∂(Σ w·y)/∂x = w·mask/(1−p) with one mask, re-hashed for the gradient', async () => {
  const n = 4000;
  const rate = 0.3;
  const g = new GraphBuilder('dropout');
  const ctx = new ModelContext(g, true, new Rng(1));
  const x = g.input('x', 'float32', [n]);
  const w = g.input('w', 'float32', [n]);
  const y = ctx.dropout(x, rate);
  const [dx] = gradients(g, g.reduceSum(g.mul(y, w), undefined, false), [x]);
  const seed = { name: DROPOUT_SEED_INPUT, dtype: 'int64', shape: [] } as const; // declared by the context
  g.output(y, 'y');
  g.output(dx, 'dx');
  g.output(seededKeepMask(g, x, seed, 0, 1 - rate), 'mask');
  const xs = Float32Array.from({ length: n }, (_, i) => 1 + (i % 7));
  const ws = Float32Array.from({ length: n }, (_, i) => Math.sin(i) + 2);
  const out = await runGraph(g, {
    x: new ort.Tensor('float32', xs, [n]), w: new ort.Tensor('float32', ws, [n]),
    [DROPOUT_SEED_INPUT]: new ort.Tensor('int64', BigInt64Array.of(12345n), []),
  });
  const [ys, dxs, mask] = ['y', 'dx', 'mask'].map((k) => out[k].data as Float32Array);
  const scale = 1 / (1 - rate);
  let dropped = 0;
  for (let i = 0; i < n; i++) {
    dropped += 1 - mask[i];
    assert.ok(Math.abs(ys[i] - xs[i] * mask[i] * scale) < 1e-5, `y[${i}]`);
    assert.ok(Math.abs(dxs[i] - ws[i] * mask[i] * scale) < 1e-5, `dx[${i}]: ${dxs[i]} vs ${ws[i] * mask[i] * scale}`);
  }
  assert.ok(Math.abs(dropped / n - rate) < 0.03, `dropped ${dropped / n}`);
});
