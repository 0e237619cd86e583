// Typed arrays and attribute values as ONNX sees them: element types, raw little-endian bytes, attribute encoding.
import { ONNX_DTYPE, type AttributeValue, type DType, type GraphProto } from './onnx-proto.js';

/** Weight and constant data; Uint16Array carries float16 bits, Uint8Array uint8 (or bool via `asBool`). */
export type TypedData = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Int8Array | Uint16Array;

/** Attribute values: numbers become INT when integral, FLOAT otherwise; wrap with `float()` to force FLOAT. */
export type Attr = number | bigint | string | number[] | string[] | GraphProto | { float: number } | AttributeValue;

/** Forces a FLOAT attribute for an integral value (`epsilon: float(1)`). */
export const float = (value: number): { float: number } => ({ float: value });

export function toAttribute(value: Attr): AttributeValue {
  if (typeof value === 'number') return Number.isInteger(value) ? { type: 'int', value } : { type: 'float', value };
  if (typeof value === 'bigint') return { type: 'int', value };
  if (typeof value === 'string') return { type: 'string', value };
  if (Array.isArray(value)) {
    if (value.every((v) => typeof v === 'string')) return { type: 'strings', value: value as string[] };
    const nums = value as number[];
    return nums.every((v) => Number.isInteger(v)) ? { type: 'ints', value: nums } : { type: 'floats', value: nums };
  }
  if ('float' in value && typeof value.float === 'number') return { type: 'float', value: value.float };
  if ('nodes' in value) return { type: 'graph', value };
  return value as AttributeValue;
}

export function dtypeOf(data: TypedData): DType {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Float64Array) return 'float64';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof BigInt64Array) return 'int64';
  if (data instanceof Int8Array) return 'int8';
  if (data instanceof Uint16Array) return 'float16';
  return 'uint8';
}

/** A copy of the data's bytes (typed arrays are little-endian on every platform Node runs on). */
export function rawBytes(data: TypedData): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
}

/** Element type by ONNX TensorProto.DataType code (the `to` of Cast). */
export const DTYPE_BY_CODE: ReadonlyMap<number, DType> = new Map(Object.entries(ONNX_DTYPE).map(([name, code]) => [code as number, name as DType]));

/** Integer values of a small int64/int32 tensor (shapes, axes), for shape inference. */
export function intValues(dtype: DType, raw: Uint8Array): number[] | undefined {
  if (dtype !== 'int64' && dtype !== 'int32') return undefined;
  const copy = raw.slice();
  const view = dtype === 'int64' ? new BigInt64Array(copy.buffer) : new Int32Array(copy.buffer);
  return Array.from(view as ArrayLike<number | bigint>, Number);
}
