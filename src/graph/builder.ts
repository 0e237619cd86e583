// A small typed ONNX graph builder (opset 17): inputs, weights, typed op helpers, If/Scan subgraphs, serialisation.
//
//   const g = new GraphBuilder('mlp');
//   const x = g.input('x', 'float32', ['batch', 4]);             // symbolic dims are strings
//   const w = g.param('w', rng.normalArray(8, 0.1), [4, 2]);     // weights keep their names (made unique if taken)
//   const y = g.scope('layer0', () => g.relu(g.add(g.matmul(x, w), 0.5)));   // y.shape: ['batch', 2]
//   g.output(y, 'y');
//   const bytes = g.serialize();                                  // onnxruntime-node: InferenceSession.create(bytes)
//
// API (stable):
// - Values (`Value`: name, dtype, shape) come from `input`, `param` (weights), `constant`/`scalar`/`int`/`ints`,
//   and ops. Shapes are numbers, symbolic names or '?' (unknown); dtypes and shapes are inferred eagerly by the op
//   registry (src/graph/ops), which also holds each op's gradient. Inferred shapes are never declared on graph outputs;
//   pass `output(v, name, { shape })` (or `op(..., { shape })`, `{ shapes }` for every output) to declare one.
// - Generic: `op(type, inputs, attrs, { outputs, names, domain, dtype, shape, shapes, gradient })` → Value[], `op1` →
//   Value. Attributes: integral numbers are INT (wrap with `float()` for FLOAT), arrays INTS/FLOATS/STRINGS, GraphProto
//   a GRAPH. `gradient: { grad, reads }` gives that one node its own backward rule (autodiff uses it).
// - Typed helpers below (add … scan) delegate to the emitters beside each op's rules in src/graph/ops; binary ops
//   take numbers as scalars of the other operand's type. Prefer them (and `cast(x, 'bool')`) over `op1` + codes.
// - Names: `unique(base)` under the current `scope(prefix, fn)`; unique across a graph and all its subgraphs.
// - Subgraphs: `subgraph(name, s => …)` → GraphProto for any attribute; `ifElse` and `scan` wrap If and Scan.
//   Bodies may read outer values by name.
// - `toModel({ opset, msOpset })` → ModelProto (com.microsoft opset added when a node uses that domain), `serialize()`.
import { geulError } from '../core/errors.js';
import type { DType, Dim, GraphProto } from './onnx-proto.js';
import { GraphCore } from './graph-core.js';
import * as elementwise from './ops/elementwise.js';
import * as linalg from './ops/linalg.js';
import * as nn from './ops/nn.js';
import * as reduce from './ops/reduce.js';
import * as shapes from './ops/shape-ops.js';
import { lift, type Operand, type Value } from './ops/types.js';

export type { DType, Dim };
export type { CustomGradient, GradContext, OpOptions, Operand, Value } from './ops/types.js';
export { float, type Attr, type TypedData } from './tensor-data.js';

/** What an If branch or a Scan body returns. */
export interface ScanStep {
  /** Next loop-carried state, one per initial state. */
  state: Value[];
  /** Per-step outputs, stacked along axis 0 by Scan. */
  outputs: Value[];
}

export class GraphBuilder extends GraphCore {
  // Every helper delegates to its op's emitter in src/graph/ops, where the op's shape rule and gradient live too.
  // Arithmetic and activations (elementwise, numpy broadcasting).
  add(a: Operand, b: Operand): Value { return elementwise.add(this, a, b); }
  sub(a: Operand, b: Operand): Value { return elementwise.sub(this, a, b); }
  mul(a: Operand, b: Operand): Value { return elementwise.mul(this, a, b); }
  div(a: Operand, b: Operand): Value { return elementwise.div(this, a, b); }
  pow(a: Operand, b: Operand): Value { return elementwise.pow(this, a, b); }
  equal(a: Operand, b: Operand): Value { return elementwise.equal(this, a, b); }
  less(a: Operand, b: Operand): Value { return elementwise.less(this, a, b); }
  lessOrEqual(a: Operand, b: Operand): Value { return elementwise.lessOrEqual(this, a, b); }
  greater(a: Operand, b: Operand): Value { return elementwise.greater(this, a, b); }
  and(a: Value, b: Value): Value { return elementwise.and(this, a, b); }
  neg(x: Value): Value { return elementwise.neg(this, x); }
  abs(x: Value): Value { return elementwise.abs(this, x); }
  sqrt(x: Value): Value { return elementwise.sqrt(this, x); }
  exp(x: Value): Value { return elementwise.exp(this, x); }
  log(x: Value): Value { return elementwise.log(this, x); }
  reciprocal(x: Value): Value { return elementwise.reciprocal(this, x); }
  relu(x: Value): Value { return elementwise.relu(this, x); }
  sigmoid(x: Value): Value { return elementwise.sigmoid(this, x); }
  tanh(x: Value): Value { return elementwise.tanh(this, x); }
  erf(x: Value): Value { return elementwise.erf(this, x); }
  not(x: Value): Value { return elementwise.not(this, x); }
  identity(x: Value): Value { return elementwise.identity(this, x); }
  /** Exact GELU, 0.5·x·(1 + erf(x/√2)), written with opset-17 ops (Gelu itself is opset 20). */
  gelu(x: Value): Value { return elementwise.gelu(this, x); }
  /** Where(cond, a, b): a where cond is true, else b. */
  where(cond: Value, a: Operand, b: Operand): Value { return elementwise.where(this, cond, a, b); }
  cast(x: Value, to: DType): Value { return elementwise.cast(this, x, to); }

