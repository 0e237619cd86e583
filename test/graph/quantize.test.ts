// Dynamic int8 quantisation: weight MatMuls become DynamicQuantizeLinear + MatMulInteger, onnxruntime computes exactly the integer arithmetic, outputs stay close to fp32.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { Rng } from '../../src/core/random.js';
import { GraphBuilder } from '../../src/graph/builder.js';
import { encodeModel } from '../../src/graph/onnx-proto.js';
import { quantizeColumns, quantizeRows, quantizeWeights } from '../../src/graph/quantize.js';
import { runGraph } from '../helpers/run-graph.js';

const K = 16;
const HIDDEN = 24;
const OUT = 8;

/** x [batch, 3, K] → relu(x·W1ᵀ + b1) (W1 in torch [out, in] layout, read through Transpose) → ·W2 [HIDDEN, OUT]. */
function mlp(w1: Float32Array, w2: Float32Array, rng: Rng): GraphBuilder {
  const g = new GraphBuilder('mlp');
  const x = g.input('x', 'float32', ['batch', 3, K]);
  const h = g.relu(g.add(g.matmul(x, g.transpose(g.param('w1', w1, [HIDDEN, K]), [1, 0])), g.param('b1', rng.normalArray(HIDDEN, 0.1), [HIDDEN])));
  g.output(g.matmul(h, g.param('w2', w2, [HIDDEN, OUT])), 'y');
  return g;
}

function quantizedBytes(g: GraphBuilder): { bytes: Uint8Array; ops: string[]; initializers: string[]; quantized: number } {
  const model = g.toModel();
  const { graph, report } = quantizeWeights(model.graph);
  return { bytes: encodeModel({ ...model, graph }), ops: graph.nodes.map((n) => n.opType), initializers: graph.initializers.map((t) => t.name), quantized: report.matmuls };
}

/** ONNX DynamicQuantizeLinear, to the letter: uint8, range widened to include 0, round half to even. */
function dynamicQuantize(x: Float32Array): { q: Uint8Array; scale: number; zero: number } {
  const min = Math.min(0, ...x);
  const max = Math.max(0, ...x);
  const scale = Math.fround((max - min) / 255) || 1;
  const roundEven = (v: number) => (Math.abs(v % 1) === 0.5 ? 2 * Math.round(v / 2) : Math.round(v));
  const zero = Math.max(0, Math.min(255, roundEven(-min / scale)));
  return { q: Uint8Array.from(x, (v) => Math.max(0, Math.min(255, roundEven(v / scale) + zero))), scale, zero };
}

test('weight MatMuls (direct and through Transpose) are rewritten and the float weights dropped', () => {
  const rng = new Rng(3);
  const { ops, initializers, quantized } = quantizedBytes(mlp(rng.normalArray(HIDDEN * K, 0.3), rng.normalArray(HIDDEN * OUT, 0.3), rng));
  assert.equal(quantized, 2);
  assert.equal(ops.filter((o) => o === 'MatMulInteger').length, 2);
  assert.equal(ops.filter((o) => o === 'DynamicQuantizeLinear').length, 2);
  assert.ok(!ops.includes('MatMul') && !ops.includes('Transpose'), ops.join(' '));
  assert.ok(!initializers.includes('w1') && !initializers.includes('w2') && initializers.includes('b1'), initializers.join(' '));
});

test('onnxruntime computes the exact integer arithmetic, even at full uint8 × int8 range (no saturation)', async () => {
  // One MatMul with every activation at its maximum and every weight at ±127: the case where 16-bit pair sums overflow.
  const g = new GraphBuilder('worst');
  const x = g.input('x', 'float32', [1, K]);
  const w = new Float32Array(K * 2).map((_, i) => (i % 2 === 0 ? 0.5 : -0.25));
  g.output(g.matmul(x, g.param('w', w, [K, 2])), 'y');
  const input = new Float32Array(K).fill(3);
  input[0] = -1; // a negative minimum so the zero point is not 0
  const { bytes } = quantizedBytes(g);
  const got = (await runGraph(bytes, { x: new ort.Tensor('float32', input, [1, K]) }))['y']!.data as Float32Array;
  const a = dynamicQuantize(input);
  const { q, scales } = quantizeColumns(w, K, 2);
  for (let j = 0; j < 2; j++) {
    let acc = 0;
    for (let k = 0; k < K; k++) acc += (a.q[k]! - a.zero) * q[k * 2 + j]!;
    const expected = acc * Math.fround(a.scale * scales[j]!);
    assert.ok(Math.abs(got[j]! - expected) <= 1e-5 * Math.abs(expected), `column ${j}: ${got[j]} vs exact ${expected}`);
  }
});

test('quantised outputs stay within 2 % of the output range of fp32', async () => {
  const rng = new Rng(5);
  const g = mlp(rng.normalArray(HIDDEN * K, 0.3), rng.normalArray(HIDDEN * OUT, 0.3), new Rng(6));
  const x = new ort.Tensor('float32', new Rng(7).normalArray(2 * 3 * K), [2, 3, K]);
  const fp32 = (await runGraph(g, { x }))['y']!.data as Float32Array;
  const q8 = (await runGraph(quantizedBytes(g).bytes, { x }))['y']!.data as Float32Array;
  const range = Math.max(...fp32.map(Math.abs));
  const worst = Math.max(...fp32.map((v, i) => Math.abs(v - q8[i]!)));
  assert.ok(worst < 0.02 * range, `max diff ${worst} against range ${range}`);
  assert.ok(worst > 0, 'quantisation changes the numbers at all');
});

test('embedding Gathers (also through Identity) read an int8 table with one scale per row, and the float table is dropped', async () => {
  const rng = new Rng(9);
  const [V, H] = [50, 12];
  const table = rng.normalArray(V * H, 0.5);
  const g = new GraphBuilder('embed');
  const ids = g.input('ids', 'int64', ['batch', 'seq']);
  const weights = g.param('table', table, [V, H]);
  g.output(g.add(g.gather(weights, ids, 0), g.gather(g.identity(weights), ids, 0)), 'y');
  const { bytes, ops, initializers } = quantizedBytes(g);
  assert.deepEqual(initializers.sort(), ['table_quantized', 'table_scale']);
  assert.equal(ops.filter((o) => o === 'Gather').length, 4);
  const picks = [0, 7, 49, 7];
  const got = (await runGraph(bytes, { ids: new ort.Tensor('int64', BigInt64Array.from(picks, BigInt), [2, 2]) }))['y']!.data as Float32Array;
  const { q, scales } = quantizeRows(table, V, H);
  picks.forEach((row, i) => {
    for (let c = 0; c < H; c++) {
      const exact = 2 * Math.fround(q[row * H + c]! * scales[row]!);
      assert.ok(Math.abs(got[i * H + c]! - exact) < 1e-6, `row ${row} col ${c}`);
      assert.ok(Math.abs(got[i * H + c]! - 2 * table[row * H + c]!) <= scales[row]! + 1e-6, 'within one quantisation step of fp32');
    }
  });
});
