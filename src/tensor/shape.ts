// Shape and indexing tensor ops over lazy nodes: reshape, permute, (un)squeeze, cat/stack/split, at/slice, gather.
import { geulError } from '../core/errors.js';
import { gatherElements } from '../graph/ops/shape-ops.js';
import { castTo, isFloat } from './elementwise.js';
import { record, recordOp, type Node, type TensorDType } from './lazy.js';
import { normDim } from './reduce.js';

const shapeText = (s: readonly number[]) => `[${s.join(', ')}]`;
const invalid = (detail: string) => geulError('INVALID_INPUT', { detail });

/** reshape/view: one dimension may be -1 (inferred); the element count must stay the same. */
export function reshape(x: Node, shape: readonly number[]): Node {
  const size = x.size;
  const minus = shape.filter((d) => d === -1).length;
  if (minus > 1 || shape.some((d) => !Number.isInteger(d) || d < -1)) throw invalid(`reshape: invalid shape ${shapeText(shape)} (one -1 at most, other dims ≥ 0)`);
  const known = shape.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  const target = shape.map((d) => (d === -1 ? (known === 0 ? 0 : size / known) : d));
  if (target.reduce((a, b) => a * b, 1) !== size || target.some((d) => !Number.isInteger(d))) {
    throw invalid(`reshape: shape ${shapeText(shape)} is invalid for a tensor of shape ${shapeText(x.shape)} (${size} elements)`);
  }
  // Emitted with 0 (ONNX: keep the input's dim) where a dim stays in place and with the caller's -1, so an exported
  // graph (nn.exportOnnx) keeps dynamic axes free; a literal 0 or an empty tensor is emitted as the plain target.
  const spec = size === 0 || target.includes(0) ? target : target.map((d, i) => (shape[i] === -1 ? -1 : d === x.shape[i] ? 0 : d));
  return record(`reshape[${spec}]`, [x], (g, [v]) => g.reshape(v, spec), () => [{ dtype: x.dtype, shape: target }]);
}

export function flatten(x: Node, startDim = 0, endDim = -1): Node {
  if (x.shape.length === 0) return reshape(x, [1]);
  const [s, e] = [normDim(startDim, x.shape.length, 'flatten'), normDim(endDim, x.shape.length, 'flatten')];
  const middle = x.shape.slice(s, e + 1).reduce((a, b) => a * b, 1);
  return reshape(x, [...x.shape.slice(0, s), middle, ...x.shape.slice(e + 1)]);
}

export function permute(x: Node, dims: readonly number[]): Node {
  const rank = x.shape.length;
  const perm = dims.map((d) => normDim(d, rank, 'permute'));
  if (perm.length !== rank || new Set(perm).size !== rank) throw invalid(`permute: ${shapeText(dims)} is not a permutation of the ${rank} dimensions of ${shapeText(x.shape)}`);
  return record(`permute[${perm}]`, [x], (g, [v]) => g.transpose(v, perm));
}

export function transpose(x: Node, dim0: number, dim1: number): Node {
  const rank = x.shape.length;
  const perm = x.shape.map((_, i) => i);
  const [a, b] = [normDim(dim0, rank, 'transpose'), normDim(dim1, rank, 'transpose')];
  [perm[a], perm[b]] = [perm[b], perm[a]];
  return permute(x, perm);
}

/** Removes `dim` when it has size 1 (unchanged otherwise, as torch), or every size-1 dimension. */
export function squeeze(x: Node, dim?: number): Node {
  const axes = dim === undefined ? x.shape.flatMap((d, i) => (d === 1 ? [i] : [])) : [normDim(dim, x.shape.length, 'squeeze')].filter((a) => x.shape[a] === 1);
  if (axes.length === 0) return x;
  return record(`squeeze[${axes}]`, [x], (g, [v]) => g.squeeze(v, axes));
}

export function unsqueeze(x: Node, dim: number): Node {
  const axis = normDim(dim, x.shape.length + 1, 'unsqueeze');
  return record(`unsqueeze[${axis}]`, [x], (g, [v]) => g.unsqueeze(v, [axis]));
}

/** Broadcasts to `shape` (-1 keeps a dimension). */
export function expand(x: Node, shape: readonly number[]): Node {
  const lead = shape.length - x.shape.length;
  if (lead < 0) throw invalid(`expand: cannot expand ${shapeText(x.shape)} to fewer dimensions ${shapeText(shape)}`);
  const target = shape.map((d, i) => (d === -1 ? (x.shape[i - lead] ?? 1) : d));
  x.shape.forEach((d, i) => {
    if (d !== 1 && d !== target[i + lead]) throw invalid(`expand: cannot expand ${shapeText(x.shape)} to ${shapeText(shape)} (dimension ${i + lead})`);
  });
  return record(`expand[${target}]`, [x], (g, [v]) => g.expand(v, target));
}

