// Weight tensors as geul holds them (float32, C order) and the lazy sources checkpoint readers expose.
import { readSync } from 'node:fs';
import { geulError } from '../errors.js';

/** A dense float32 tensor in C order; linear weights keep torch's `[out, in]` layout. */
export interface WeightTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** Element types a checkpoint may declare; only the float ones can be read into a WeightTensor. */
export type WeightDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

export const DTYPE_BYTES: Readonly<Record<WeightDtype, number>> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1,
};

export const READABLE_DTYPES: readonly WeightDtype[] = ['F32', 'F16', 'BF16'];

export interface TensorInfo {
  readonly dtype: WeightDtype;
  readonly shape: readonly number[];
}

/**
 * A checkpoint opened for reading: names and shapes come from its header; `read` loads one tensor
 * straight from the file, so a loader never holds the whole file next to the tensors made from it.
 */
export interface WeightSource {
  readonly path: string;
  readonly tensors: ReadonlyMap<string, TensorInfo>;
  readonly metadata: Readonly<Record<string, string>>;
  read(name: string): WeightTensor;
  close(): void;
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

export function isWeightDtype(value: unknown): value is WeightDtype {
  return typeof value === 'string' && Object.hasOwn(DTYPE_BYTES, value);
}

/** Fills `target` from `fd` at `position`, looping over short reads; a short file is a truncated checkpoint. */
export function readExactly(fd: number, target: Uint8Array, position: number, path: string): void {
  let done = 0;
  while (done < target.byteLength) {
    const n = readSync(fd, target, done, target.byteLength - done, position + done);
    if (n === 0) throw geulError('WEIGHTS_INVALID', { path, detail: `unexpected end of file at byte ${position + done}` });
    done += n;
  }
}

/**
 * Reads `count` elements of `dtype` at `position` into a new Float32Array (F32 read in place, F16/BF16 widened).
 * Typed-array views over file bytes assume a little-endian host, as on every platform onnxruntime-node ships for.
 */
export function readFloats(fd: number, position: number, count: number, dtype: WeightDtype, path: string, tensor: string): Float32Array {
  const out = new Float32Array(count);
  if (dtype === 'F32') {
    readExactly(fd, new Uint8Array(out.buffer), position, path);
    return out;
  }
  if (dtype !== 'F16' && dtype !== 'BF16') {
    throw geulError('WEIGHTS_DTYPE_UNSUPPORTED', { path, tensor, dtype, supported: READABLE_DTYPES.join(', ') });
  }
  const halves = new Uint16Array(count);
  readExactly(fd, new Uint8Array(halves.buffer), position, path);
  if (dtype === 'BF16') {
    const bits = new Uint32Array(out.buffer);
    for (let i = 0; i < count; i++) bits[i] = halves[i]! << 16;
  } else {
    for (let i = 0; i < count; i++) out[i] = halfToFloat(halves[i]!);
  }
  return out;
}

/** float16 weights as written (IEEE 754 binary16 bits, C order): what `writeSafetensors` stores as F16. */
export interface HalfWeightTensor {
  readonly shape: readonly number[];
  readonly data: Uint16Array;
}

const f32 = new Float32Array(1);
const f32Bits = new Uint32Array(f32.buffer);

/**
 * number → IEEE 754 binary16 bits, rounding to nearest even after rounding to float32 (as a float32 → float16 cast
 * does, so host conversions match ONNX Runtime's Cast); overflow gives ±Infinity, NaN stays NaN.
 */
export function floatToHalf(value: number): number {
  f32[0] = value;
  const x = f32Bits[0];
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  const mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  // Keep the top bits (10 of the mantissa, fewer for subnormals) and round the rest to nearest, ties to even; a carry
  // into the exponent is the correct next value (up to Infinity).
  const full = mantissa | (e <= 0 ? 0x800000 : 0);
  const shift = e <= 0 ? 14 - e : 13;
  if (shift > 24) return sign;
  let h = e <= 0 ? full >>> shift : (e << 10) | (full >>> shift);
  const rest = full & ((1 << shift) - 1);
  const halfway = 1 << (shift - 1);
  if (rest > halfway || (rest === halfway && (h & 1) === 1)) h++;
  return sign | h;
}

/** IEEE 754 binary16 → number, subnormals, infinities and NaN included. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}
