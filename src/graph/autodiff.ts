// Reverse-mode differentiation over a builder's graph: walks the recorded nodes backwards and appends gradient nodes.
//
//   const loss = crossEntropy(g, logits, labels);
//   const [dw, db] = gradients(g, loss, [w, b]);     // Values in the same graph; feed them to an optimizer
//
// Each node's gradient comes from its op's definition (src/graph/ops), or from the one attached to that node through
// `g.op(…, { gradient })`. Types and shapes are those the builder inferred while the graph was built.
import { geulError } from '../core/errors.js';
import type { GraphCore } from './graph-core.js';
import type { NodeProto } from './onnx-proto.js';
import { add, equal, mul, sub } from './ops/elementwise.js';
import { OPS } from './ops/index.js';
import { reduceSum } from './ops/reduce.js';
import { concat, constantOfShape, reshape, shapeOf, sizeOf, unsqueeze } from './ops/shape-ops.js';
import { attrFloat, attrInt, attrInts, FLOAT_TYPES, type Emitter, type GradContext, type Value } from './ops/types.js';

export interface GradientOptions {
  /** Values treated as constants (no gradient flows through them). */
  stop?: readonly Value[];
  /** Gradient of the loss itself (default: ones). */
  seed?: Value;
}

/** d loss / d wrt for each value in `wrt` (zeros where the loss does not depend on it). */
export function gradients(g: GraphCore, loss: Value, wrt: readonly Value[], options: GradientOptions = {}): Value[] {
  // A custom gradient's subgraph reads outer values (Scan weights): they count as the node's inputs here.
  const nodes = g.nodes.map((n) => {
    const reads = g.customGradient(n.name)?.reads;
    return reads ? { ...n, inputs: [...n.inputs, ...reads.map((v) => v.name)] } : n;
  });
  const stop = new Set((options.stop ?? []).map((v) => v.name));
  const typed = (name: string): Value => g.typeOf(name) ?? { name };

  // Forward: values that depend on a wrt value; backward: nodes whose outputs reach the loss.
  const live = new Set(wrt.map((v) => v.name));
  for (const node of nodes) {
    if (node.inputs.some((n) => live.has(n) && !stop.has(n))) for (const o of node.outputs) live.add(o);
  }
  const reaches = new Set([loss.name]);
  const onPath: NodeProto[] = [];
  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = nodes[i];
    if (!node.outputs.some((o) => reaches.has(o)) || !node.inputs.some((n) => live.has(n) && !stop.has(n))) continue;
    onPath.push(node);
    for (const n of node.inputs) if (n) reaches.add(n);
  }

  const parts = new Map<string, Value[]>();
  const accumulate = (name: string, grad: Value) => {
    const list = parts.get(name);
    if (list) list.push(grad);
    else parts.set(name, [grad]);
  };
  const total = (name: string): Value | undefined => {
    const list = parts.get(name);
    if (!list || list.length === 0) return undefined;
    if (list.length > 1) parts.set(name, [g.op1('Sum', list)]);
    return (parts.get(name) as Value[])[0];
  };
  const lossType = typed(loss.name);
  const one = g.scalar(1, lossType.dtype === 'float64' ? 'float64' : 'float32');
  accumulate(loss.name, options.seed ?? (lossType.shape?.length === 0 ? one : add(g, zerosLikeLoss(g, lossType), one)));

  for (const node of onPath) {
    const dy = node.outputs.map(total);
    if (dy.every((d) => !d)) continue;
    const inputs = node.inputs.map((n) => (n ? typed(n) : undefined));
    const needs = inputs.map((v) => !!v && live.has(v.name) && !stop.has(v.name) && FLOAT_TYPES.has(v.dtype));
    if (!needs.some(Boolean)) continue;
    const grad = g.customGradient(node.name)?.grad ?? OPS[node.opType]?.grad;
    if (!grad) throw geulError('GRAPH_INVALID', { detail: `no gradient for ${node.opType} (node ${node.name})` });
    const outputs = node.outputs.map(typed);
    const floatType = inputs.find((v) => FLOAT_TYPES.has(v?.dtype))?.dtype === 'float64' ? 'float64' : 'float32';
    const ctx: GradContext = {
      g, node, inputs, outputs, dy, needs,
      scalar: (v) => g.scalar(v, floatType),
      unbroadcast: (gr, input) => unbroadcast(g, gr, input, outputs[0]),
      int: (name, fallback) => attrInt(node, name, fallback),
      ints: (name) => attrInts(node, name),
      float: (name, fallback) => attrFloat(node, name, fallback),
      constInts: (i) => g.constInts(node.inputs[i]),
    };
    const grads = g.scope('grad', () => grad(ctx));
    grads.forEach((d, i) => {
      if (d && needs[i]) accumulate(node.inputs[i], d);
    });
  }
  return wrt.map((v) => total(v.name) ?? zerosLikeLoss(g, typed(v.name)));
}

/** Zeros shaped like `like`, as like·0 (keeps the graph free of a Shape/ConstantOfShape pair). */
const zerosLikeLoss = (e: Emitter, like: Value): Value => mul(e, like, 0);

/** Sums `grad` (shaped like `out`) over the axes along which `input` was broadcast, and reshapes to input's shape. */
export function unbroadcast(e: Emitter, grad: Value, input: Value, out: Value): Value {
  const xs = input.shape;
  const ys = out.shape;
  if (xs && ys) {
    const lead = ys.length - xs.length;
    const axes: number[] = [];
    for (let i = 0; i < ys.length; i++) if (i < lead || (xs[i - lead] === 1 && ys[i] !== 1)) axes.push(i);
    if (axes.length === 0) return grad;
    const summed = reduceSum(e, grad, axes);
    const target = xs.every((d) => typeof d === 'number') ? e.ints(xs as number[]) : shapeOf(e, input);
    // Declares input's shape, which the Reshape rule cannot read through a runtime Shape.
    return e.op1('Reshape', [summed, target], {}, { shape: xs });
  }
  // Rank unknown: find the broadcast axes at run time.
  const is = shapeOf(e, input);
  const pad = unsqueeze(e, sub(e, sizeOf(e, shapeOf(e, grad)), sizeOf(e, is)), [0]);
  const padded = concat(e, [constantOfShape(e, pad, 1, 'int64'), is], 0);
  const axes = reshape(e, e.op1('NonZero', [equal(e, padded, e.ints([1]))]), [-1]);
  // noop_with_empty_axes: nothing was broadcast when no axis qualifies.
  const summed = e.op1('ReduceSum', [grad, axes], { keepdims: 1, noop_with_empty_axes: 1 });
  return reshape(e, summed, is);
}
