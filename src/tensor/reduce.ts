// Reductions (dim + keepdim, negative dims), softmax/logSoftmax and matmul over lazy nodes, written with src/graph ops.
import { geulError } from '../core/errors.js';
import type { GraphBuilder, Value } from '../graph/builder.js';
import { broadcastShape, castTo, toFloat } from './elementwise.js';
import { record, stopGradient, type Node } from './lazy.js';

export type Dims = number | readonly number[];

/** A dimension index in [0, rank), negative ones counted from the end; INVALID_INPUT when out of range. */
export function normDim(dim: number, rank: number, what: string): number {
  const r = Math.max(rank, 1);
  if (!Number.isInteger(dim) || dim < -r || dim >= r) {
    throw geulError('INVALID_INPUT', { detail: `${what}: dimension ${dim} is out of range for a tensor of rank ${rank} (expected -${r} … ${r - 1})` });
  }
  return dim < 0 ? dim + r : dim;
}

/** Normalised, sorted, distinct axes; undefined means every axis. */
function axesOf(x: Node, dim: Dims | undefined, what: string): number[] | undefined {
  if (dim === undefined) return undefined;
  const list = typeof dim === 'number' ? [dim] : [...dim];
  const axes = [...new Set(list.map((d) => normDim(d, x.shape.length, what)))].sort((a, b) => a - b);
  return x.shape.length === 0 ? undefined : axes;
}

const keyOf = (name: string, axes: number[] | undefined, keep: boolean) => `${name}[${axes ?? '*'}]${keep ? 'k' : ''}`;

const counted = (x: Node) => (x.dtype === 'bool' ? castTo(x, 'int64') : x);

export function sum(x: Node, dim?: Dims, keepdim = false): Node {
  const axes = axesOf(x, dim, 'sum');
  return record(keyOf('sum', axes, keepdim), [counted(x)], (g, [v]) => g.reduceSum(v, axes, keepdim));
}

export function mean(x: Node, dim?: Dims, keepdim = false): Node {
  const axes = axesOf(x, dim, 'mean');
  return record(keyOf('mean', axes, keepdim), [toFloat(x)], (g, [v]) => g.reduceMean(v, axes, keepdim));
}

/** The largest values along `dim` (all elements when omitted); the indices come from argmax. */
export function max(x: Node, dim?: Dims, keepdim = false): Node {
  const axes = axesOf(x, dim, 'max');
  return record(keyOf('max', axes, keepdim), [counted(x)], (g, [v]) => g.reduceMax(v, axes, keepdim));
}

/** min(x) = -max(-x): the gradient is ReduceMax's (it goes to the smallest element). */
export function min(x: Node, dim?: Dims, keepdim = false): Node {
  const axes = axesOf(x, dim, 'min');
  return record(keyOf('min', axes, keepdim), [counted(x)], (g, [v]) => g.neg(g.reduceMax(g.neg(v), axes, keepdim)));
}

function argReduce(opType: 'ArgMax' | 'ArgMin', x: Node, dim: number | undefined, keepdim: boolean): Node {
  const input = counted(x);
  if (dim === undefined || x.shape.length === 0) {
    return record(`${opType}[*]`, [input], (g, [v]) => g.op1(opType, [g.reshape(v, [-1])], { axis: 0, keepdims: 0 }));
  }
  const axis = normDim(dim, x.shape.length, opType.toLowerCase());
  return record(`${opType}[${axis}]${keepdim ? 'k' : ''}`, [input], (g, [v]) => g.op1(opType, [v], { axis, keepdims: keepdim ? 1 : 0 }));
}

export const argmax = (x: Node, dim?: number, keepdim = false): Node => argReduce('ArgMax', x, dim, keepdim);
export const argmin = (x: Node, dim?: number, keepdim = false): Node => argReduce('ArgMin', x, dim, keepdim);

