// Shape and indexing ops (Reshape, Transpose, (Un)Squeeze, Concat, Split, Slice, Gather, Expand, …): emitters, shapes, gradients.
import { geulError } from '../../core/errors.js';
import type { DType, Dim } from '../onnx-proto.js';
import { attrInt, attrInts, axisOf, broadcastShapes, lift, type Emitter, type GradContext, type OpDef, type Operand, type Shape, type ShapeContext, type Value } from './types.js';

const UNKNOWN = '?';

/** Shape-like arguments: number arrays become int64 constants, int64 Values pass through. */
const intsOf = (e: Emitter, shape: readonly number[] | Value): Value => (Array.isArray(shape) ? e.ints(shape) : (shape as Value));

export const reshape = (e: Emitter, x: Value, shape: readonly number[] | Value): Value => e.op1('Reshape', [x, intsOf(e, shape)]);
export const transpose = (e: Emitter, x: Value, perm?: readonly number[]): Value => e.op1('Transpose', [x], perm ? { perm: [...perm] } : {});
export const unsqueeze = (e: Emitter, x: Value, axes: readonly number[]): Value => e.op1('Unsqueeze', [x, e.ints(axes)]);
export const squeeze = (e: Emitter, x: Value, axes?: readonly number[]): Value => e.op1('Squeeze', axes ? [x, e.ints(axes)] : [x]);
export const concat = (e: Emitter, xs: readonly Value[], axis: number): Value => e.op1('Concat', xs, { axis });
export const expand = (e: Emitter, x: Value, shape: readonly number[] | Value): Value => e.op1('Expand', [x, intsOf(e, shape)]);

/** Splits along `axis` into `parts` equal pieces, pieces of the given sizes, or of sizes held by an int64 Value. */
export function split(e: Emitter, x: Value, parts: number | readonly number[] | { sizes: Value; count: number }, axis = 0): Value[] {
  if (typeof parts === 'number') return e.op('Split', [x], { axis }, { outputs: parts });
  if (Array.isArray(parts)) return e.op('Split', [x, e.ints(parts)], { axis }, { outputs: parts.length });
  const { sizes, count } = parts as { sizes: Value; count: number };
  return e.op('Split', [x, sizes], { axis }, { outputs: count });
}

/** Slice with constant bounds (numbers) or runtime ones (int64 Values). */
export function slice(e: Emitter, x: Value, starts: readonly number[] | Value, ends: readonly number[] | Value, axes?: readonly number[] | Value, steps?: readonly number[] | Value): Value {
  const inputs = [x, intsOf(e, starts), intsOf(e, ends)];
  if (axes || steps) {
    if (!axes && !Array.isArray(starts)) throw geulError('GRAPH_INVALID', { detail: 'slice: steps with runtime starts need explicit axes' });
    inputs.push(axes ? intsOf(e, axes) : e.ints((starts as readonly number[]).map((_, i) => i)));
  }
  if (steps) inputs.push(intsOf(e, steps));
  return e.op1('Slice', inputs);
}

/** Gather along `axis`; a number index is a scalar (that axis disappears), an array a 1-D index list. */
export function gather(e: Emitter, x: Value, indices: Value | number | readonly number[], axis = 0): Value {
  const idx = typeof indices === 'number' ? e.int(indices) : Array.isArray(indices) ? e.ints(indices) : (indices as Value);
  return e.op1('Gather', [x, idx], { axis });
}

/** GatherElements along `axis` (torch.gather): the output has the indices' shape. */
export const gatherElements = (e: Emitter, x: Value, indices: Value, axis = 0): Value => e.op1('GatherElements', [x, indices], { axis });

/** The runtime shape (int64 [rank]), or a slice of it (`start`/`end`, opset 15+). */
export const shapeOf = (e: Emitter, x: Value, start?: number, end?: number): Value =>
  e.op1('Shape', [x], { ...(start !== undefined && { start }), ...(end !== undefined && { end }) });

/** The runtime element count as an int64 scalar. */
export const sizeOf = (e: Emitter, x: Value): Value => e.op1('Size', [x]);

/** The runtime size of one dimension as an int64 scalar. */
export const dim = (e: Emitter, x: Value, axis: number): Value => gather(e, shapeOf(e, x), axis);

