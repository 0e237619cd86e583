// MatMul and Gemm: emitters, shape rules and gradients (weight gradients as one MatMul over all leading dims).
import type { Dim } from '../onnx-proto.js';
import { mul } from './elementwise.js';
import { reshape, transpose } from './shape-ops.js';
import { attrInt, broadcastShapes, type Emitter, type GradContext, type OpDef, type Value } from './types.js';

export const matmul = (e: Emitter, a: Value, b: Value): Value => e.op1('MatMul', [a, b]);

export interface GemmOptions { alpha?: number; beta?: number; transA?: boolean | number; transB?: boolean | number }

/** alpha·A'·B' + beta·C for 2-D A and B (A' = Aᵀ when transA). */
export function gemm(e: Emitter, a: Value, b: Value, c?: Value, o: GemmOptions = {}): Value {
  return e.op1('Gemm', [a, b, c], {
    ...(o.alpha !== undefined && { alpha: { float: o.alpha } }),
    ...(o.beta !== undefined && { beta: { float: o.beta } }),
    ...(o.transA && { transA: 1 }),
    ...(o.transB && { transB: 1 }),
  });
}

/** Swaps the last two axes (rank 2 when unknown). */
function transposeLast(e: Emitter, x: Value): Value {
  const rank = x.shape?.length ?? 2;
  const perm = Array.from({ length: rank }, (_, i) => i);
  [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
  return transpose(e, x, perm);
}

function matmulGrad(c: GradContext): (Value | undefined)[] {
  const { g } = c;
  const [a, b] = c.inputs as Value[];
  const dy = c.dy[0] as Value;
  const ra = a.shape?.length ?? 2;
  const rb = b.shape?.length ?? 2;
  let da: Value | undefined;
  let db: Value | undefined;
  if (c.needs[0]) da = c.unbroadcast(matmul(g, dy, transposeLast(g, b)), a);
  if (c.needs[1]) {
    const k = b.shape?.[0];
    const n = b.shape?.[1];
    if (rb === 2 && ra > 2 && typeof k === 'number' && typeof n === 'number') {
      // Weight gradient over every leading position at once: [rows, k]^T @ [rows, n].
      db = matmul(g, transpose(g, reshape(g, a, [-1, k]), [1, 0]), reshape(g, dy, [-1, n]));
    } else {
      db = c.unbroadcast(matmul(g, transposeLast(g, a), dy), b);
    }
  }
  return [da, db];
}

function matmulShape(a: readonly Dim[] | undefined, b: readonly Dim[] | undefined): readonly Dim[] | undefined {
  if (!a || !b || a.length < 2 || b.length < 2) return undefined;
  const batch = broadcastShapes(a.slice(0, -2), b.slice(0, -2)) ?? [];
  return [...batch, a[a.length - 2], b[b.length - 1]];
}

export const LINALG_OPS: Record<string, OpDef> = {
  MatMul: { shape: (s) => [matmulShape(s.inputs[0]?.shape, s.inputs[1]?.shape)], grad: matmulGrad },
  Gemm: {
    shape: (s) => {
      const [a, b] = [s.inputs[0]?.shape, s.inputs[1]?.shape];
      if (!a || !b) return [undefined];
      return [[attrInt(s.node, 'transA', 0) ? a[1] : a[0], attrInt(s.node, 'transB', 0) ? b[0] : b[1]]];
    },
    grad: (c) => {
      const { g } = c;
      const [a, b, bias] = c.inputs as (Value | undefined)[];
      const dy = c.dy[0] as Value;
      const alpha = c.float('alpha', 1);
      const beta = c.float('beta', 1);
      const transA = c.int('transA', 0);
      const transB = c.int('transB', 0);
      const scaled = alpha === 1 ? dy : mul(g, dy, c.scalar(alpha));
      // Y = A'B' with A' = transA ? Aᵀ : A. dA' = dY B'ᵀ, dB' = A'ᵀ dY; Gemm's trans flags do the transposes.
      const da = c.needs[0] ? (transA ? gemm(g, b as Value, scaled, undefined, { transA: transB, transB: 1 }) : gemm(g, scaled, b as Value, undefined, { transB: !transB })) : undefined;
      const db = c.needs[1] ? (transB ? gemm(g, scaled, a as Value, undefined, { transA: 1, transB: transA }) : gemm(g, a as Value, scaled, undefined, { transA: !transA })) : undefined;
      const dc = bias && c.needs[2] ? c.unbroadcast(beta === 1 ? dy : mul(g, dy, c.scalar(beta)), bias) : undefined;
      return [da, db, dc];
    },
  },
};