/** Variance along `dim` with Bessel's correction by default (`correction` 1, as torch.var). */
export function variance(x: Node, dim?: Dims, keepdim = false, correction = 1): Node {
  const axes = axesOf(x, dim, 'var');
  const count = (axes ?? x.shape.map((_, i) => i)).reduce((n, a) => n * (x.shape[a] ?? 1), 1);
  return record(`${keyOf('var', axes, keepdim)}c${correction}`, [toFloat(x)], (g, [v]) => {
    const centred = g.sub(v, g.reduceMean(v, axes, true));
    return g.div(g.reduceSum(g.mul(centred, centred), axes, keepdim), Math.max(count - correction, 0));
  });
}

export function std(x: Node, dim?: Dims, keepdim = false, correction = 1): Node {
  const v = variance(x, dim, keepdim, correction);
  return record('sqrt', [v], (g, [u]) => g.sqrt(u));
}

/** log Σ exp(x) along `dim`, shifted by the (constant) maximum so large values do not overflow. */
export function logsumexp(x: Node, dim?: Dims, keepdim = false): Node {
  const axes = axesOf(x, dim, 'logsumexp');
  return record(keyOf('logsumexp', axes, keepdim), [toFloat(x)], (g, [v]) => {
    const top = stopGradient(g, g.reduceMax(v, axes, true));
    const out = g.add(g.log(g.reduceSum(g.exp(g.sub(v, top)), axes, true)), top);
    if (keepdim) return out;
    return axes ? g.squeeze(out, axes) : g.reshape(out, []);
  });
}

export function softmax(x: Node, dim: number): Node {
  const axis = normDim(dim, x.shape.length, 'softmax');
  return record(`softmax:${axis}`, [toFloat(x)], (g, [v]) => g.softmax(v, axis));
}

export function logSoftmax(x: Node, dim: number): Node {
  const axis = normDim(dim, x.shape.length, 'logSoftmax');
  return record(`logSoftmax:${axis}`, [toFloat(x)], (g, [v]) => g.logSoftmax(v, axis));
}

const shapeText = (s: readonly number[]) => `[${s.join(', ')}]`;

/** torch.matmul: 1-D operands are promoted (and the added axis removed), batch dims broadcast. */
export function matmul(a: Node, b: Node, what = 'matmul'): Node {
  const [ra, rb] = [a.shape.length, b.shape.length];
  if (ra === 0 || rb === 0) throw geulError('INVALID_INPUT', { detail: `${what}: both operands need at least one dimension (got ${shapeText(a.shape)} and ${shapeText(b.shape)})` });
  const k1 = a.shape[ra - 1];
  const k2 = rb === 1 ? b.shape[0] : b.shape[rb - 2];
  if (k1 !== k2) throw geulError('INVALID_INPUT', { detail: `${what}: shapes ${shapeText(a.shape)} and ${shapeText(b.shape)} do not match (${k1} columns vs ${k2} rows)` });
  if (ra > 2 || rb > 2) broadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2), `${what} (batch dimensions)`);
  return record(`matmul:${ra}:${rb}`, [toFloat(a), toFloat(b)], (g: GraphBuilder, [x, y]): Value => {
    const left = ra === 1 ? g.unsqueeze(x, [0]) : x;
    const right = rb === 1 ? g.unsqueeze(y, [1]) : y;
    let out = g.matmul(left, right);
    if (rb === 1) out = g.squeeze(out, [-1]);
    if (ra === 1) out = g.squeeze(out, [rb === 1 ? -1 : -2]);
    return out;
  });
}

export function mm(a: Node, b: Node): Node {
  if (a.shape.length !== 2 || b.shape.length !== 2) throw geulError('INVALID_INPUT', { detail: `mm: both operands must be 2-D (got ${shapeText(a.shape)} and ${shapeText(b.shape)})` });
  return matmul(a, b, 'mm');
}

export function bmm(a: Node, b: Node): Node {
  if (a.shape.length !== 3 || b.shape.length !== 3 || a.shape[0] !== b.shape[0]) {
    throw geulError('INVALID_INPUT', { detail: `bmm: both operands must be 3-D with the same batch size (got ${shapeText(a.shape)} and ${shapeText(b.shape)})` });
  }
  return matmul(a, b, 'bmm');
}