  // Linear algebra.
  matmul(a: Value, b: Value): Value { return linalg.matmul(this, a, b); }
  /** alpha·A'·B' + beta·C for 2-D A and B (A' = Aᵀ when transA). */
  gemm(a: Value, b: Value, c?: Value, o: { alpha?: number; beta?: number; transA?: boolean; transB?: boolean } = {}): Value { return linalg.gemm(this, a, b, c, o); }

  // Reductions (opset 17: ReduceSum takes axes as an input, the others as an attribute). No axes: all axes.
  reduceSum(x: Value, axes?: readonly number[], keepdims = true): Value { return reduce.reduceSum(this, x, axes, keepdims); }
  reduceMean(x: Value, axes?: readonly number[], keepdims = true): Value { return reduce.reduceMean(this, x, axes, keepdims); }
  reduceMax(x: Value, axes?: readonly number[], keepdims = true): Value { return reduce.reduceMax(this, x, axes, keepdims); }

  // Normalisation.
  softmax(x: Value, axis = -1): Value { return nn.softmax(this, x, axis); }
  logSoftmax(x: Value, axis = -1): Value { return nn.logSoftmax(this, x, axis); }
  layerNorm(x: Value, scale: Value, bias?: Value, o: { axis?: number; epsilon?: number } = {}): Value { return nn.layerNorm(this, x, scale, bias, o); }

  // Shapes and indexing. Shape-like arguments may be number arrays (int64 constants) or int64 Values.
  reshape(x: Value, shape: readonly number[] | Value): Value { return shapes.reshape(this, x, shape); }
  transpose(x: Value, perm?: readonly number[]): Value { return shapes.transpose(this, x, perm); }
  unsqueeze(x: Value, axes: readonly number[]): Value { return shapes.unsqueeze(this, x, axes); }
  squeeze(x: Value, axes?: readonly number[]): Value { return shapes.squeeze(this, x, axes); }
  concat(xs: readonly Value[], axis: number): Value { return shapes.concat(this, xs, axis); }
  expand(x: Value, shape: readonly number[] | Value): Value { return shapes.expand(this, x, shape); }
  /** Splits along `axis` into `parts` equal pieces or pieces of the given sizes. */
  split(x: Value, parts: number | readonly number[], axis = 0): Value[] { return shapes.split(this, x, parts, axis); }
  /** Slice with constant bounds (numbers) or runtime ones (int64 Values); `axes` default to the first ones. */
  slice(x: Value, starts: readonly number[] | Value, ends: readonly number[] | Value, axes?: readonly number[] | Value, steps?: readonly number[] | Value): Value {
    return shapes.slice(this, x, starts, ends, axes, steps);
  }
  /** Gather along `axis`; a number index is a scalar (that axis disappears), an array a 1-D index list. */
  gather(x: Value, indices: Value | number | readonly number[], axis = 0): Value { return shapes.gather(this, x, indices, axis); }
  /** The runtime shape (int64 [rank]), or a slice of it (`start`/`end`, opset 15+). */
  shape(x: Value, start?: number, end?: number): Value { return shapes.shapeOf(this, x, start, end); }
  /** The runtime element count as an int64 scalar. */
  size(x: Value): Value { return shapes.sizeOf(this, x); }
  /** The runtime size of one dimension as an int64 scalar. */
  dim(x: Value, axis: number): Value { return shapes.dim(this, x, axis); }
  /** Range(start, limit, delta); numbers become int64 scalars unless another operand is a float Value. */
  range(start: Operand, limit: Operand, delta: Operand = 1): Value { return shapes.range(this, start, limit, delta); }
  /** Upper (default) or lower triangle of the last two axes, shifted by diagonal offset `k`. */
  trilu(x: Value, o: { upper?: boolean; k?: number } = {}): Value { return elementwise.trilu(this, x, o); }
  /** A tensor of the given shape filled with `value`; `known` declares its dims when `shape` is a runtime Value. */
  constantOfShape(shape: readonly number[] | Value, value: number, dtype: DType = 'float32', known?: readonly Dim[]): Value {
    return shapes.constantOfShape(this, shape, value, dtype, known);
  }
  /** Zeros with the runtime shape and float type of `like`. */
  zerosLike(like: Value): Value { return shapes.zerosLike(this, like); }

