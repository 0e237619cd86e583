// The SIMD Adam kernel against the JavaScript loop: same values after several steps, moments included.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WasmAdam } from '../../src/tensor/adam-wasm.js';
import { adamUpdate, type AdamScalars } from '../../src/tensor/optim-kernels.js';
import { Generator, randn } from '../../src/tensor/index.js';
import { assertClose } from './grad-check.js';

test('WasmAdam equals the JavaScript Adam loop (odd sizes, L2 and decoupled decay) and keeps each parameter\'s moments apart', async () => {
  const sizes = [7, 130, 1];
  const kernel = WasmAdam.create(sizes);
  assert.ok(kernel, 'WebAssembly SIMD is available in Node 20');
  const gen = new Generator(11);
  const start = await Promise.all(sizes.map(async (n) => (await randn([n], { generator: gen }).data()) as Float32Array));
  const js = start.map((p) => ({ p, m: new Float32Array(p.length), v: new Float32Array(p.length) }));
  const wasmP = start.map((p) => p);
  sizes.forEach((_, i) => kernel.reset(i));
  for (let t = 1; t <= 4; t++) {
    const s: AdamScalars = { b1: 0.9, b2: 0.99, eps: 1e-8, stepSize: 0.1 / (1 - 0.9 ** t), correction2: 1 / Math.sqrt(1 - 0.99 ** t), l2: t % 2 ? 0.5 : 0, decay: t % 2 ? 1 : 0.97 };
    for (let i = 0; i < sizes.length; i++) {
      const g = (await randn([sizes[i]], { generator: gen }).data()) as Float32Array;
      const outJs = new Float32Array(sizes[i]);
      adamUpdate(js[i].p, g, outJs, js[i].m, js[i].v, s);
      js[i].p = outJs;
      const outWasm = new Float32Array(sizes[i]);
      kernel.update(i, wasmP[i], g, outWasm, s);
      wasmP[i] = outWasm;
    }
  }
  sizes.forEach((_, i) => {
    assertClose([...wasmP[i]], [...js[i].p], 1e-5);
    const [m, v] = kernel.moments(i);
    assertClose([...m], [...js[i].m], 1e-5);
    assertClose([...v], [...js[i].v], 1e-5);
  });
  // The parameters moved (the comparison is not of untouched starts).
  assert.ok(Math.abs(wasmP[1][0] - start[1][0]) > 0.05);
});
