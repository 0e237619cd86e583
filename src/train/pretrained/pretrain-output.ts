// What a pre-training run measures and leaves: held-out MLM loss and masked-token accuracy, and the output folder as
// a Hugging Face BertForMaskedLM checkpoint (config.json, tokenizer files, model.safetensors, metrics.json) and, at the
// end of the run, a transformers.js fill-mask model (onnx/model.onnx, onnx/model_quantized.onnx).
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { writeSafetensors } from '../../core/weights/safetensors.js';
import type { WeightTensor } from '../../core/weights/tensor.js';
import { writeAtomic } from '../../core/files.js';
import type { Trainer } from '../trainer.js';
import type { EncoderConfig } from './config.js';
import { maskBatch, stepRng, type MaskingOptions, type PackedSequences } from './mlm-data.js';
import { IGNORED_LABEL } from './mlm-loss.js';
import type { MlmTokenizer } from './mlm-tokenizer.js';
import { writeOnnxModels } from './export.js';
import { encoderParameterSpec } from './parameters.js';

/** The held-out slice is masked with this fixed seed, so every evaluation (and every run) scores the same positions. */
export const HELD_OUT_SEED = 20240917;
/** Logits per evaluation batch stay under this many floats (they are [batch, seq, vocab]). */
const EVAL_LOGITS_BUDGET = 8_000_000;

export interface HeldOutScore {
  /** Mean cross-entropy over the held-out slice's masked positions. */
  readonly loss: number;
  /** Share of those positions whose most likely token is the original. */
  readonly accuracy: number;
  readonly positions: number;
}

/** Scores the trainer's current weights on the held-out sequences (dropout off). */
export async function evaluateHeldOut(trainer: Trainer, heldOut: PackedSequences, tokenizer: MlmTokenizer, vocabSize: number, masking: MaskingOptions, signal?: AbortSignal): Promise<HeldOutScore | undefined> {
  if (heldOut.count === 0) return undefined;
  const batchSize = Math.max(1, Math.min(64, Math.floor(EVAL_LOGITS_BUDGET / (heldOut.length * vocabSize))));
  let lossSum = 0;
  let correct = 0;
  let positions = 0;
  for (let start = 0, b = 0; start < heldOut.count; start += batchSize, b++) {
    if (signal?.aborted) return undefined;
    const rows = Array.from({ length: Math.min(batchSize, heldOut.count - start) }, (_, i) => start + i);
    const batch = maskBatch(heldOut, rows, tokenizer, stepRng(HELD_OUT_SEED, b), masking);
    const shape = [batch.batch, batch.seq];
    const logits = await trainer.predict({ input_ids: new ort.Tensor('int64', batch.inputIds, shape), attention_mask: new ort.Tensor('int64', batch.attentionMask, shape) });
    for (let p = 0; p < batch.labels.length; p++) {
      const label = Number(batch.labels[p]);
      if (label === IGNORED_LABEL) continue;
      const row = logits.subarray(p * vocabSize, (p + 1) * vocabSize);
      let max = -Infinity;
      let best = 0;
      for (let v = 0; v < vocabSize; v++) if (row[v] > max) { max = row[v]; best = v; }
      let sum = 0;
      for (let v = 0; v < vocabSize; v++) sum += Math.exp(row[v] - max);
      lossSum += Math.log(sum) + max - row[label];
      correct += Number(best === label);
      positions++;
    }
  }
  return { loss: lossSum / positions, accuracy: correct / positions, positions };
}

/** The trained parameters under their HF names and torch shapes (tied aliases are not stored, as HF does). */
export function checkpointTensors(config: EncoderConfig, weights: ReadonlyMap<string, Float32Array>): Map<string, WeightTensor> {
  const out = new Map<string, WeightTensor>();
  for (const [name, shape] of encoderParameterSpec(config).parameters) {
    const data = weights.get(name);
    if (data) out.set(name, { shape, data });
  }
  return out;
}

/**
 * Writes model.safetensors, config.json and the tokenizer files into `out`, each atomically (a temporary file
 * renamed into place), so a reader sees the previous model or the new one, never half of one.
 */
/**
 * Writes the model files into `out`; with `onnx`, also onnx/model.onnx and its int8 copy, so `geul fill-mask --model
 * out` serves it (the run's final save only: at BERT-base size one export takes seconds).
 */
export async function writeMaskedLmFolder(out: string, config: EncoderConfig, configJson: Record<string, unknown>, weights: ReadonlyMap<string, Float32Array>, tokenizerFiles: Readonly<Record<string, string>>, onnx = false): Promise<void> {
  const tensors = checkpointTensors(config, weights);
  writeSafetensors(join(out, 'model.safetensors'), tensors, { format: 'pt' });
  if (onnx) await writeOnnxModels(out, config, tensors);
  for (const [name, text] of Object.entries(tokenizerFiles)) await writeAtomic(join(out, name), text);
  await writeAtomic(join(out, 'config.json'), `${JSON.stringify(configJson, null, 2)}\n`);
}
