// The op-definition contract: each graph op's shape rule and gradient builder, registered side by side.
import type { GraphBuilder, Value } from '../builder.js';
import type { AttributeValue, DType, Dim, NodeProto } from '../onnx-proto.js';

/** Shape: a list of static or symbolic dims; `undefined` means the rank is unknown. */
export type Shape = readonly Dim[] | undefined;

/** What shape rules see: the node, its input types and any int64 constants among its inputs. */
export interface ShapeContext {
  node: NodeProto;
  inputs: readonly (Value | undefined)[];
  /** Values of an int64/int32 initializer input (shapes, axes), when it is a constant. */
  constInts(index: number): number[] | undefined;
}

/** What gradient builders see while appending the backward nodes to the graph. */
export interface GradContext {
  g: GraphBuilder;
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

export interface OpDef {
  /** Output shapes (by output index); missing or undefined entries stay unknown. */
  shape?(ctx: ShapeContext): Shape[];
  /** Output dtypes when they differ from the first input's. */
  dtype?(ctx: ShapeContext): (DType | undefined)[];
  /** Gradients for each input (undefined: none). Absent: the op is not differentiable (it blocks gradients). */
  grad?(ctx: GradContext): (Value | undefined)[];
}

export const FLOAT_TYPES: ReadonlySet<DType | undefined> = new Set<DType | undefined>(['float32', 'float64', 'float16']);

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

/** Zeros with the runtime shape and float type of `like`. */
export function zerosLike(g: GraphBuilder, like: Value): Value {
  const dtype = like.dtype ?? 'float32';
  const raw = dtype === 'float64' ? new Uint8Array(8) : new Uint8Array(4);
  return g.op1('ConstantOfShape', [g.op1('Shape', [like])], { value: { type: 'tensor', value: { name: 'zero', dtype, dims: [1], raw } } }, { dtype, shape: like.shape });
}
