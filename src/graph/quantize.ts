// Dynamic int8 quantisation of an ONNX graph's MatMul weights (what onnxruntime's Python `quantize_dynamic` does).
//
// Each MatMul(A, W) whose W is a float32 2-D initializer — or Transpose(initializer), as torch-layout Linear weights
// appear — becomes
//   A_q, A_scale, A_zero = DynamicQuantizeLinear(A)          (uint8, per tensor, computed at run time)
//   Y = Cast(MatMulInteger(A_q, W_q, A_zero), float) · (A_scale · W_scale)
// with W_q int8, symmetric (zero point 0) and one scale per output column (per channel).
//
// Why these ops: DynamicQuantizeLinear and MatMulInteger are standard ONNX (opset 11 / 10), so the file runs in any
// ONNX runtime (onnxruntime-node, -web, others) without the com.microsoft domain; onnxruntime's CPU graph optimiser
// fuses this exact pattern into its DynamicQuantizeMatMul / MatMulIntegerToFloat contrib kernels (seen in a session's
// optimizedModelFilePath output), so nothing is lost against writing the contrib ops ourselves.
// Full int8 range: on x86 CPUs without VNNI, onnxruntime's uint8×int8 kernel may saturate 16-bit pair sums (its docs
// suggest reduce_range there); test/graph/quantize.test.ts checks the exact integer result on the machine it runs on.
// Why per channel and symmetric: one scale per output column keeps a column of small weights from being rounded to
// zero by another column's outliers (measured on the reference encoders: see test/graph/quantize.test.ts), and a zero
// weight zero point keeps MatMulInteger on its fast path. Activation×activation MatMuls (attention) stay float: their
// operands change with every input, so they gain nothing from stored int8 weights.
import type { GraphProto, NodeProto, TensorProto } from './onnx-proto.js';
import { pruneGraph } from './prune.js';

/** Largest |int8| used: symmetric [-127, 127], so that −W quantises to −W_q exactly. */
const INT8_LIMIT = 127;
const FLOAT = 1; // TensorProto.DataType FLOAT, the Cast target.

export interface QuantizeReport {
  /** MatMul nodes rewritten. */
  quantized: number;
  /** Float32 weight bytes replaced by int8 ones. */
  floatBytes: number;
}

/** A float32 2-D weight as [K, N] (rows of the MatMul's B), transposed from the initializer when needed. */
interface Weight { values: Float32Array; rows: number; cols: number; source: string }

function floats(t: TensorProto): Float32Array {
  const raw = t.raw.byteOffset % 4 === 0 ? t.raw : t.raw.slice();
  return new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
}

/** W_q (int8, [K, N]) and one float scale per column. */
export function quantizeColumns(w: Float32Array, rows: number, cols: number): { q: Int8Array; scales: Float32Array } {
  const scales = new Float32Array(cols);
  for (let k = 0; k < rows; k++) {
    for (let j = 0; j < cols; j++) scales[j] = Math.max(scales[j]!, Math.abs(w[k * cols + j]!));
  }
  for (let j = 0; j < cols; j++) scales[j] = scales[j]! > 0 ? scales[j]! / INT8_LIMIT : 1;
  const q = new Int8Array(rows * cols);
  for (let k = 0; k < rows; k++) {
    for (let j = 0; j < cols; j++) q[k * cols + j] = Math.max(-INT8_LIMIT, Math.min(INT8_LIMIT, Math.round(w[k * cols + j]! / scales[j]!)));
  }
  return { q, scales };
}

/**
 * Returns a copy of `graph` (the top-level graph of a model) with its weight MatMuls quantised to int8 as described
 * above, and the float weights no longer read by anything removed. Subgraphs are left as they are.
 */
