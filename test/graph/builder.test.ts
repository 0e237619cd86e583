// The builder's typed helpers: eager shape inference, If/Scan wrappers, integer/bool/float16 data, contrib ops, in ORT.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GraphBuilder } from '../../src/graph/builder.js';
import { graphSession, numbers, runGraph, tensor } from '../helpers/run-graph.js';

const close = (a: readonly number[], b: readonly number[], tol = 1e-5) => {
  assert.equal(a.length, b.length, `lengths ${a.length} vs ${b.length}`);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= tol, `index ${i}: ${a[i]} vs ${b[i]}`);
};

/** Two-head self-attention over x [B, 3, 4] with padding mask [B, 3], written out in plain JS. */
function attentionReference(x: number[], mask: number[], batch: number): number[] {
  const [T, H, D] = [3, 2, 2];
  const out = new Array<number>(batch * T * H * D).fill(0);
  const at = (b: number, t: number, h: number, d: number) => x[((b * T + t) * H + h) * D + d];
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < H; h++) {
      for (let i = 0; i < T; i++) {
        const scores = Array.from({ length: T }, (_, j) => {
          let dot = 0;
          for (let d = 0; d < D; d++) dot += at(b, i, h, d) * at(b, j, h, d);
          return dot / Math.SQRT2 + (1 - mask[b * T + j]) * -1e4;
        });
        const max = Math.max(...scores);
        const e = scores.map((s) => Math.exp(s - max));
        const sum = e.reduce((p, q) => p + q);
        for (let d = 0; d < D; d++) {
          out[((b * T + i) * H + h) * D + d] = e.reduce((acc, w, j) => acc + (w / sum) * at(b, j, h, d), 0);
        }
      }
    }
  }
  return out;
}

test('typed helpers infer shapes through an attention block; one model runs batch 1 and 2', async () => {
  const g = new GraphBuilder('attention');
  const x = g.input('x', 'float32', ['batch', 3, 4]);
  const mask = g.input('mask', 'int64', ['batch', 3]);
  const heads = g.scope('attn', () => g.transpose(g.reshape(x, [0, 0, 2, 2]), [0, 2, 1, 3]));
  assert.deepEqual(heads.shape, ['batch', 2, 3, 2]);
  assert.match(heads.name, /^attn\/Transpose/);
  const scores = g.mul(g.matmul(heads, g.transpose(heads, [0, 1, 3, 2])), 1 / Math.SQRT2);
  assert.deepEqual(scores.shape, ['batch', 2, 3, 3]);
  const bias = g.unsqueeze(g.mul(g.sub(1, g.cast(mask, 'float32')), -1e4), [1, 2]);
  assert.deepEqual([bias.dtype, bias.shape], ['float32', ['batch', 1, 1, 3]]);
  const probs = g.softmax(g.add(scores, bias));
  const context = g.reshape(g.transpose(g.matmul(probs, heads), [0, 2, 1, 3]), [0, 0, 4]);
  assert.deepEqual(context.shape, ['batch', 3, 4]);
  g.output(context, 'context');
  assert.equal(g.outputs[0].shape, undefined, 'inferred shapes are not declared');

  const session = await graphSession(g);
  for (const batch of [1, 2]) {
    const xs = Array.from({ length: batch * 12 }, (_, i) => Math.sin(i * 0.7));
    const m = batch === 1 ? [1, 1, 0] : [1, 1, 0, 1, 1, 1];
    const out = await session.run({ x: tensor('float32', xs, [batch, 3, 4]), mask: tensor('int64', m, [batch, 3]) });
    assert.deepEqual(out.context.dims, [batch, 3, 4]);
    close(numbers(out.context), attentionReference(xs, m, batch), 1e-5);
  }
  await session.release();
});

