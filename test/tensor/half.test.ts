// float16 storage: creation and casts round to binary16 like ONNX Runtime's Cast, ops read float32, F16 state dicts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSafetensors } from '../../src/core/weights/safetensors.js';
import { halfToFloat } from '../../src/core/weights/tensor.js';
import { Generator, randn, tensor, nn } from '../../src/tensor/index.js';
import { assertClose } from './grad-check.js';

test('tensor(…, { dtype: "float16" }) and .half() store binary16: values come back rounded to half precision', async () => {
  const values = [1, 0.1, -2.5, 1 / 3, 65504, 70000, 1e-8, 3e-5, -0];
  const h = tensor(values, { dtype: 'float16' });
  assert.equal(h.dtype, 'float16');
  // Exact binary16 values: 0.1 → 0.0999755859375, 1/3 → 0.333251953125, 70000 overflows, 1e-8 underflows, 3e-5 is subnormal.
  assert.deepEqual(await h.array(), [1, 0.0999755859375, -2.5, 0.333251953125, 65504, Infinity, 0, 503 * 2 ** -24, -0]);
  assert.deepEqual(await tensor(values).half().array(), await h.array());
  assert.ok((await h.data()) instanceof Uint16Array);
  assert.equal(String(tensor([1, 0.1], { dtype: 'float16' })), 'tensor([1.0000, 0.1000], dtype=torch.float16)');
  assert.deepEqual(await h.float().array(), await h.array());
  assert.equal(h.float().dtype, 'float32');
});

test('host rounding (tensor with dtype float16) matches ONNX Runtime Cast bit for bit over normal, subnormal and tie values', async () => {
  const g = new Generator(7);
  const normal = (await randn([4000], { generator: g }).data()) as Float32Array;
  // Spread over magnitudes 2^-26 … 2^17 (underflow, subnormals, normals, overflow), plus exact ties of binary16.
  const values = Array.from(normal, (v, i) => v * 2 ** ((i % 44) - 26));
  for (let m = 0; m < 64; m++) values.push(1 + (2 * m + 1) / 2048, 2 ** -24 * (m + 0.5), 65520 - m / 4);
  values.push(Number.NaN, Infinity, -Infinity);
  const host = (await tensor(values, { dtype: 'float16' }).data()) as Uint16Array;
  const ort = (await tensor(values).to('float16').data()) as Uint16Array;
  const differing = [...host.keys()].filter((i) => host[i] !== ort[i] && !(Number.isNaN(halfToFloat(host[i])) && Number.isNaN(halfToFloat(ort[i]))));
  assert.deepEqual(differing.map((i) => [values[i], host[i], ort[i]]).slice(0, 5), []);
});

test('ops read float16 as float32 (storage only), including promotion with int64 and gradients through a half cast', async () => {
  const h = tensor([[1, 2], [3, 0.1]], { dtype: 'float16' });
  const y = h.add(1);
  assert.equal(y.dtype, 'float32');
  assertClose(await y.array(), [[2, 3], [4, 1.0999755859375]], 1e-7);
  assertClose(await h.matmul(tensor([[1], [1]])).array(), [[3], [3.0999755859375]], 1e-6);
  const withInt = h.mul(tensor([[2, 2], [2, 2]], { dtype: 'int64' }));
  assert.equal(withInt.dtype, 'float32');
  assertClose(await withInt.array(), [[2, 4], [6, 0.199951171875]], 1e-7);
  assert.equal(h.sum().dtype, 'float32');
  assert.deepEqual(await h.argmax(1).array(), [1, 0]);
  const w = tensor([0.1, 3], { requiresGrad: true });
  // d/dw (half(w) · w) = half(w) + w, where the part crossing the cast is rounded to float16 on the way back (as torch).
  w.half().mul(w).sum().backward();
  assertClose(await w.grad.array(), [2 * 0.0999755859375, 6], 1e-7);
  assert.throws(() => tensor([1], { dtype: 'float16', requiresGrad: true }), /only float32 tensors can require gradients/);
});

test('a module saves as F16 safetensors (half the bytes) and loads back to fp16-rounded float32 parameters; half state dicts load', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'geul-half-'));
  try {
    const g = new Generator(3);
    const net = new nn.Sequential(new nn.Linear(64, 128, { generator: g }), new nn.Tanh(), new nn.Linear(128, 4, { generator: g }));
    const [p16, p32] = [join(dir, 'net16.safetensors'), join(dir, 'net32.safetensors')];
    net.save(p16, { dtype: 'float16' });
    net.save(p32);
    const source = openSafetensors(p16);
    assert.deepEqual([...source.tensors.values()].map((t) => t.dtype), ['F16', 'F16', 'F16', 'F16']);
    source.close();
    assert.ok(statSync(p16).size < statSync(p32).size * 0.55);

    const rounded = async (t: { half(): { array(): Promise<unknown> } }) => t.half().array();
    const loaded = new nn.Sequential(new nn.Linear(64, 128), new nn.Tanh(), new nn.Linear(128, 4));
    loaded.load(p16);
    const fromState = new nn.Sequential(new nn.Linear(64, 128), new nn.Tanh(), new nn.Linear(128, 4));
    fromState.loadStateDict(await halfState(net));
    for (const [[name, a], [, b], [, c]] of zip3([...net.namedParameters()], [...loaded.namedParameters()], [...fromState.namedParameters()])) {
      assert.equal(b.dtype, 'float32', name);
      assert.deepEqual(await b.array(), await rounded(a), name);
      assert.deepEqual(await c.array(), await rounded(a), name);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** The state dict in float16 (realised, as a saved one would be). */
async function halfState(net: nn.Module) {
  const state = new Map([...net.stateDict()].map(([k, v]) => [k, v.half()]));
  for (const v of state.values()) await v.realize();
  return state;
}

function zip3<A, B, C>(a: A[], b: B[], c: C[]): [A, B, C][] {
  return a.map((x, i) => [x, b[i], c[i]]);
}