export function quantizeMatMulWeights(graph: GraphProto): { graph: GraphProto; report: QuantizeReport } {
  const initializers = new Map(graph.initializers.map((t) => [t.name, t]));
  const producers = new Map<string, NodeProto>();
  for (const node of graph.nodes) for (const out of node.outputs) producers.set(out, node);
  const taken = new Set<string>([...graph.nodes.flatMap((n) => [n.name, ...n.inputs, ...n.outputs]), ...initializers.keys(), ...graph.inputs.map((i) => i.name)]);
  const fresh = (base: string): string => {
    let name = base;
    for (let i = 1; taken.has(name); i++) name = `${base}_${i}`;
    taken.add(name);
    return name;
  };

  const weightOf = (name: string): Weight | undefined => {
    const direct = initializers.get(name);
    if (direct) return direct.dtype === 'float32' && direct.dims.length === 2 ? { values: floats(direct), rows: direct.dims[0]!, cols: direct.dims[1]!, source: name } : undefined;
    const transpose = producers.get(name);
    if (transpose?.opType !== 'Transpose' || transpose.domain) return undefined;
    const source = initializers.get(transpose.inputs[0]!);
    const perm = transpose.attributes['perm'];
    const swaps = !perm || (perm.type === 'ints' && perm.value.length === 2 && Number(perm.value[0]) === 1 && Number(perm.value[1]) === 0);
    if (!source || source.dtype !== 'float32' || source.dims.length !== 2 || !swaps) return undefined;
    const [n, k] = source.dims as [number, number];
    const values = floats(source);
    const transposed = new Float32Array(k * n);
    for (let r = 0; r < n; r++) for (let c = 0; c < k; c++) transposed[c * n + r] = values[r * k + c]!;
    return { values: transposed, rows: k, cols: n, source: source.name };
  };

  const nodes: NodeProto[] = [];
  const added: TensorProto[] = [];
  const quantizedInputs = new Map<string, [string, string, string]>();
  const quantizedWeights = new Map<string, [string, string]>();
  let report: QuantizeReport = { quantized: 0, floatBytes: 0 };
  for (const node of graph.nodes) {
    const weight = node.opType === 'MatMul' && !node.domain ? weightOf(node.inputs[1]!) : undefined;
    if (!weight) {
      nodes.push(node);
      continue;
    }
    const base = node.name || fresh('MatMul');
    let qw = quantizedWeights.get(node.inputs[1]!);
    if (!qw) {
      const { q, scales } = quantizeColumns(weight.values, weight.rows, weight.cols);
      qw = [fresh(`${weight.source}_quantized`), fresh(`${weight.source}_scale`)];
      added.push({ name: qw[0], dtype: 'int8', dims: [weight.rows, weight.cols], raw: new Uint8Array(q.buffer) });
      added.push({ name: qw[1], dtype: 'float32', dims: [weight.cols], raw: new Uint8Array(scales.buffer) });
      quantizedWeights.set(node.inputs[1]!, qw);
      report = { quantized: report.quantized, floatBytes: report.floatBytes + weight.values.byteLength };
    }
    const input = node.inputs[0]!;
    let qa = quantizedInputs.get(input);
    if (!qa) {
      qa = [fresh(`${input}_quantized`), fresh(`${input}_scale`), fresh(`${input}_zero_point`)];
      nodes.push({ opType: 'DynamicQuantizeLinear', name: fresh(`${base}/DynamicQuantizeLinear`), inputs: [input], outputs: qa, attributes: {} });
      quantizedInputs.set(input, qa);
    }
    const [integer, asFloat, scale] = [fresh(`${base}/integer`), fresh(`${base}/float`), fresh(`${base}/scale`)];
    nodes.push(
      { opType: 'MatMulInteger', name: fresh(`${base}/MatMulInteger`), inputs: [qa[0], qw[0], qa[2]], outputs: [integer], attributes: {} },
      { opType: 'Cast', name: fresh(`${base}/Cast`), inputs: [integer], outputs: [asFloat], attributes: { to: { type: 'int', value: FLOAT } } },
      { opType: 'Mul', name: fresh(`${base}/ScaleMul`), inputs: [qa[1], qw[1]], outputs: [scale], attributes: {} },
      { opType: 'Mul', name: fresh(`${base}/Dequantize`), inputs: [asFloat, scale], outputs: [node.outputs[0]!], attributes: {} },
    );
    report = { ...report, quantized: report.quantized + 1 };
  }
  const rewritten = pruneGraph({ ...graph, nodes, initializers: [...graph.initializers, ...added] });
  return { graph: rewritten, report };
}
