// What each kind of model needs on disk and which transformers.js class loads it.
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
