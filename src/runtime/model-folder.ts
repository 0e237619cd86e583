// Writes the classifier folder geul's classification tasks load: onnx/model.onnx, config.json and the tokenizer files.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeAtomic } from '../core/files.js';

export interface ClassifierFolder {
  /** The ONNX graph: input_ids [+ attention_mask] (int64 [batch, sequence]) → logits [batch, labels]. */
  onnx: Uint8Array;
  /** config.json: model_type, architectures, the label fields (labelConfig), max_position_embeddings. */
  config: Record<string, unknown>;
  /** Tokenizer files by name (tokenizer.json, tokenizer_config.json, …). */
  tokenizerFiles: Record<string, string>;
}

/** Writes the folder (created if missing; each file replaced whole), the layout `geul sentiment --model DIR` loads. */
export async function writeClassifierFolder(dir: string, folder: ClassifierFolder): Promise<void> {
  await mkdir(join(dir, 'onnx'), { recursive: true });
  await writeAtomic(join(dir, 'onnx', 'model.onnx'), folder.onnx);
  await writeAtomic(join(dir, 'config.json'), JSON.stringify(folder.config, null, 2));
  for (const [file, text] of Object.entries(folder.tokenizerFiles)) await writeAtomic(join(dir, file), text);
}
