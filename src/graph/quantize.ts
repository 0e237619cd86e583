// Dynamic int8 quantisation of an ONNX graph's weights, in the manner of onnxruntime's Python `quantize_dynamic`.
//
// Each MatMul(A, W) whose W is a float32 2-D initializer — or Transpose(initializer), as torch-layout Linear weights
// appear — becomes
//   A_q, A_scale, A_zero = DynamicQuantizeLinear(A)          (uint8, per tensor, computed at run time)
//   Y = Cast(MatMulInteger(A_q, W_q, A_zero, 128), float) · (A_scale · W_scale)
// with W symmetric in [-127, 127] and one scale per output column (per channel), stored as uint8 around zero point 128.
// Each Gather(T, ids) from a float32 2-D table (embeddings; also through Identity) becomes
// Cast(Gather(T_q, ids), float) · Gather(T_scale, ids) with T_q int8 and one scale per row, so the int8 file holds no
// float copy of the (largest) tables either.
//
// Why these ops: DynamicQuantizeLinear and MatMulInteger are standard ONNX (opset 11 / 10), so the file runs in any
// ONNX runtime (onnxruntime-node, -web, others) without the com.microsoft domain; onnxruntime's CPU graph optimiser
// fuses this exact pattern into its DynamicQuantizeMatMul / MatMulIntegerToFloat contrib kernels (seen in a session's
// optimizedModelFilePath output), so nothing is lost against writing the contrib ops ourselves.
// Why uint8 weights (uint8 × uint8) rather than int8 (uint8 × int8): on x86 CPUs without VNNI, onnxruntime's uint8×int8
// kernel sums pairs of products in 16 bits with saturation (VPMADDUBSW), so full-range int8 weights give wrong numbers
// there (CI caught a 8.1 vs 22.0 column) while the file is right on a VNNI machine; its uint8×uint8 kernel widens first
// and is exact everywhere, and the file is written once and served on any machine. The price on a VNNI CPU
// (bench/README.md, "Export"): q8 runs 1.3–1.4× faster than fp32 instead of 1.5–2.4× with int8 weights. 7-bit int8
// weights (onnxruntime's reduce_range) would keep that speed, but measured on the reference encoders they double the
// error (bert-cls logits 0.023 → 0.050, last_hidden_state 0.067 → 0.18), past the export tests' tolerances.
// test/graph/quantize.test.ts checks the exact integer result at full range on the machine it runs on.
// Why symmetric, per output column for MatMul and per row for tables: one scale per column (row) keeps a column (a
// token's vector) of small weights from being rounded to zero by another one's outliers, and one zero point (128) for
// the whole weight keeps MatMulInteger on its plain path; a table row's scale is looked up with the row, so it costs one small Gather.
// Measured on the six reference encoders: per-tensor MatMul weights gave last_hidden_state max diffs of 0.07–0.12 where
// per-column gives 0.06–0.07, and classifier logits 0.023–0.030 against 0.019–0.023.
// Activation×activation MatMuls (attention) stay float: their operands change with every input, so stored int8
// weights cannot help them.
import type { GraphProto, NodeProto, TensorProto } from './onnx-proto.js';
import { pruneGraph } from './prune.js';

/** Largest |int8| used: symmetric [-127, 127], so that −W quantises to −W_q exactly. */
const INT8_LIMIT = 127;
const FLOAT = 1; // TensorProto.DataType FLOAT, the Cast target.
/** The stored uint8 weight's zero point: W_q + 128 keeps the symmetric int8 value as an unsigned byte. */
const WEIGHT_ZERO_POINT = 128;

export interface QuantizeReport {
  /** MatMul nodes rewritten. */
  matmuls: number;
  /** Gather nodes rewritten. */
  gathers: number;
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

/** T_q (int8, [rows, cols]) and one float scale per row. */
export function quantizeRows(w: Float32Array, rows: number, cols: number): { q: Int8Array; scales: Float32Array } {
  const scales = new Float32Array(rows);
  const q = new Int8Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    let max = 0;
    for (let c = 0; c < cols; c++) max = Math.max(max, Math.abs(w[r * cols + c]!));
    const scale = max > 0 ? max / INT8_LIMIT : 1;
    scales[r] = scale;
    for (let c = 0; c < cols; c++) q[r * cols + c] = Math.max(-INT8_LIMIT, Math.min(INT8_LIMIT, Math.round(w[r * cols + c]! / scale)));
  }
  return { q, scales };
}

/**
 * Returns a copy of `graph` (the top-level graph of a model) with its weight MatMuls and table Gathers quantised to
 * int8 as described above, and the float weights no longer read by anything removed. Subgraphs are left as they are.
 */