test('shape inference: Gather, Concat, Split, Slice, Expand, Range, reductions; declared and unknown dims', async () => {
  const g = new GraphBuilder('shapes');
  const table = g.param('table', Float32Array.from({ length: 10 }, (_, i) => i), [5, 2]);
  const ids = g.input('ids', 'int64', ['batch', 'seq']);
  const rows = g.gather(table, ids);
  assert.deepEqual(rows.shape, ['batch', 'seq', 2]);
  const both = g.concat([rows, rows], -1);
  assert.deepEqual(both.shape, ['batch', 'seq', 4]);
  const [left, right] = g.split(both, [1, 3], 2);
  assert.deepEqual([left.shape, right.shape], [['batch', 'seq', 1], ['batch', 'seq', 3]]);
  assert.deepEqual(g.slice(right, [0], [2], [2]).shape, ['batch', 'seq', '?']);
  assert.deepEqual(g.reduceSum(right, [1], false).shape, ['batch', 3]);
  assert.deepEqual(g.reduceMean(right).shape, [1, 1, 1]);
  assert.deepEqual(g.range(0, 5).shape, [5]);
  assert.deepEqual(g.expand(g.scalar(1), [2, 3]).shape, [2, 3]);
  assert.equal(g.shape(ids).dtype, 'int64');
  assert.equal(g.equal(ids, 0).dtype, 'bool');
  g.output(g.reduceMax(right, [2], false), 'peak', { shape: ['batch', '?'] });
  g.output(g.add(g.cast(g.dim(ids, 1), 'float32'), g.reduceSum(left, [1, 2], false)), 'mixed');
  assert.deepEqual(g.outputs.find((o) => o.name === 'peak')?.shape, ['batch', '?']);
  const free = g.input('free', 'float32', ['?', 2]);
  g.output(g.neg(free), 'free_out');
  const session = await graphSession(g);
  const meta = session.inputMetadata.find((m) => m.name === 'free');
  assert.ok(meta?.isTensor);
  assert.deepEqual(meta.shape, ['', 2], "'?' is written as a dim without value or name");
  const out = await session.run({ ids: tensor('int64', [0, 4, 2, 1], [2, 2]), free: tensor('float32', [1, 2], [1, 2]) });
  // Rows: 0 → [0, 1], 4 → [8, 9], 2 → [4, 5], 1 → [2, 3]; right = [x1, x0, x1] per row, its max x1.
  assert.deepEqual(numbers(out.peak), [1, 9, 5, 3]);
  assert.deepEqual(numbers(out.mixed), [2 + 0 + 8, 2 + 4 + 2]);
  await session.release();
});

test('ifElse: two outputs per branch, outer values, merged shapes', async () => {
  const g = new GraphBuilder('branches');
  const flag = g.input('flag', 'bool', []);
  const v = g.input('v', 'float64', [3]);
  const [a, b] = g.ifElse(flag, (s) => [s.mul(v, 2), s.reduceSum(v, [0])], (s) => [s.neg(v), s.reduceMax(v, [0])]);
  assert.deepEqual([a.dtype, a.shape, b.shape], ['float64', [3], [1]]);
  g.output(a, 'a');
  g.output(b, 'b');
  const feeds = (f: boolean) => ({ flag: tensor('bool', [f ? 1 : 0], []), v: tensor('float64', [1, 5, 2], [3]) });
  const yes = await runGraph(g, feeds(true));
  assert.deepEqual([numbers(yes.a), numbers(yes.b)], [[2, 10, 4], [8]]);
  const no = await runGraph(g, feeds(false));
  assert.deepEqual([numbers(no.a), numbers(no.b)], [[-1, -5, -2], [5]]);
});

