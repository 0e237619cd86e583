// A text-classification training run as a cancellable function: spec → data → one training session → epochs with
// evaluation, early stopping, checkpoints, resume, metrics.json and an exported model folder, reporting JSON events.
//
//   const result = await trainText({ data: { source: 'train.tsv' }, model: { name: 'lstm' }, output: { dir: 'runs/a' } },
//     { signal: controller.signal, onEvent: (e) => console.log(JSON.stringify(e)) });
import { geulError } from '../core/errors.js';
import type { HubConfig } from '../core/hub.js';
import { Rng } from '../core/random.js';
import { argmax, batches, evaluate, tensors } from './batches.js';
import { loadCheckpoint, saveCheckpoint, type CheckpointMeta } from './checkpoint.js';
import type { TrainEventHandler } from './events.js';
import { TEXT_MODEL_TABLE } from './models/table.js';
import { scheduledLr, type OptimizerConfig } from './optim.js';
import { readBestRun, writeRunReport } from './report.js';
import { exportModel, prepareRunFolder } from './run-folder.js';
import { parseTrainSpec, type TrainSpec, type TrainSpecInput } from './spec.js';
import { prepareTextData, readVocabFile, writeVocabFile, type TextDataOptions } from './text-data.js';
import { Trainer } from './trainer.js';

export { POOLINGS, TEXT_MODELS, type TextModelName } from './spec.js';

export interface EpochReport {
  epoch: number;
  trainLoss: number;
  trainAccuracy: number;
  validAccuracy: number;
  validF1Macro: number;
  validLoss?: number;
  seconds: number;
  examplesPerSecond: number;
}

/** What a run needs besides its spec: none of it is part of the (serialisable) spec. */
export interface TrainContext {
  /** Cancels between steps (and between evaluation batches): a checkpoint of the last finished step is written first. */
  signal?: AbortSignal;
  onEvent?: TrainEventHandler;
  /** Hub settings for hf://datasets sources and pretrained tokenizers. */
  hub?: HubConfig;
  /** The caller's name for a spec path in error messages (the CLI: "run.batchSize" → "--batch-size"). */
  optionName?: (path: string) => string;
}

export interface TrainResult {
  best: number;
  history: EpochReport[];
  out: string;
}

/** Where an interrupted epoch stood when its checkpoint was written (resume skips its first `batches`). */
interface PartialEpoch {
  epoch: number;
  batches: number;
  lossSum: number;
  correct: number;
  seen: number;
  seconds: number;
}

interface RunState {
  history: EpochReport[];
  sinceBest: number;
  spec: TrainSpec;
  partial?: PartialEpoch;
}

function dataOptions(spec: TrainSpec, context: TrainContext): TextDataOptions {
  const d = spec.data;
  const emit = context.onEvent ?? (() => {});
  return {
    data: d.source, valid: d.valid, text: d.text, label: d.label, labels: d.labels, format: d.format, encoding: d.encoding,
    emptyText: d.emptyText, split: d.split, validSplit: d.validSplit, validFraction: d.validFraction, seed: spec.run.seed,
    maxLength: d.maxLength, vocabSize: d.vocabSize, minCount: d.minCount, tokenizer: d.tokenizer, lowercase: d.lowercase,
    memoryBudget: d.memoryBudget, hub: context.hub,
    onWarning: (message) => emit({ type: 'log', level: 'warning', message }),
    onProgress: (done, total) => emit({ type: 'read', done, total }),
  };
}

/** The run's settings worth showing in report.html. */
function reportOptions(spec: TrainSpec, optimizer: OptimizerConfig): Record<string, unknown> {
  return {
    model: spec.model.name, data: spec.data.source, valid: spec.data.valid, epochs: spec.run.epochs, batch_size: spec.run.batchSize,
    optimizer: optimizer.name, lr: optimizer.lr, clip_norm: optimizer.clipNorm, max_length: spec.data.maxLength, vocab_size: spec.data.vocabSize,
    dim: spec.model.dim, hidden: spec.model.hidden, layers: spec.model.layers, dropout: spec.model.dropout, seed: spec.run.seed,
  };
}

