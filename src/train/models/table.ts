// The text-model table: one entry per `--model` with its builder, default learning rate and clipping, and what its
// exported config.json says it is. run.ts, the CLI help and the docs read it; nothing else special-cases a model.
import { labelConfig } from '../../runtime/model-kinds.js';
import type { GEUL_CLASSIFIER_TYPES } from '../../runtime/transformers.js';
import type { ModelDef } from '../model.js';
import type { TextModelName, TrainSpec } from '../spec.js';
import { bagOfEmbeddings, embeddingMlp, recurrentClassifier } from './text.js';
import { transformerClassifier } from './transformer.js';

/** What a model is built for: vocabulary size, class count, longest input. */
export interface ModelShape {
  vocab: number;
  classes: number;
  maxLength: number;
}

export interface TextModelEntry {
  description: string;
  /** Learning rate when the spec gives none (Adam-family; SGD runs usually want more). */
  lr: number;
  /** Global gradient-norm clipping when the spec gives none (0: off). */
  clipNorm: number;
  build(model: TrainSpec['model'], shape: ModelShape): ModelDef;
}

function recurrent(name: 'rnn' | 'gru' | 'lstm' | 'bigru' | 'bilstm', description: string): TextModelEntry {
  return {
    description, lr: 0.002, clipNorm: 5,
    build: (m, s) => recurrentClassifier({
      vocab: s.vocab, embedding: m.dim ?? 128, hidden: m.hidden ?? 128, classes: s.classes, cell: name.replace(/^bi/, '') as 'rnn' | 'gru' | 'lstm',
      layers: m.layers ?? 1, bidirectional: name.startsWith('bi'), pooling: m.pooling ?? 'last', dropout: m.dropout ?? 0.2,
      memory: s.maxLength,
    }),
  };
}

export const TEXT_MODEL_TABLE: Record<TextModelName, TextModelEntry> = {
  bow: {
    description: 'fastText-style bag of embeddings: word ids plus in-graph hashed bigrams, masked mean, linear',
    lr: 0.005, clipNorm: 0,
    build: (m, s) => bagOfEmbeddings({ vocab: s.vocab, dim: m.dim ?? 64, classes: s.classes, buckets: m.buckets ?? 1 << 18, dropout: m.dropout ?? 0 }),
  },
  mlp: {
    description: 'mean of word embeddings, ReLU layers, linear',
    lr: 0.002, clipNorm: 5,
    build: (m, s) => embeddingMlp({ vocab: s.vocab, embedding: m.dim ?? 128, hidden: Array(m.layers ?? 1).fill(m.hidden ?? 256), classes: s.classes, dropout: m.dropout ?? 0.2 }),
  },
  rnn: recurrent('rnn', 'Elman RNN layers, last state or mean/max pooling'),
  gru: recurrent('gru', 'GRU layers, last state or mean/max pooling'),
  lstm: recurrent('lstm', 'LSTM layers, last state or mean/max pooling'),
  bigru: recurrent('bigru', 'bidirectional GRU layers'),
  bilstm: recurrent('bilstm', 'bidirectional LSTM layers'),
  transformer: {
    description: 'post-LayerNorm Transformer encoder (learned positions, masked attention, GELU FFN), masked mean',
    lr: 0.0005, clipNorm: 5,
    build: (m, s) => {
      const width = m.dim ?? 128;
      return transformerClassifier({
        vocab: s.vocab, maxLength: s.maxLength, hidden: width, heads: width % 64 === 0 ? width / 64 : 2, ffn: m.hidden ?? 4 * width,
        layers: m.layers ?? 2, classes: s.classes, dropout: m.dropout ?? 0.1,
      });
    },
  },
};

type ExportedModelType = `geul-${TextModelName}`;

/** config.json's model_type of an exported geul model. */
export const exportedModelType = (name: TextModelName): ExportedModelType => `geul-${name}`;

/** Does not compile when runtime/transformers.ts fails to register one of the exported model types. */
export const EXPORTED_TYPES_REGISTERED: ExportedModelType extends (typeof GEUL_CLASSIFIER_TYPES)[number] ? true : never = true;

/**
 * config.json of an exported run: says what the model is (model_type "geul-lstm" …, architectures, geul's own
 * model config) and carries what classification needs (id2label, label2id, num_labels, max_position_embeddings).
 */
export function exportedConfig(name: TextModelName, model: ModelDef, labels: string[], vocabSize: number, maxLength: number): Record<string, unknown> {
  return {
    model_type: exportedModelType(name),
    architectures: [`Geul${name[0].toUpperCase()}${name.slice(1)}ForSequenceClassification`],
    ...labelConfig(labels),
    max_position_embeddings: maxLength,
    vocab_size: vocabSize,
    geul: { kind: model.kind, model: model.config },
  };
}
