// The graph builder's core: values, unique scoped names, weights, generic nodes with eager shape inference, subgraphs.
import { geulError } from '../core/errors.js';
import { encodeModel, type AttributeValue, type DType, type Dim, type GraphProto, type ModelProto, type NodeProto, type TensorProto, type ValueInfoProto } from './onnx-proto.js';
import { OPS } from './ops/index.js';
import type { CustomGradient, Emitter, OpOptions, ShapeContext, Value } from './ops/types.js';
import { dtypeOf, intValues, rawBytes, toAttribute, type Attr, type TypedData } from './tensor-data.js';

export type { CustomGradient, OpOptions, Value } from './ops/types.js';

type Constructor<T> = new (name: string, parent?: GraphCore) => T;

/** Builds one ONNX graph; subgraphs (If branches, Scan bodies) are builders whose parent is the outer one. */
export class GraphCore implements Emitter {
  readonly nodes: NodeProto[] = [];
  readonly inputs: ValueInfoProto[] = [];
  readonly outputs: ValueInfoProto[] = [];
  readonly initializers: TensorProto[] = [];
  /** Every value this builder created (inputs, weights, node outputs) with the dtype/shape known at the time. */
  readonly values = new Map<string, Value>();
  private readonly used: Set<string>;
  /** Per base name, the suffix the next search for a free name starts at (names are never freed, so none below is). */
  private readonly nextSuffix: Map<string, number>;
  private readonly prefixes: string[] = [];
  private readonly constants = new Map<string, Value>();
  /** Small int64/int32 weights (shapes, axes) by name, so shape rules can read them. */
  private readonly intConsts = new Map<string, number[]>();
  /** Node outputs whose shape was inferred rather than declared; their shapes are not written as graph outputs. */
  private readonly inferred = new Set<string>();
  /** Gradients attached to single nodes through `op(…, { gradient })`, by node name. */
  private readonly gradients = new Map<string, CustomGradient>();

  constructor(readonly name = 'graph', private readonly parent?: GraphCore) {
    // Names are unique across a graph and all its subgraphs: ONNX resolves outer-scope names by name.
    this.used = parent ? parent.used : new Set();
    this.nextSuffix = parent ? parent.nextSuffix : new Map();
  }

  /** A fresh name under the current scope (`layer0/attn/q`, `layer0/attn/q_1`, …). */
  unique(base: string): string {
    const full = [...this.prefixes, base].join('/');
    let name = full;
    if (this.used.has(name)) {
      let i = this.nextSuffix.get(full) ?? 1;
      while (this.used.has(`${full}_${i}`)) i++;
      name = `${full}_${i}`;
      this.nextSuffix.set(full, i + 1);
    }
    this.used.add(name);
    return name;
  }

  /** Runs `build` with names prefixed by `prefix/`. */
  scope<T>(prefix: string, build: () => T): T {
    this.prefixes.push(prefix);
    try {
      return build();
    } finally {
      this.prefixes.pop();
    }
  }

  /** A graph input; its name is kept as given (feeds use it). */
  input(name: string, dtype: DType, shape?: readonly Dim[]): Value {
    this.used.add(name);
    this.inputs.push({ name, dtype, shape });
    this.values.set(name, { name, dtype, shape });
    return { name, dtype, shape };
  }

  /** Declares a graph output; adds an Identity when the value has another name. Inferred shapes are not declared. */
  output(value: Value, name = value.name, meta: { dtype?: DType; shape?: readonly Dim[] } = {}): Value {
    let out = value;
    const declared = this.isInferred(value.name) ? undefined : value.shape;
    if (name !== value.name) {
      this.used.add(name);
      this.nodes.push({ opType: 'Identity', inputs: [value.name], outputs: [name], name: this.unique(`${name}/identity`), attributes: {} });
      out = { name, dtype: value.dtype, shape: value.shape };
      this.values.set(name, out);
    }
    const dtype = meta.dtype ?? out.dtype;
    if (!dtype) throw geulError('GRAPH_INVALID', { detail: `output ${name}: element type unknown; pass meta.dtype` });
    this.outputs.push({ name, dtype, shape: meta.shape ?? declared });
    return out;
  }

