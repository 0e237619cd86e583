// Every differentiable op's gradient against central finite differences (float64 where ORT's CPU kernels allow).
import { test } from 'node:test';
import { checkGradient } from './grad-check.js';
import { float } from '../../src/graph/builder.js';
import { binaryCrossEntropy, softmaxCrossEntropy } from '../../src/graph/losses.js';

const pos = (v: number) => Math.abs(v) + 0.5;
const away = (v: number) => (v >= 0 ? v + 0.1 : v - 0.1);

test('arithmetic with broadcasting', async () => {
  await checkGradient([{ shape: [2, 3] }, { shape: [3] }], (g, [a, b]) => g.op1('Add', [a, b]));
  await checkGradient([{ shape: [2, 1] }, { shape: [1, 3] }], (g, [a, b]) => g.op1('Sub', [a, b]));
  await checkGradient([{ shape: [2, 3] }, { shape: [2, 1] }], (g, [a, b]) => g.op1('Mul', [a, b]));
  await checkGradient([{ shape: [2, 3] }, { shape: [3], map: pos }], (g, [a, b]) => g.op1('Div', [a, b]));
  await checkGradient([{ shape: [4], map: pos }, { shape: [1] }], (g, [a, b]) => g.op1('Pow', [a, b]));
  await checkGradient([{ shape: [2, 2] }], (g, [a]) => g.op1('Neg', [g.op1('Mul', [a, a])]));
});

test('unary functions', async () => {
  await checkGradient([{ shape: [5], map: pos }], (g, [a]) => g.op1('Sqrt', [a]));
  await checkGradient([{ shape: [5], map: pos }], (g, [a]) => g.op1('Log', [a]));
  await checkGradient([{ shape: [5] }], (g, [a]) => g.op1('Exp', [a]));
  await checkGradient([{ shape: [6], map: away }], (g, [a]) => g.op1('Relu', [a]));
  await checkGradient([{ shape: [6], map: away }], (g, [a]) => g.op1('Abs', [a]));
  await checkGradient([{ shape: [5] }], (g, [a]) => g.op1('Sigmoid', [a]));
  await checkGradient([{ shape: [5] }], (g, [a]) => g.op1('Tanh', [a]));
  await checkGradient([{ shape: [5], map: pos }], (g, [a]) => g.op1('Reciprocal', [a]));
  await checkGradient([{ shape: [2, 3], dtype: 'float32' }], (g, [a]) => g.op1('Erf', [a]));
});

test('matrix products (batched, weight-shaped, Gemm with transposes and bias)', async () => {
  await checkGradient([{ shape: [2, 3] }, { shape: [3, 4] }], (g, [a, b]) => g.op1('MatMul', [a, b]));
  await checkGradient([{ shape: [2, 2, 3] }, { shape: [3, 4] }], (g, [a, b]) => g.op1('MatMul', [a, b]));
  await checkGradient([{ shape: [2, 2, 3] }, { shape: [2, 3, 2] }], (g, [a, b]) => g.op1('MatMul', [a, b]));
  await checkGradient([{ shape: [3, 2] }, { shape: [4, 3] }, { shape: [4] }], (g, [a, b, c]) => g.op1('Gemm', [a, b, c], { transA: 1, transB: 1, alpha: float(0.5), beta: float(2) }));
  await checkGradient([{ shape: [2, 3] }, { shape: [3, 4] }, { shape: [1, 4] }], (g, [a, b, c]) => g.op1('Gemm', [a, b, c]));
});

test('reductions', async () => {
  await checkGradient([{ shape: [2, 3, 2] }], (g, [a]) => g.op1('ReduceSum', [a, g.ints([1])], { keepdims: 0 }));
  await checkGradient([{ shape: [2, 3] }], (g, [a]) => g.op1('ReduceSum', [a], { keepdims: 0 }));
  await checkGradient([{ shape: [2, 3] }], (g, [a]) => g.op1('ReduceMean', [a], { axes: [0], keepdims: 1 }));
  await checkGradient([{ shape: [2, 4] }], (g, [a]) => g.op1('ReduceMax', [a], { axes: [1], keepdims: 0 }));
});