/** Every tensor as the common dtype of all (float32 > int64 > bool). */
function promoted(xs: readonly Node[]): Node[] {
  const dtype: TensorDType = xs.some((n) => isFloat(n.dtype)) ? 'float32' : xs.some((n) => n.dtype === 'int64') ? 'int64' : 'bool';
  return xs.map((n) => castTo(n, dtype));
}

export function cat(xs: readonly Node[], dim = 0): Node {
  if (xs.length === 0) throw invalid('cat: needs at least one tensor');
  const rank = xs[0].shape.length;
  const axis = normDim(dim, rank, 'cat');
  for (const x of xs) {
    if (x.shape.length !== rank || x.shape.some((d, i) => i !== axis && d !== xs[0].shape[i])) {
      throw invalid(`cat: shapes ${xs.map((n) => shapeText(n.shape)).join(', ')} differ outside dimension ${axis}`);
    }
  }
  return record(`cat:${axis}`, promoted(xs), (g, vs) => g.concat(vs, axis));
}

export function stack(xs: readonly Node[], dim = 0): Node {
  if (xs.length === 0) throw invalid('stack: needs at least one tensor');
  if (xs.some((x) => x.shape.join() !== xs[0].shape.join())) throw invalid(`stack: all tensors need the same shape (got ${xs.map((n) => shapeText(n.shape)).join(', ')})`);
  const axis = normDim(dim, xs[0].shape.length + 1, 'stack');
  return record(`stack:${axis}`, promoted(xs), (g, vs) => g.concat(vs.map((v) => g.unsqueeze(v, [axis])), axis));
}

/** torch.split: pieces of `size` along `dim` (the last may be smaller), or pieces of the given sizes. */
export function split(x: Node, size: number | readonly number[], dim = 0): Node[] {
  const axis = normDim(dim, x.shape.length, 'split');
  const length = x.shape[axis];
  let sizes: number[];
  if (typeof size === 'number') {
    if (!Number.isInteger(size) || size <= 0) throw invalid(`split: size must be a positive integer (got ${size})`);
    sizes = Array.from({ length: Math.max(1, Math.ceil(length / size)) }, (_, i) => Math.min(size, length - i * size));
  } else {
    sizes = [...size];
    if (sizes.reduce((a, b) => a + b, 0) !== length) throw invalid(`split: sizes [${sizes.join(', ')}] do not add up to ${length} (dimension ${axis} of ${shapeText(x.shape)})`);
  }
  if (sizes.length === 1) return [x];
  return recordOp({ key: `split:${axis}[${sizes}]`, emit: (g, [v]) => g.split(v, sizes, axis) }, [x], sizes.length);
}

/** torch.chunk: `chunks` pieces of ceil(length / chunks) along `dim`. */
export function chunk(x: Node, chunks: number, dim = 0): Node[] {
  const axis = normDim(dim, x.shape.length, 'chunk');
  return split(x, Math.max(1, Math.ceil(x.shape[axis] / chunks)), axis);
}

/** x[i] along dimension 0 (negative counts from the end). */
export function at(x: Node, index: number): Node {
  if (x.shape.length === 0) throw invalid('at: a 0-d tensor cannot be indexed');
  const n = x.shape[0];
  if (!Number.isInteger(index) || index < -n || index >= n) throw invalid(`at: index ${index} is out of range for dimension 0 of size ${n}`);
  const i = index < 0 ? index + n : index;
  return record(`at:${i}`, [x], (g, [v]) => g.gather(v, i, 0));
}

/** One dimension of a slice: a range `[start, end, step]` (parts may be omitted or null), an index, or null for all. */
export type SliceSpec = number | null | undefined | readonly (number | null | undefined)[];

