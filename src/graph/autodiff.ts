// Reverse-mode differentiation over a builder's graph: walks the recorded nodes backwards and appends gradient nodes.
//
//   const loss = crossEntropy(g, logits, labels);
//   const [dw, db] = gradients(g, loss, [w, b]);     // Values in the same graph; feed them to an optimizer
import { geulError } from '../core/errors.js';
import type { GraphBuilder, Value } from './builder.js';
import type { NodeProto } from './onnx-proto.js';
import { OPS } from './ops/index.js';
import { attrFloat, attrInt, attrInts, FLOAT_TYPES, type GradContext, type OpDef } from './ops/types.js';
import { inferShapes } from './shapes.js';

type GradFn = NonNullable<OpDef['grad']>;

interface CustomGrad {
  grad: GradFn;
  /** Outer-scope values a subgraph reads (Scan weights): extra inputs whose gradients follow the node's own. */
  extra: string[];
}

const custom = new WeakMap<GraphBuilder, Map<string, CustomGrad>>();

/**
 * Gives one node (e.g. a Scan written by a layer) its own gradient, used instead of the registry's. `extra` lists
 * outer values its subgraph reads; `grad` returns gradients for the node's inputs followed by those.
 */
export function defineGradient(g: GraphBuilder, nodeName: string, grad: GradFn, extra: readonly Value[] = []): void {
  let map = custom.get(g);
  if (!map) custom.set(g, (map = new Map()));
  map.set(nodeName, { grad, extra: extra.map((v) => v.name) });
}

/** The last node added to `g` (to attach a custom gradient right after emitting it). */
export const lastNode = (g: GraphBuilder): NodeProto => g.nodes[g.nodes.length - 1];

export interface GradientOptions {
  /** Values treated as constants (no gradient flows through them). */
  stop?: readonly Value[];
  /** Gradient of the loss itself (default: ones). */
  seed?: Value;
}

/** d loss / d wrt for each value in `wrt` (zeros where the loss does not depend on it). */
export function gradients(g: GraphBuilder, loss: Value, wrt: readonly Value[], options: GradientOptions = {}): Value[] {
  const customs = custom.get(g);
  const nodes = g.nodes.map((n) => {
    const extra = customs?.get(n.name)?.extra;
    return extra ? { ...n, inputs: [...n.inputs, ...extra] } : n;
  });
  const types = inferShapes(g);
  const stop = new Set((options.stop ?? []).map((v) => v.name));
  const typed = (name: string): Value => types.get(name) ?? { name };

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
  const add = (name: string, grad: Value) => {
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
  add(loss.name, options.seed ?? (lossType.shape?.length === 0 ? g.scalar(1, lossType.dtype === 'float64' ? 'float64' : 'float32')
    : g.op1('Add', [zerosLikeLoss(g, lossType), g.scalar(1, lossType.dtype === 'float64' ? 'float64' : 'float32')])));

  for (const node of onPath) {
    const dy = node.outputs.map(total);
    if (dy.every((d) => !d)) continue;
    const inputs = node.inputs.map((n) => (n ? typed(n) : undefined));
    const needs = inputs.map((v) => !!v && live.has(v.name) && !stop.has(v.name) && FLOAT_TYPES.has(v.dtype));
    if (!needs.some(Boolean)) continue;
    const grad = customs?.get(node.name)?.grad ?? OPS[node.opType]?.grad;
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
      constInts: (i) => constInts(g, node.inputs[i]),
    };
    const grads = g.scope('grad', () => grad(ctx));
    grads.forEach((d, i) => {
      if (d && needs[i]) add(node.inputs[i], d);
    });
  }
  return wrt.map((v) => total(v.name) ?? zerosLikeLoss(g, typed(v.name)));
}

function zerosLikeLoss(g: GraphBuilder, like: Value): Value {
  return g.op1('Mul', [like, g.scalar(0, like.dtype === 'float64' ? 'float64' : 'float32')]);
}

function constInts(g: GraphBuilder, name: string | undefined): number[] | undefined {
  const t = name ? g.initializers.find((i) => i.name === name) : undefined;
  if (!t || t.dtype !== 'int64') return undefined;
  return Array.from(new BigInt64Array(t.raw.slice().buffer), Number);
}

/** Sums `grad` (shaped like `out`) over the axes along which `input` was broadcast, and reshapes to input's shape. */
export function unbroadcast(g: GraphBuilder, grad: Value, input: Value, out: Value): Value {
  const xs = input.shape;
  const ys = out.shape;
  if (xs && ys) {
    const lead = ys.length - xs.length;
    const axes: number[] = [];
    for (let i = 0; i < ys.length; i++) if (i < lead || (xs[i - lead] === 1 && ys[i] !== 1)) axes.push(i);
    if (axes.length === 0) return grad;
    const summed = g.op1('ReduceSum', [grad, g.ints(axes)], { keepdims: 1 });
    const target = xs.every((d) => typeof d === 'number') ? g.ints(xs as number[]) : g.op1('Shape', [input]);
    return g.op1('Reshape', [summed, target], {}, { shape: xs });
  }
  // Rank unknown: find the broadcast axes at run time.
  const gs = g.op1('Shape', [grad]);
  const is = g.op1('Shape', [input]);
  const pad = g.op1('Unsqueeze', [g.op1('Sub', [g.op1('Size', [gs]), g.op1('Size', [is])]), g.ints([0])]);
  const ones = g.op1('ConstantOfShape', [pad], { value: { type: 'tensor', value: { name: 'one', dtype: 'int64', dims: [1], raw: new Uint8Array(new BigInt64Array([1n]).buffer) } } }, { dtype: 'int64' });
  const padded = g.op1('Concat', [ones, is], { axis: 0 });
  const axes = g.op1('Reshape', [g.op1('NonZero', [g.op1('Equal', [padded, g.ints([1])])]), g.ints([-1])]);
  const summed = g.op1('ReduceSum', [grad, axes], { keepdims: 1, noop_with_empty_axes: 1 });
  return g.op1('Reshape', [summed, is]);
}