  /**
   * If(cond): both branches build subgraphs (reading outer values freely) and return the same number of values with
   * matching element types. Returns the If outputs, typed from the then-branch, shapes where both branches agree.
   */
  ifElse(cond: Value, thenBranch: (s: GraphBuilder) => Value[], elseBranch: (s: GraphBuilder) => Value[]): Value[] {
    let thenOut: Value[] = [];
    let elseOut: Value[] = [];
    const branch = (label: string, build: (s: GraphBuilder) => Value[], keep: (v: Value[]) => void) => this.subgraph(label, (s) => {
      const outs = build(s).map((v) => s.output(v, s.unique(`${label}_out`)));
      keep(outs);
    });
    const then_branch: GraphProto = branch('then', thenBranch, (v) => (thenOut = v));
    const else_branch: GraphProto = branch('else', elseBranch, (v) => (elseOut = v));
    if (thenOut.length !== elseOut.length) throw geulError('GRAPH_INVALID', { detail: `ifElse: then gives ${thenOut.length} values, else ${elseOut.length}` });
    const outs = this.op('If', [cond], { then_branch, else_branch }, { outputs: thenOut.length });
    return outs.map((v, i) => this.refine({ ...v, dtype: thenOut[i].dtype }, mergeShapes(thenOut[i].shape, elseOut[i].shape)));
  }

  /**
   * Scan over axis 0 of `inputs` (from the end with `reverse`; outputs then stay aligned with the inputs), carrying
   * `state`. The body gets the current states and one slice of each input (axis 0 removed) and returns the next states
   * and per-step outputs; it may read outer values. Returns the final states and the stacked outputs.
   */
  scan(state: readonly Value[], inputs: readonly Value[], body: (s: GraphBuilder, state: Value[], xs: Value[]) => ScanStep, o: { reverse?: boolean } = {}): ScanStep {
    let step: ScanStep = { state: [], outputs: [] };
    const graph = this.subgraph('scan_body', (s) => {
      const st = state.map((v) => s.input(s.unique('state_in'), dtypeOrThrow(v), v.shape));
      const xs = inputs.map((v) => s.input(s.unique('x_t'), dtypeOrThrow(v), v.shape?.slice(1)));
      const result = body(s, st, xs);
      if (result.state.length !== state.length) throw geulError('GRAPH_INVALID', { detail: `scan: body returns ${result.state.length} states for ${state.length}` });
      step = {
        state: result.state.map((v) => s.output(v, s.unique('state_out'))),
        outputs: result.outputs.map((v) => s.output(v, s.unique('y_t'))),
      };
    });
    const attrs = { body: graph, num_scan_inputs: inputs.length, ...(o.reverse && { scan_input_directions: inputs.map(() => 1), scan_output_directions: step.outputs.map(() => 1) }) };
    const outs = this.op('Scan', [...state, ...inputs], attrs, { outputs: state.length + step.outputs.length });
    const steps: Dim = inputs[0]?.shape?.[0] ?? '?';
    const typedOut = (v: Value, like: Value, shape: readonly Dim[] | undefined) => this.refine({ ...v, dtype: like.dtype }, shape);
    return {
      state: outs.slice(0, state.length).map((v, i) => typedOut(v, step.state[i], state[i].shape)),
      outputs: outs.slice(state.length).map((v, i) => typedOut(v, step.outputs[i], step.outputs[i].shape && [steps, ...step.outputs[i].shape])),
    };
  }

  /** A number as a constant of `like`'s element type (float32 when unknown); Values pass through. */
  lift(v: Operand, like?: Value): Value { return lift(this, v, like); }
}

function dtypeOrThrow(v: Value): DType {
  if (!v.dtype) throw geulError('GRAPH_INVALID', { detail: `scan: element type of ${v.name} unknown` });
  return v.dtype;
}

/** Dims both shapes agree on; '?' where they differ; undefined when a rank is unknown or ranks differ. */
function mergeShapes(a: readonly Dim[] | undefined, b: readonly Dim[] | undefined): readonly Dim[] | undefined {
  if (!a || !b || a.length !== b.length) return undefined;
  return a.map((d, i) => (d === b[i] ? d : '?'));
}
