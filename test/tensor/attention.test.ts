// nn.MultiheadAttention against attention computed with plain JS loops from the same parameters; masks; gradients.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Generator, randn, tensor, nn, type Tensor } from '../../src/tensor/index.js';
import { assertClose, gradCheck } from './grad-check.js';

const flat = async (t: Tensor) => Array.from((await t.data()) as Float32Array);

/** softmax(q·kᵀ/√d)·v per head with the in-projection, then the out-projection, for one batch row (x [L, E]). */
async function reference(mha: nn.MultiheadAttention, x: number[][], maskedKey = -1): Promise<number[][]> {
  const E = mha.embedDim;
  const d = mha.headDim;
  const W = await flat(mha.in_proj_weight);
  const b = await flat(mha.in_proj_bias);
  const Wo = await flat(mha.out_proj.weight);
  const bo = await flat(mha.out_proj.bias as Tensor);
  const proj = (row: number[], part: number) => Array.from({ length: E }, (_, o) => b[part * E + o] + row.reduce((s, v, i) => s + v * W[(part * E + o) * E + i], 0));
  const [q, k, v] = [0, 1, 2].map((part) => x.map((row) => proj(row, part)));
  const merged = x.map(() => new Array<number>(E).fill(0));
  for (let h = 0; h < mha.numHeads; h++) {
    for (let i = 0; i < x.length; i++) {
      const scores = x.map((_, j) => (j === maskedKey ? -Infinity : Array.from({ length: d }, (_, c) => q[i][h * d + c] * k[j][h * d + c]).reduce((a, c) => a + c, 0) / Math.sqrt(d)));
      const top = Math.max(...scores);
      const e = scores.map((s) => Math.exp(s - top));
      const z = e.reduce((a, c) => a + c, 0);
      for (let c = 0; c < d; c++) merged[i][h * d + c] = e.reduce((a, w, j) => a + (w / z) * v[j][h * d + c], 0);
    }
  }
  return merged.map((row) => Array.from({ length: E }, (_, o) => bo[o] + row.reduce((s, val, i) => s + val * Wo[o * E + i], 0)));
}

test('MultiheadAttention computes scaled dot-product attention per head', async () => {
  const mha = new nn.MultiheadAttention(4, 2, { batchFirst: true, generator: new Generator(3) });
  // torch's initial out-projection bias is zero; give it values so the check covers it.
  mha.loadStateDict(new Map([['out_proj.bias', tensor([0.1, -0.2, 0.3, 0])]]), { strict: false });
  const x = [[1, 0, -1, 2], [0.5, 0.5, 0, -1], [2, -1, 1, 0]];
  const out = await mha.forward(tensor([x])).array();
  assertClose(out, [await reference(mha, x)], 1e-4);
  const masked = mha.attend(tensor([x]), tensor([x]), tensor([x]), { keyPaddingMask: tensor([[false, true, false]]) });
  assertClose(await masked.output.array(), [await reference(mha, x, 1)], 1e-4);
  assertClose(await masked.weights.sum(-1).array(), [[1, 1, 1]]);
  assert.equal(((await masked.weights.array()) as number[][][])[0][0][1], 0);
});

test('sequence-first layout and gradients', async () => {
  const mha = new nn.MultiheadAttention(4, 2, { generator: new Generator(4) });
  assert.deepEqual(mha.forward(randn([5, 2, 4])).shape, [5, 2, 4]);
  assert.deepEqual([...mha.namedParameters()].map(([n]) => n), ['in_proj_weight', 'in_proj_bias', 'out_proj.weight', 'out_proj.bias']);
  await gradCheck([[3, 1, 4]], (q) => mha.forward(q));
});
