// Finite-difference checking of the autodiff: builds f, its gradient graph, and compares against central differences.
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { GraphBuilder, type Value } from '../../src/graph/builder.js';
import { gradients } from '../../src/graph/autodiff.js';
import { Rng } from '../../src/core/random.js';

export interface CheckInput {
  shape: number[];
  /** 'float64' (default), 'float32', or an integer/bool input fed as given (no gradient). */
  dtype?: 'float64' | 'float32' | 'int64' | 'bool';
  data?: number[];
  /** Map random values (e.g. to keep them positive). */
  map?: (v: number) => number;
  /** A float input whose gradient is not checked (masks). */
  constant?: boolean;
}

const differentiable = (i: CheckInput) => !i.constant && ['float64', 'float32', undefined].includes(i.dtype);

function tensor(dtype: string, data: number[], shape: number[]): ort.Tensor {
  if (dtype === 'int64') return new ort.Tensor('int64', BigInt64Array.from(data, BigInt), shape);
  if (dtype === 'bool') return new ort.Tensor('bool', Uint8Array.from(data), shape);
  return new ort.Tensor(dtype as 'float32', dtype === 'float64' ? Float64Array.from(data) : Float32Array.from(data), shape);
}

/** Checks d(sum(f(x) * r))/dx for every float input against central differences. */
export async function checkGradient(inputs: CheckInput[], build: (g: GraphBuilder, xs: Value[]) => Value, seed = 1): Promise<void> {
  const rng = new Rng(seed);
  const g = new GraphBuilder('check');
  const xs = inputs.map((inp, i) => g.input(`x${i}`, inp.dtype ?? 'float64', inp.shape));
  const y = build(g, xs);
  const fp = (inputs.find((i) => (i.dtype ?? 'float64') === 'float32') ? 'float32' : 'float64');
  const ySession = await ort.InferenceSession.create(probe(g, y, fp));
  const size = (await ySession.run(feedsOf(inputs, initial(inputs, rng)))).y;
  await ySession.release();
  const r = g.input('r', fp, size.dims as number[]);
  const loss = g.op1('ReduceSum', [g.op1('Mul', [y, r])], { keepdims: 0 }, { shape: [] });
  const forward = clone(g, loss, fp);
  const floats = xs.filter((_, i) => differentiable(inputs[i]));
  const grads = gradients(g, loss, floats);
  grads.forEach((d, i) => g.output(d, `d${i}`, { dtype: fp }));
  g.output(loss, 'loss', { dtype: fp });
  const values = initial(inputs, rng);
  const rData = Array.from({ length: size.data.length }, () => rng.normal());
  const full = await ort.InferenceSession.create(g.serialize());
  const fwd = await ort.InferenceSession.create(forward);
  const feeds = (vals: number[][]) => ({ ...feedsOf(inputs, vals), r: tensor(fp, rData, size.dims as number[]) });
  const out = await full.run(feeds(values));
  const eps = fp === 'float64' ? 1e-6 : 1e-2;
  const tol = fp === 'float64' ? 1e-6 : 1e-3;
  let k = 0;
  for (let i = 0; i < inputs.length; i++) {
    if (!differentiable(inputs[i])) continue;
    const analytic = out[`d${k++}`].data as Float64Array;
    for (let j = 0; j < values[i].length; j++) {
      const at = (delta: number) => values.map((v, m) => (m === i ? v.map((e, n) => (n === j ? e + delta : e)) : v));
      const plus = (await fwd.run(feeds(at(eps)))).loss.data[0] as number;
      const minus = (await fwd.run(feeds(at(-eps)))).loss.data[0] as number;
      const numeric = (plus - minus) / (2 * eps);
      const err = Math.abs(numeric - analytic[j]) / Math.max(1, Math.abs(numeric));
      assert.ok(err < tol, `input ${i}[${j}]: analytic ${analytic[j]} vs numeric ${numeric} (error ${err})`);
    }
  }
  await full.release();
  await fwd.release();
}

function initial(inputs: CheckInput[], rng: Rng): number[][] {
  return inputs.map((inp) => inp.data ?? Array.from({ length: inp.shape.reduce((a, b) => a * b, 1) }, () => (inp.map ?? ((v) => v))(rng.normal())));
}

function feedsOf(inputs: CheckInput[], values: number[][]): Record<string, ort.Tensor> {
  return Object.fromEntries(inputs.map((inp, i) => [`x${i}`, tensor(inp.dtype ?? 'float64', values[i], inp.shape)]));
}

/** The graph so far with `value` as its only output (named y or loss). */
function probe(g: GraphBuilder, value: Value, dtype: 'float32' | 'float64'): Uint8Array {
  const copy = Object.assign(Object.create(Object.getPrototypeOf(g)) as GraphBuilder, g);
  Object.assign(copy, { outputs: [{ name: 'y', dtype: value.dtype ?? dtype }], nodes: [...g.nodes, { opType: 'Identity', inputs: [value.name], outputs: ['y'], name: 'probe', attributes: {} }] });
  return copy.serialize();
}

function clone(g: GraphBuilder, loss: Value, dtype: 'float32' | 'float64'): Uint8Array {
  const copy = Object.assign(Object.create(Object.getPrototypeOf(g)) as GraphBuilder, g);
  Object.assign(copy, { outputs: [{ name: 'loss', dtype }], nodes: [...g.nodes, { opType: 'Identity', inputs: [loss.name], outputs: ['loss'], name: 'loss_out', attributes: {} }], inputs: [...g.inputs], initializers: [...g.initializers] });
  return copy.serialize();
}
