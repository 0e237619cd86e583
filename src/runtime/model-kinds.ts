// What each kind of model needs on disk and which transformers.js class loads it.
import type { GeulConfig } from '../core/config.js';

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

export const DTYPE_SUFFIX: Record<Exclude<GeulConfig['dtype'], 'auto'>, string> = {
  fp32: '',
  fp16: '_fp16',
  q8: '_quantized',
  int8: '_int8',
  uint8: '_uint8',
  q4: '_q4',
  bnb4: '_bnb4',
  q4f16: '_q4f16',
};

/** `auto` means full precision on the CPU, the same default transformers.js uses in Node. */
export function concreteDtype(dtype: GeulConfig['dtype']): Exclude<GeulConfig['dtype'], 'auto'> {
  return dtype === 'auto' ? 'fp32' : dtype;
}

export function onnxFiles(kind: ModelKind, dtype: GeulConfig['dtype']): string[] {
  const suffix = DTYPE_SUFFIX[concreteDtype(dtype)];
  return ONNX_BASES[kind].map((base) => `onnx/${base}${suffix}.onnx`);
}

/** Model types (config.json `model_type`) that are encoder-only and so cannot generate or translate. */
export const ENCODER_ONLY_TYPES = new Set([
  'bert', 'distilbert', 'roberta', 'xlm-roberta', 'albert', 'electra', 'deberta', 'deberta-v2', 'mpnet', 'camembert', 'modernbert', 'nomic_bert',
]);
