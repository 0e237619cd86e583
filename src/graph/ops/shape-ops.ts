// Shape and indexing ops (Reshape, Transpose, (Un)Squeeze, Concat, Split, Slice, Gather, Expand, Unique): shapes and gradients.
import type { Value } from '../builder.js';
import type { Dim } from '../onnx-proto.js';
import { attrInt, attrInts, axisOf, broadcastShapes, zerosLike, type GradContext, type OpDef, type Shape, type ShapeContext } from './types.js';

const UNKNOWN = '?';

/** Gradient of any op that only rearranges elements without changing their order: reshape back. */
const reshapeBack = (c: GradContext) => [c.dy[0] && c.g.op1('Reshape', [c.dy[0], c.g.op1('Shape', [c.inputs[0] as Value])]), undefined];

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
  if (typeof d === 'number') return c.g.ints([d]);
  return c.g.op1('Slice', [c.g.op1('Shape', [x]), c.g.ints([axis]), c.g.ints([axis + 1])]);
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
      if (!perm) throw new Error(`${c.node.name}: Transpose gradient needs perm or a known rank`);
      const inverse = perm.map((_, i) => perm.indexOf(i));
      return [c.g.op1('Transpose', [c.dy[0] as Value], { perm: inverse })];
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
      const sizes = c.g.op1('Concat', xs.map((x) => dimOf(c, x, axis)), { axis: 0 });
      const parts = c.g.op('Split', [c.dy[0] as Value, sizes], { axis }, { outputs: xs.length });
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
      return [c.g.op1('Concat', parts, { axis: axisOf(c.int('axis', 0), rank) }), undefined];
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
      const shape = g.op1('Shape', [x]);
      const size = g.op1('Size', [x]);
      const grid = g.op1('Reshape', [g.op1('Range', [g.int(0), size, g.int(1)]), shape]);
      const rest = c.inputs.slice(1).map((v) => v ?? '');
      const picked = g.op1('Slice', [grid, ...rest]);
      const flat = g.op1('Reshape', [zerosLike(g, x), g.ints([-1])]);
      const scattered = g.op1('ScatterElements', [flat, g.op1('Reshape', [picked, g.ints([-1])]), g.op1('Reshape', [c.dy[0] as Value, g.ints([-1])])], { axis: 0 });
      return [g.op1('Reshape', [scattered, shape])];
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
      if (axis !== 0) throw new Error(`${c.node.name}: Gather gradient supports axis 0 only`);
      const indices = g.op1('Unsqueeze', [idx, g.ints([-1])]);
      return [g.op1('ScatterND', [zerosLike(g, x), indices, c.dy[0] as Value], { reduction: 'add' }), undefined];
    },
  },
  // Unique(x) → sorted values, first indices, inverse indices, counts (no gradient: it feeds indices only).
  Unique: { shape: () => [[UNKNOWN], [UNKNOWN], [UNKNOWN], [UNKNOWN]], dtype: (s) => [s.inputs[0]?.dtype, 'int64', 'int64', 'int64'] },
  Shape: { shape: (s) => [[s.inputs[0]?.shape?.length ?? UNKNOWN]], dtype: () => ['int64'] },
  Size: { shape: () => [[]], dtype: () => ['int64'] },
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
