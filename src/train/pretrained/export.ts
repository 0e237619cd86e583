// ONNX inference models of a Hugging Face encoder: onnx/model.onnx (fp32) and onnx/model_quantized.onnx (int8), as transformers.js loads them.
//
// The graph is the training graph's forward (buildEncoder) with the weights as initializers; inputs and outputs follow
// Hugging Face's ONNX exports: int64 `input_ids`, `attention_mask` and, where the architecture has token types,
// `token_type_ids`, all [batch_size, sequence_length]; output `logits` (classification [batch_size, labels], masked LM
// [batch_size, sequence_length, vocab]) or `last_hidden_state` (base model, [batch_size, sequence_length, hidden]).
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { geulError } from '../../core/errors.js';
import { onnxFilePath } from '../../core/hub-files.js';
import type { WeightTensor } from '../../core/weights/tensor.js';
import { GraphBuilder } from '../../graph/builder.js';
import { encodeModel, type ModelProto } from '../../graph/onnx-proto.js';
import { pruneGraph } from '../../graph/prune.js';
import { quantizeWeights, type QuantizeReport } from '../../graph/quantize.js';
import type { EncoderConfig, EncoderHead } from './config.js';
import { buildEncoder, type ParameterSource } from './encoder-graph.js';
import { initializerSource } from './load.js';
import { architectureName } from './parameters.js';

/** What `geul export --task` offers, and the head each needs. */
export const EXPORT_TASKS = ['classify', 'fill-mask', 'embeddings'] as const;
export type ExportTask = (typeof EXPORT_TASKS)[number];
export const TASK_HEADS: Readonly<Record<ExportTask, EncoderHead>> = { classify: 'sequence-classification', 'fill-mask': 'masked-lm', embeddings: 'base' };

const BATCH = 'batch_size';
const SEQUENCE = 'sequence_length';

export interface EncoderOnnx {
  /** onnx/model.onnx bytes. */
  readonly model: Uint8Array;
  /** onnx/model_quantized.onnx bytes (int8 weights, dynamic activation quantisation). */
  readonly quantized: Uint8Array;
  readonly quantization: QuantizeReport;
  /** The graph's input names, in order. */
  readonly inputs: readonly string[];
  /** `logits` or `last_hidden_state`. */
  readonly output: string;
}

/** The output name and declared shape of the inference graph for `config.head`. */
function outputOf(config: EncoderConfig): { name: string; shape: (string | number)[] } {
  if (config.head === 'sequence-classification') return { name: 'logits', shape: [BATCH, config.numLabels] };
  if (config.head === 'masked-lm') return { name: 'logits', shape: [BATCH, SEQUENCE, config.vocabSize] };
  return { name: 'last_hidden_state', shape: [BATCH, SEQUENCE, config.hiddenSize] };
}

/**
 * The loaded tensors as initializers. buildEncoder always builds BERT's pooler for a base model, but a base model is
 * exported for its last_hidden_state only: a checkpoint without a pooler (an MLM one) gets zero placeholders, which
 * pruning removes with the rest of the unused pooler.
 */
export function exportParameterSource(g: GraphBuilder, config: EncoderConfig, tensors: ReadonlyMap<string, WeightTensor>): ParameterSource {
  const fromTensors = initializerSource(g, tensors);
  return (name, shape) =>
    config.head === 'base' && !tensors.has(name) && /(^|\.)pooler\./.test(name)
      ? g.param(name, new Float32Array(shape.reduce((a, b) => a * b, 1)), shape)
      : fromTensors(name, shape);
}

/** The fp32 inference model (pruned), before serialisation; `inputs` in order and the output name. */
export function inferenceModel(config: EncoderConfig, tensors: ReadonlyMap<string, WeightTensor>): { model: ModelProto; inputs: string[]; output: string } {
  const g = new GraphBuilder(architectureName(config));
  const param = exportParameterSource(g, config, tensors);
  const seq = [BATCH, SEQUENCE];
  const inputs = ['input_ids', 'attention_mask', ...(config.typeVocabSize > 0 ? ['token_type_ids'] : [])];
  const [inputIds, attentionMask, tokenTypeIds] = inputs.map((name) => g.input(name, 'int64', seq));
  // MatMul dense layers: the form the int8 quantiser rewrites (Gemm layers would stay fp32 in model_quantized.onnx).
  const outputs = buildEncoder(g, config, param, { inputIds: inputIds!, attentionMask: attentionMask!, tokenTypeIds }, { dense: 'matmul' });
  const output = outputOf(config);
  const value = config.head === 'base' ? outputs.lastHiddenState : outputs.logits;
  if (!value) throw geulError('GRAPH_INVALID', { detail: `${architectureName(config)} has no ${output.name} output` });
  g.output(value, output.name, { shape: output.shape });
  const model = g.toModel({ docString: `${architectureName(config)} exported by geul` });
  return { model: { ...model, graph: pruneGraph(model.graph) }, inputs, output: output.name };
}

/** The int8 model of an inference model (see src/graph/quantize.ts). */
function quantizedModel(model: ModelProto): { model: ModelProto; report: QuantizeReport } {
  const { graph, report } = quantizeWeights(model.graph);
  return { model: { ...model, graph, docString: `${model.docString ?? ''}, int8 weights` }, report };
}

/**
 * Builds both ONNX models from `config` (its `head` decides the output) and `tensors` under Hugging Face names.
 * A base model (embeddings) needs no pooler: a checkpoint without one (an MLM checkpoint) exports as well.
 */
export function exportEncoderOnnx(config: EncoderConfig, tensors: ReadonlyMap<string, WeightTensor>): EncoderOnnx {
  const { model, inputs, output } = inferenceModel(config, tensors);
  const quantized = quantizedModel(model);
  return { model: encodeModel(model), quantized: encodeModel(quantized.model), quantization: quantized.report, inputs, output };
}

/** Writes `bytes` to `path` through a temporary file renamed into place, so no half-written model is left behind. */
async function writeAtomically(path: string, bytes: Uint8Array): Promise<void> {
  const temp = `${path}.${process.pid}-${randomBytes(4).toString('hex')}.incomplete`;
  try {
    await writeFile(temp, bytes);
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}

/**
 * Writes `dir/onnx/model.onnx` and `dir/onnx/model_quantized.onnx` for `config` (its head decides the output) and
 * `tensors` (Hugging Face state_dict names). Returns the repo paths written. The run folder of `geul finetune` and
 * `geul export` both call this; config.json and tokenizer files are the caller's.
 */
export async function writeOnnxModels(dir: string, config: EncoderConfig, tensors: ReadonlyMap<string, WeightTensor>): Promise<string[]> {
  // One serialised model at a time: for BERT-base each is ~440 MB (fp32) next to the graph's own copy of the weights.
  const { model } = inferenceModel(config, tensors);
  const files = [onnxFilePath('model', 'fp32'), onnxFilePath('model', 'q8')];
  await mkdir(join(dir, 'onnx'), { recursive: true });
  await writeAtomically(join(dir, files[0]!), encodeModel(model));
  await writeAtomically(join(dir, files[1]!), encodeModel(quantizedModel(model).model));
  return files;
}
