// The run folder: checked before anything is written (`--out` must be a folder or not exist yet), and the exported
// model (onnx/model.onnx, config.json, tokenizer files) that geul's classification tasks load.
import { mkdir, stat } from 'node:fs/promises';
import { geulError } from '../core/errors.js';
import { writeClassifierFolder } from '../runtime/model-folder.js';
import { exportedConfig } from './models/table.js';
import type { TextModelName } from './spec.js';
import type { TextVocab } from './text-data.js';
import type { Trainer } from './trainer.js';

/** Creates the run folder; OUTPUT_INVALID when it is a file, lies under a file, or cannot be created. */
export async function prepareRunFolder(dir: string): Promise<void> {
  const existing = await stat(dir).catch(() => undefined);
  if (existing && !existing.isDirectory()) throw geulError('OUTPUT_INVALID', { path: dir, detail: 'it is a file, not a folder' });
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const detail = code === 'ENOTDIR' || code === 'EEXIST' ? 'a part of the path is a file' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : `cannot create the folder (${code ?? 'error'})`;
    throw geulError('OUTPUT_INVALID', { path: dir, detail }, err);
  }
}

/** Writes onnx/model.onnx, config.json and the tokenizer files: a folder `geul sentiment --model` loads. */
export async function exportModel(out: string, name: TextModelName, trainer: Trainer, vocab: TextVocab, labels: string[], maxLength: number): Promise<void> {
  await writeClassifierFolder(out, {
    onnx: trainer.exportOnnx(),
    config: exportedConfig(name, trainer.model, labels, vocab.size, maxLength),
    tokenizerFiles: vocab.tokenizerFiles(maxLength),
  });
}
