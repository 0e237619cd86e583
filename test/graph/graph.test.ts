// The graph builder's models run in onnxruntime-node and compute what the ops say.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { GraphBuilder, float } from '../../src/graph/builder.js';
import { runGraph as run } from '../helpers/run-graph.js';

const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-5) => {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= tol, `index ${i}: ${a[i]} vs ${b[i]}`);
};

test('matmul + bias + gelu with a symbolic batch dimension', async () => {
  const g = new GraphBuilder('dense');
  const x = g.input('x', 'float32', ['batch', 2]);
  const w = g.param('w', Float32Array.of(1, -1, 2, 0.5), [2, 2]);
  const b = g.param('b', Float32Array.of(0.1, -0.2), [2]);
  const h = g.op1('Add', [g.op1('MatMul', [x, w]), b]);
  const erf = g.op1('Erf', [g.op1('Div', [h, g.scalar(Math.SQRT2)])]);
  const gelu = g.op1('Mul', [g.op1('Mul', [h, g.op1('Add', [erf, g.scalar(1)])]), g.scalar(0.5)]);
  g.output(gelu, 'y', { shape: ['batch', 2] });
  const gelu1 = (v: number) => 0.5 * v * (1 + erfApprox(v / Math.SQRT2));
  for (const rows of [1, 3]) {
    const data = Float32Array.from({ length: rows * 2 }, (_, i) => i * 0.5 - 1);
    const out = await run(g, { x: new ort.Tensor('float32', data, [rows, 2]) });
    const expected: number[] = [];
    for (let r = 0; r < rows; r++) {
      const [a, c] = [data[r * 2], data[r * 2 + 1]];
      expected.push(gelu1(a * 1 + c * 2 + 0.1), gelu1(a * -1 + c * 0.5 - 0.2));
    }
    close(out.y.data as Float32Array, expected, 1e-4);
  }
});

test('layer normalisation and softmax', async () => {
  const g = new GraphBuilder('norm');
  const x = g.input('x', 'float32', [1, 4]);
  const ln = g.op1('LayerNormalization', [x, g.param('gamma', Float32Array.of(1, 1, 1, 1), [4]), g.param('beta', new Float32Array(4), [4])], { axis: -1, epsilon: float(1e-5) });
  g.output(ln, 'ln', { shape: [1, 4] });
  g.output(g.op1('Softmax', [x], { axis: -1 }), 'sm', { shape: [1, 4] });
  const out = await run(g, { x: new ort.Tensor('float32', Float32Array.of(1, 2, 3, 4), [1, 4]) });
  const sd = Math.sqrt(1.25 + 1e-5);
  close(out.ln.data as Float32Array, [-1.5 / sd, -0.5 / sd, 0.5 / sd, 1.5 / sd], 1e-4);
  const e = [1, 2, 3, 4].map(Math.exp);
  const sum = e.reduce((a, b) => a + b);
  close(out.sm.data as Float32Array, e.map((v) => v / sum));
});

test('If with subgraphs reading outer values, int64 and bool inputs', async () => {
  const g = new GraphBuilder('branch');
  const cond = g.input('cond', 'bool', []);
  const n = g.input('n', 'int64', [2]);
  const thenBranch = g.subgraph('then', (s) => s.output(s.op1('Add', [n, s.ints([10, 10])]), 'then_out', { dtype: 'int64', shape: [2] }));
  const elseBranch = g.subgraph('else', (s) => s.output(s.op1('Neg', [n]), 'else_out', { dtype: 'int64', shape: [2] }));
  g.output(g.op1('If', [cond], { then_branch: thenBranch, else_branch: elseBranch }, { dtype: 'int64' }), 'y', { shape: [2] });
  const feeds = (c: boolean) => ({ cond: new ort.Tensor('bool', [c], []), n: new ort.Tensor('int64', BigInt64Array.of(1n, 2n), [2]) });
  assert.deepEqual(Array.from((await run(g, feeds(true))).y.data as BigInt64Array), [11n, 12n]);
  assert.deepEqual(Array.from((await run(g, feeds(false))).y.data as BigInt64Array), [-1n, -2n]);
});

test('Scan computes a running sum over a symbolic sequence (float64)', async () => {
  const g = new GraphBuilder('cumsum');
  const init = g.input('init', 'float64', [2]);
  const xs = g.input('xs', 'float64', ['steps', 2]);
  const body = g.subgraph('body', (s) => {
    const acc = s.input('acc_in', 'float64', [2]);
    const x = s.input('x_t', 'float64', [2]);
    const next = s.op1('Add', [acc, x]);
    s.output(next, 'acc_out', { shape: [2] });
    s.output(s.op1('Identity', [next]), 'y_t', { shape: [2] });
  });
  const [last, all] = g.op('Scan', [init, xs], { body, num_scan_inputs: 1 }, { outputs: 2, dtype: 'float64' });
  g.output(last, 'last', { shape: [2] });
  g.output(all, 'all', { shape: ['steps', 2] });
  const out = await run(g, {
    init: new ort.Tensor('float64', Float64Array.of(0, 1), [2]),
    xs: new ort.Tensor('float64', Float64Array.of(1, 2, 3, 4, 5, 6), [3, 2]),
  });
  close(out.last.data as Float64Array, [9, 13]);
  close(out.all.data as Float64Array, [1, 3, 4, 7, 9, 13]);
});

test('serialisation is deterministic and names stay unique across scopes', () => {
  const build = () => {
    const g = new GraphBuilder('m');
    const x = g.input('x', 'float32', [1]);
    const a = g.scope('layer0', () => g.op1('Relu', [x]));
    const b = g.scope('layer0', () => g.op1('Relu', [a]));
    g.output(b, 'y');
    return g;
  };
  const g = build();
  assert.notEqual(g.nodes[0].name, g.nodes[1].name);
  assert.deepEqual(build().serialize(), build().serialize());
});

function erfApprox(x: number): number {
  // Abramowitz–Stegun 7.1.26, |error| < 1.5e-7.
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return x >= 0 ? y : -y;
}
