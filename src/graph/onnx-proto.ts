// A minimal protobuf writer for the ONNX messages geul emits (models, graphs, nodes, tensors, attributes).
//
// Hand-written because no small, maintained JavaScript library writes ONNX: the official schema needs protobufjs
// plus a 1,000-line generated module, and geul emits only a subset (~15 fields). Field numbers follow onnx.proto3.

/** ONNX TensorProto.DataType codes. */
export const ONNX_DTYPE = {
  float32: 1, uint8: 2, int8: 3, int32: 6, int64: 7, bool: 9, float16: 10, float64: 11, uint32: 12,
} as const;
export type DType = keyof typeof ONNX_DTYPE;

class Writer {
  private chunks: Uint8Array[] = [];
  private scratch = new DataView(new ArrayBuffer(8));

  varint(value: number | bigint): this {
    let v = BigInt.asUintN(64, BigInt(value));
    const bytes: number[] = [];
    do {
      let byte = Number(v & 0x7fn);
      v >>= 7n;
      if (v !== 0n) byte |= 0x80;
      bytes.push(byte);
    } while (v !== 0n);
    this.chunks.push(Uint8Array.from(bytes));
    return this;
  }

  tag(field: number, wire: 0 | 1 | 2 | 5): this {
    return this.varint((field << 3) | wire);
  }

  int(field: number, value: number | bigint): this {
    return this.tag(field, 0).varint(value);
  }

  float(field: number, value: number): this {
    this.scratch.setFloat32(0, value, true);
    this.tag(field, 5);
    this.chunks.push(new Uint8Array(this.scratch.buffer.slice(0, 4)));
    return this;
  }

  bytes(field: number, data: Uint8Array): this {
    this.tag(field, 2).varint(data.length);
    this.chunks.push(data);
    return this;
  }

  string(field: number, text: string): this {
    return this.bytes(field, new TextEncoder().encode(text));
  }

  message(field: number, write: (w: Writer) => void): this {
    const inner = new Writer();
    write(inner);
    return this.bytes(field, inner.finish());
  }

  packedInts(field: number, values: readonly (number | bigint)[]): this {
    const inner = new Writer();
    for (const v of values) inner.varint(v);
    return this.bytes(field, inner.finish());
  }

  packedFloats(field: number, values: readonly number[]): this {
    const data = new Float32Array(values);
    return this.bytes(field, new Uint8Array(data.buffer));
  }

  finish(): Uint8Array {
    const size = this.chunks.reduce((n, c) => n + c.length, 0);
    const out = new Uint8Array(size);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}

/** A dimension: a size, a symbolic name (dim_param, e.g. 'batch_size') or UNKNOWN_DIM. */
export type Dim = number | string;

/** The dim of unknown size (written without value or name). */
export const UNKNOWN_DIM = '?';

export interface TensorProto {
  name: string;
  dtype: DType;
  dims: readonly number[];
  /** Little-endian raw bytes of the values (typed arrays on x86/ARM are little-endian). */
  raw: Uint8Array;
}

export interface ValueInfoProto {
  name: string;
  dtype: DType;
  shape?: readonly Dim[];
}

export type AttributeValue =
  | { type: 'float'; value: number }
  | { type: 'int'; value: number | bigint }
  | { type: 'string'; value: string }
  | { type: 'floats'; value: readonly number[] }
  | { type: 'ints'; value: readonly (number | bigint)[] }
  | { type: 'strings'; value: readonly string[] }
  | { type: 'tensor'; value: TensorProto }
  | { type: 'graph'; value: GraphProto };

export interface NodeProto {
  opType: string;
  inputs: readonly string[];
  outputs: readonly string[];
  name: string;
  domain?: string;
  attributes: Record<string, AttributeValue>;
}

export interface GraphProto {
  name: string;
  nodes: NodeProto[];
  inputs: ValueInfoProto[];
  outputs: ValueInfoProto[];
  initializers: TensorProto[];
  valueInfo?: ValueInfoProto[];
}

export interface ModelProto {
  graph: GraphProto;
  opsets: { domain: string; version: number }[];
  irVersion?: number;
  producer?: string;
  docString?: string;
}

const ATTRIBUTE_TYPE = { float: 1, int: 2, string: 3, tensor: 4, graph: 5, floats: 6, ints: 7, strings: 8 } as const;

function writeTensor(w: Writer, t: TensorProto): void {
  for (const d of t.dims) w.int(1, d);
  w.int(2, ONNX_DTYPE[t.dtype]);
  w.string(8, t.name);
  w.bytes(9, t.raw);
}

function writeValueInfo(w: Writer, v: ValueInfoProto): void {
  w.string(1, v.name);
  w.message(2, (type) => type.message(1, (tensor) => {
    tensor.int(1, ONNX_DTYPE[v.dtype]);
    if (v.shape) {
      tensor.message(2, (shape) => {
        for (const d of v.shape ?? []) {
          // '?' is the builder's unknown dim: an empty Dimension (neither dim_value nor dim_param).
          shape.message(1, (dim) => (typeof d === 'number' ? dim.int(1, d) : d === UNKNOWN_DIM ? dim : dim.string(2, d)));
        }
      });
    }
  }));
}

function writeAttribute(w: Writer, name: string, a: AttributeValue): void {
  w.string(1, name);
  switch (a.type) {
    case 'float': w.float(2, a.value); break;
    case 'int': w.int(3, a.value); break;
    case 'string': w.string(4, a.value); break;
    case 'tensor': w.message(5, (t) => writeTensor(t, a.value)); break;
    case 'graph': w.message(6, (g) => writeGraph(g, a.value)); break;
    case 'floats': w.packedFloats(7, a.value); break;
    case 'ints': w.packedInts(8, a.value); break;
    case 'strings': for (const s of a.value) w.string(9, s); break;
  }
  w.int(20, ATTRIBUTE_TYPE[a.type]);
}

function writeNode(w: Writer, n: NodeProto): void {
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, n.name);
  w.string(4, n.opType);
  for (const [name, value] of Object.entries(n.attributes)) w.message(5, (a) => writeAttribute(a, name, value));
  if (n.domain) w.string(7, n.domain);
}

function writeGraph(w: Writer, g: GraphProto): void {
  for (const n of g.nodes) w.message(1, (m) => writeNode(m, n));
  w.string(2, g.name);
  for (const t of g.initializers) w.message(5, (m) => writeTensor(m, t));
  for (const v of g.inputs) w.message(11, (m) => writeValueInfo(m, v));
  for (const v of g.outputs) w.message(12, (m) => writeValueInfo(m, v));
  for (const v of g.valueInfo ?? []) w.message(13, (m) => writeValueInfo(m, v));
}

/** Serialises a model to the ONNX protobuf wire format. */
export function encodeModel(model: ModelProto): Uint8Array {
  const w = new Writer();
  w.int(1, model.irVersion ?? 8);
  w.string(2, model.producer ?? 'geul');
  if (model.docString) w.string(6, model.docString);
  w.message(7, (g) => writeGraph(g, model.graph));
  for (const o of model.opsets) w.message(8, (m) => m.string(1, o.domain).int(2, o.version));
  return w.finish();
}
