// `geul export`: any supported checkpoint (Hub id or folder) → a transformers.js-ready folder, written atomically.
//
// The folder holds config.json (architectures naming the exported head), the checkpoint's tokenizer files and
// onnx/model.onnx + onnx/model_quantized.onnx. It is assembled in a temporary sibling folder and renamed into place
// only when complete, so a failure at any step leaves `out` as it was.
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, readdir, readFile, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { geulError, isGeulError } from '../../core/errors.js';
import type { DownloadProgress, HubConfig } from '../../core/hub.js';
import { describeNewlyInitialized } from '../../core/weights/state-dict.js';
import { parseEncoderConfig, type EncoderConfig } from './config.js';
import { TASK_HEADS, writeOnnxModels, type ExportTask } from './export.js';
import { loadPretrainedEncoder } from './load.js';
import { architectureName } from './parameters.js';
import { resolveCheckpoint, TOKENIZER_FILES } from './resolve.js';

export type ExportStage = 'resolving' | 'loading' | 'exporting' | 'finishing';

export interface ExportCheckpointOptions {
  /** Hub id or local checkpoint folder. */
  model: string;
  task: ExportTask;
  out: string;
  hub: HubConfig;
  onProgress?: (progress: DownloadProgress) => void;
  onStage?: (stage: ExportStage) => void;
  signal?: AbortSignal;
}

export interface ExportResult {
  out: string;
  /** The checkpoint folder read (a cache snapshot for Hub ids). */
  source: string;
  architecture: string;
  task: ExportTask;
  /** Files written, relative to `out`. */
  files: string[];
  /** Bytes of onnx/model.onnx and onnx/model_quantized.onnx. */
  sizes: { fp32: number; q8: number };
}

/** OUTPUT_INVALID unless `out` is absent or an empty folder (an export never overwrites files). */
async function checkOut(out: string): Promise<void> {
  const existing = await stat(out).catch(() => undefined);
  if (!existing) return;
  if (!existing.isDirectory()) throw geulError('OUTPUT_INVALID', { path: out, detail: 'it is a file, not a folder' });
  if ((await readdir(out)).length > 0) throw geulError('OUTPUT_INVALID', { path: out, detail: 'the folder is not empty (choose a new --out)' });
}

/** TASK_NOT_SUPPORTED when exporting would need a head the checkpoint did not train (it would be random). */
function checkHead(model: string, task: ExportTask, config: EncoderConfig, newlyInitialized: readonly string[]): void {
  const missing = newlyInitialized.filter((name) => !(config.head === 'base' && /(^|\.)pooler\./.test(name)));
  if (missing.length === 0) return;
  const what = task === 'classify' ? 'a trained classification head' : 'a trained masked-LM head';
  throw geulError('TASK_NOT_SUPPORTED', {
    model, task,
    detail: `the checkpoint has no ${what} (${describeNewlyInitialized(missing)}); fine-tune it first with \`geul finetune\`, or export --task embeddings`,
  });
}

/** The highest token id a tokenizer.json can produce (its model vocabulary and added tokens), if it says. */
function largestTokenId(tokenizer: unknown): number | undefined {
  const t = tokenizer as { model?: { vocab?: unknown }; added_tokens?: { id?: unknown }[] } | null;
  const vocab = t?.model?.vocab;
  const ids: number[] = [];
  if (Array.isArray(vocab)) ids.push(vocab.length - 1);
  else if (vocab && typeof vocab === 'object') ids.push(...Object.values(vocab as Record<string, unknown>).filter((v): v is number => typeof v === 'number'));
  for (const added of t?.added_tokens ?? []) if (typeof added?.id === 'number') ids.push(added.id);
  return ids.length > 0 ? Math.max(...ids) : undefined;
}

/** TOKENIZER_VOCAB_MISMATCH (as fine-tuning and pre-training say it) when the tokenizer can produce ids the word embeddings do not have. */
async function checkTokenizer(model: string, folder: string, config: EncoderConfig): Promise<void> {
  const text = await readFile(join(folder, 'tokenizer.json'), 'utf8').catch(() => undefined);
  if (text === undefined) return;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw geulError('MODEL_INVALID', { model, detail: 'tokenizer.json is not valid JSON' });
  }
  const largest = largestTokenId(parsed);
  if (largest !== undefined && largest >= config.vocabSize) {
    throw geulError('TOKENIZER_VOCAB_MISMATCH', { model, tokens: largest, rows: config.vocabSize });
  }
}

/** config.json for the export: the checkpoint's, with `architectures` naming the exported head and labels for classifiers. */
function exportedConfig(raw: Record<string, unknown>, config: EncoderConfig): Record<string, unknown> {
  const out: Record<string, unknown> = { ...raw, architectures: [architectureName(config)] };
  if (config.head === 'sequence-classification' && !raw['id2label']) {
    out['id2label'] = Object.fromEntries(config.id2label.map((label, i) => [String(i), label]));
    out['label2id'] = Object.fromEntries(config.id2label.map((label, i) => [label, i]));
  }
  return out;
}

/** Exports `options.model` for `options.task` into `options.out` (see the module comment). */
export async function exportCheckpoint(options: ExportCheckpointOptions): Promise<ExportResult> {
  const { model, task } = options;
  const out = resolve(options.out);
  const head = TASK_HEADS[task];
  await checkOut(out);
  options.onStage?.('resolving');
  let raw: Record<string, unknown> = {};
  const source = await resolveCheckpoint(model, options.hub, {
    onProgress: options.onProgress, signal: options.signal,
    checkConfig: (config) => {
      parseEncoderConfig(config, model, head);
      raw = config as Record<string, unknown>;
    },
  });
  options.onStage?.('loading');
  const { config, weights } = loadPretrainedEncoder(source, head);
  checkHead(model, task, config, weights.newlyInitialized);
  await checkTokenizer(model, source, config);

  await mkdir(dirname(out), { recursive: true }).catch((err: unknown) => {
    throw geulError('OUTPUT_INVALID', { path: out, detail: `cannot create its parent folder (${(err as NodeJS.ErrnoException).code ?? 'error'})` }, err);
  });
  const temp = join(dirname(out), `.${basename(out)}.${process.pid}-${randomBytes(4).toString('hex')}.incomplete`);
  try {
    await mkdir(temp);
    options.onStage?.('exporting');
    const [fp32File, q8File] = await writeOnnxModels(temp, config, weights.tensors);
    options.onStage?.('finishing');
    await writeFile(join(temp, 'config.json'), `${JSON.stringify(exportedConfig(raw, config), null, 2)}\n`);
    const files = ['config.json', fp32File!, q8File!];
    for (const file of TOKENIZER_FILES) {
      const from = join(source, file);
      if (await stat(from).then((s) => s.isFile(), () => false)) {
        await copyFile(from, join(temp, file));
        files.push(file);
      }
    }
    const sizes = { fp32: (await stat(join(temp, fp32File!))).size, q8: (await stat(join(temp, q8File!))).size };
    // An empty `out` folder (allowed above) is replaced; rename cannot replace a folder on every platform.
    await rmdir(out).catch(() => undefined);
    await rename(temp, out);
    return { out, source, architecture: architectureName(config), task, files, sizes };
  } catch (err) {
    await rm(temp, { recursive: true, force: true });
    const code = isGeulError(err) ? undefined : (err as NodeJS.ErrnoException).code;
    if (code) throw geulError('OUTPUT_INVALID', { path: out, detail: `writing failed (${code})` }, err);
    throw err;
  }
}
