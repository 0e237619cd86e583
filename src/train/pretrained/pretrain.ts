// Masked-LM pre-training as a cancellable function: a corpus, a vocabulary (trained, given, or a checkpoint's), an
// encoder from scratch or a checkpoint, AdamW steps with held-out evaluation, checkpoints, resume, and a Hugging Face
// BertForMaskedLM folder that `geul finetune --base` takes.
//
//   const result = await pretrainEncoder({ data: { sources: ['corpus.txt'] }, model: { size: 'mini', vocabSize: 8000 },
//     run: { steps: 2000 }, output: { dir: 'runs/mlm' } }, { onEvent: (e) => console.log(JSON.stringify(e)) });
import { readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { geulError, isGeulError } from '../../core/errors.js';
import { ensureModelFiles, type HubConfig } from '../../core/hub.js';
import { writeAtomic } from '../../core/files.js';
import { loadCheckpoint, saveCheckpoint } from '../checkpoint.js';
import { hfNoDecay, scheduledLr, type OptimizerConfig } from '../optim.js';
import { prepareRunFolder } from '../run-folder.js';
import { Trainer } from '../trainer.js';
import { createGuarded } from '../trainer-memory.js';
import { parseEncoderConfig, type EncoderConfig } from './config.js';
import { loadPretrainedEncoder } from './load.js';
import { corpusFiles, readCorpus } from './mlm-corpus.js';
import { BatchOrder, buildMlmCorpus, maskBatch, stepRng, type MaskingOptions } from './mlm-data.js';
import { loadMlmTokenizer, mlmTokenizerFromFiles, type MlmTokenizer } from './mlm-tokenizer.js';
import { encoderDropout, encoderModelDef, encoderValues, initializerRange } from './model-def.js';
import { architectureName } from './parameters.js';
import type { PretrainEventHandler } from './pretrain-events.js';
import { evaluateHeldOut, writeMaskedLmFolder, type HeldOutScore } from './pretrain-output.js';
import { resolveCheckpoint, TOKENIZER_FILES } from './resolve.js';
import { parsePretrainSpec, warmupSteps, type PretrainSpec, type PretrainSpecInput } from './pretrain-spec.js';
import { bertMaskedLmConfig } from './sizes.js';
import { trainWordpieceTokenizer, wordpieceTokenizerFiles } from './wordpiece-files.js';

export interface PretrainContext {
  /** Cancels between steps: a checkpoint of the last finished step is written first, and `--resume` continues it. */
  signal?: AbortSignal;
  onEvent?: PretrainEventHandler;
  /** The caller's name for a spec path in error messages (the CLI: "run.batchSize" → "--batch-size"). */
  optionName?: (path: string) => string;
  /** Hub settings: `--base` and `--tokenizer` may be Hub ids, fetched through the cache. */
  hub?: HubConfig;
}

export interface PretrainEval {
  step: number;
  trainLoss: number;
  loss: number;
  accuracy: number;
}

export interface PretrainResult {
  out: string;
  steps: number;
  /** Held-out scores, one per evaluation; the last is the final model's. */
  history: PretrainEval[];
  tokensPerSecond: number;
  reason: 'completed' | 'cancelled';
}

interface RunState {
  history: PretrainEval[];
  seconds: number;
  tokens: number;
}

/** The model to train: its config, the config.json to write, and its starting weights (empty: HF initialisation). */
interface Starting {
  config: EncoderConfig;
  configJson: Record<string, unknown>;
  values: Map<string, Float32Array>;
}

/** A local folder as is; a Hub id through the cache (a base's config.json is checked before its weights download). */
async function localOrHub(idOrFolder: string, context: PretrainContext, head?: 'masked-lm'): Promise<string> {
  if ((await stat(idOrFolder).catch(() => undefined))?.isDirectory() || !context.hub) return idOrFolder;
  if (!head) return ensureModelFiles(idOrFolder, context.hub, { required: ['tokenizer.json'], optional: TOKENIZER_FILES.filter((f) => f !== 'tokenizer.json'), signal: context.signal });
  return resolveCheckpoint(idOrFolder, context.hub, { signal: context.signal, checkConfig: (raw) => void parseEncoderConfig(raw, idOrFolder, head) });
}

export async function pretrainEncoder(input: PretrainSpecInput | PretrainSpec, context: PretrainContext = {}): Promise<PretrainResult> {
  const spec = parsePretrainSpec(input, context.optionName);
  const emit = context.onEvent ?? (() => {});
  const { signal } = context;
  const out = spec.output.dir;
  const m = spec.model;
  // Everything that can be checked before writing is checked first: bad input leaves no files behind.
  await corpusFiles(spec.data.sources);
  // The checkpoint to continue and the tokenizer to use: local folders, or Hub ids fetched through the cache.
  const baseFolder = m.base === undefined ? undefined : await localOrHub(m.base, context, 'masked-lm');
  const tokenizerFolder = m.tokenizer === undefined ? undefined : await localOrHub(m.tokenizer, context);
  const base = baseFolder !== undefined ? loadPretrainedEncoder(baseFolder, 'masked-lm') : undefined;
  const baseRaw = baseFolder !== undefined ? (JSON.parse(await readFile(join(baseFolder, 'config.json'), 'utf8')) as Record<string, unknown>) : undefined;
  const tokenizerDir = tokenizerFolder ?? baseFolder;
  const given = !spec.run.resume && tokenizerDir !== undefined ? await loadMlmTokenizer(tokenizerDir) : undefined;
  if (given && base && given.vocabSize > base.config.vocabSize) {
    throw geulError('TOKENIZER_VOCAB_MISMATCH', { model: tokenizerDir, tokens: given.vocabSize - 1, rows: base.config.vocabSize });
  }
  const existing = await stat(out).catch(() => undefined);
  if (existing && !existing.isDirectory()) throw geulError('OUTPUT_INVALID', { path: out, detail: 'it is a file, not a folder' });
  const resumed = spec.run.resume ? await loadCheckpoint(out) : undefined;
  const readCorpusOptions = { documents: spec.data.documents, text: spec.data.text, stripGutenberg: spec.data.stripGutenberg, signal };

  let tokenizer: MlmTokenizer;
  if (resumed) tokenizer = await loadMlmTokenizer(out);
  else if (given) tokenizer = given;
  else {
    const vocab = await trainWordpieceTokenizer(readCorpus(spec.data.sources, readCorpusOptions), {
      vocabSize: m.vocabSize!, lowercase: m.lowercase, stripAccents: m.stripAccents, minFrequency: m.minFrequency, signal,
      onProgress: (stage, done, total) => emit({ type: 'vocab', stage, done, total }),
    });
    const files = wordpieceTokenizerFiles(vocab, { lowercase: m.lowercase, stripAccents: m.stripAccents }, spec.run.maxLength);
    emit({ type: 'log', level: 'info', message: `trained a WordPiece vocabulary of ${vocab.length} tokens` });
    tokenizer = await mlmTokenizerFromFiles(files);
  }

  const starting = startingModel(spec, tokenizer, base && { ...base, raw: baseRaw! });
  const { config } = starting;
  if (tokenizer.vocabSize > config.vocabSize) {
    throw geulError('TOKENIZER_VOCAB_MISMATCH', { model: tokenizerDir ?? out, tokens: tokenizer.vocabSize - 1, rows: config.vocabSize });
  }
  let maxLength = spec.run.maxLength;
  if (maxLength > config.maxPositions) {
    emit({ type: 'log', level: 'warning', message: `--max-length ${maxLength} is over the model's ${config.maxPositions} positions: sequences are packed to ${config.maxPositions}` });
    maxLength = config.maxPositions;
  }

  const corpus = await buildMlmCorpus(readCorpus(spec.data.sources, readCorpusOptions), tokenizer, {
    maxLength, heldOutFraction: spec.data.heldOutFraction, maxHeldOutSequences: spec.data.maxHeldOutSequences, signal,
    onProgress: (documents) => emit({ type: 'read', documents }),
  });
  const masking: MaskingOptions = { probability: spec.masking.probability, wholeWord: spec.masking.wholeWord };
  if (masking.wholeWord && !tokenizer.continuation) throw geulError('INVALID_INPUT', { detail: '--whole-word needs a WordPiece tokenizer (## continuation pieces)' });

  // Only now, with the data ready, does the run write anything.
  await prepareRunFolder(out);
  if (!resumed) for (const [name, text] of Object.entries(tokenizer.files)) await writeAtomic(join(out, name), text);
  const raw = baseRaw ?? starting.configJson;
  const model = encoderModelDef(config, starting.values, { dropout: encoderDropout(raw), initializerRange: initializerRange(raw) });
  const { steps, batchSize, seed } = spec.run;
  const optimizer: OptimizerConfig = {
    name: 'adamw', lr: spec.optim.lr, weightDecay: spec.optim.weightDecay, clipNorm: spec.optim.clipNorm, schedule: 'linear', warmup: warmupSteps(spec), noDecay: hfNoDecay,
  };
  const trainer = await createGuarded(() => Trainer.create(model, optimizer, { seed, dropoutSeed: seed * 1009 + 1, totalSteps: steps, threads: spec.run.threads, fetchLogits: false }, resumed?.state), batchSize)
    .catch(async (err: unknown) => {
      // Nothing but this run's tokenizer files is in a folder it made: it goes again.
      if (!resumed && !existing) await rm(out, { recursive: true, force: true });
      throw err;
    });
  const saved = resumed?.meta.run as Partial<RunState> | undefined;
  const state: RunState = { history: saved?.history ?? [], seconds: saved?.seconds ?? 0, tokens: saved?.tokens ?? 0 };
  const evalEvery = spec.run.evalEvery ?? Math.max(1, Math.ceil(steps / 10));
  const checkpointEvery = spec.run.checkpointEvery ?? evalEvery;
  const order = new BatchOrder(corpus.train.count, batchSize, seed);
  let checkpointStep = resumed?.meta.step;
  const checkpoint = async () => {
    await saveCheckpoint(out, trainer.state, { epoch: 0, best: state.history.at(-1)?.accuracy ?? 0, run: { ...state, spec } });
    checkpointStep = trainer.state.step;
  };
  const save = (onnx = false) => writeMaskedLmFolder(out, config, starting.configJson, trainer.weights(), tokenizer.files, onnx);
  let reason: PretrainResult['reason'] = 'completed';
  let lossSum = 0;
  let lossCount = 0;
  try {
    emit({
      type: 'start', step: trainer.state.step, total: steps, sequences: corpus.train.count, held_out_sequences: corpus.heldOut.count,
      documents: corpus.documents.train, tokens: corpus.tokens.train, parameters: trainer.parameterCount, vocab_size: config.vocabSize,
    });
    while (trainer.state.step < steps) {
      if (signal?.aborted) {
        await checkpoint();
        reason = 'cancelled';
        break;
      }
      const step = trainer.state.step;
      const batch = maskBatch(corpus.train, order.rows(step), tokenizer, stepRng(seed, step), masking);
      const shape = [batch.batch, batch.seq];
      const features = { input_ids: new ort.Tensor('int64', batch.inputIds, shape), attention_mask: new ort.Tensor('int64', batch.attentionMask, shape) };
      const started = performance.now();
      const { loss } = await trainer.step(features, new ort.Tensor('int64', batch.labels, shape));
      state.seconds += (performance.now() - started) / 1000;
      state.tokens += batch.attentionMask.reduce((n, v) => n + Number(v), 0);
      lossSum += loss;
      lossCount++;
      const tokensPerSecond = state.tokens / Math.max(state.seconds, 1e-9);
      emit({ type: 'step', step: trainer.state.step, total: steps, loss, lr: scheduledLr(optimizer, step, steps), tokens_per_s: tokensPerSecond, epochs: order.epochs(trainer.state.step) });
      const last = trainer.state.step === steps;
      if (last || trainer.state.step % evalEvery === 0) {
        const score = await evaluateHeldOut(trainer, corpus.heldOut, tokenizer, config.vocabSize, masking, signal);
        if (score) record(state, trainer.state.step, lossSum / lossCount, score, emit);
        lossSum = 0;
        lossCount = 0;
        await save(last);
      }
      if (last || trainer.state.step % checkpointEvery === 0) await checkpoint();
    }
  } catch (err) {
    // A NaN loss stops the run; the last checkpoint (and model) written stays as it was.
    if (isGeulError(err) && err.code === 'TRAINING_FAILED') {
      const kept = checkpointStep === undefined ? 'no checkpoint was written yet' : `${out} keeps the checkpoint and model of step ${checkpointStep}`;
      // Before any checkpoint the folder holds only the tokenizer files this run wrote: a folder it made goes again.
      if (checkpointStep === undefined && !existing) await rm(out, { recursive: true, force: true });
      throw geulError('TRAINING_FAILED', { detail: `${String(err.params.detail ?? err.message)}; ${kept}` }, err);
    }
    throw err;
  } finally {
    await trainer.release();
  }
  const tokensPerSecond = state.tokens / Math.max(state.seconds, 1e-9);
  if (reason === 'completed') {
    const final = state.history.at(-1);
    const metrics = {
      steps, mlm_loss: final?.loss ?? null, masked_accuracy: final?.accuracy ?? null, train_loss: final?.trainLoss ?? null, tokens_per_s: tokensPerSecond,
      train_seconds: state.seconds, parameters: trainer.parameterCount, vocab_size: config.vocabSize, max_length: maxLength, batch_size: batchSize,
      corpus: { documents: corpus.documents, tokens: corpus.tokens, sequences: { train: corpus.train.count, held_out: corpus.heldOut.count } },
      history: state.history.map((h) => ({ step: h.step, train_loss: h.trainLoss, mlm_loss: h.loss, masked_accuracy: h.accuracy })),
    };
    await writeAtomic(join(out, 'metrics.json'), `${JSON.stringify(metrics, null, 2)}\n`);
  }
  emit({ type: 'done', reason, step: trainer.state.step, out });
  return { out, steps: trainer.state.step, history: state.history, tokensPerSecond, reason };
}

function record(state: RunState, step: number, trainLoss: number, score: HeldOutScore, emit: PretrainEventHandler): void {
  state.history.push({ step, trainLoss, loss: score.loss, accuracy: score.accuracy });
  emit({ type: 'eval', step, train_loss: trainLoss, mlm_loss: score.loss, masked_accuracy: score.accuracy, positions: score.positions });
}

/** From scratch: a BERT config of the chosen size over the tokenizer's vocabulary. From a checkpoint: its config and weights. */
function startingModel(spec: PretrainSpec, tokenizer: MlmTokenizer, base?: ReturnType<typeof loadPretrainedEncoder> & { raw: Record<string, unknown> }): Starting {
  if (base) {
    const configJson = { ...base.raw, architectures: [architectureName(base.config)] };
    return { config: base.config, configJson, values: encoderValues(base) };
  }
  const configJson = bertMaskedLmConfig(spec.model.size!, {
    vocabSize: tokenizer.vocabSize, maxPositions: Math.max(512, spec.run.maxLength), padTokenId: tokenizer.pad, dropout: spec.model.dropout,
  });
  return { config: parseEncoderConfig(configJson, spec.output.dir, 'masked-lm'), configJson, values: new Map() };
}
