// The forward graph of a Hugging Face BERT / DistilBERT / RoBERTa encoder and its heads, with HF's exact semantics.
//
// Parameters come through a callback `(name, shape) => Value` under their state_dict names, so the same graph takes
// frozen initializers (inference, export) or trainable inputs (fine-tuning) without knowing which.
import { geulError } from '../../core/errors.js';
import type { GraphBuilder, Value } from '../../graph/builder.js';
import type { EncoderConfig } from './config.js';
import { fusedGelu } from './fused-ops.js';
import { basePrefix, hasPooler } from './parameters.js';

/** Supplies the parameter named `name` (HF state_dict name) with torch shape `shape`. */
export type ParameterSource = (name: string, shape: readonly number[]) => Value;

export interface EncoderInputs {
  /** int64 [batch, seq]. */
  readonly inputIds: Value;
  /** int64 [batch, seq]: 1 = token, 0 = padding. */
  readonly attentionMask: Value;
  /** int64 [batch, seq]; absent means all zeros (as HF does for RoBERTa). Ignored by DistilBERT. */
  readonly tokenTypeIds?: Value;
  /**
   * Masked LM while training: int64 [masked], indices into the flattened batch × seq (mlm-loss.ts maskedTargets).
   * The head then runs at these positions only and the logits are [masked, vocab]; mlm-loss.ts says why.
   */
  readonly maskedPositions?: Value;
}

export interface EncoderOutputs {
  /** Output of the embeddings LayerNorm (HF `hidden_states[0]`), [batch, seq, hidden]. */
  readonly embeddingOutput: Value;
  readonly lastHiddenState: Value;
  /** BERT's tanh pooler on [CLS], [batch, hidden], where the model has one. */
  readonly poolerOutput?: Value;
  /** [batch, labels] for sequence classification, [batch, seq, vocab] for masked LM ([masked, vocab] at maskedPositions). */
  readonly logits?: Value;
}

/**
 * Where Hugging Face applies dropout: `hidden` (embeddings output, attention output, FFN output: hidden_dropout_prob,
 * DistilBERT `dropout`), `attention` (attention probabilities: attention_probs_dropout_prob / `attention_dropout`),
 * `classifier` (the sequence-classification head: classifier_dropout ?? hidden_dropout_prob / `seq_classif_dropout`).
 */
export type DropoutSite = 'hidden' | 'attention' | 'classifier';

export interface EncoderBuildOptions {
  /** Applies dropout at a site (training); absent: none (inference, and the reference checks). */
  readonly dropout?: (x: Value, site: DropoutSite) => Value;
  /**
   * How dense layers are written: 'gemm' (default: one Gemm over the rows, best for training) or 'matmul'
   * (MatMul(x, Wᵀ) + b, the pattern the int8 quantiser of src/graph/quantize.ts rewrites; export uses it).
   */
  readonly dense?: 'gemm' | 'matmul';
}

/** torch.finfo(torch.float32).min: what HF adds to (or fills into) masked attention scores. */
export const FLOAT32_MIN = -3.4028234663852886e38;