export function quantizeWeights(graph: GraphProto): { graph: GraphProto; report: QuantizeReport } {
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
  const floatMatrix = (t: TensorProto | undefined) => (t && t.dtype === 'float32' && t.dims.length === 2 ? t : undefined);

  const weightOf = (name: string): Weight | undefined => {
    const direct = floatMatrix(initializers.get(name));
    if (direct) return { values: floats(direct), rows: direct.dims[0]!, cols: direct.dims[1]!, source: name };
    const transpose = producers.get(name);
    if (transpose?.opType !== 'Transpose' || transpose.domain) return undefined;
    const source = floatMatrix(initializers.get(transpose.inputs[0]!));
    const perm = transpose.attributes['perm'];
    const swaps = !perm || (perm.type === 'ints' && perm.value.length === 2 && Number(perm.value[0]) === 1 && Number(perm.value[1]) === 0);
    if (!source || !swaps) return undefined;
    const [n, k] = source.dims as [number, number];
    const values = floats(source);
    const transposed = new Float32Array(k * n);
    for (let r = 0; r < n; r++) for (let c = 0; c < k; c++) transposed[c * n + r] = values[r * k + c]!;
    return { values: transposed, rows: k, cols: n, source: source.name };
  };
  /** The float table a Gather reads along axis 0, looking through Identity (a gradient stop in training graphs). */
  const tableOf = (node: NodeProto): TensorProto | undefined => {
    const axis = node.attributes['axis'];
    if (axis && !(axis.type === 'int' && Number(axis.value) === 0)) return undefined;
    let name = node.inputs[0]!;
    for (let producer = producers.get(name); producer?.opType === 'Identity' && !producer.domain; producer = producers.get(name)) name = producer.inputs[0]!;
    return floatMatrix(initializers.get(name));
  };

  const nodes: NodeProto[] = [];
  const added: TensorProto[] = [];
  const quantizedInputs = new Map<string, [string, string, string]>();
  const quantizedWeights = new Map<string, [string, string]>();
  const quantizedTables = new Map<string, [string, string]>();
  const report: QuantizeReport = { matmuls: 0, gathers: 0 };
  let weightZeroPoint: string | undefined;
  const cast = (base: string, input: string): [NodeProto, string] => {
    const output = fresh(`${base}/float`);
    return [{ opType: 'Cast', name: fresh(`${base}/Cast`), inputs: [input], outputs: [output], attributes: { to: { type: 'int', value: FLOAT } } }, output];
  };

  for (const node of graph.nodes) {
    const isDefault = !node.domain;
    const weight = isDefault && node.opType === 'MatMul' ? weightOf(node.inputs[1]!) : undefined;
    const table = isDefault && node.opType === 'Gather' && !weight ? tableOf(node) : undefined;
    const base = node.name || fresh(node.opType);
    if (weight) {
      let qw = quantizedWeights.get(node.inputs[1]!);
      if (!qw) {
        const { q, scales } = quantizeColumns(weight.values, weight.rows, weight.cols);
        qw = [fresh(`${weight.source}_quantized`), fresh(`${weight.source}_scale`)];
        added.push({ name: qw[0], dtype: 'uint8', dims: [weight.rows, weight.cols], raw: Uint8Array.from(q, (v) => v + WEIGHT_ZERO_POINT) });
        added.push({ name: qw[1], dtype: 'float32', dims: [weight.cols], raw: new Uint8Array(scales.buffer) });
        quantizedWeights.set(node.inputs[1]!, qw);
      }
      if (!weightZeroPoint) {
        weightZeroPoint = fresh('weight_zero_point');
        added.push({ name: weightZeroPoint, dtype: 'uint8', dims: [], raw: Uint8Array.of(WEIGHT_ZERO_POINT) });
      }
      const input = node.inputs[0]!;
      let qa = quantizedInputs.get(input);
      if (!qa) {
        qa = [fresh(`${input}_quantized`), fresh(`${input}_scale`), fresh(`${input}_zero_point`)];
        nodes.push({ opType: 'DynamicQuantizeLinear', name: fresh(`${base}/DynamicQuantizeLinear`), inputs: [input], outputs: qa, attributes: {} });
        quantizedInputs.set(input, qa);
      }
      const [integer, scale] = [fresh(`${base}/integer`), fresh(`${base}/scale`)];
      const [toFloat, asFloat] = cast(base, integer);
      nodes.push(
        { opType: 'MatMulInteger', name: fresh(`${base}/MatMulInteger`), inputs: [qa[0], qw[0], qa[2], weightZeroPoint], outputs: [integer], attributes: {} },
        toFloat,
        { opType: 'Mul', name: fresh(`${base}/ScaleMul`), inputs: [qa[1], qw[1]], outputs: [scale], attributes: {} },
        { opType: 'Mul', name: fresh(`${base}/Dequantize`), inputs: [asFloat, scale], outputs: [node.outputs[0]!], attributes: {} },
      );
      report.matmuls++;
    } else if (table) {
      let qt = quantizedTables.get(table.name);
      if (!qt) {
        const [rows, cols] = table.dims as [number, number];
        const { q, scales } = quantizeRows(floats(table), rows, cols);
        qt = [fresh(`${table.name}_quantized`), fresh(`${table.name}_scale`)];
        added.push({ name: qt[0], dtype: 'int8', dims: [rows, cols], raw: new Uint8Array(q.buffer) });
        // [rows, 1]: a row's scale gathered with it broadcasts over that row's values.
        added.push({ name: qt[1], dtype: 'float32', dims: [rows, 1], raw: new Uint8Array(scales.buffer) });
        quantizedTables.set(table.name, qt);
      }
      const ids = node.inputs[1]!;
      const [integer, scale] = [fresh(`${base}/integer`), fresh(`${base}/scale`)];
      const [toFloat, asFloat] = cast(base, integer);
      nodes.push(
        { opType: 'Gather', name: fresh(`${base}/GatherQuantized`), inputs: [qt[0], ids], outputs: [integer], attributes: {} },
        toFloat,
        { opType: 'Gather', name: fresh(`${base}/GatherScale`), inputs: [qt[1], ids], outputs: [scale], attributes: {} },
        { opType: 'Mul', name: fresh(`${base}/Dequantize`), inputs: [asFloat, scale], outputs: [node.outputs[0]!], attributes: {} },
      );
      report.gathers++;
    } else {
      nodes.push(node);
    }
  }
  const rewritten = pruneGraph({ ...graph, nodes, initializers: [...graph.initializers, ...added] });
  return { graph: rewritten, report };
}
