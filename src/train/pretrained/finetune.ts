// Fine-tunes a Hugging Face encoder checkpoint for text classification as a cancellable function: spec → base
// checkpoint, tokenizer and data (all checked before anything is written) → one Trainer → evaluations every epoch or
// every N steps, early stopping, checkpoints, exact resume → the best model as a Hugging Face folder, plus metrics.json
// and report.html, reporting the same JSON events as trainText.
//
//   await finetuneEncoder({ data: { source: 'train.jsonl' }, model: { base: 'models/bert' }, output: { dir: 'runs/a' } },
//     { signal, onEvent: (e) => console.log(JSON.stringify(e)) });
import { existsSync, readFileSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { GeulError, geulError } from '../../core/errors.js';
import { Rng } from '../../core/random.js';
import { describeNewlyInitialized } from '../../core/weights/state-dict.js';
import { loadCheckpoint, saveCheckpoint, type CheckpointMeta } from '../checkpoint.js';
import type { EpochPoint } from '../report.js';
import { readBestRun, writeRunReport } from '../report.js';
import { prepareRunFolder } from '../run-folder.js';
import type { TrainContext } from '../run.js';
import { hfNoDecay, scheduledLr, type OptimizerConfig } from '../optim.js';
import { Trainer } from '../trainer.js';
import { createGuarded } from '../trainer-memory.js';
import { encoderBatch, epochBatches, evaluateEncoder, readFinetuneData } from './finetune-data.js';
import { saveFinetunedModel } from './finetune-output.js';
import { parseFinetuneSpec, warmupSteps, type FinetuneSpec, type FinetuneSpecInput } from './finetune-spec.js';
import { parseEncoderConfig } from './config.js';
import { loadPretrainedEncoder } from './load.js';
import { resolveCheckpoint } from './resolve.js';
import { encoderDropout, encoderFrozen, encoderModelDef, encoderValues, initializerRange } from './model-def.js';
import { EncoderTokenizer, positionLimit } from './tokenize.js';

export interface EvaluationReport extends EpochPoint {
  step: number;
}

export interface FinetuneResult {
  /** Best validation accuracy (its model is the one in `out`). */
  best: number;
  history: EvaluationReport[];
  out: string;
  labels: string[];
  /** Parameters the base checkpoint lacked (a new head), as HF reports them. */
  newlyInitialized: string[];
}

/** Where an interrupted epoch stood when its checkpoint was written (resume skips its first `batches` micro-batches). */
interface PartialEpoch {
  epoch: number;
  batches: number;
  lossSum: number;
  correct: number;
  seen: number;
  seconds: number;
}

type RunState = {
  history: EvaluationReport[];
  sinceBest: number;
  labels: string[];
  partial?: PartialEpoch;
};

/**
 * The base checkpoint's local folder: a folder as is, a Hub id through the cache (only config.json is fetched before the
 * architecture is checked, so a GPT-2 id fails fast without downloading its weights).
 */
async function resolveBase(base: string, context: TrainContext): Promise<string> {
  const found = statSync(base, { throwIfNoEntry: false });
  if (found?.isDirectory()) return base;
  if (!context.hub) throw geulError('MODEL_NOT_FOUND', { model: base, where: ' (give a local folder with config.json, the weights and tokenizer.json)' });
  return resolveCheckpoint(base, context.hub, { signal: context.signal, checkConfig: (raw) => void parseEncoderConfig(raw, base, 'sequence-classification') });
}

function readRawConfig(folder: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8')) as Record<string, unknown>;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw geulError('MODEL_FILE_MISSING', { model: folder, file: 'config.json' });
    throw geulError('MODEL_INVALID', { model: folder, detail: 'config.json is not valid JSON' });
  }
}

