// MatMul and Gemm: shape rules and gradients (weight gradients as one MatMul over all leading dims).
import type { GraphBuilder, Value } from '../builder.js';
import type { Dim } from '../onnx-proto.js';
import { attrInt, broadcastShapes, type GradContext, type OpDef } from './types.js';

/** Swaps the last two axes (rank must be known). */
function transposeLast(g: GraphBuilder, x: Value): Value {
  const rank = x.shape?.length ?? 2;
  const perm = Array.from({ length: rank }, (_, i) => i);
  [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
  return g.op1('Transpose', [x], { perm }, { shape: perm.map((p) => x.shape?.[p] ?? '?') });
}

function matmulGrad(c: GradContext): (Value | undefined)[] {
  const { g } = c;
  const [a, b] = c.inputs as Value[];
  const dy = c.dy[0] as Value;
  const ra = a.shape?.length ?? 2;
  const rb = b.shape?.length ?? 2;
  let da: Value | undefined;
  let db: Value | undefined;
  if (c.needs[0]) da = c.unbroadcast(g.op1('MatMul', [dy, transposeLast(g, b)]), a);
  if (c.needs[1]) {
    const k = b.shape?.[0];
    const n = b.shape?.[1];
    if (rb === 2 && ra > 2 && typeof k === 'number' && typeof n === 'number') {
      // Weight gradient over every leading position at once: [rows, k]^T @ [rows, n].
      const a2 = g.op1('Reshape', [a, g.ints([-1, k])]);
      const dy2 = g.op1('Reshape', [dy, g.ints([-1, n])]);
      db = g.op1('MatMul', [g.op1('Transpose', [a2], { perm: [1, 0] }), dy2]);
    } else {
      db = c.unbroadcast(g.op1('MatMul', [transposeLast(g, a), dy]), b);
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
      const scaled = alpha === 1 ? dy : g.op1('Mul', [dy, c.scalar(alpha)]);
      // Y = A'B' with A' = transA ? Aᵀ : A. dA' = dY B'ᵀ, dB' = A'ᵀ dY; Gemm's trans flags do the transposes.
      const da = c.needs[0] ? (transA ? g.op1('Gemm', [b as Value, scaled], { transA: transB, transB: 1 }) : g.op1('Gemm', [scaled, b as Value], { transB: transB ? 0 : 1 })) : undefined;
      const db = c.needs[1] ? (transB ? g.op1('Gemm', [scaled, a as Value], { transA: 1, transB: transA }) : g.op1('Gemm', [a as Value, scaled], { transA: transA ? 0 : 1 })) : undefined;
      let dc: Value | undefined;
      if (bias && c.needs[2]) dc = c.unbroadcast(beta === 1 ? dy : g.op1('Mul', [dy, c.scalar(beta)]), bias);
      return [da, db, dc];
    },
  },
};