  /** A named weight (initializer). The name is kept as given (made unique if taken) so weights are easy to find. */
  param(name: string, data: TypedData, shape: readonly number[]): Value {
    const size = shape.reduce((a, b) => a * b, 1);
    if (size !== data.length) throw geulError('GRAPH_INVALID', { detail: `param ${name}: shape [${shape}] needs ${size} values, got ${data.length}` });
    const unique = this.unique(name);
    const dtype = dtypeOf(data);
    const raw = rawBytes(data);
    this.initializers.push({ name: unique, dtype, dims: shape, raw });
    if (data.length <= 64) {
      const ints = intValues(dtype, raw);
      if (ints) this.intConsts.set(unique, ints);
    }
    this.values.set(unique, { name: unique, dtype, shape });
    return { name: unique, dtype, shape };
  }

  /** A constant tensor (deduplicated by content within this graph). */
  constant(data: TypedData, shape: readonly number[] = [data.length]): Value {
    const key = `${dtypeOf(data)}:${shape.join(',')}:${Array.from(data as ArrayLike<number | bigint>, String).join(',')}`;
    const cached = key.length < 512 ? this.constants.get(key) : undefined;
    if (cached) return cached;
    const value = this.param('const', data, shape);
    if (key.length < 512) this.constants.set(key, value);
    return value;
  }

  /** Scalar float constant (shape []). */
  scalar(value: number, dtype: 'float32' | 'float64' = 'float32'): Value {
    return this.constant(dtype === 'float32' ? Float32Array.of(value) : Float64Array.of(value), []);
  }

  /** 1-D int64 constant, for shapes, axes and indices. */
  ints(values: readonly number[]): Value {
    return this.constant(BigInt64Array.from(values, (v) => BigInt(v)), [values.length]);
  }

  /** Scalar int64 constant (shape []). */
  int(value: number): Value {
    return this.constant(BigInt64Array.of(BigInt(value)), []);
  }

  /** Values of a small int64/int32 constant of this graph or an outer one (undefined when not constant). */
  constInts(value: Value | string | undefined): number[] | undefined {
    const name = typeof value === 'string' ? value : value?.name;
    if (!name) return undefined;
    return this.intConsts.get(name) ?? this.parent?.constInts(name);
  }

  /**
   * Adds a node; `''` (or undefined) in inputs marks an omitted optional input. Output dtypes and shapes are inferred
   * from the op registry's rules where they are simple (unknown dims become `'?'`); `options` override them.
   */
  op(opType: string, inputs: readonly (Value | '' | undefined)[], attrs: Record<string, Attr> = {}, options: OpOptions = {}): Value[] {
    const nodeName = this.unique(opType);
    const count = options.outputs ?? options.names?.length ?? 1;
    const names = options.names ?? Array.from({ length: count }, (_, i) => `${nodeName}:${i}`);
    for (const n of names) this.used.add(n);
    const attributes: Record<string, AttributeValue> = {};
    for (const [k, v] of Object.entries(attrs)) attributes[k] = toAttribute(v);
    const node: NodeProto = { opType, inputs: inputs.map((v) => (v ? v.name : '')), outputs: names, name: nodeName, domain: options.domain, attributes };
    this.nodes.push(node);

    const typed = inputs.map((v): Value | undefined => {
      if (!v) return undefined;
      const known = v.dtype && v.shape ? undefined : this.lookup(v.name);
      return { name: v.name, dtype: v.dtype ?? known?.dtype, shape: v.shape ?? known?.shape };
    });
    const def = options.domain ? undefined : OPS[opType];
    const ctx: ShapeContext = { node, inputs: typed, constInts: (i) => this.constInts(node.inputs[i]) };
    const shapes = tryRule(() => def?.shape?.(ctx));
    const ruleTypes = tryRule(() => def?.dtype?.(ctx));
    if (options.gradient) this.gradients.set(nodeName, options.gradient);
    const first = typed.find((v): v is Value => Boolean(v));
    return names.map((name, i) => {
      const declared = options.shapes?.[i] ?? (i === 0 ? options.shape : undefined);
      const shape = declared ?? shapes[i];
      if (shape && !declared) this.inferred.add(name);
      const value: Value = { name, dtype: options.dtype ?? ruleTypes[i] ?? first?.dtype, shape };
      this.values.set(name, value);
      return value;
    });
  }

