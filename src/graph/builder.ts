// A small typed ONNX graph builder: inputs, weights, ops with attributes, subgraphs (If/Scan), serialisation.
//
//   const g = new GraphBuilder('mlp');
//   const x = g.input('x', 'float32', ['batch', 4]);
//   const w = g.param('w', randomNormal(rng, [4, 2], 0.1), [4, 2]);
//   g.output(g.op1('Relu', [g.op1('MatMul', [x, w])]), 'y');
//   const bytes = g.serialize();                      // load with onnxruntime-node's InferenceSession.create(bytes)
import {
  ONNX_DTYPE, encodeModel, type AttributeValue, type DType, type Dim, type GraphProto, type ModelProto, type NodeProto, type TensorProto, type ValueInfoProto,
} from './onnx-proto.js';

export type { DType, Dim };

/** A value in the graph: a named tensor with its element type and (possibly symbolic or unknown) shape. */
export interface Value {
  readonly name: string;
  readonly dtype?: DType;
  readonly shape?: readonly Dim[];
}

export type TypedData = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Int8Array | Uint16Array;

/** Attribute values: numbers become INT when integral, FLOAT otherwise; wrap with `float()` to force FLOAT. */
export type Attr = number | bigint | string | number[] | string[] | GraphProto | { float: number } | AttributeValue;

export const float = (value: number): { float: number } => ({ float: value });

function toAttribute(value: Attr): AttributeValue {
  if (typeof value === 'number') return Number.isInteger(value) ? { type: 'int', value } : { type: 'float', value };
  if (typeof value === 'bigint') return { type: 'int', value };
  if (typeof value === 'string') return { type: 'string', value };
  if (Array.isArray(value)) {
    if (value.every((v) => typeof v === 'string')) return { type: 'strings', value: value as string[] };
    const nums = value as number[];
    return nums.every((v) => Number.isInteger(v)) ? { type: 'ints', value: nums } : { type: 'floats', value: nums };
  }
  if ('float' in value && typeof value.float === 'number') return { type: 'float', value: value.float };
  if ('nodes' in value) return { type: 'graph', value };
  return value as AttributeValue;
}

function dtypeOf(data: TypedData): DType {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Float64Array) return 'float64';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof BigInt64Array) return 'int64';
  if (data instanceof Int8Array) return 'int8';
  if (data instanceof Uint16Array) return 'float16';
  return 'uint8';
}

function rawBytes(data: TypedData): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
}

const DTYPE_BY_CODE = new Map(Object.entries(ONNX_DTYPE).map(([name, code]) => [code as number, name as DType]));

/** Ops whose output element type differs from their first input's. */
const OUTPUT_DTYPE: Record<string, DType> = {
  Shape: 'int64', Size: 'int64', Equal: 'bool', Less: 'bool', Greater: 'bool', LessOrEqual: 'bool', GreaterOrEqual: 'bool',
  Not: 'bool', And: 'bool', Or: 'bool', ArgMax: 'int64', ArgMin: 'int64', NonZero: 'int64',
};

export interface OpOptions {
  /** Number of outputs (default 1). */
  outputs?: number;
  /** Explicit output names (default: generated from the node name). */
  names?: string[];
  domain?: string;
  /** Output element type when it cannot be inferred. */
  dtype?: DType;
  /** Output shape when known. */
  shape?: readonly Dim[];
}

