// What each kind of model needs on disk, and which kinds a model can serve (from config.json and its ONNX outputs).
import { onnxFilePath, type ConcreteDtype } from '../core/hub-files.js';

/** The model families geul's tasks use; each maps to one transformers.js Auto class and a set of ONNX files. */
export type ModelKind = 'sequence-classification' | 'feature-extraction' | 'masked-lm' | 'causal-lm' | 'seq2seq-lm';

/** ONNX file base names per kind, as transformers.js lays them out under onnx/. */
export const ONNX_BASES: Record<ModelKind, string[]> = {
  'sequence-classification': ['model'],
  'feature-extraction': ['model'],
  'masked-lm': ['model'],
  'causal-lm': ['model'],
  'seq2seq-lm': ['encoder_model', 'decoder_model_merged'],
};

/** Files besides the ONNX graphs; the tokenizer and config are required, the rest are read when present. */
export const REQUIRED_FILES = ['config.json', 'tokenizer.json', 'tokenizer_config.json'];
export const OPTIONAL_FILES = ['generation_config.json', 'special_tokens_map.json'];

export function onnxFiles(kind: ModelKind, dtype: ConcreteDtype): string[] {
  return ONNX_BASES[kind].map((base) => onnxFilePath(base, dtype));
}

/** Number of external-data files transformers.js will read for an ONNX file (config `use_external_data_format`). */
export function externalDataCount(modelConfig: Record<string, unknown>, onnxPath: string): number {
  const setting = (modelConfig['transformers.js_config'] as { use_external_data_format?: unknown } | undefined)?.use_external_data_format;
  if (setting === undefined || setting === null || setting === false) return 0;
  if (typeof setting === 'object') {
    const name = onnxPath.split('/').pop() as string;
    const entry = (setting as Record<string, unknown>)[name] ?? (setting as Record<string, unknown>)[name.replace(/(_[a-z0-9]+)?\.onnx$/, '')];
    return entry === undefined ? 0 : Number(entry === true ? 1 : entry);
  }
  return setting === true ? 1 : Number(setting);
}

/** `<file>_data`, `<file>_data_1`, …: the names transformers.js gives external data chunks. */
export function externalDataFiles(onnxPath: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${onnxPath}_data${i === 0 ? '' : `_${i}`}`);
}

/** Model types (config.json `model_type`) that are encoder-only and so cannot generate or translate. */
export const ENCODER_ONLY_TYPES = new Set([
  'bert', 'distilbert', 'roberta', 'xlm-roberta', 'albert', 'electra', 'deberta', 'deberta-v2', 'mpnet', 'camembert', 'modernbert', 'nomic_bert',
]);

/** config.json's label fields for a classifier with these outputs (index i is `labels[i]`), as the tasks read them. */
export function labelConfig(labels: readonly string[]): { num_labels: number; id2label: Record<string, string>; label2id: Record<string, number> } {
  return {
    num_labels: labels.length,
    id2label: Object.fromEntries(labels.map((l, i) => [String(i), l])),
    label2id: Object.fromEntries(labels.map((l, i) => [l, i])),
  };
}

/** The config.json fields that decide what a model can do. */
export interface KindConfig {
  model_type?: string;
  architectures?: string[];
  is_encoder_decoder?: boolean;
  id2label?: Record<string, string>;
}

const CAUSAL_HEAD = /(LMHeadModel|ForCausalLM)$/;
const MASKED_HEAD = /ForMaskedLM$/;
const CLASSIFIER_HEAD = /ForSequenceClassification$/;
/** Heads whose outputs are not token vectors (a sentence-embedding export of an MLM checkpoint still is, so MLM is absent). */
const NOT_EMBEDDING_HEADS = /(LMHeadModel|ForCausalLM|ForSequenceClassification|ForTokenClassification|ForQuestionAnswering|ForMultipleChoice)$/;

/**
 * Why a model (by its config.json) cannot serve a kind of task, or undefined when it may. `architectures` decide
 * when present; otherwise `model_type`. Feature extraction is settled after loading, by the ONNX outputs.
 */
export function kindProblem(kind: ModelKind, config: KindConfig): string | undefined {
  const type = config.model_type ?? 'unknown';
  const archs = config.architectures ?? [];
  const has = (head: RegExp) => archs.some((a) => head.test(a));
  if (kind === 'seq2seq-lm') return config.is_encoder_decoder ? undefined : `"${type}" is not an encoder-decoder (seq2seq) model`;
  if (config.is_encoder_decoder) return `"${type}" is an encoder-decoder model`;
  switch (kind) {
    case 'causal-lm':
      if (archs.length > 0 ? !has(CAUSAL_HEAD) : ENCODER_ONLY_TYPES.has(type)) return `"${type}" (${archs.join(', ') || 'no architectures'}) is not a causal language model`;
      return undefined;
    case 'masked-lm':
      if (archs.length > 0 ? !has(MASKED_HEAD) : !ENCODER_ONLY_TYPES.has(type)) return `"${type}" (${archs.join(', ') || 'no architectures'}) is not a masked language model`;
      return undefined;
    case 'sequence-classification':
      if (archs.length > 0 && !has(CLASSIFIER_HEAD)) return `"${type}" (${archs.join(', ')}) is not a sequence classifier`;
      if (!config.id2label || Object.keys(config.id2label).length === 0) return 'config.json has no id2label (not a classification model)';
      return undefined;
    case 'feature-extraction':
      if (archs.length > 0 && archs.every((a) => NOT_EMBEDDING_HEADS.test(a))) return `"${type}" (${archs.join(', ')}) has a task head, not token vectors to pool`;
      return undefined;
  }
}

/** Why a loaded model's ONNX outputs cannot serve a kind, or undefined: encoders must give what the tasks read. */
export function outputsProblem(kind: ModelKind, outputNames: readonly string[]): string | undefined {
  if (kind === 'feature-extraction' && !outputNames.some((n) => n === 'last_hidden_state' || n === 'token_embeddings')) {
    return `its ONNX graph outputs ${outputNames.join(', ')}, not token vectors (last_hidden_state)`;
  }
  if ((kind === 'sequence-classification' || kind === 'masked-lm') && !outputNames.includes('logits')) {
    return `its ONNX graph outputs ${outputNames.join(', ')}, not logits`;
  }
  return undefined;
}

const ALL_KINDS = Object.keys(ONNX_BASES) as ModelKind[];

/** The kinds a model's config.json allows (a guess for listings; loading decides). */
export function servableKinds(config: KindConfig): ModelKind[] {
  return ALL_KINDS.filter((kind) => kindProblem(kind, config) === undefined);
}