/** Range(start, limit, delta); numbers become int64 scalars unless another operand is a float Value. */
export function range(e: Emitter, start: Operand, limit: Operand, delta: Operand = 1): Value {
  const like = [start, limit, delta].find((v): v is Value => typeof v !== 'number');
  const lifted = (v: Operand) => (typeof v === 'number' ? (like && like.dtype !== 'int64' ? lift(e, v, like) : e.int(v)) : v);
  return e.op1('Range', [lifted(start), lifted(limit), lifted(delta)]);
}

/** A tensor of the given (constant or runtime) shape filled with `value`. */
export function constantOfShape(e: Emitter, shape: readonly number[] | Value, value: number, dtype: DType = 'float32', known?: readonly Dim[]): Value {
  const data = dtype === 'float64' ? Float64Array.of(value) : dtype === 'int64' ? BigInt64Array.of(BigInt(value)) : dtype === 'int32' ? Int32Array.of(value) : dtype === 'bool' ? Uint8Array.of(value ? 1 : 0) : Float32Array.of(value);
  const raw = new Uint8Array(data.buffer.slice(0));
  const tensor = { type: 'tensor' as const, value: { name: 'value', dtype, dims: [1], raw } };
  return e.op1('ConstantOfShape', [intsOf(e, shape)], { value: tensor }, { dtype, ...(known && { shape: known }) });
}

/** Zeros with the runtime shape and float type of `like`. */
export const zerosLike = (e: Emitter, like: Value): Value =>
  constantOfShape(e, shapeOf(e, like), 0, like.dtype === 'float64' ? 'float64' : 'float32', like.shape);

/** Gradient of any op that only rearranges elements without changing their order: reshape back. */
const reshapeBack = (c: GradContext) => [c.dy[0] && reshape(c.g, c.dy[0], shapeOf(c.g, c.inputs[0] as Value)), undefined];

function reshapeShape(s: ShapeContext): Shape[] {
  const x = s.inputs[0]?.shape;
  const target = s.constInts(1);
  if (!target) return [undefined];
  const out: Dim[] = target.map((d, i) => (d === 0 ? (x?.[i] ?? UNKNOWN) : d));
  const minus = out.indexOf(-1);
  if (minus >= 0) {
    const known = out.filter((d, i) => i !== minus);
    const total = x?.every((d) => typeof d === 'number') ? (x as number[]).reduce((a, b) => a * b, 1) : undefined;
    out[minus] = total !== undefined && known.every((d) => typeof d === 'number') ? total / (known as number[]).reduce((a, b) => a * b, 1) : UNKNOWN;
  }
  return [out];
}

function unsqueezeShape(s: ShapeContext): Shape[] {
  const x = s.inputs[0]?.shape;
  const axes = s.constInts(1);
  if (!x || !axes) return [undefined];
  const rank = x.length + axes.length;
  const set = new Set(axes.map((a) => axisOf(a, rank)));
  const out: Dim[] = [];
  let j = 0;
  for (let i = 0; i < rank; i++) out.push(set.has(i) ? 1 : x[j++]);
  return [out];
}

function squeezeShape(s: ShapeContext): Shape[] {
  const x = s.inputs[0]?.shape;
  if (!x) return [undefined];
  const axes = s.inputs[1] ? s.constInts(1) : x.flatMap((d, i) => (d === 1 ? [i] : []));
  if (!axes) return [undefined];
  const set = new Set(axes.map((a) => axisOf(a, x.length)));
  return [x.filter((_, i) => !set.has(i))];
}

function concatShape(s: ShapeContext): Shape[] {
  const shapes = s.inputs.map((v) => v?.shape);
  const first = shapes[0];
  if (!first || shapes.some((x) => !x)) return [undefined];
  const axis = axisOf(attrInt(s.node, 'axis', 0), first.length);
  const dims = shapes.map((x) => (x as Dim[])[axis]);
  const total: Dim = dims.every((d) => typeof d === 'number') ? (dims as number[]).reduce((a, b) => a + b, 0) : UNKNOWN;
  return [first.map((d, i) => (i === axis ? total : d))];
}

