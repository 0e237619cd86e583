// Loads models for tasks: resolves the reference (hub id or folder), checks the model can do the task, caches loads.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { GeulConfig } from '../core/config.js';
import { geulError, isGeulError } from '../core/errors.js';
import { ensureModelFiles, resolveLocalDtype, type DownloadProgress } from '../core/hub.js';
import { configureTransformers, hf } from './transformers.js';
import { OPTIONAL_FILES, REQUIRED_FILES, externalDataCount, externalDataFiles, kindProblem, onnxFiles, outputsProblem, type ModelKind } from './model-kinds.js';

/** config.json as far as geul reads it; the rest stays available untyped. */
export interface ModelConfig {
  model_type?: string;
  architectures?: string[];
  is_encoder_decoder?: boolean;
  id2label?: Record<string, string>;
  max_position_embeddings?: number;
  [key: string]: unknown;
}

export interface LoadedModel {
  id: string;
  dir: string;
  kind: ModelKind;
  config: ModelConfig;
  tokenizer: hf.PreTrainedTokenizer;
  model: hf.PreTrainedModel;
  /** Longest input in tokens the model accepts (tokenizer limit, else position embeddings). */
  maxLength: number;
}

const AUTO_CLASSES = {
  'sequence-classification': () => hf.AutoModelForSequenceClassification,
  'feature-extraction': () => hf.AutoModel,
  'masked-lm': () => hf.AutoModelForMaskedLM,
  'causal-lm': () => hf.AutoModelForCausalLM,
  'seq2seq-lm': () => hf.AutoModelForSeq2SeqLM,
} satisfies Record<ModelKind, () => { from_pretrained: (...args: never[]) => unknown }>;

/** Throws TASK_NOT_SUPPORTED when config.json shows the model cannot serve this kind of task. */
export function checkModelKind(id: string, task: string, kind: ModelKind, config: ModelConfig): void {
  const detail = kindProblem(kind, config);
  if (detail) throw geulError('TASK_NOT_SUPPORTED', { model: id, task, detail });
}

/** The output names of a loaded single-graph model (seq2seq models have several sessions and are not checked). */
function outputNames(model: hf.PreTrainedModel): string[] | undefined {
  const sessions = (model as { sessions?: Record<string, { outputNames?: string[] }> }).sessions;
  return sessions?.model?.outputNames;
}

export interface ModelStoreOptions {
  onProgress?: (p: DownloadProgress) => void;
}

/** Keeps loaded models per (model, kind, dtype) so each is read from disk once per process. */
export class ModelStore {
  private readonly loads = new Map<string, Promise<LoadedModel>>();

  constructor(readonly config: GeulConfig, private readonly options: ModelStoreOptions = {}) {}

  load(id: string, kind: ModelKind, task: string): Promise<LoadedModel> {
    const key = `${id}\u0000${kind}\u0000${this.config.dtype}\u0000${this.config.revision}`;
    let pending = this.loads.get(key);
    if (!pending) {
      pending = this.loadUncached(id, kind, task);
      this.loads.set(key, pending);
      // A failed load is not cached: the next request may succeed (e.g. after `models pull`).
      pending.catch(() => this.loads.delete(key));
    }
    return pending;
  }

  private async loadUncached(id: string, kind: ModelKind, task: string): Promise<LoadedModel> {
    const onProgress = this.options.onProgress;
    const configDir = await ensureModelFiles(id, this.config, { required: ['config.json'], onProgress });
    const config = await readModelConfig(id, configDir);
    checkModelKind(id, task, kind, config);
    // `auto` picks what is already there (e.g. after `models pull --dtype q8`), else fp32.
    const dtype = await resolveLocalDtype(configDir, this.config.dtype);
    const graphs = onnxFiles(kind, dtype);
    const dir = await ensureModelFiles(id, this.config, {
      required: [...REQUIRED_FILES, ...graphs, ...graphs.flatMap((g) => externalDataFiles(g, externalDataCount(config, g)))],
      optional: OPTIONAL_FILES,
      onProgress,
    });
    configureTransformers();
    const options = {
      local_files_only: true,
      dtype,
      device: 'cpu' as const,
      ...(this.config.threads > 0 ? { session_options: { intraOpNumThreads: this.config.threads, interOpNumThreads: 1 } } : {}),
    };
    try {
      const [tokenizer, model] = await Promise.all([
        hf.AutoTokenizer.from_pretrained(dir, { local_files_only: true }),
        AUTO_CLASSES[kind]().from_pretrained(dir, options as never) as Promise<hf.PreTrainedModel>,
      ]);
      const outputs = outputNames(model);
      const problem = outputs && outputsProblem(kind, outputs);
      if (problem) {
        await model.dispose?.();
        throw geulError('TASK_NOT_SUPPORTED', { model: id, task, detail: problem });
      }
      const tokenizerMax = Number((tokenizer as unknown as { model_max_length?: number }).model_max_length);
      const positions = Number(config.max_position_embeddings ?? config.n_positions ?? config.max_length ?? 512);
      const maxLength = Number.isFinite(tokenizerMax) && tokenizerMax > 0 && tokenizerMax < 1e6 ? tokenizerMax : positions;
      return { id, dir, kind, config, tokenizer, model, maxLength };
    } catch (err) {
      if (isGeulError(err)) throw err;
      throw geulError('MODEL_INVALID', { model: id, detail: firstLine(err) }, err);
    }
  }

  /** Releases every ONNX session (tests and graceful shutdown). */
  async dispose(): Promise<void> {
    const loads = [...this.loads.values()];
    this.loads.clear();
    for (const pending of loads) {
      const loaded = await pending.catch(() => undefined);
      await loaded?.model.dispose?.();
    }
  }
}

async function readModelConfig(id: string, dir: string): Promise<ModelConfig> {
  try {
    const parsed: unknown = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
    if (typeof parsed !== 'object' || parsed === null) throw new Error('config.json is not a JSON object');
    return parsed as ModelConfig;
  } catch (err) {
    throw geulError('MODEL_INVALID', { model: id, detail: firstLine(err) }, err);
  }
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0];
}
