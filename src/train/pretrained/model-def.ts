// A Hugging Face encoder as a trainable ModelDef: checkpoint tensors as initial values, HF initialisation of new
// head parameters, dropout at HF's sites, the masked-LM loss, and the predicates for freezing and weight-decay groups.
//
//   const base = loadPretrainedEncoder(folder, 'sequence-classification');
//   const model = encoderModelDef(base.config, encoderValues(base), { dropout: encoderDropout(rawConfig) });
//   model.newlyInitialized;   // ['classifier.weight', 'classifier.bias'] when the checkpoint had no such head
import { geulError } from '../../core/errors.js';
import type { Value } from '../../graph/builder.js';
import type { Init, ModelDef } from '../model.js';
import type { EncoderConfig } from './config.js';
import { buildEncoder, type DropoutSite } from './encoder-graph.js';
import type { PretrainedEncoder } from './load.js';
import { IGNORED_LABEL, maskedLmLoss, maskedTargets } from './mlm-loss.js';
import { basePrefix, encoderParameterSpec } from './parameters.js';

export type DropoutRates = Readonly<Record<DropoutSite, number>>;

export interface EncoderModelOptions {
  /** Dropout probability per HF site while training (default: none). `encoderDropout(config.json)` gives HF's. */
  readonly dropout?: Partial<DropoutRates>;
  /** Standard deviation of new weights (HF `initializer_range`, default 0.02). */
  readonly initializerRange?: number;
  /** Declare a `token_type_ids` input (BERT text pairs); without it every token has type 0, as for one segment. */
  readonly tokenTypes?: boolean;
}

export interface EncoderModelDef extends ModelDef {
  readonly encoder: EncoderConfig;
  /** Parameters the values did not hold, initialised as HF does (reported like HF: "newly initialized: …"). */
  readonly newlyInitialized: string[];
}

/** The checkpoint's tensors by parameter name (the arrays themselves: the trainer adopts them, no copy). */
export function encoderValues(loaded: PretrainedEncoder): Map<string, Float32Array> {
  return new Map([...loaded.weights.tensors].map(([name, tensor]) => [name, tensor.data]));
}

/** HF's dropout probabilities from a raw config.json (BERT/RoBERTa keys, or DistilBERT's). */
export function encoderDropout(raw: Record<string, unknown>): DropoutRates {
  const rate = (...keys: string[]): number => {
    for (const key of keys) {
      const value = raw[key];
      if (typeof value === 'number' && value >= 0 && value < 1) return value;
    }
    return 0.1;
  };
  if (raw['model_type'] === 'distilbert') return { hidden: rate('dropout'), attention: rate('attention_dropout'), classifier: rate('seq_classif_dropout') };
  return { hidden: rate('hidden_dropout_prob'), attention: rate('attention_probs_dropout_prob'), classifier: rate('classifier_dropout', 'hidden_dropout_prob') };
}

/** HF's initializer_range from a raw config.json (default 0.02). */
export function initializerRange(raw: Record<string, unknown>): number {
  const value = raw['initializer_range'];
  return typeof value === 'number' && value > 0 ? value : 0.02;
}

/** How HF's `_init_weights` starts a parameter it did not load: Linear/embedding normal(0, range), biases 0, LayerNorm 1/0. */
function hfInit(config: EncoderConfig, name: string, range: number): Init {
  if (/(LayerNorm|layer_norm)\.weight$/.test(name)) return 'ones';
  if (name.endsWith('bias')) return 'zeros';
  const roberta = config.modelType === 'roberta' || config.modelType === 'xlm-roberta';
  if (name.endsWith('embeddings.word_embeddings.weight') || (roberta && name.endsWith('embeddings.position_embeddings.weight'))) {
    return { normal: range, zeroRow: config.padTokenId };
  }
  return { normal: range };
}

