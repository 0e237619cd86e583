// The Hugging Face state_dict of each supported encoder and head: names, torch shapes, base prefix, tied aliases.
import type { ModelParameterSpec } from '../../core/weights/state-dict.js';
import type { EncoderConfig } from './config.js';

type Shapes = Map<string, readonly number[]>;

const ARCHITECTURE_NAMES: Record<EncoderConfig['modelType'], string> = { bert: 'Bert', distilbert: 'DistilBert', roberta: 'Roberta', 'xlm-roberta': 'XLMRoberta' };
const HEAD_SUFFIX: Record<EncoderConfig['head'], string> = { base: 'Model', 'sequence-classification': 'ForSequenceClassification', 'masked-lm': 'ForMaskedLM' };

/** The HF architecture class name, e.g. `BertForSequenceClassification`. */
export function architectureName(config: EncoderConfig): string {
  return ARCHITECTURE_NAMES[config.modelType] + HEAD_SUFFIX[config.head];
}

export function basePrefix(config: EncoderConfig): string {
  return config.modelType === 'xlm-roberta' ? 'roberta' : config.modelType;
}

/** Whether the encoder has BERT's tanh pooler: BertModel and BertForSequenceClassification only (RoBERTa heads skip it). */
export function hasPooler(config: EncoderConfig): boolean {
  return config.modelType === 'bert' ? config.head !== 'masked-lm' : config.modelType !== 'distilbert' && config.head === 'base';
}

function linear(into: Shapes, name: string, out: number, inputs: number): void {
  into.set(`${name}.weight`, [out, inputs]);
  into.set(`${name}.bias`, [out]);
}

function layerNorm(into: Shapes, name: string, size: number): void {
  into.set(`${name}.weight`, [size]);
  into.set(`${name}.bias`, [size]);
}

/** The parameters a model built from `config` has, named as its `state_dict()`. */
export function encoderParameterSpec(config: EncoderConfig): ModelParameterSpec {
  const prefix = basePrefix(config);
  const p = config.head === 'base' ? '' : `${prefix}.`;
  const { hiddenSize: h, intermediateSize: ffn, vocabSize: vocab } = config;
  const shapes: Shapes = new Map();
  shapes.set(`${p}embeddings.word_embeddings.weight`, [vocab, h]);
  shapes.set(`${p}embeddings.position_embeddings.weight`, [config.maxPositions, h]);
  if (config.typeVocabSize > 0) shapes.set(`${p}embeddings.token_type_embeddings.weight`, [config.typeVocabSize, h]);
  layerNorm(shapes, `${p}embeddings.LayerNorm`, h);
  for (let i = 0; i < config.layers; i++) {
    if (config.modelType === 'distilbert') {
      const layer = `${p}transformer.layer.${i}`;
      for (const proj of ['q_lin', 'k_lin', 'v_lin', 'out_lin']) linear(shapes, `${layer}.attention.${proj}`, h, h);
      layerNorm(shapes, `${layer}.sa_layer_norm`, h);
      linear(shapes, `${layer}.ffn.lin1`, ffn, h);
      linear(shapes, `${layer}.ffn.lin2`, h, ffn);
      layerNorm(shapes, `${layer}.output_layer_norm`, h);
    } else {
      const layer = `${p}encoder.layer.${i}`;
      for (const proj of ['query', 'key', 'value']) linear(shapes, `${layer}.attention.self.${proj}`, h, h);
      linear(shapes, `${layer}.attention.output.dense`, h, h);
      layerNorm(shapes, `${layer}.attention.output.LayerNorm`, h);
      linear(shapes, `${layer}.intermediate.dense`, ffn, h);
      linear(shapes, `${layer}.output.dense`, h, ffn);
      layerNorm(shapes, `${layer}.output.LayerNorm`, h);
    }
  }
  if (hasPooler(config)) linear(shapes, `${p}pooler.dense`, h, h);
  const head = headParameters(config, shapes, `${p}embeddings.word_embeddings.weight`);
  return { architecture: architectureName(config), basePrefix: prefix, parameters: shapes, headPrefixes: head.prefixes, tied: head.tied };
}

function headParameters(config: EncoderConfig, shapes: Shapes, wordEmbeddings: string): { prefixes: string[]; tied: Map<string, string> } {
  const { hiddenSize: h, vocabSize: vocab, numLabels: labels } = config;
  const tied = new Map<string, string>();
  if (config.head === 'base') return { prefixes: [], tied };
  if (config.head === 'sequence-classification') {
    if (config.modelType === 'bert') {
      linear(shapes, 'classifier', labels, h);
      return { prefixes: ['classifier.'], tied };
    }
    if (config.modelType === 'distilbert') {
      linear(shapes, 'pre_classifier', h, h);
      linear(shapes, 'classifier', labels, h);
      return { prefixes: ['pre_classifier.', 'classifier.'], tied };
    }
    linear(shapes, 'classifier.dense', h, h);
    linear(shapes, 'classifier.out_proj', labels, h);
    return { prefixes: ['classifier.'], tied };
  }
  if (config.modelType === 'bert') {
    shapes.set('cls.predictions.bias', [vocab]);
    linear(shapes, 'cls.predictions.transform.dense', h, h);
    layerNorm(shapes, 'cls.predictions.transform.LayerNorm', h);
    tied.set('cls.predictions.decoder.weight', wordEmbeddings).set('cls.predictions.decoder.bias', 'cls.predictions.bias');
    return { prefixes: ['cls.'], tied };
  }
  if (config.modelType === 'distilbert') {
    linear(shapes, 'vocab_transform', h, h);
    layerNorm(shapes, 'vocab_layer_norm', h);
    shapes.set('vocab_projector.bias', [vocab]);
    tied.set('vocab_projector.weight', wordEmbeddings);
    return { prefixes: ['vocab_transform.', 'vocab_layer_norm.', 'vocab_projector.'], tied };
  }
  shapes.set('lm_head.bias', [vocab]);
  linear(shapes, 'lm_head.dense', h, h);
  layerNorm(shapes, 'lm_head.layer_norm', h);
  tied.set('lm_head.decoder.weight', wordEmbeddings).set('lm_head.decoder.bias', 'lm_head.bias');
  return { prefixes: ['lm_head.'], tied };
}
