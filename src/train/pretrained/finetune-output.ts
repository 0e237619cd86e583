// The fine-tuned model as a Hugging Face folder: config.json (…ForSequenceClassification, id2label/label2id), the
// tokenizer files, model.safetensors (F32, HF names). Files are staged in a temporary folder and renamed into place,
// so a failure never leaves a half-written model.
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeSafetensors } from '../../core/weights/safetensors.js';
import type { WeightTensor } from '../../core/weights/tensor.js';
import type { Trainer } from '../trainer.js';
import type { EncoderConfig } from './config.js';
import { architectureName } from './parameters.js';
import type { EncoderTokenizer } from './tokenize.js';

export const MODEL_FILE = 'model.safetensors';

/** The base config.json with the head's architecture and, for a classifier, its labels. */
export function finetunedConfig(raw: Record<string, unknown>, config: EncoderConfig): Record<string, unknown> {
  const { num_labels: _dropped, ...rest } = raw;
  const architectures = [architectureName(config)];
  if (config.head !== 'sequence-classification') return { ...rest, architectures };
  return {
    ...rest,
    architectures,
    id2label: Object.fromEntries(config.id2label.map((l, i) => [String(i), l])),
    label2id: Object.fromEntries(config.id2label.map((l, i) => [l, i])),
    problem_type: 'single_label_classification',
  };
}

/** The trainer's weights (trainable and frozen) under their HF names, in torch layout. */
export function stateDict(trainer: Trainer): Map<string, WeightTensor> {
  return new Map([...trainer.weights()].map(([name, data]) => [name, { shape: trainer.shapes.get(name) as number[], data }]));
}

export interface SavedModel {
  raw: Record<string, unknown>;
  config: EncoderConfig;
  tokenizer: EncoderTokenizer;
  maxLength: number;
}

/**
 * Writes the trainer's model into `out` (config.json, tokenizer files, model.safetensors), replacing the previous
 * one; any head (`config.head`: a classifier here, a masked LM for pre-training).
 */
export async function saveFinetunedModel(out: string, trainer: Trainer, model: SavedModel): Promise<void> {
  const staging = join(out, `.model-staging-${process.pid}`);
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  try {
    const files: string[] = ['config.json', MODEL_FILE];
    await writeFile(join(staging, 'config.json'), `${JSON.stringify(finetunedConfig(model.raw, model.config), null, 2)}\n`);
    for (const [name, bytes] of model.tokenizer.files) {
      files.push(name);
      if (name !== 'tokenizer_config.json') {
        await writeFile(join(staging, name), bytes);
        continue;
      }
      // Inference truncates where training did.
      const tokenizerConfig = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
      await writeFile(join(staging, name), `${JSON.stringify({ ...tokenizerConfig, model_max_length: model.maxLength }, null, 2)}\n`);
    }
    writeSafetensors(join(staging, MODEL_FILE), stateDict(trainer), { format: 'pt' });
    // ONNX EXPORT CALL SITE (issue 9, helper B): the lead wires B's export (src/train/pretrained/export.ts) here, writing
    // onnx/model.onnx and onnx/model_quantized.onnx into `staging` from the files above; push their paths to `files`.
    await mkdir(out, { recursive: true });
    for (const file of files) {
      await mkdir(join(out, file, '..'), { recursive: true });
      await rename(join(staging, file), join(out, file));
    }
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