/** A trainable model of `config` (head `sequence-classification` or `masked-lm`) starting from `values`. */
export function encoderModelDef(config: EncoderConfig, values: ReadonlyMap<string, Float32Array>, options: EncoderModelOptions = {}): EncoderModelDef {
  if (config.head === 'base') throw geulError('INVALID_INPUT', { detail: 'a base encoder has no head to train: ask for sequence-classification or masked-lm' });
  const spec = encoderParameterSpec(config);
  const newlyInitialized = [...spec.parameters.keys()].filter((name) => !values.has(name));
  const range = options.initializerRange ?? 0.02;
  const rates: DropoutRates = { hidden: 0, attention: 0, classifier: 0, ...options.dropout };
  const mlm = config.head === 'masked-lm';
  const classes = mlm ? config.vocabSize : config.numLabels;
  return {
    kind: `${config.modelType}-${config.head}`,
    classes,
    encoder: config,
    newlyInitialized,
    config: { model_type: config.modelType, head: config.head, layers: config.layers, hidden_size: config.hiddenSize, vocab_size: config.vocabSize, labels: config.id2label },
    logitsShape: mlm ? ['batch', 'seq', config.vocabSize] : ['batch', config.numLabels],
    build(ctx) {
      const { g } = ctx;
      const seq = ['batch', 'seq'];
      const inputIds = g.input('input_ids', 'int64', seq);
      const attentionMask = g.input('attention_mask', 'int64', seq);
      const tokenTypeIds = options.tokenTypes && config.typeVocabSize > 0 ? g.input('token_type_ids', 'int64', seq) : undefined;
      const param = (name: string, shape: readonly number[]): Value => {
        const given = values.get(name);
        return ctx.param(name, [...shape], given ? { adopt: given } : hfInit(config, name, range));
      };
      const inputs = tokenTypeIds ? [inputIds, attentionMask, tokenTypeIds] : [inputIds, attentionMask];
      // Masked-LM training scores the masked positions only (mlm-loss.ts); inference still gives every position's logits.
      const labels = mlm && ctx.train ? g.input('labels', 'int64', seq) : undefined;
      const masked = labels ? maskedTargets(g, labels) : undefined;
      const out = buildEncoder(g, config, param, { inputIds, attentionMask, tokenTypeIds, maskedPositions: masked?.positions }, { dropout: (x, site) => ctx.dropout(x, rates[site]) });
      if (!labels || !masked) return { inputs, logits: out.logits! };
      const loss = maskedLmLoss(g, out.logits!, masked.targets, config.vocabSize);
      return { inputs, logits: out.logits!, objective: { labels, loss, logitsShape: ['masked', config.vocabSize] } };
    },
    ...(mlm ? { lossWeight: (labels: BigInt64Array) => labels.reduce((n, id) => n + (id === BigInt(IGNORED_LABEL) ? 0 : 1), 0) } : {}),
  };
}

export interface FreezeOptions {
  /** Freeze the embeddings (word, position, token type, their LayerNorm; the tied MLM decoder with them). */
  readonly embeddings?: boolean;
  /** Freeze the lowest N transformer layers. */
  readonly layers?: number;
}

/** Which parameters of `config` stay frozen under `options` (Trainer's `frozen` option). */
export function encoderFrozen(config: EncoderConfig, options: FreezeOptions): (name: string) => boolean {
  const layers = options.layers ?? 0;
  if (!Number.isInteger(layers) || layers < 0 || layers > config.layers) {
    throw geulError('INVALID_INPUT', { detail: `--freeze-layers ${layers}: the model has ${config.layers} layers (0…${config.layers})` });
  }
  const p = config.head === 'base' ? '' : `${basePrefix(config)}.`;
  const stack = `${p}${config.modelType === 'distilbert' ? 'transformer' : 'encoder'}.layer.`;
  return (name) => {
    if (options.embeddings && name.startsWith(`${p}embeddings.`)) return true;
    if (!name.startsWith(stack)) return false;
    return Number(name.slice(stack.length).split('.')[0]) < layers;
  };
}