/** Builds the encoder and its head from `config` on `g`. */
export function buildEncoder(g: GraphBuilder, config: EncoderConfig, param: ParameterSource, inputs: EncoderInputs, options: EncoderBuildOptions = {}): EncoderOutputs {
  const p = config.head === 'base' ? '' : `${basePrefix(config)}.`;
  const h = config.hiddenSize;
  const distil = config.modelType === 'distilbert';
  const dense = (x: Value, name: string, out: number, inp: number): Value =>
    options.dense === 'matmul'
      ? g.add(g.matmul(x, g.transpose(param(`${name}.weight`, [out, inp]), [1, 0])), param(`${name}.bias`, [out]))
      : linear(g, x, param(`${name}.weight`, [out, inp]), param(`${name}.bias`, [out]), out);
  const norm = (x: Value, name: string, eps = config.layerNormEps): Value =>
    g.layerNorm(x, param(`${name}.weight`, [h]), param(`${name}.bias`, [h]), { epsilon: eps });
  const act = (x: Value, kind = config.hiddenAct): Value => activation(g, x, kind);
  const drop = (x: Value, site: DropoutSite): Value => (options.dropout ? options.dropout(x, site) : x);

  const embeddingOutput = g.scope('embeddings', () => {
    // HF builds the word table (and RoBERTa's position table) with padding_idx: the pad row is looked up like any
    // other but gets no gradient from the lookup, so pad positions read it through a gradient stop. The stop sits on
    // the gathered rows, not the table: an Identity on the table would copy all of it every step.
    const isPad = g.unsqueeze(g.equal(inputs.inputIds, g.int(config.padTokenId)), [-1]);
    const padLookup = (table: Value, ids: Value) => {
      const rows = g.gather(table, ids, 0);
      return g.where(isPad, stopGradient(g, rows), rows);
    };
    const roberta = config.modelType === 'roberta' || config.modelType === 'xlm-roberta';
    const words = padLookup(param(`${p}embeddings.word_embeddings.weight`, [config.vocabSize, h]), inputs.inputIds);
    const positionTable = param(`${p}embeddings.position_embeddings.weight`, [config.maxPositions, h]);
    const ids = positionIds(g, config, inputs.inputIds);
    const positions = roberta ? padLookup(positionTable, ids) : g.gather(positionTable, ids, 0);
    let sum = g.add(words, positions);
    if (config.typeVocabSize > 0) {
      const types = param(`${p}embeddings.token_type_embeddings.weight`, [config.typeVocabSize, h]);
      sum = g.add(sum, inputs.tokenTypeIds ? g.gather(types, inputs.tokenTypeIds, 0) : g.gather(types, 0, 0));
    }
    return drop(norm(sum, `${p}embeddings.LayerNorm`), 'hidden');
  });

  // [batch, 1, 1, seq]: keys a query may not attend to.
  const keyMask = g.unsqueeze(inputs.attentionMask, [1, 2]);
  const additiveMask = distil ? undefined : g.mul(g.sub(g.scalar(1), g.cast(keyMask, 'float32')), g.scalar(FLOAT32_MIN));
  const maskedKeys = distil ? g.equal(keyMask, g.int(0)) : undefined;
  const headDim = h / config.heads;
  const splitHeads = (x: Value) => g.transpose(g.reshape(x, [0, 0, config.heads, headDim]), [0, 2, 1, 3]);

  let hidden = embeddingOutput;
  for (let i = 0; i < config.layers; i++) {
    hidden = g.scope(`layer${i}`, () => {
      const names = distil
        ? { q: 'attention.q_lin', k: 'attention.k_lin', v: 'attention.v_lin', o: 'attention.out_lin', ln1: 'sa_layer_norm', up: 'ffn.lin1', down: 'ffn.lin2', ln2: 'output_layer_norm' }
        : { q: 'attention.self.query', k: 'attention.self.key', v: 'attention.self.value', o: 'attention.output.dense', ln1: 'attention.output.LayerNorm', up: 'intermediate.dense', down: 'output.dense', ln2: 'output.LayerNorm' };
      const layer = `${p}${distil ? 'transformer' : 'encoder'}.layer.${i}`;
      const x = hidden;
      let q = splitHeads(dense(x, `${layer}.${names.q}`, h, h));
      const k = splitHeads(dense(x, `${layer}.${names.k}`, h, h));
      const v = splitHeads(dense(x, `${layer}.${names.v}`, h, h));
      const scale = g.scalar(Math.fround(Math.sqrt(headDim)));
      let scores: Value;
      if (distil) {
        // DistilBERT scales Q before Q·Kᵀ and fills masked scores with the float32 minimum.
        q = g.div(q, scale);
        scores = g.where(maskedKeys!, g.scalar(FLOAT32_MIN), g.matmul(q, g.transpose(k, [0, 1, 3, 2])));
      } else {
        scores = g.add(g.div(g.matmul(q, g.transpose(k, [0, 1, 3, 2])), scale), additiveMask!);
      }
      const context = g.reshape(g.transpose(g.matmul(drop(g.softmax(scores, -1), 'attention'), v), [0, 2, 1, 3]), [0, 0, h]);
      // DistilBERT has no dropout after its attention output projection.
      const projected = dense(context, `${layer}.${names.o}`, h, h);
      const attended = norm(g.add(distil ? projected : drop(projected, 'hidden'), x), `${layer}.${names.ln1}`);
      const ffn = dense(act(dense(attended, `${layer}.${names.up}`, config.intermediateSize, h)), `${layer}.${names.down}`, h, config.intermediateSize);
      return norm(g.add(drop(ffn, 'hidden'), attended), `${layer}.${names.ln2}`);
    });
  }
  const lastHiddenState = hidden;
  // [batch, hidden]: the [CLS] / <s> position (Slice + Squeeze rather than Gather on axis 1, which has no gradient).
  const first = () => g.squeeze(g.slice(lastHiddenState, [0], [1], [1]), [1]);
  const poolerOutput = hasPooler(config) ? g.tanh(dense(first(), `${p}pooler.dense`, h, h)) : undefined;
  const headInput = config.head === 'masked-lm' && inputs.maskedPositions
    ? g.withShape(g.gather(g.reshape(lastHiddenState, [-1, h]), inputs.maskedPositions, 0), ['masked', h])
    : lastHiddenState;
  const logits = g.scope('head', () => head(g, config, { dense, norm, act, param, drop }, headInput, first, poolerOutput));
  return { embeddingOutput, lastHiddenState, poolerOutput, logits };
}

interface Layers {
  dense: (x: Value, name: string, out: number, inp: number) => Value;
  norm: (x: Value, name: string, eps?: number) => Value;
  act: (x: Value, kind?: string) => Value;
  param: ParameterSource;
  drop: (x: Value, site: DropoutSite) => Value;
}

