// Host data as nested JS arrays and PyTorch-style printing (`tensor([[1., 2.], …])`).
import { geulError } from '../core/errors.js';
import { halfToFloat } from '../core/weights/tensor.js';
import type { HostData, TensorDType } from './lazy.js';

export type Nested<T> = T | Nested<T>[];

export interface ArrayOptions {
  /** int64 values as BigInts (otherwise values beyond 2^53 are an error). */
  bigint?: boolean;
}

/** One element as a JS number (bool as 0/1, the convention; int64 checked against 2^53 unless bigint is asked). */
export function elementAt(data: HostData, dtype: TensorDType, i: number, o: ArrayOptions = {}): number | bigint {
  if (dtype === 'int64') {
    const v = (data as BigInt64Array)[i];
    if (o.bigint) return v;
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw geulError('INVALID_INPUT', { detail: `int64 value ${v} is beyond 2^53 and cannot be a JS number exactly; pass { bigint: true }` });
    }
    return Number(v);
  }
  if (dtype === 'bool') return (data as Uint8Array)[i] ? 1 : 0;
  if (dtype === 'float16') return halfToFloat((data as Uint16Array)[i]);
  return (data as Float32Array)[i];
}

/** The data as nested arrays of the shape (a plain value for 0-d tensors). */
export function toNested(data: HostData, dtype: TensorDType, shape: readonly number[], o: ArrayOptions = {}): Nested<number | bigint> {
  let i = 0;
  const build = (depth: number): Nested<number | bigint> => {
    if (depth === shape.length) return elementAt(data, dtype, i++, o);
    return Array.from({ length: shape[depth] }, () => build(depth + 1));
  };
  return build(0);
}

/** Element strings as PyTorch prints them: `1.` for whole floats, 4 decimals otherwise, scientific for wide ranges. */
function elementStrings(data: HostData, dtype: TensorDType): string[] {
  if (dtype === 'bool') return Array.from(data as Uint8Array, (v) => (v ? 'True' : 'False'));
  if (dtype === 'int64') return Array.from(data as BigInt64Array, String);
  const values = dtype === 'float16' ? Array.from(data as Uint16Array, halfToFloat) : Array.from(data as Float32Array);
  const finite = values.filter((v) => Number.isFinite(v));
  const special = (v: number) => (Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf');
  if (finite.every((v) => Number.isInteger(v))) {
    const sci = finite.some((v) => Math.abs(v) >= 1e8);
    return values.map((v) => (!Number.isFinite(v) ? special(v) : sci ? v.toExponential(4) : `${v.toFixed(0)}.`));
  }
  const abs = finite.map(Math.abs).filter((v) => v > 0);
  const [lo, hi] = [Math.min(...abs), Math.max(...abs)];
  const sci = hi >= 1e8 || lo < 1e-4 || hi / lo > 1000;
  return values.map((v) => (!Number.isFinite(v) ? special(v) : sci ? v.toExponential(4).replace(/e([+-])(\d)$/, (_m, sign: string, digit: string) => `e${sign}0${digit}`) : v.toFixed(4)));
}

/** `tensor([[1., 2.],\n        [3., 4.]])`, like torch's repr (no summarising of large tensors in this version). */
export function formatTensor(data: HostData, dtype: TensorDType, shape: readonly number[], suffix = ''): string {
  const strings = elementStrings(data, dtype);
  const width = Math.max(0, ...strings.map((s) => s.length));
  const padded = strings.map((s) => s.padStart(width));
  if (shape.length === 0) return `tensor(${strings[0]}${suffix})`;
  let i = 0;
  const build = (depth: number): string => {
    if (depth === shape.length - 1) return `[${Array.from({ length: shape[depth] }, () => padded[i++]).join(', ')}]`;
    const indent = ' '.repeat('tensor('.length + depth + 1);
    const gap = ',' + '\n'.repeat(shape.length - depth - 1) + indent;
    return `[${Array.from({ length: shape[depth] }, () => build(depth + 1)).join(gap)}]`;
  };
  return `tensor(${build(0)}${suffix})`;
}
