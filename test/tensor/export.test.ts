// nn.exportOnnx: exported models run by onnxruntime-node equal the module's forward at several batch/sequence sizes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { Generator, fromArray, randn, randint, tensor, nn, type Tensor } from '../../src/tensor/index.js';

const dir = mkdtempSync(join(tmpdir(), 'geul-export-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

async function runOnnx(bytes: Uint8Array, feeds: Record<string, Tensor>): Promise<Record<string, ort.Tensor>> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const input = Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, new ort.Tensor(t.dtype, t.node.data as Float32Array, t.shape)]));
    return await session.run(input);
  } finally {
    await session.release();
  }
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

test('an MLP with dropout exports with a dynamic batch: ORT equals forward (eval) within 1e-5 at batch 1, 3, 8', async () => {
  const g = new Generator(3);
  const net = new nn.Sequential(new nn.Linear(4, 16, { generator: g }), new nn.GELU(), new nn.Dropout(0.5), new nn.LayerNorm(16), new nn.Linear(16, 3, { generator: g }));
  const path = join(dir, 'mlp.onnx');
  const bytes = await nn.exportOnnx(net, [randn([2, 4], { generator: g })], { path, inputNames: ['x'], outputNames: ['y'], dynamicAxes: { x: { 0: 'batch' } } });
  assert.deepEqual(new Uint8Array(readFileSync(path)), bytes);
  assert.equal(net.training, true, 'the module is back in training mode');
  const session = await ort.InferenceSession.create(bytes);
  assert.deepEqual([...session.inputNames], ['x']);
  assert.deepEqual([...session.outputNames], ['y']);
  await session.release();
  net.eval();
  for (const batch of [1, 3, 8]) {
    const x = randn([batch, 4], { generator: g });
    const want = (await net.forward(x).data()) as Float32Array;
    const got = (await runOnnx(bytes, { x })).y;
    assert.deepEqual(got.dims, [batch, 3]);
    assert.ok(maxDiff(got.data as Float32Array, want) < 1e-5, `batch ${batch}`);
  }
});

class Bag extends nn.Module {
  emb = new nn.Embedding(20, 6, { generator: new Generator(1) });
  out = new nn.Linear(6, 2, { generator: new Generator(2) });
  forward(ids: Tensor, mask: Tensor): Tensor {
    const m = mask.float().unsqueeze(-1);
    const pooled = this.emb.forward(ids).mul(m).sum(1).div(m.sum(1).clamp(1));
    return this.out.forward(pooled);
  }
}

test('int64 ids and a mask with dynamic batch and sequence axes; the logits output gets symbolic dims', async () => {
  const net = new Bag();
  const ids = tensor([[1, 2, 3], [4, 5, 0]], { dtype: 'int64' });
  const mask = tensor([[1, 1, 1], [1, 1, 0]], { dtype: 'int64' });
  const axes = { 0: 'batch', 1: 'sequence' };
  const bytes = await nn.exportOnnx(net, [ids, mask], { inputNames: ['input_ids', 'attention_mask'], outputNames: ['logits'], dynamicAxes: { input_ids: axes, attention_mask: axes } });
  for (const [batch, seq] of [[1, 1], [2, 3], [5, 9]]) {
    const x = randint(0, 20, [batch, seq], { generator: new Generator(batch * 10 + seq) });
    const m = fromArray(BigInt64Array.from({ length: batch * seq }, (_, i) => (i % seq < Math.max(1, seq - (i % 3)) ? 1n : 0n)), [batch, seq]);
    const want = (await net.forward(x, m).data()) as Float32Array;
    const got = (await runOnnx(bytes, { input_ids: x, attention_mask: m })).logits;
    assert.deepEqual(got.dims, [batch, 2]);
    assert.ok(maxDiff(got.data as Float32Array, want) < 1e-5, `[${batch}, ${seq}]`);
  }
});

test('a forward that bakes in the example batch size is refused, naming the op', async () => {
  class Flat extends nn.Module {
    lin = new nn.Linear(6, 2);
    forward(x: Tensor): Tensor {
      return this.lin.forward(x.reshape(x.shape[0] * 3, 2).reshape(x.shape[0], 6));
    }
  }
  const x = randn([2, 3, 2]);
  await assert.rejects(nn.exportOnnx(new Flat(), x, { dynamicAxes: { input_0: [0] } }), (err: Error) => /depends on the size of a dynamic axis: op \d+ is reshape\[6,2\]/.test(err.message));
  // Without dynamic axes the same module exports (a fixed-size model).
  const bytes = await nn.exportOnnx(new Flat(), x);
  assert.ok(bytes.byteLength > 0);
  // flatten and reshape(-1, …) keep the batch free: they export with a dynamic batch.
  class Free extends nn.Module {
    lin = new nn.Linear(6, 2);
    forward(v: Tensor): Tensor { return this.lin.forward(v.flatten(1)).add(this.lin.forward(v.reshape(-1, 6))); }
  }
  const free = new Free();
  const model = await nn.exportOnnx(free, x, { dynamicAxes: { input_0: [0] } });
  const x5 = randn([5, 3, 2]);
  const got = (await runOnnx(model, { input_0: x5 })).output;
  assert.ok(maxDiff(got.data as Float32Array, (await free.forward(x5).data()) as Float32Array) < 1e-5);
});

test('a size fixed where the op keys cannot see it is caught by running the export on longer inputs', async () => {
  // scatter with a number source makes its updates with the index's shape, which its key does not name.
  class Scatter extends nn.Module {
    lin = new nn.Linear(3, 3);
    forward(x: Tensor): Tensor { return this.lin.forward(x).scatter(1, x.gt(0).long(), 0); }
  }
  const x = randn([2, 3]);
  await assert.rejects(nn.exportOnnx(new Scatter(), x, { dynamicAxes: { input_0: [0] } }), /on inputs of other sizes/);
  const unchecked = await nn.exportOnnx(new Scatter(), x, { dynamicAxes: { input_0: [0] }, verify: false });
  await assert.rejects(runOnnx(unchecked, { input_0: randn([3, 3]) }), 'what verify protects against: the model fails at another batch size');
});

test('tensors made inside forward (float32, bool and float16 constants) are stored in the model', async () => {
  class Consts extends nn.Module {
    lin = new nn.Linear(4, 4, { generator: new Generator(5) });
    forward(x: Tensor): Tensor {
      const keep = tensor([true, false, true, true]);
      const scale = tensor([0.1, 2049, 3, -1], { dtype: 'float16' });
      return this.lin.forward(x).mul(tensor([1, 2, 3, 4])).maskedFill(keep.logicalNot(), -5).mul(scale);
    }
  }
  const net = new Consts();
  const bytes = await nn.exportOnnx(net, randn([2, 4]), { dynamicAxes: { input_0: [0] } });
  const x = randn([6, 4]);
  const got = (await runOnnx(bytes, { input_0: x })).output.data as Float32Array;
  const want = (await net.forward(x).data()) as Float32Array;
  assert.ok(maxDiff(got, want) < 1e-5);
  assert.equal(want[1], -5 * 2048, 'the masked column, scaled by the float16 2049 → 2048');
});

test('bad arguments: input names count, axis out of range', async () => {
  const net = new nn.Linear(2, 2);
  await assert.rejects(nn.exportOnnx(net, [randn([1, 2])], { inputNames: ['a', 'b'] }), /2 input names for 1 inputs/);
  await assert.rejects(nn.exportOnnx(net, [randn([1, 2])], { dynamicAxes: { input_0: [2] } }), /out of range/);
});
