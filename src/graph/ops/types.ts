// The op contract: values, the narrow emitter ops write ONNX nodes through, shape rules and gradient builders.
import { geulError } from '../../core/errors.js';
import type { AttributeValue, DType, Dim, NodeProto } from '../onnx-proto.js';
import type { Attr, TypedData } from '../tensor-data.js';

/** A value in the graph: a named tensor with its element type and (possibly symbolic or unknown) shape. */
export interface Value {
  readonly name: string;
  readonly dtype?: DType;
  /** Dims are numbers, symbolic names (`'batch'`) or `'?'` (unknown); `undefined` means the rank is unknown. */
  readonly shape?: readonly Dim[];
}

/** A Value, or a plain number used as a scalar constant of the other operand's element type. */
export type Operand = Value | number;

/** Shape: a list of static or symbolic dims; `undefined` means the rank is unknown. */
export type Shape = readonly Dim[] | undefined;

/** A node's own gradient, used instead of its op's registered one (e.g. a Scan written by a recurrent layer). */
export interface CustomGradient {
  /** Gradients for the node's inputs, followed by those for `reads`. */
  grad: GradFn;
  /** Outer-scope values the node's subgraph reads (Scan weights): gradients flow to them as if they were inputs. */
  reads?: readonly Value[];
}

export interface OpOptions {
  /** Number of outputs (default 1). */
  outputs?: number;
  /** Explicit output names (default: generated from the node name). */
  names?: string[];
  domain?: string;
  /** Output element type when it cannot be inferred. */
  dtype?: DType;
  /** Shape of the first output, overriding inference; it is also declared when that value becomes a graph output. */
  shape?: readonly Dim[];
  /** Shapes of every output (by index), overriding inference and declared like `shape`. */
  shapes?: readonly (readonly Dim[] | undefined)[];
  /** This node's own gradient (autodiff uses it instead of the op registry's). */
  gradient?: CustomGradient;
}

/**
 * What an op needs from a graph to emit nodes: generic nodes and small constants. GraphCore implements it; the
 * typed emitters in this folder (`add(e, a, b)`, `reshape(e, x, shape)`, …) and every gradient are written against it.
 */
export interface Emitter {
  /** Adds a node; `''` (or undefined) marks an omitted optional input. Outputs are typed by the op's rules. */
  op(opType: string, inputs: readonly (Value | '' | undefined)[], attrs?: Record<string, Attr>, options?: OpOptions): Value[];
  op1(opType: string, inputs: readonly (Value | '' | undefined)[], attrs?: Record<string, Attr>, options?: OpOptions): Value;
  /** A constant tensor (deduplicated by content). */
  constant(data: TypedData, shape?: readonly number[]): Value;
  /** Scalar float constant (shape []). */
  scalar(value: number, dtype?: 'float32' | 'float64'): Value;
  /** Scalar int64 constant (shape []). */
  int(value: number): Value;
  /** 1-D int64 constant, for shapes, axes and indices. */
  ints(values: readonly number[]): Value;
  /** Values of a small int64/int32 constant (undefined when not constant). */
  constInts(value: Value | string | undefined): number[] | undefined;
}

/** What shape rules see: the node, its input types and any int64 constants among its inputs. */
export interface ShapeContext {
  node: NodeProto;
  inputs: readonly (Value | undefined)[];
  /** Values of an int64/int32 initializer input (shapes, axes), when it is a constant. */
  constInts(index: number): number[] | undefined;
}

/** What gradient builders see while appending the backward nodes to the graph. */
export interface GradContext {
  g: Emitter;
  node: NodeProto;
  /** Forward inputs, typed (dtype, inferred shape); `undefined` for omitted optional inputs. */
  inputs: readonly (Value | undefined)[];
  outputs: readonly Value[];
  /** Incoming gradient per output; `undefined` when that output does not reach the loss. */
  dy: readonly (Value | undefined)[];
  /** Whether input i needs a gradient (float input on a path from a parameter). */
  needs: readonly boolean[];
  /** Scalar constant of the forward's floating type. */
  scalar(value: number): Value;
  /** Sums a gradient of the broadcast result back to the shape of `input`. */
  unbroadcast(grad: Value, input: Value): Value;
  /** Integer attribute with a default. */
  int(name: string, fallback: number): number;
  ints(name: string): number[] | undefined;
  float(name: string, fallback: number): number;
  constInts(index: number): number[] | undefined;
}

export type GradFn = (ctx: GradContext) => (Value | undefined)[];

export interface OpDef {
  /** Output shapes (by output index); missing or undefined entries stay unknown. */
  shape?(ctx: ShapeContext): Shape[];
  /** Output dtypes when they differ from the first input's. */
  dtype?(ctx: ShapeContext): (DType | undefined)[];
  /** Gradients for each input (undefined: none). Absent: the op is not differentiable (it blocks gradients). */
  grad?: GradFn;
}

export const FLOAT_TYPES: ReadonlySet<DType | undefined> = new Set<DType | undefined>(['float32', 'float64', 'float16']);

/** The floating type a gradient of `like` is computed in (float32 unless `like` is float64 or float16). */
export const floatTypeOf = (like: Value): 'float32' | 'float64' | 'float16' => (like.dtype === 'float64' || like.dtype === 'float16' ? like.dtype : 'float32');

export function attrInt(node: NodeProto, name: string, fallback: number): number {
  const a: AttributeValue | undefined = node.attributes[name];
  return a && a.type === 'int' ? Number(a.value) : fallback;
}

export function attrInts(node: NodeProto, name: string): number[] | undefined {
  const a = node.attributes[name];
  return a && a.type === 'ints' ? a.value.map(Number) : undefined;
}

export function attrFloat(node: NodeProto, name: string, fallback: number): number {
  const a = node.attributes[name];
  if (a && a.type === 'float') return a.value;
  return a && a.type === 'int' ? Number(a.value) : fallback;
}

/** Normalises a possibly negative axis for a tensor of `rank`. */
export const axisOf = (axis: number, rank: number): number => (axis < 0 ? axis + rank : axis);

/** The rank of `x`, or GRAPH_INVALID naming the node whose gradient needs it. */
export function rankOf(x: Value | undefined, node: NodeProto, what: string): number {
  const rank = x?.shape?.length;
  if (rank === undefined) throw geulError('GRAPH_INVALID', { detail: `${node.name}: ${what} needs the input rank` });
  return rank;
}

/** Numpy-style broadcast of two shapes (symbolic dims assumed equal to each other when names match or one is 1). */
export function broadcastShapes(a: Shape, b: Shape): Shape {
  if (!a || !b) return undefined;
  const rank = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    const x = a[a.length - rank + i] ?? 1;
    const y = b[b.length - rank + i] ?? 1;
    out.push(x === 1 ? y : y === 1 ? x : typeof x === 'number' ? x : y);
  }
  return out;
}

/** A number as a constant of `like`'s element type (float32 when unknown); Values pass through. */
export function lift(e: Emitter, v: Operand, like?: Value): Value {
  if (typeof v !== 'number') return v;
  switch (like?.dtype) {
    case 'float64': return e.scalar(v, 'float64');
    case 'int64': return e.int(v);
    case 'int32': return e.constant(Int32Array.of(v), []);
    default: return e.scalar(v);
  }
}