test('scan: running sum and running max, forwards and in reverse (outputs stay aligned with the inputs)', async () => {
  const g = new GraphBuilder('scan');
  const xs = g.input('xs', 'float32', ['steps', 2]);
  const zero = g.constant(new Float32Array(2), [2]);
  const low = g.constant(new Float32Array(2).fill(-1e9), [2]);
  const body = (s: GraphBuilder, [sum, max]: ReturnType<GraphBuilder['input']>[], [x]: ReturnType<GraphBuilder['input']>[]) => {
    const nextSum = s.add(sum, x);
    return { state: [nextSum, s.op1('Max', [max, x])], outputs: [nextSum] };
  };
  const forward = g.scan([zero, low], [xs], body);
  const backward = g.scan([zero, low], [xs], body, { reverse: true });
  assert.deepEqual(forward.outputs[0].shape, ['steps', 2]);
  assert.deepEqual(forward.state[0].shape, [2]);
  g.output(forward.state[0], 'total');
  g.output(forward.state[1], 'max');
  g.output(forward.outputs[0], 'cumsum');
  g.output(backward.outputs[0], 'revsum');
  const out = await runGraph(g, { xs: tensor('float32', [1, 2, 3, 4, 5, -6], [3, 2]) });
  assert.deepEqual(numbers(out.total), [9, 0]);
  assert.deepEqual(numbers(out.max), [5, 4]);
  assert.deepEqual(numbers(out.cumsum), [1, 2, 4, 6, 9, 0]);
  assert.deepEqual(numbers(out.revsum), [9, 0, 8, -2, 5, -6]);
});

test('integer and bool ops: Range, Trilu causal mask, Where, Expand, int32, Not', async () => {
  const g = new GraphBuilder('ints');
  const n = g.input('n', 'int64', []);
  const positions = g.range(0, n);
  assert.deepEqual(positions.shape, ['?']);
  const square = g.expand(g.unsqueeze(positions, [0]), g.concat([g.unsqueeze(n, [0]), g.unsqueeze(n, [0])], 0));
  const causal = g.cast(g.trilu(g.constantOfShape(g.shape(square), 1, 'int64'), { upper: false }), 'bool');
  g.output(g.where(causal, square, -1), 'masked');
  g.output(g.not(causal), 'future');
  const small = g.input('small', 'int32', [2]);
  g.output(g.mul(small, 3), 'tripled');
  const out = await runGraph(g, { n: tensor('int64', [3], []), small: tensor('int32', [2, -5], [2]) });
  assert.deepEqual(out.masked.dims, [3, 3]);
  assert.deepEqual(numbers(out.masked), [0, -1, -1, 0, 1, -1, 0, 1, 2]);
  assert.deepEqual(numbers(out.future), [0, 1, 1, 0, 0, 1, 0, 0, 0]);
  assert.equal(out.tripled.type, 'int32');
  assert.deepEqual(numbers(out.tripled), [6, -15]);
});

test('float16 weights, Gemm flags, com.microsoft contrib ops', async () => {
  const g = new GraphBuilder('misc');
  // float16 bits of 1, -2, 0.5, 3.
  const half = g.param('half', Uint16Array.of(0x3c00, 0xc000, 0x3800, 0x4200), [2, 2]);
  assert.equal(half.dtype, 'float16');
  const w = g.cast(half, 'float32');
  const a = g.input('a', 'float32', [2, 2]);
  g.output(g.gemm(a, w, g.scalar(1), { alpha: 2, transB: true }), 'gemm');
  g.output(g.op1('Gelu', [a], {}, { domain: 'com.microsoft' }), 'ms_gelu', { dtype: 'float32' });
  g.output(g.gelu(a), 'gelu');
  assert.ok(g.toModel().opsets.some((o) => o.domain === 'com.microsoft'));
  const out = await runGraph(g, { a: tensor('float32', [1, 2, -1, 0.5], [2, 2]) });
  // a · wᵀ with w = [[1, -2], [0.5, 3]]: row 0 → [1 - 4, 0.5 + 6], row 1 → [-1 - 1, -0.5 + 1.5]; ×2 + 1.
  close(numbers(out.gemm), [-5, 14, -3, 3]);
  close(numbers(out.ms_gelu), numbers(out.gelu), 1e-5);
});
