// optim.SparseAdam: Adam on the rows that have a gradient, the other rows and their moments left as they are.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Generator, nn, optim, tensor } from '../../src/tensor/index.js';
import { assertClose } from './grad-check.js';

/** Lazy Adam by hand: rows listed in `rows` take an Adam step with bias corrections of step t; others stay. */
function reference(p: number[][], m: number[][], v: number[][], grad: number[][], rows: number[], t: number, lr: number): void {
  const [b1, b2, eps] = [0.9, 0.999, 1e-8];
  for (const r of rows) {
    for (let d = 0; d < p[r].length; d++) {
      m[r][d] = b1 * m[r][d] + (1 - b1) * grad[r][d];
      v[r][d] = b2 * v[r][d] + (1 - b2) * grad[r][d] ** 2;
      p[r][d] -= (lr * (m[r][d] / (1 - b1 ** t))) / (Math.sqrt(v[r][d] / (1 - b2 ** t)) + eps);
    }
  }
}

test('SparseAdam updates only the rows a lookup touched, with bias corrections of the global step', async () => {
  const start = [[0.5, -0.5], [1, 2], [-1, 0.25], [0.1, 0.1]];
  const table = new nn.Parameter(tensor(start));
  const opt = new optim.SparseAdam([table], { lr: 0.1 });
  const p = start.map((r) => [...r]);
  const m = start.map((r) => r.map(() => 0));
  const v = start.map((r) => r.map(() => 0));
  const weights = tensor([[1, -2], [0.5, 3]]);
  // Step 1 looks up rows 0 and 2; step 2 only row 1; step 3 rows 0 and 1 (row 0 twice).
  for (const [t, ids] of [[1, [0, 2]], [2, [1, 1]], [3, [0, 0, 1]]] as const) {
    opt.zeroGrad();
    const picked = table.indexSelect(0, tensor([...ids], { dtype: 'int64' }));
    const r = weights.slice([0, 1]).expand(ids.length, 2);
    picked.mul(r).sum().backward();
    const grad = (await table.grad.array()) as number[][];
    await opt.step();
    reference(p, m, v, grad, [...new Set(ids)], t, 0.1);
    assertClose(await table.array(), p, 1e-5);
  }
  // Row 3 was never looked up: still its starting value.
  assert.deepEqual(((await table.array()) as number[][])[3], [0.1, 0.1].map((x) => Math.fround(x)));
});

test('SparseAdam on dense layers is Adam (every row has a gradient every step)', async () => {
  const run = async (make: (ps: nn.Parameter[]) => optim.Optimizer) => {
    const lin = new nn.Linear(3, 2, { generator: new Generator(5) });
    const opt = make(lin.parameters());
    for (let i = 0; i < 3; i++) {
      opt.zeroGrad();
      nn.crossEntropy(lin.forward(tensor([[1, 2, 3], [-1, 0, 1]])), tensor([0, 1], { dtype: 'int64' })).backward();
      await opt.step();
    }
    return lin.weight.array();
  };
  assertClose(await run((ps) => new optim.SparseAdam(ps, { lr: 0.05 })), await run((ps) => new optim.Adam(ps, { lr: 0.05 })), 1e-6);
});