export async function trainText(input: TrainSpecInput | TrainSpec, context: TrainContext = {}): Promise<TrainResult> {
  const spec = parseTrainSpec(input, context.optionName);
  const { signal } = context;
  const emit = context.onEvent ?? (() => {});
  const out = spec.output.dir;
  const entry = TEXT_MODEL_TABLE[spec.model.name];
  await prepareRunFolder(out);
  const resumed = spec.run.resume ? await loadCheckpoint(out) : undefined;
  const saved = resumed?.meta.run as Partial<RunState> | undefined;
  const { train, valid, vocab, labels } = await prepareTextData(dataOptions(spec, context), resumed ? await readVocabFile(out) : undefined);
  if (!resumed) await writeVocabFile(out, vocab, labels);
  if (train.ids.length === 0) throw geulError('DATA_INVALID', { path: spec.data.source, where: '', detail: 'no training examples left after the validation split' });
  const model = entry.build(spec.model, { vocab: vocab.size, classes: labels.length, maxLength: spec.data.maxLength });
  const optimizer: OptimizerConfig = {
    name: spec.optim.name, lr: spec.optim.lr ?? entry.lr, clipNorm: spec.optim.clipNorm ?? entry.clipNorm, momentum: spec.optim.momentum,
    weightDecay: spec.optim.weightDecay, schedule: spec.optim.schedule, warmup: spec.optim.warmup,
  };
  const { epochs, batchSize, seed, patience } = spec.run;
  const stepsPerEpoch = Math.ceil(train.ids.length / batchSize);
  const totalSteps = stepsPerEpoch * epochs;
  const history: EpochReport[] = saved?.history ?? [];
  let best = resumed?.meta.best ?? -1;
  let bestRun = resumed ? await readBestRun(out) : undefined;
  let sinceBest = Number(saved?.sinceBest ?? 0);
  const rng = new Rng(seed + 1);
  const startEpoch = resumed ? resumed.meta.epoch + 1 : 1;
  for (let e = 1; e < startEpoch; e++) batches(train, batchSize, rng); // replay the shuffles for identical batches
  // One session for the whole run: dropout masks come from (seed, step), fed per step, so resuming draws the same ones.
  const trainer = await Trainer.create(model, optimizer, { seed, dropoutSeed: seed * 1009 + 1, totalSteps, threads: spec.run.threads }, resumed?.state);
  const checkpoint = (meta: Omit<CheckpointMeta, 'tensors' | 'step'>) => saveCheckpoint(out, trainer.state, meta);
  let reason: 'completed' | 'patience' = 'completed';
  let lastEpoch = startEpoch - 1;
  try {
    for (let epoch = startEpoch; epoch <= epochs; epoch++) {
      if (patience !== undefined && sinceBest > patience) {
        reason = 'patience';
        break;
      }
      const partial = saved?.partial?.epoch === epoch ? saved.partial : undefined;
      emit({ type: 'start', epoch, epochs, steps: stepsPerEpoch, total: totalSteps, step: trainer.state.step, examples: train.ids.length, parameters: trainer.parameterCount });
      const started = performance.now() - (partial?.seconds ?? 0) * 1000;
      let { lossSum, correct, seen } = partial ?? { lossSum: 0, correct: 0, seen: 0 };
      const epochBatches = batches(train, batchSize, rng);
      const cancel = async (done: number) => {
        const progress: PartialEpoch = { epoch, batches: done, lossSum, correct, seen, seconds: (performance.now() - started) / 1000 };
        await checkpoint({ epoch: epoch - 1, best, run: { history, sinceBest, spec, partial: progress } satisfies RunState });
        emit({ type: 'done', reason: 'cancelled', step: trainer.state.step, epoch: epoch - 1, best, out });
        return geulError('CANCELLED');
      };
      for (let b = partial?.batches ?? 0; b < epochBatches.length; b++) {
        if (signal?.aborted) throw await cancel(b);
        const rows = epochBatches[b];
        const { features, labels: y } = tensors(train, rows);
        const lr = scheduledLr(optimizer, trainer.state.step, totalSteps);
        const { loss, logits } = await trainer.step(features, y);
        let ok = 0;
        rows.forEach((_, r) => (ok += Number(argmax(logits, r, labels.length) === Number(y[r]))));
        lossSum += loss * rows.length;
        correct += ok;
        seen += rows.length;
        const examplesPerSecond = seen / Math.max((performance.now() - started) / 1000, 1e-6);
        emit({ type: 'step', step: trainer.state.step, total: totalSteps, epoch, loss, accuracy: ok / rows.length, examples: rows.length, examples_per_s: examplesPerSecond, lr });
      }
      const seconds = (performance.now() - started) / 1000;
      let cancelled = false;
      const metrics = await evaluate(trainer, valid, batchSize, labels, () => {
        if (signal?.aborted) cancelled = true;
        if (cancelled) throw geulError('CANCELLED');
      }).catch(async (err: unknown) => {
        if (cancelled) throw await cancel(epochBatches.length);
        throw err;
      });
      const report: EpochReport = { epoch, trainLoss: lossSum / seen, trainAccuracy: correct / seen, validAccuracy: metrics.accuracy, validF1Macro: metrics.f1_macro, validLoss: metrics.loss, seconds, examplesPerSecond: seen / seconds };
      history.push(report);
      const improved = metrics.accuracy > best;
      if (improved) {
        best = metrics.accuracy;
        sinceBest = 0;
        await exportModel(out, spec.model.name, trainer, vocab, labels, spec.data.maxLength);
        bestRun = { epoch, metrics };
      } else sinceBest++;
      if (bestRun) await writeRunReport(out, { model: model.kind, epoch: bestRun.epoch, metrics: bestRun.metrics, history, options: reportOptions(spec, optimizer) });
      await checkpoint({ epoch, best, run: { history, sinceBest, spec } satisfies RunState });
      lastEpoch = epoch;
      emit({
        type: 'epoch', epoch, epochs, train_loss: report.trainLoss, train_accuracy: report.trainAccuracy, valid_loss: metrics.loss,
        valid_accuracy: metrics.accuracy, valid_f1_macro: metrics.f1_macro, seconds, examples_per_s: report.examplesPerSecond, best: improved,
      });
    }
  } finally {
    await trainer.release();
  }
  emit({ type: 'done', reason, step: trainer.state.step, epoch: lastEpoch, best, out });
  return { best, history, out };
}
