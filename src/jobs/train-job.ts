// The `train` job: a text-classification run (trainText) in the job's folder, resumed from its last checkpoint after
// a crash or restart; steps become progress and metrics, the run folder (model, metrics.json, report.html) the artifacts.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Type } from '../core/schema.js';
import { CHECKPOINT_FILE } from '../train/checkpoint.js';
import type { TrainEvent } from '../train/events.js';
import { trainText } from '../train/run.js';
import { TrainDataSpec, TrainModelSpec, TrainOptimSpec, TrainRunSpec } from '../train/spec.js';
import { defineJobType, type JobRunEvent } from './job-type.js';

/** The run spec without `output` (the job's folder) and `run.resume` (the queue decides). */
export const TrainJobParams = Type.Object({
  data: TrainDataSpec,
  model: TrainModelSpec,
  optim: Type.Optional(TrainOptimSpec),
  run: Type.Optional(Type.Omit(TrainRunSpec, ['resume'], { additionalProperties: false })),
}, { additionalProperties: false });

export const TRAIN_RUN_FOLDER = 'run';

/** A training event as the job's generic events (undefined: not worth storing). */
export function trainJobEvent(event: TrainEvent): JobRunEvent[] {
  switch (event.type) {
    case 'start': return [{ kind: 'progress', step: event.step, total: event.total }];
    case 'step': return [
      { kind: 'progress', step: event.step, total: event.total },
      { kind: 'metrics', step: event.step, values: { loss: event.loss, accuracy: event.accuracy, examples_per_s: event.examples_per_s, lr: event.lr } },
    ];
    case 'epoch': return [{
      kind: 'metrics', step: -1, values: {
        epoch: event.epoch, train_loss: event.train_loss, train_accuracy: event.train_accuracy, valid_loss: event.valid_loss,
        valid_accuracy: event.valid_accuracy, valid_f1_macro: event.valid_f1_macro,
      },
    }];
    case 'log': return [{ kind: 'log', level: event.level, message: event.message }];
    case 'done': return [{ kind: 'log', level: 'info', message: `training ${event.reason} at step ${event.step} (best validation accuracy ${event.best.toFixed(4)})` }];
    default: return [];
  }
}

export const trainJob = defineJobType({
  id: 'train',
  description: 'Train a text classifier (the spec of `geul train`); artifacts: the run folder with the exported model',
  params: TrainJobParams,
  fileFields: ['data.source', 'data.valid'],
  // A pretrained tokenizer is a model folder: over HTTP a catalog model, never any folder of the server's.
  checkpointFields: ['data.tokenizer'],
  async run(params, { signal, emit, workDir, resume, config }) {
    const out = join(workDir, TRAIN_RUN_FOLDER);
    // Resume only from a checkpoint: an attempt that died before its first one starts over (the same seeds, the same run).
    const fromCheckpoint = resume && existsSync(join(out, CHECKPOINT_FILE));
    if (resume) emit({ kind: 'log', level: 'info', message: fromCheckpoint ? 'resuming from the last checkpoint' : 'no checkpoint yet: starting over' });
    await trainText({ ...params, run: { ...params.run, resume: fromCheckpoint }, output: { dir: out } }, {
      signal,
      // The server's hub settings (cache, offline, token) for hf://datasets sources and hub tokenizers.
      hub: config,
      onEvent: (event) => {
        for (const e of trainJobEvent(event)) emit(e);
      },
    });
  },
});