/** Length of `x` along `axis` as a 1-element int64 tensor (static when known). */
function dimOf(c: GradContext, x: Value, axis: number): Value {
  const d = x.shape?.[axis];
  return typeof d === 'number' ? c.g.ints([d]) : shapeOf(c.g, x, axis, axis + 1);
}

export const SHAPE_OPS: Record<string, OpDef> = {
  Reshape: { shape: reshapeShape, grad: reshapeBack },
  Flatten: {
    shape: (s) => {
      const x = s.inputs[0]?.shape;
      if (!x) return [undefined];
      const axis = axisOf(attrInt(s.node, 'axis', 1), x.length);
      const prod = (ds: readonly Dim[]): Dim => (ds.every((d) => typeof d === 'number') ? (ds as number[]).reduce((a, b) => a * b, 1) : UNKNOWN);
      return [[prod(x.slice(0, axis)), prod(x.slice(axis))]];
    },
    grad: reshapeBack,
  },
  Unsqueeze: { shape: unsqueezeShape, grad: reshapeBack },
  Squeeze: { shape: squeezeShape, grad: reshapeBack },
  Transpose: {
    shape: (s) => {
      const x = s.inputs[0]?.shape;
      if (!x) return [undefined];
      const perm = attrInts(s.node, 'perm') ?? x.map((_, i) => x.length - 1 - i);
      return [perm.map((p) => x[p])];
    },
    grad: (c) => {
      const rank = c.inputs[0]?.shape?.length;
      const perm = c.ints('perm') ?? (rank === undefined ? undefined : Array.from({ length: rank }, (_, i) => rank - 1 - i));
      if (!perm) throw geulError('GRAPH_INVALID', { detail: `${c.node.name}: Transpose gradient needs perm or a known rank` });
      const inverse = perm.map((_, i) => perm.indexOf(i));
      return [transpose(c.g, c.dy[0] as Value, inverse)];
    },
  },
  Expand: {
    shape: (s) => {
      const target = s.constInts(1);
      return [target ? broadcastShapes(s.inputs[0]?.shape, target) : undefined];
    },
    grad: (c) => [c.unbroadcast(c.dy[0] as Value, c.inputs[0] as Value), undefined],
  },
  Concat: {
    shape: concatShape,
    grad: (c) => {
      const xs = c.inputs as Value[];
      const rank = xs[0].shape?.length ?? 0;
      const axis = axisOf(c.int('axis', 0), rank);
      const sizes = concat(c.g, xs.map((x) => dimOf(c, x, axis)), 0);
      const parts = split(c.g, c.dy[0] as Value, { sizes, count: xs.length }, axis);
      return parts.map((p, i) => (c.needs[i] ? p : undefined));
    },
  },
  Split: {
    shape: (s) => {
      const x = s.inputs[0]?.shape;
      const n = s.node.outputs.length;
      if (!x) return Array.from({ length: n }, () => undefined);
      const axis = axisOf(attrInt(s.node, 'axis', 0), x.length);
      const sizes = s.inputs[1] ? s.constInts(1) : typeof x[axis] === 'number' ? Array.from({ length: n }, () => (x[axis] as number) / n) : undefined;
      return Array.from({ length: n }, (_, i) => x.map((d, j) => (j === axis ? (sizes?.[i] ?? UNKNOWN) : d)));
    },
    grad: (c) => {
      const rank = c.inputs[0]?.shape?.length ?? 0;
      const parts = c.outputs.map((y, i) => c.dy[i] ?? zerosLike(c.g, y));
      return [concat(c.g, parts, axisOf(c.int('axis', 0), rank)), undefined];
    },
  },
  Slice: {
    shape: (s) => {
      const x = s.inputs[0]?.shape;
      if (!x) return [undefined];
      const axes = s.inputs[3] ? s.constInts(3) : x.map((_, i) => i);
      if (!axes) return [x.map(() => UNKNOWN)];
      const set = new Set(axes.map((a) => axisOf(a, x.length)));
      return [x.map((d, i) => (set.has(i) ? UNKNOWN : d))];
    },
    grad: (c) => {
      // Slice the flat index grid the same way, then scatter the gradient into zeros at those positions.
      const { g } = c;
      const x = c.inputs[0] as Value;
      const shape = shapeOf(g, x);
      const grid = reshape(g, range(g, 0, sizeOf(g, x)), shape);
      // The forward's own bounds (constant or not, axes/steps possibly omitted) are reused as they are.
      const picked = g.op1('Slice', [grid, ...c.inputs.slice(1).map((v) => v ?? '')]);
      const flat = reshape(g, zerosLike(g, x), [-1]);
      const scattered = g.op1('ScatterElements', [flat, reshape(g, picked, [-1]), reshape(g, c.dy[0] as Value, [-1])], { axis: 0 });
      return [reshape(g, scattered, shape)];
    },
  },
  Gather: {
    shape: (s) => {
      const x = s.inputs[0]?.shape;
      const idx = s.inputs[1]?.shape;
      if (!x || !idx) return [undefined];
      const axis = axisOf(attrInt(s.node, 'axis', 0), x.length);
      return [[...x.slice(0, axis), ...idx, ...x.slice(axis + 1)]];
    },
    grad: (c) => {
      // Scatter-add: rows picked several times (repeated tokens) get the sum of their gradients.
      const { g } = c;
      const [x, idx] = c.inputs as Value[];
      const rank = x.shape?.length;
      const axis = axisOf(c.int('axis', 0), rank ?? 1);
      if (axis !== 0) throw geulError('GRAPH_INVALID', { detail: `${c.node.name}: Gather gradient supports axis 0 only` });
      const indices = unsqueeze(g, idx, [-1]);
      return [g.op1('ScatterND', [zerosLike(g, x), indices, c.dy[0] as Value], { reduction: 'add' }), undefined];
    },
  },
  GatherElements: {
    shape: (s) => [s.inputs[1]?.shape],
    dtype: (s) => [s.inputs[0]?.dtype],
    // Scatter-add into zeros: an element picked several times gets the sum of its gradients.
    grad: (c) => [c.g.op1('ScatterElements', [zerosLike(c.g, c.inputs[0] as Value), c.inputs[1] as Value, c.dy[0] as Value], { axis: c.int('axis', 0), reduction: 'add' }), undefined],
  },
  ScatterElements: {
    shape: (s) => [s.inputs[0]?.shape],
    // dx: dy where nothing was written (add: everywhere); dupdates: dy at the written positions.
    grad: (c) => {
      const [, idx, updates] = c.inputs as Value[];
      const dy = c.dy[0] as Value;
      const axis = c.int('axis', 0);
      const reduction = c.node.attributes.reduction;
      const adds = reduction?.type === 'string' && reduction.value === 'add';
      const dx = c.needs[0] ? (adds ? dy : c.g.op1('ScatterElements', [dy, idx, zerosLike(c.g, updates)], { axis })) : undefined;
      const du = c.needs[2] ? gatherElements(c.g, dy, idx, axis) : undefined;
      return [dx, undefined, du];
    },
  },
  // Unique(x) → sorted values, first indices, inverse indices, counts (no gradient: it feeds indices only).
  Unique: { shape: () => [[UNKNOWN], [UNKNOWN], [UNKNOWN], [UNKNOWN]], dtype: (s) => [s.inputs[0]?.dtype, 'int64', 'int64', 'int64'] },
  Shape: { shape: (s) => [[s.inputs[0]?.shape?.length ?? UNKNOWN]], dtype: () => ['int64'] },
  Size: { shape: () => [[]], dtype: () => ['int64'] },
  NonZero: { shape: (s) => [[s.inputs[0]?.shape?.length ?? UNKNOWN, UNKNOWN]], dtype: () => ['int64'] },
  Range: {
    shape: (s) => {
      const [start, limit, delta] = [0, 1, 2].map((i) => s.constInts(i)?.[0]);
      if (start === undefined || limit === undefined || delta === undefined || delta === 0) return [[UNKNOWN]];
      return [[Math.max(0, Math.ceil((limit - start) / delta))]];
    },
  },
  ConstantOfShape: {
    shape: (s) => [s.constInts(0)],
    dtype: (s) => {
      const v = s.node.attributes.value;
      return [v && v.type === 'tensor' ? v.value.dtype : 'float32'];
    },
  },
};
