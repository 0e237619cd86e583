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
//   pass `output(v, name, { shape })` (or `op(..., { shape })`) to declare one.
// - Generic: `op(type, inputs, attrs, { outputs, names, domain, dtype, shape })` → Value[], `op1` → Value. Attributes:
//   integral numbers are INT (wrap with `float()` for FLOAT), arrays INTS/FLOATS/STRINGS, GraphProto a GRAPH.
// - Typed helpers below (add … scan); binary ops take numbers as scalars of the other operand's type.
// - Names: `unique(base)` under the current `scope(prefix, fn)`; unique across a graph and all its subgraphs.
// - Subgraphs: `subgraph(name, s => …)` → GraphProto for any attribute; `ifElse` and `scan` wrap If and Scan.
//   Bodies may read outer values by name.
// - `toModel({ opset, msOpset })` → ModelProto (com.microsoft opset added when a node uses that domain), `serialize()`.
import { geulError } from '../core/errors.js';
import type { DType, Dim, GraphProto } from './onnx-proto.js';
import { GraphCore, type Value } from './graph-core.js';
import { ONNX_DTYPE } from './onnx-proto.js';

export type { DType, Dim };
export type { OpOptions, Value } from './graph-core.js';
export { float, type Attr, type TypedData } from './tensor-data.js';

/** A Value, or a plain number used as a scalar constant of the other operand's element type. */
export type Operand = Value | number;

/** What an If branch or a Scan body returns. */
export interface ScanStep {
  /** Next loop-carried state, one per initial state. */
  state: Value[];
  /** Per-step outputs, stacked along axis 0 by Scan. */
  outputs: Value[];
}

export class GraphBuilder extends GraphCore {
  // Arithmetic and activations (elementwise, numpy broadcasting).
  add(a: Operand, b: Operand): Value { return this.binary('Add', a, b); }
  sub(a: Operand, b: Operand): Value { return this.binary('Sub', a, b); }
  mul(a: Operand, b: Operand): Value { return this.binary('Mul', a, b); }
  div(a: Operand, b: Operand): Value { return this.binary('Div', a, b); }
  pow(a: Operand, b: Operand): Value { return this.binary('Pow', a, b); }
  equal(a: Operand, b: Operand): Value { return this.binary('Equal', a, b); }
  less(a: Operand, b: Operand): Value { return this.binary('Less', a, b); }
  greater(a: Operand, b: Operand): Value { return this.binary('Greater', a, b); }
  neg(x: Value): Value { return this.op1('Neg', [x]); }
  abs(x: Value): Value { return this.op1('Abs', [x]); }
  sqrt(x: Value): Value { return this.op1('Sqrt', [x]); }
  exp(x: Value): Value { return this.op1('Exp', [x]); }
  log(x: Value): Value { return this.op1('Log', [x]); }
  reciprocal(x: Value): Value { return this.op1('Reciprocal', [x]); }
  relu(x: Value): Value { return this.op1('Relu', [x]); }
  sigmoid(x: Value): Value { return this.op1('Sigmoid', [x]); }
  tanh(x: Value): Value { return this.op1('Tanh', [x]); }
  erf(x: Value): Value { return this.op1('Erf', [x]); }
  not(x: Value): Value { return this.op1('Not', [x]); }
  identity(x: Value): Value { return this.op1('Identity', [x]); }

  /** Exact GELU, 0.5·x·(1 + erf(x/√2)), written with opset-17 ops (Gelu itself is opset 20). */
  gelu(x: Value): Value {
    return this.mul(this.mul(x, this.add(this.erf(this.div(x, Math.SQRT2)), 1)), 0.5);
  }

  /** Where(cond, a, b): a where cond is true, else b. */
  where(cond: Value, a: Operand, b: Operand): Value {
    const like = typeof a === 'number' ? (b as Value) : a;
    return this.op1('Where', [cond, this.lift(a, like), this.lift(b, like)]);
  }

  cast(x: Value, to: DType): Value { return this.op1('Cast', [x], { to: ONNX_DTYPE[to] }); }

  // Linear algebra.
  matmul(a: Value, b: Value): Value { return this.op1('MatMul', [a, b]); }

  /** alpha·A'·B' + beta·C for 2-D A and B (A' = Aᵀ when transA). */
  gemm(a: Value, b: Value, c?: Value, o: { alpha?: number; beta?: number; transA?: boolean; transB?: boolean } = {}): Value {
    return this.op1('Gemm', [a, b, c], {
      ...(o.alpha !== undefined && { alpha: { float: o.alpha } }),
      ...(o.beta !== undefined && { beta: { float: o.beta } }),
      ...(o.transA && { transA: 1 }),
      ...(o.transB && { transB: 1 }),
    });
  }

  // Reductions (opset 17: ReduceSum takes axes as an input, the others as an attribute). No axes: all axes.
  reduceSum(x: Value, axes?: readonly number[], keepdims = true): Value {
    return this.op1('ReduceSum', axes ? [x, this.ints(axes)] : [x], { keepdims: keepdims ? 1 : 0 });
  }
  reduceMean(x: Value, axes?: readonly number[], keepdims = true): Value { return this.reduce('ReduceMean', x, axes, keepdims); }
  reduceMax(x: Value, axes?: readonly number[], keepdims = true): Value { return this.reduce('ReduceMax', x, axes, keepdims); }

