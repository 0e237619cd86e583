// Shape and dtype inference over a builder's graph, using each registered op's shape rule.
import type { GraphBuilder, Value } from './builder.js';
import type { NodeProto } from './onnx-proto.js';
import { OPS } from './ops/index.js';
import type { ShapeContext } from './ops/types.js';
import { DTYPE_BY_CODE, intValues } from './tensor-data.js';

const BOOL_OPS = new Set(['Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'Not', 'And', 'Or']);

/** Infers dtype and shape of every value in `g`; hints recorded by the builder fill what the rules cannot. */
export function inferShapes(g: GraphBuilder): Map<string, Value> {
  const types = new Map<string, Value>();
  const consts = new Map<string, number[]>();
  for (const v of g.values.values()) types.set(v.name, v);
  for (const t of g.initializers) {
    const ints = t.raw.length <= 64 * 8 ? intValues(t.dtype, t.raw) : undefined;
    if (ints && ints.length <= 64) consts.set(t.name, ints);
  }
  for (const node of g.nodes) inferNode(node, types, consts);
  return types;
}

function inferNode(node: NodeProto, types: Map<string, Value>, consts: Map<string, number[]>): void {
  const inputs = node.inputs.map((n) => (n ? types.get(n) ?? { name: n } : undefined));
  const ctx: ShapeContext = { node, inputs, constInts: (i) => (node.inputs[i] ? consts.get(node.inputs[i]) : undefined) };
  const def = OPS[node.opType];
  const shapes = def?.shape?.(ctx) ?? [];
  const dtypes = def?.dtype?.(ctx) ?? [];
  const to = node.attributes.to;
  const first = inputs.find((v) => v)?.dtype;
  node.outputs.forEach((name, i) => {
    const hint = types.get(name);
    const dtype = dtypes[i] ?? (node.opType === 'Cast' && to?.type === 'int' ? DTYPE_BY_CODE.get(Number(to.value)) : BOOL_OPS.has(node.opType) ? 'bool' : hint?.dtype ?? first);
    types.set(name, { name, dtype, shape: shapes[i] ?? hint?.shape });
  });
}