function reportOptions(spec: FinetuneSpec, maxLength: number, optimizer: OptimizerConfig): Record<string, unknown> {
  return {
    base: spec.model.base, data: spec.data.source, valid: spec.data.valid, epochs: spec.run.epochs, batch_size: spec.run.batchSize,
    grad_accum: spec.run.gradAccum, lr: optimizer.lr, warmup_steps: optimizer.warmup, weight_decay: optimizer.weightDecay,
    clip_norm: optimizer.clipNorm, max_length: maxLength, freeze_embeddings: spec.model.freezeEmbeddings,
    freeze_layers: spec.model.freezeLayers, eval_every: spec.run.evalEvery, patience: spec.run.patience, seed: spec.run.seed,
  };
}

export async function finetuneEncoder(input: FinetuneSpecInput | FinetuneSpec, context: TrainContext = {}): Promise<FinetuneResult> {
  const spec = parseFinetuneSpec(input, context.optionName);
  const { signal } = context;
  const emit = context.onEvent ?? (() => {});
  const warn = (message: string) => emit({ type: 'log', level: 'warning', message });
  const out = spec.output.dir;

  // Everything bad input can break is checked before the run folder is touched.
  const folder = await resolveBase(spec.model.base, context);
  const raw = readRawConfig(folder);
  const base = loadPretrainedEncoder(folder, 'sequence-classification');
  const tokenizer = await EncoderTokenizer.load(folder, base.config, spec.model.base);
  const limit = positionLimit(base.config);
  const maxLength = Math.min(spec.data.maxLength ?? 512, limit);
  if (spec.data.maxLength !== undefined && spec.data.maxLength > limit) warn(`--max-length ${spec.data.maxLength} is over the model's ${limit} positions: texts are cut to ${limit} tokens`);
  const resumed = spec.run.resume ? await loadCheckpoint(out) : undefined;
  const saved = resumed?.meta.run as Partial<RunState> | undefined;
  const baseHead = Array.isArray(raw['architectures']) && String(raw['architectures'][0]).endsWith('ForSequenceClassification') ? base.config.id2label : undefined;
  const data = await readFinetuneData(spec, tokenizer, maxLength, baseHead, { hub: context.hub, onWarning: warn, onProgress: (done, total) => emit({ type: 'read', done, total }) }, saved?.labels);
  if (data.truncated > 0) warn(`${data.truncated} of ${data.train.ids.length + data.valid.ids.length} texts are longer than ${maxLength} tokens (the model's limit is ${limit}): truncated`);
  if (data.valid.ids.length === 0) throw geulError('DATA_INVALID', { path: spec.data.valid ?? spec.data.source, where: '', detail: 'no validation examples' });
  const config = { ...base.config, numLabels: data.labels.length, id2label: data.labels };
  const values = encoderValues(base);
  // A head trained for other labels (or none) starts anew, as HF does when the label count changes.
  if (!data.baseLabels) for (const name of [...values.keys()]) if (base.spec.headPrefixes.some((p) => name.startsWith(p))) values.delete(name);
  const model = encoderModelDef(config, values, { dropout: encoderDropout(raw), initializerRange: initializerRange(raw) });
  const frozen = encoderFrozen(config, { embeddings: spec.model.freezeEmbeddings, layers: spec.model.freezeLayers });
  const newly = describeNewlyInitialized(model.newlyInitialized);
  if (newly && !resumed) emit({ type: 'log', level: 'info', message: `${newly} (labels: ${data.labels.join(', ')})` });

  const { epochs, batchSize, gradAccum, seed, patience, evalEvery } = spec.run;
  const microPerEpoch = Math.ceil(data.train.ids.length / batchSize);
  const stepsPerEpoch = Math.ceil(microPerEpoch / gradAccum);
  const totalSteps = stepsPerEpoch * epochs;
  const o = spec.optim;
  const optimizer: OptimizerConfig = {
    name: 'adamw', lr: o.lr, beta1: o.beta1, beta2: o.beta2, eps: o.eps, weightDecay: o.weightDecay, clipNorm: o.clipNorm,
    schedule: 'linear', warmup: warmupSteps(o.warmup, totalSteps), noDecay: hfNoDecay,
  };
  const outExisted = existsSync(out);
  await prepareRunFolder(out);
  // A run that fails before its first checkpoint leaves no run folder behind (when it made the folder).
  const discardIfEmpty = async () => {
    if (!outExisted && checkpointStep === undefined) await rm(out, { recursive: true, force: true });
  };
  const history: EvaluationReport[] = saved?.history ?? [];
  let best = resumed?.meta.best ?? -1;
  let bestRun = resumed ? await readBestRun(out) : undefined;
  let sinceBest = Number(saved?.sinceBest ?? 0);
  const rng = new Rng(seed + 1);
  const startEpoch = resumed ? resumed.meta.epoch + 1 : 1;
  for (let e = 1; e < startEpoch; e++) epochBatches(data.train, batchSize, rng, spec.data.groupByLength); // replay the shuffles
  let checkpointStep = resumed?.meta.step;
  let trainer: Trainer;
  try {
    trainer = await createGuarded(() => Trainer.create(model, optimizer, { seed, dropoutSeed: seed * 1009 + 1, totalSteps, threads: spec.run.threads, frozen, gradAccum }, resumed?.state), batchSize);
  } catch (err) {
    await discardIfEmpty();
    throw err;
  }
  const pad = config.padTokenId;
  const classes = data.labels.length;
  const checkpoint = async (meta: Omit<CheckpointMeta, 'tensors' | 'step'>) => {
    await saveCheckpoint(out, trainer.state, meta);
    checkpointStep = trainer.state.step;
  };
  let reason: 'completed' | 'patience' = 'completed';
  const sessionStarted = performance.now();
  const firstStep = trainer.state.step;
  let lastEpoch = startEpoch - 1;
  try {
    for (let epoch = startEpoch; epoch <= epochs && reason === 'completed'; epoch++) {
      const partial = saved?.partial?.epoch === epoch ? saved.partial : undefined;
      emit({ type: 'start', epoch, epochs, steps: stepsPerEpoch, total: totalSteps, step: trainer.state.step, examples: data.train.ids.length, parameters: trainer.parameterCount });
      const started = performance.now() - (partial?.seconds ?? 0) * 1000;
      let { lossSum, correct, seen } = partial ?? { lossSum: 0, correct: 0, seen: 0 };
      const micro = epochBatches(data.train, batchSize, rng, spec.data.groupByLength);
      const progress = (batches: number): PartialEpoch => ({ epoch, batches, lossSum, correct, seen, seconds: (performance.now() - started) / 1000 });
      const cancel = async (batches: number) => {
        await checkpoint({ epoch: epoch - 1, best, run: { history, sinceBest, labels: data.labels, partial: progress(batches) } satisfies RunState });
        emit({ type: 'done', reason: 'cancelled', step: trainer.state.step, epoch: epoch - 1, best, out });
        return geulError('CANCELLED');
      };
      /** Evaluates, keeps the model when it is the best so far, writes the report and a checkpoint; false: patience ran out. */
      const evaluation = async (batches: number): Promise<boolean> => {
        const seconds = (performance.now() - started) / 1000;
        let cancelled = false;
        const metrics = await evaluateEncoder(trainer, data.valid, batchSize * 2, data.labels, pad, () => {
          if (signal?.aborted) cancelled = true;
          if (cancelled) throw geulError('CANCELLED');
        }).catch(async (err: unknown) => {
          if (cancelled) throw await cancel(batches);
          throw err;
        });
        const epochDone = batches >= micro.length;
        const step = trainer.state.step;
        const examplesPerSecond = seen / Math.max(seconds, 1e-6);
        const point: EvaluationReport = {
          epoch: epochDone ? epoch : step / stepsPerEpoch, step, trainLoss: lossSum / Math.max(seen, 1), trainAccuracy: correct / Math.max(seen, 1),
          validAccuracy: metrics.accuracy, validF1Macro: metrics.f1_macro, validLoss: metrics.loss, seconds, examplesPerSecond,
        };
        history.push(point);
        const improved = metrics.accuracy > best;
        if (improved) {
          best = metrics.accuracy;
          sinceBest = 0;
          await saveFinetunedModel(out, trainer, { raw, config, tokenizer, maxLength });
          bestRun = { epoch: point.epoch, metrics };
        } else sinceBest++;
        if (bestRun) await writeRunReport(out, { model: model.kind, epoch: bestRun.epoch, metrics: bestRun.metrics, history, options: reportOptions(spec, maxLength, optimizer) });
        const run: RunState = { history, sinceBest, labels: data.labels, ...(epochDone ? {} : { partial: progress(batches) }) };
        await checkpoint({ epoch: epochDone ? epoch : epoch - 1, best, run });
        if (epochDone) {
          emit({
            type: 'epoch', epoch, epochs, train_loss: point.trainLoss, train_accuracy: point.trainAccuracy, valid_loss: metrics.loss,
            valid_accuracy: metrics.accuracy, valid_f1_macro: metrics.f1_macro, seconds, examples_per_s: examplesPerSecond, best: improved,
          });
        } else {
          emit({ type: 'log', level: 'info', message: `step ${step}: valid accuracy ${metrics.accuracy.toFixed(4)}, macro F1 ${metrics.f1_macro.toFixed(4)}, loss ${metrics.loss.toFixed(4)}${improved ? ' (best, saved)' : ''}` });
        }
        return patience === undefined || sinceBest <= patience;
      };
      for (let b = partial?.batches ?? 0; b < micro.length; b += gradAccum) {
        if (signal?.aborted) throw await cancel(b);
        const group = micro.slice(b, b + gradAccum);
        const lr = scheduledLr(optimizer, trainer.state.step, totalSteps);
        const batch = group.map((rows) => encoderBatch(data.train, rows, pad));
        let result;
        try {
          result = await trainer.stepAccumulated(batch);
        } catch (err) {
          if (err instanceof GeulError && err.code === 'TRAINING_FAILED') {
            const kept = checkpointStep === undefined ? 'no checkpoint was written yet' : `${out} keeps the checkpoint of step ${checkpointStep}${bestRun ? ' and the best model' : ''}`;
            throw geulError('TRAINING_FAILED', { detail: `${String(err.params.detail)}. Stopped: ${kept}` });
          }
          throw err;
        }
        const rows = group.flat();
        let ok = 0;
        rows.forEach((r, i) => {
          let bestClass = 0;
          for (let c = 1; c < classes; c++) if (result.logits[i * classes + c] > result.logits[i * classes + bestClass]) bestClass = c;
          ok += Number(bestClass === data.train.labels[r]);
        });
        lossSum += result.loss * rows.length;
        correct += ok;
        seen += rows.length;
        const examplesPerSecond = seen / Math.max((performance.now() - started) / 1000, 1e-6);
        const perStep = (performance.now() - sessionStarted) / 1000 / (trainer.state.step - firstStep);
        emit({ type: 'step', step: trainer.state.step, total: totalSteps, epoch, loss: result.loss, accuracy: ok / rows.length, examples: rows.length, examples_per_s: examplesPerSecond, lr, eta_s: perStep * (totalSteps - trainer.state.step) });
        const done = b + gradAccum >= micro.length;
        if (evalEvery && trainer.state.step % evalEvery === 0 && !done) {
          if (!(await evaluation(b + gradAccum))) {
            reason = 'patience';
            break;
          }
        }
      }
      if (reason === 'patience') break;
      lastEpoch = epoch;
      if (!(await evaluation(micro.length))) reason = 'patience';
    }
  } catch (err) {
    await discardIfEmpty();
    throw err;
  } finally {
    await trainer.release();
  }
  emit({ type: 'done', reason, step: trainer.state.step, epoch: lastEpoch, best, out });
  return { best, history, out, labels: data.labels, newlyInitialized: model.newlyInitialized };
}
