// Finite-difference checks of tensor-API gradients: backward() against central differences of sum(f(x)·r) in float32.
import assert from 'node:assert/strict';
import { fromArray, Generator, randn, type Tensor } from '../../src/tensor/index.js';

export interface GradCheckOptions {
  seed?: number;
  /** Maps the random starting values (e.g. to keep them positive for log/sqrt). */
  map?: (v: number) => number;
  /** Inputs (by index) that are not differentiated (indices, masks): given as tensors as they are. */
  fixed?: Record<number, Tensor>;
  eps?: number;
  tol?: number;
}

/** Checks d(sum(f(xs)·r))/dx for every input of the given shapes; r is a fixed random weighting. */
export async function gradCheck(shapes: number[][], f: (...xs: Tensor[]) => Tensor, o: GradCheckOptions = {}): Promise<void> {
  const generator = new Generator(o.seed ?? 1);
  const map = o.map ?? ((v: number) => v);
  const values = shapes.map((s) => Float32Array.from((randn(s, { generator }).node.data as Float32Array), map));
  const make = (vals: Float32Array[]) => vals.map((v, i) => o.fixed?.[i] ?? fromArray(v, shapes[i], { requiresGrad: true }));
  const probe = f(...make(values));
  const r = randn(probe.shape, { generator });
  const lossOf = (xs: Tensor[]) => f(...xs).mul(r).sum();
  const xs = make(values);
  lossOf(xs).backward();
  const eps = o.eps ?? 1e-2;
  const tol = o.tol ?? 2e-2;
  for (let i = 0; i < shapes.length; i++) {
    if (o.fixed?.[i]) continue;
    const analytic = (await xs[i].grad.data()) as Float32Array;
    for (let j = 0; j < values[i].length; j++) {
      const at = (delta: number) => make(values.map((v, m) => (m === i ? v.map((e, n) => (n === j ? e + delta : e)) : v)));
      const numeric = ((await lossOf(at(eps)).item()) - (await lossOf(at(-eps)).item())) / (2 * eps);
      const err = Math.abs(numeric - analytic[j]) / Math.max(1, Math.abs(numeric));
      assert.ok(err < tol, `input ${i}[${j}]: analytic ${analytic[j]} vs numeric ${numeric} (error ${err.toFixed(4)})`);
    }
  }
}

/** Asserts nested arrays of numbers agree within `tol` (absolute). */
export function assertClose(actual: unknown, expected: unknown, tol = 1e-5, path = ''): void {
  if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), `${path}: expected an array, got ${String(actual)}`);
    assert.equal(actual.length, expected.length, `${path}: length`);
    expected.forEach((e, i) => assertClose((actual as unknown[])[i], e, tol, `${path}[${i}]`));
    return;
  }
  if (typeof expected === 'number' && typeof actual === 'number') {
    if (Number.isNaN(expected)) return assert.ok(Number.isNaN(actual), `${path}: expected NaN, got ${actual}`);
    assert.ok(Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)), `${path}: ${actual} vs expected ${expected}`);
    return;
  }
  assert.deepEqual(actual, expected, path);
}