/** Builds one ONNX graph; subgraphs (If branches, Scan bodies) are GraphBuilders whose parent is the outer one. */
export class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly inputs: ValueInfoProto[] = [];
  readonly outputs: ValueInfoProto[] = [];
  readonly initializers: TensorProto[] = [];
  private readonly used: Set<string>;
  private readonly prefixes: string[] = [];
  private readonly constants = new Map<string, Value>();
  /** Every value this builder created (inputs, weights, node outputs) with the dtype/shape known at the time. */
  readonly values = new Map<string, Value>();

  constructor(readonly name = 'graph', private readonly parent?: GraphBuilder) {
    // Names are unique across a graph and all its subgraphs: ONNX resolves outer-scope names by name.
    this.used = parent ? parent.used : new Set();
  }

  /** A fresh name under the current scope (`layer0/attn/q`, `layer0/attn/q_1`, …). */
  unique(base: string): string {
    const full = [...this.prefixes, base].join('/');
    let name = full;
    for (let i = 1; this.used.has(name); i++) name = `${full}_${i}`;
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

  input(name: string, dtype: DType, shape?: readonly Dim[]): Value {
    this.used.add(name);
    this.inputs.push({ name, dtype, shape });
    this.values.set(name, { name, dtype, shape });
    return { name, dtype, shape };
  }

  /** Declares a graph output; adds an Identity when the value has another name. */
  output(value: Value, name = value.name, meta: { dtype?: DType; shape?: readonly Dim[] } = {}): Value {
    let out = value;
    if (name !== value.name) {
      this.used.add(name);
      this.nodes.push({ opType: 'Identity', inputs: [value.name], outputs: [name], name: this.unique(`${name}/identity`), attributes: {} });
      out = { name, dtype: value.dtype, shape: value.shape };
    }
    const dtype = meta.dtype ?? out.dtype;
    if (!dtype) throw new Error(`output ${name}: element type unknown; pass meta.dtype`);
    this.outputs.push({ name, dtype, shape: meta.shape ?? out.shape });
    return out;
  }

  /** A named weight (initializer). The name is kept as given so weights are easy to find and load. */
  param(name: string, data: TypedData, shape: readonly number[]): Value {
    const size = shape.reduce((a, b) => a * b, 1);
    if (size !== data.length) throw new Error(`param ${name}: shape [${shape}] needs ${size} values, got ${data.length}`);
    const unique = this.unique(name);
    const dtype = dtypeOf(data);
    this.initializers.push({ name: unique, dtype, dims: shape, raw: rawBytes(data) });
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

  /** Scalar float32 constant (shape []). */
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

  /** Adds a node; `''` (or undefined) in inputs marks an omitted optional input. */
  op(opType: string, inputs: readonly (Value | '' | undefined)[], attrs: Record<string, Attr> = {}, options: OpOptions = {}): Value[] {
    const nodeName = this.unique(opType);
    const count = options.outputs ?? 1;
    const names = options.names ?? Array.from({ length: count }, (_, i) => (i === 0 ? `${nodeName}:0` : `${nodeName}:${i}`));
    for (const n of names) this.used.add(n);
    const attributes: Record<string, AttributeValue> = {};
    for (const [k, v] of Object.entries(attrs)) attributes[k] = toAttribute(v);
    this.nodes.push({
      opType,
      inputs: inputs.map((v) => (v ? v.name : '')),
      outputs: names,
      name: nodeName,
      domain: options.domain,
      attributes,
    });
    const first = inputs.find((v): v is Value => Boolean(v));
    const toType = attributes.to?.type === 'int' ? DTYPE_BY_CODE.get(Number(attributes.to.value)) : undefined;
    const dtype = options.dtype ?? OUTPUT_DTYPE[opType] ?? (opType === 'Cast' ? toType : opType === 'Where' ? (inputs[1] || undefined)?.dtype ?? first?.dtype : first?.dtype);
    const values = names.map((name, i) => ({ name, dtype: i === 0 ? dtype : options.dtype ?? first?.dtype, shape: i === 0 ? options.shape : undefined }));
    for (const v of values) this.values.set(v.name, v);
    return values;
  }

  /** Adds a single-output node and returns its output. */
  op1(opType: string, inputs: readonly (Value | '' | undefined)[], attrs: Record<string, Attr> = {}, options: OpOptions = {}): Value {
    return this.op(opType, inputs, attrs, options)[0];
  }

  /** Builds a subgraph (If branch, Scan/Loop body) that may use values of this graph by name. */
  subgraph(name: string, build: (g: GraphBuilder) => void): GraphProto {
    const sub = new GraphBuilder(this.unique(name), this);
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

  serialize(options: { opset?: number; docString?: string } = {}): Uint8Array {
    return encodeModel(this.toModel(options));
  }
}