function head(g: GraphBuilder, config: EncoderConfig, l: Layers, hidden: Value, first: () => Value, pooled: Value | undefined): Value | undefined {
  const h = config.hiddenSize;
  const labels = config.numLabels;
  if (config.head === 'base') return undefined;
  const words = `${basePrefix(config)}.embeddings.word_embeddings.weight`;
  const tiedDecoder = (x: Value, bias: string) =>
    g.add(g.matmul(x, g.transpose(l.param(words, [config.vocabSize, h]), [1, 0])), l.param(bias, [config.vocabSize]));
  if (config.modelType === 'bert') {
    if (config.head === 'sequence-classification') return l.dense(l.drop(pooled!, 'classifier'), 'classifier', labels, h);
    const transformed = l.norm(l.act(l.dense(hidden, 'cls.predictions.transform.dense', h, h)), 'cls.predictions.transform.LayerNorm');
    return tiedDecoder(transformed, 'cls.predictions.bias');
  }
  if (config.modelType === 'distilbert') {
    if (config.head === 'sequence-classification') return l.dense(l.drop(g.relu(l.dense(first(), 'pre_classifier', h, h)), 'classifier'), 'classifier', labels, h);
    const transformed = l.norm(l.act(l.dense(hidden, 'vocab_transform', h, h)), 'vocab_layer_norm', 1e-12);
    return tiedDecoder(transformed, 'vocab_projector.bias');
  }
  if (config.head === 'sequence-classification') {
    const x = g.tanh(l.dense(l.drop(first(), 'classifier'), 'classifier.dense', h, h));
    return l.dense(l.drop(x, 'classifier'), 'classifier.out_proj', labels, h);
  }
  // RobertaLMHead always uses exact gelu, whatever hidden_act says.
  const transformed = l.norm(l.act(l.dense(hidden, 'lm_head.dense', h, h), 'gelu'), 'lm_head.layer_norm');
  return tiedDecoder(transformed, 'lm_head.bias');
}

/** BERT/DistilBERT: 0…T−1. RoBERTa: cumsum(ids ≠ pad) · (ids ≠ pad) + pad, from input_ids (not the attention mask). */
function positionIds(g: GraphBuilder, config: EncoderConfig, inputIds: Value): Value {
  if (config.modelType !== 'roberta' && config.modelType !== 'xlm-roberta') return g.range(0, g.dim(inputIds, 1), 1);
  const notPad = g.cast(g.not(g.equal(inputIds, g.int(config.padTokenId))), 'int64');
  const counted = g.op1('CumSum', [notPad, g.int(1)], {}, { shape: inputIds.shape, dtype: 'int64' });
  return g.add(g.mul(counted, notPad), g.int(config.padTokenId));
}

/**
 * x·Wᵀ + b with W in torch's [out, in] layout, as one Gemm over the rows of x (transB, bias fused). Why not
 * MatMul(x, Transpose(W)) + b: that pays a separate bias pass over the activations forward, and autodiff returns the
 * weight gradient as [in, out] then transposes it; Gemm's gradient gives dW = dyᵀ·x directly in W's layout.
 */
function linear(g: GraphBuilder, x: Value, weight: Value, bias: Value, out: number): Value {
  const shape = x.shape;
  if (!shape || shape.length < 2) return g.add(g.matmul(x, g.transpose(weight, [1, 0])), bias);
  if (shape.length === 2) return g.withShape(g.gemm(x, weight, bias, { transB: true }), [shape[0], out]);
  const inner = shape[shape.length - 1] as number;
  const rows = g.gemm(g.reshape(x, [-1, inner]), weight, bias, { transB: true });
  const outShape = g.concat([g.shape(x, 0, -1), g.ints([out])], 0);
  return g.withShape(g.reshape(rows, outShape), [...shape.slice(0, -1), out]);
}

/** The value of `x` with no gradient flowing back into it (torch's `detach`). */
export function stopGradient(g: GraphBuilder, x: Value): Value {
  return g.op1('Identity', [x], {}, { gradient: { grad: () => [undefined] } });
}

/** HF ACT2FN for the activations these encoders use. */
export function activation(g: GraphBuilder, x: Value, kind: string): Value {
  switch (kind) {
    case 'gelu': return fusedGelu(g, x);
    case 'relu': return g.relu(x);
    case 'gelu_new': case 'gelu_pytorch_tanh': {
      const inner = g.mul(g.scalar(Math.sqrt(2 / Math.PI)), g.add(x, g.mul(g.scalar(0.044715), g.pow(x, g.scalar(3)))));
      return g.mul(g.mul(g.scalar(0.5), x), g.add(g.scalar(1), g.tanh(inner)));
    }
    case 'silu': case 'swish': return g.mul(x, g.sigmoid(x));
    default: throw geulError('MODEL_INVALID', { model: 'config.json', detail: `hidden activation "${kind}" is not supported (gelu, relu, gelu_new, silu)` });
  }
}