  /** Adds a single-output node and returns its output. */
  op1(opType: string, inputs: readonly (Value | '' | undefined)[], attrs: Record<string, Attr> = {}, options: OpOptions = {}): Value {
    return this.op(opType, inputs, attrs, options)[0];
  }

  /** What this graph (or an outer one) knows of a value's element type and shape, by name. */
  typeOf(name: string): Value | undefined {
    return this.lookup(name);
  }

  /** The gradient attached to node `nodeName` through `op(…, { gradient })`, if any. */
  customGradient(nodeName: string): CustomGradient | undefined {
    return this.gradients.get(nodeName);
  }

  /** Builds a subgraph (If branch, Scan/Loop body) that may use values of this graph by name. */
  subgraph(name: string, build: (g: this) => void): GraphProto {
    const sub = new (this.constructor as Constructor<this>)(this.unique(name), this);
    build(sub);
    return sub.toGraphProto();
  }

  toGraphProto(): GraphProto {
    return { name: this.name, nodes: this.nodes, inputs: this.inputs, outputs: this.outputs, initializers: this.initializers };
  }

  toModel(options: { opset?: number; msOpset?: number; docString?: string } = {}): ModelProto {
    const opsets = [{ domain: '', version: options.opset ?? 17 }];
    if (options.msOpset || this.nodes.some((n) => n.domain === 'com.microsoft')) opsets.push({ domain: 'com.microsoft', version: options.msOpset ?? 1 });
    return { graph: this.toGraphProto(), opsets, irVersion: 8, producer: 'geul', docString: options.docString };
  }

  /** The ONNX model bytes; onnxruntime-node loads them with `InferenceSession.create(bytes)`. */
  serialize(options: { opset?: number; msOpset?: number; docString?: string } = {}): Uint8Array {
    return encodeModel(this.toModel(options));
  }

  /**
   * Declares the shape of a node output this graph made, where inference cannot see it (runtime shapes, unknown
   * inputs); the value then carries it, later ops and autodiff use it, and `output` declares it like `op(…, { shape })`.
   */
  withShape(value: Value, shape: readonly Dim[]): Value {
    const known = this.values.get(value.name);
    if (!known) throw geulError('GRAPH_INVALID', { detail: `withShape: ${value.name} is not a value of graph ${this.name}` });
    const declared = { ...known, shape };
    this.values.set(value.name, declared);
    this.inferred.delete(value.name);
    return declared;
  }

  /** Records a shape worked out for `value` (e.g. by a helper); like inferred shapes it is not declared on outputs. */
  protected refine(value: Value, shape: readonly Dim[] | undefined): Value {
    const refined = { ...value, shape: shape ?? value.shape };
    this.values.set(value.name, refined);
    if (shape) this.inferred.add(value.name);
    return refined;
  }

  private lookup(name: string): Value | undefined {
    return this.values.get(name) ?? this.parent?.lookup(name);
  }

  private isInferred(name: string): boolean {
    return this.inferred.has(name) || (this.parent?.isInferred(name) ?? false);
  }
}

/** Inference is a convenience: a rule that cannot handle these inputs leaves the outputs unknown. */
function tryRule<T>(rule: () => readonly T[] | undefined): readonly T[] {
  try {
    return rule() ?? [];
  } catch {
    return [];
  }
}