  // Normalisation.
  softmax(x: Value, axis = -1): Value { return this.op1('Softmax', [x], { axis }); }
  logSoftmax(x: Value, axis = -1): Value { return this.op1('LogSoftmax', [x], { axis }); }
  layerNorm(x: Value, scale: Value, bias?: Value, o: { axis?: number; epsilon?: number } = {}): Value {
    return this.op1('LayerNormalization', [x, scale, bias], { axis: o.axis ?? -1, epsilon: { float: o.epsilon ?? 1e-5 } });
  }

  // Shapes and indexing. Shape-like arguments may be number arrays (int64 constants) or int64 Values.
  reshape(x: Value, shape: readonly number[] | Value): Value { return this.op1('Reshape', [x, this.intsOf(shape)]); }
  transpose(x: Value, perm?: readonly number[]): Value { return this.op1('Transpose', [x], perm ? { perm: [...perm] } : {}); }
  unsqueeze(x: Value, axes: readonly number[]): Value { return this.op1('Unsqueeze', [x, this.ints(axes)]); }
  squeeze(x: Value, axes?: readonly number[]): Value { return this.op1('Squeeze', axes ? [x, this.ints(axes)] : [x]); }
  concat(xs: readonly Value[], axis: number): Value { return this.op1('Concat', xs, { axis }); }
  expand(x: Value, shape: readonly number[] | Value): Value { return this.op1('Expand', [x, this.intsOf(shape)]); }

  /** Splits along `axis` into `parts` equal pieces or pieces of the given sizes. */
  split(x: Value, parts: number | readonly number[], axis = 0): Value[] {
    if (typeof parts === 'number') return this.op('Split', [x], { axis }, { outputs: parts });
    return this.op('Split', [x, this.ints(parts)], { axis }, { outputs: parts.length });
  }

  slice(x: Value, starts: readonly number[], ends: readonly number[], axes?: readonly number[], steps?: readonly number[]): Value {
    const inputs = [x, this.ints(starts), this.ints(ends)];
    if (axes || steps) inputs.push(axes ? this.ints(axes) : this.ints(starts.map((_, i) => i)));
    if (steps) inputs.push(this.ints(steps));
    return this.op1('Slice', inputs);
  }

  /** Gather along `axis`; a number index is a scalar (that axis disappears), an array a 1-D index list. */
  gather(x: Value, indices: Value | number | readonly number[], axis = 0): Value {
    const idx = typeof indices === 'number' ? this.int(indices) : Array.isArray(indices) ? this.ints(indices) : (indices as Value);
    return this.op1('Gather', [x, idx], { axis });
  }

  /** The runtime shape (int64 [rank]), or a slice of it (`start`/`end`, opset 15+). */
  shape(x: Value, start?: number, end?: number): Value {
    return this.op1('Shape', [x], { ...(start !== undefined && { start }), ...(end !== undefined && { end }) });
  }

  /** The runtime size of one dimension as an int64 scalar. */
  dim(x: Value, axis: number): Value { return this.gather(this.shape(x), axis); }

  /** Range(start, limit, delta); numbers become int64 scalars unless another operand is a float Value. */
  range(start: Operand, limit: Operand, delta: Operand = 1): Value {
    const like = [start, limit, delta].find((v): v is Value => typeof v !== 'number');
    const lift = (v: Operand) => (typeof v === 'number' ? (like && like.dtype !== 'int64' ? this.lift(v, like) : this.int(v)) : v);
    return this.op1('Range', [lift(start), lift(limit), lift(delta)]);
  }

  /** Upper (default) or lower triangle of the last two axes, shifted by diagonal offset `k`. */
  trilu(x: Value, o: { upper?: boolean; k?: number } = {}): Value {
    return this.op1('Trilu', o.k === undefined ? [x] : [x, this.int(o.k)], { upper: o.upper === false ? 0 : 1 });
  }

  constantOfShape(shape: readonly number[] | Value, value: number, dtype: DType = 'float32'): Value {
    const data = dtype === 'float64' ? Float64Array.of(value) : dtype === 'int64' ? BigInt64Array.of(BigInt(value)) : dtype === 'int32' ? Int32Array.of(value) : dtype === 'bool' ? Uint8Array.of(value ? 1 : 0) : Float32Array.of(value);
    const raw = new Uint8Array(data.buffer.slice(0));
    return this.op1('ConstantOfShape', [this.intsOf(shape)], { value: { type: 'tensor', value: { name: 'value', dtype, dims: [1], raw } } }, { dtype });
  }

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
  lift(v: Operand, like?: Value): Value {
    if (typeof v !== 'number') return v;
    switch (like?.dtype) {
      case 'float64': return this.scalar(v, 'float64');
      case 'int64': return this.int(v);
      case 'int32': return this.constant(Int32Array.of(v), []);
      default: return this.scalar(v);
    }
  }

  private binary(opType: string, a: Operand, b: Operand): Value {
    if (typeof a === 'number' && typeof b === 'number') return this.op1(opType, [this.scalar(a), this.scalar(b)]);
    return this.op1(opType, [this.lift(a, b as Value), this.lift(b, a as Value)]);
  }

  private reduce(opType: string, x: Value, axes: readonly number[] | undefined, keepdims: boolean): Value {
    return this.op1(opType, [x], { ...(axes && { axes: [...axes] }), keepdims: keepdims ? 1 : 0 });
  }

  private intsOf(shape: readonly number[] | Value): Value {
    return Array.isArray(shape) ? this.ints(shape) : (shape as Value);
  }
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