test('shape and indexing ops', async () => {
  await checkGradient([{ shape: [2, 3] }], (g, [a]) => g.op1('Mul', [g.op1('Reshape', [a, g.ints([3, 2])]), g.scalar(2, 'float64')]));
  await checkGradient([{ shape: [2, 3, 4] }], (g, [a]) => g.op1('Transpose', [a], { perm: [2, 0, 1] }));
  await checkGradient([{ shape: [2, 3] }], (g, [a]) => g.op1('Squeeze', [g.op1('Unsqueeze', [a, g.ints([1])]), g.ints([1])]));
  await checkGradient([{ shape: [2, 3] }, { shape: [2, 1] }], (g, [a, b]) => g.op1('Concat', [a, b, a], { axis: 1 }));
  await checkGradient([{ shape: [2, 5] }], (g, [a]) => {
    const [p, q] = g.op('Split', [a, g.ints([2, 3])], { axis: 1 }, { outputs: 2 });
    return g.op1('Concat', [g.op1('Mul', [p, p]), q], { axis: 1 });
  });
  await checkGradient([{ shape: [2, 5] }], (g, [a]) => g.op('Split', [a, g.ints([2, 3])], { axis: 1 }, { outputs: 2 })[1]);
  await checkGradient([{ shape: [3, 6] }], (g, [a]) => g.op1('Slice', [a, g.ints([1, -1]), g.ints([3, -6]), g.ints([0, 1]), g.ints([1, -2])]));
  await checkGradient([{ shape: [2, 3] }], (g, [a]) => g.op1('Expand', [a, g.ints([2, 2, 3])]));
  await checkGradient([{ shape: [5, 3] }, { shape: [2, 3], dtype: 'int64', data: [1, 4, 1, 0, 1, 4] }], (g, [e, ids]) => g.op1('Gather', [e, ids]));
  await checkGradient([{ shape: [2, 3] }, { shape: [2, 3] }, { shape: [2, 3], dtype: 'bool', data: [1, 0, 1, 0, 0, 1] }], (g, [a, b, c]) => g.op1('Where', [c, a, b]));
  await checkGradient([{ shape: [3] }, { shape: [2, 3], dtype: 'bool', data: [1, 0, 1, 0, 0, 1] }], (g, [a, c]) => g.op1('Where', [c, a, g.scalar(0, 'float64')]));
});

test('softmax, log-softmax, layer normalisation', async () => {
  await checkGradient([{ shape: [2, 4] }], (g, [a]) => g.op1('Softmax', [a], { axis: -1 }));
  await checkGradient([{ shape: [2, 4] }], (g, [a]) => g.op1('Softmax', [a], { axis: 0 }));
  await checkGradient([{ shape: [2, 4] }], (g, [a]) => g.op1('LogSoftmax', [a], { axis: -1 }));
  await checkGradient([{ shape: [2, 2, 4] }, { shape: [4] }, { shape: [4] }], (g, [x, s, b]) => g.op1('LayerNormalization', [x, s, b], { axis: -1, epsilon: float(1e-5) }));
});

test('losses and a shared input (gradient accumulation)', async () => {
  await checkGradient([{ shape: [3, 4] }, { shape: [3], dtype: 'int64', data: [0, 3, 1] }], (g, [z, y]) => softmaxCrossEntropy(g, { ...z, shape: [3, 4] }, y));
  await checkGradient([{ shape: [4] }, { shape: [4], data: [0, 1, 1, 0] }], (g, [z, t]) => binaryCrossEntropy(g, z, t));
  await checkGradient([{ shape: [2, 3] }], (g, [a]) => g.op1('Add', [g.op1('Tanh', [a]), g.op1('Mul', [a, g.op1('Exp', [a])])]));
});