/** Python's slice.indices: clamped start/end and the resulting length. */
function range(spec: readonly (number | null | undefined)[], n: number): { start: number; end: number; step: number; length: number } {
  const step = spec[2] ?? 1;
  if (!Number.isInteger(step) || step === 0) throw invalid(`slice: step must be a non-zero integer (got ${step})`);
  const norm = (v: number | null | undefined, fallback: number, lo: number, hi: number) => {
    if (v === null || v === undefined) return fallback;
    const w = v < 0 ? v + n : v;
    return Math.min(Math.max(w, lo), hi);
  };
  const start = step > 0 ? norm(spec[0], 0, 0, n) : norm(spec[0], n - 1, -1, n - 1);
  const end = step > 0 ? norm(spec[1], n, 0, n) : norm(spec[1], -1, -1, n - 1);
  const length = Math.max(0, Math.ceil((end - start) / step));
  return { start, end, step, length };
}

/** Slices every dimension by its spec (missing trailing specs take everything): `t.slice([0, 2], null, -1)`. */
export function slice(x: Node, specs: readonly SliceSpec[]): Node {
  const rank = x.shape.length;
  if (specs.length > rank) throw invalid(`slice: ${specs.length} specs for a tensor of rank ${rank}`);
  const starts: number[] = [];
  const ends: number[] = [];
  const steps: number[] = [];
  const axes: number[] = [];
  const dropped: number[] = [];
  const shape = [...x.shape];
  specs.forEach((spec, axis) => {
    const n = x.shape[axis];
    if (spec === null || spec === undefined) return;
    if (typeof spec === 'number') {
      if (!Number.isInteger(spec) || spec < -n || spec >= n) throw invalid(`slice: index ${spec} is out of range for dimension ${axis} of size ${n}`);
      const i = spec < 0 ? spec + n : spec;
      starts.push(i); ends.push(i + 1); steps.push(1); axes.push(axis); dropped.push(axis);
      shape[axis] = 1;
      return;
    }
    const r = range(spec as readonly (number | null | undefined)[], n);
    // ONNX adds the size to negative ends: "before index 0" of a negative step needs a bound below -size.
    starts.push(r.start); ends.push(r.end < 0 ? Number.MIN_SAFE_INTEGER : r.end); steps.push(r.step); axes.push(axis);
    shape[axis] = r.length;
  });
  if (axes.length === 0) return x;
  const final = shape.filter((_, i) => !dropped.includes(i));
  const key = `slice[${starts}][${ends}][${axes}][${steps}]-${dropped}`;
  return record(key, [x], (g, [v]) => {
    const sliced = g.withShape(g.slice(v, starts, ends, axes, steps), shape);
    return dropped.length ? g.squeeze(sliced, dropped) : sliced;
  }, () => [{ dtype: x.dtype, shape: final }]);
}

/** torch.gather: out[i][j] = x[index[i][j]][j] for dim 0 (and likewise for any dim); index is int64. */
export function gather(x: Node, dim: number, index: Node): Node {
  const axis = normDim(dim, x.shape.length, 'gather');
  if (index.shape.length !== x.shape.length) throw invalid(`gather: index ${shapeText(index.shape)} needs the rank of the input ${shapeText(x.shape)}`);
  return record(`gather:${axis}`, [x, castTo(index, 'int64')], (g, [v, i]) => gatherElements(g, v, i, axis));
}

/** Rows of `x` along `dim` picked by an int64 index tensor of any shape (embedding lookups; gradients for dim 0). */
export function indexSelect(x: Node, dim: number, index: Node): Node {
  const axis = normDim(dim, x.shape.length, 'indexSelect');
  return record(`indexSelect:${axis}`, [x, castTo(index, 'int64')], (g, [v, i]) => g.gather(v, i, axis));
}

/** torch.scatter / scatter_add (out of place): x with src (or a number) written (added) at index along dim. */
export function scatter(x: Node, dim: number, index: Node, src: Node | number, reduce?: 'add'): Node {
  const axis = normDim(dim, x.shape.length, 'scatter');
  if (index.shape.length !== x.shape.length) throw invalid(`scatter: index ${shapeText(index.shape)} needs the rank of the input ${shapeText(x.shape)}`);
  if (typeof src !== 'number' && src.shape.join() !== index.shape.join()) throw invalid(`scatter: src ${shapeText(src.shape)} must have the index's shape ${shapeText(index.shape)}`);
  const inputs = [x, castTo(index, 'int64'), ...(typeof src === 'number' ? [] : [castTo(src, x.dtype)])];
  const shape = [...index.shape];
  return record(`scatter:${axis}:${reduce ?? ''}:${typeof src === 'number' ? src : 't'}`, inputs, (g, [v, i, u]) => {
    const updates = u ?? g.constantOfShape(shape, src as number, x.dtype, shape);
    return g.op1('ScatterElements', [v, i, updates], { axis, ...(reduce && { reduction: reduce }) });
  });
}
