// nn.exportClassifier: a tensor-API text classifier as the model folder `geul sentiment --model DIR` and the server load.
//
// The folder is the one `geul train` writes, by the same writer (runtime/model-folder.ts): onnx/model.onnx
// (input_ids [+ attention_mask] int64 [batch, sequence] → logits [batch, labels]), config.json (model_type
// "geul-tensor", registered in runtime/transformers.ts, with the label fields of labelConfig) and the tokenizer files,
// which come from the caller's vocabulary (geul's WordVocab writes them: `tokenizerFiles(maxLength)`), so this layer
// writes no tokenizer format of its own.
import { stat } from 'node:fs/promises';
import { geulError } from '../core/errors.js';
import { writeClassifierFolder } from '../runtime/model-folder.js';
import { labelConfig } from '../runtime/model-kinds.js';
import { full } from './create.js';
import { exportOnnx } from './export.js';
import type { Module } from './nn/module.js';
import type { Tensor } from './tensor.js';

/** Anything that writes Hugging Face tokenizer files for a maximum length (geul's WordVocab and train vocabularies do). */
export interface TokenizerWriter {
  tokenizerFiles(maxLength: number): Record<string, string>;
}

export interface ClassifierExportOptions {
  /** The folder to write (created; files in it are replaced). */
  dir: string;
  /** Label names by logit index. */
  labels: readonly string[];
  /** The vocabulary the module's input ids come from (its tokenizer files go into the folder). */
  tokenizer: TokenizerWriter;
  /** Longest input in tokens (tokenizer_config model_max_length, config max_position_embeddings). */
  maxLength: number;
  /** Whether forward takes attention_mask after input_ids (default: when forward declares two parameters). */
  attentionMask?: boolean;
  /** Checked against the module on other batch and sequence sizes (default true; see exportOnnx). */
  verify?: boolean;
}

const invalid = (detail: string) => geulError('INVALID_INPUT', { detail: `exportClassifier: ${detail}` });

/** The logits per row of the module's eval forward on the example (recorded for its shape only; nothing runs). */
function classesOf(module: Module, example: readonly Tensor[]): number {
  const training = module.training;
  module.eval();
  try {
    const out = module.forward(...example);
    if (out.ndim !== 2) throw invalid(`forward must return logits [batch, labels] (got shape [${out.shape.join(', ')}])`);
    return out.shape[1];
  } finally {
    module.train(training);
  }
}

/** Writes `module` (forward(input_ids[, attention_mask]) → logits) as a classifier folder geul's tasks serve. */
export async function exportClassifier(module: Module, o: ClassifierExportOptions): Promise<void> {
  if (o.labels.length < 2) throw invalid(`a classifier needs at least two labels (got ${o.labels.length})`);
  if (!Number.isInteger(o.maxLength) || o.maxLength < 1) throw invalid(`maxLength must be a positive integer (got ${o.maxLength})`);
  const existing = await stat(o.dir).catch(() => undefined);
  if (existing && !existing.isDirectory()) throw geulError('OUTPUT_INVALID', { path: o.dir, detail: 'it is a file, not a folder' });
  const withMask = o.attentionMask ?? module.forward.length >= 2;
  const names = withMask ? ['input_ids', 'attention_mask'] : ['input_ids'];
  // Id 1 is a real token of any vocabulary of two or more (geul's: [UNK]); a mask of ones marks every token real.
  const example = names.map(() => full([2, Math.min(3, o.maxLength)], 1, { dtype: 'int64' }));
  // The logits must be [batch, labels]: the tasks read one row of label scores per text.
  const classes = classesOf(module, example);
  if (classes !== o.labels.length) throw invalid(`forward gives ${classes} logits per text, but ${o.labels.length} labels were given`);
  const axes = { 0: 'batch', 1: 'sequence' };
  const onnx = await exportOnnx(module, example, {
    inputNames: names, outputNames: ['logits'], dynamicAxes: Object.fromEntries([...names.map((n) => [n, axes]), ['logits', { 0: 'batch' }]]),
    verify: o.verify, docString: `geul tensor classifier ${module.constructor.name}`,
  });
  const config = {
    model_type: 'geul-tensor',
    architectures: ['GeulTensorForSequenceClassification'],
    ...labelConfig(o.labels),
    max_position_embeddings: o.maxLength,
    geul: { kind: 'tensor', module: module.constructor.name, inputs: names },
  };
  await writeClassifierFolder(o.dir, { onnx, config, tokenizerFiles: o.tokenizer.tokenizerFiles(o.maxLength) });
}
