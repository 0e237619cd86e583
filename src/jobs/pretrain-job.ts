// The `pretrain` job: masked-LM pre-training (pretrainEncoder) in the job's folder, resumed from its last checkpoint
// after a crash or restart; steps become progress and metrics, evaluations metrics, and the run folder (a Hugging Face
// BertForMaskedLM that a `finetune` job takes as its base, checkpoint.bin, metrics.json) the artifacts.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { geulError } from '../core/errors.js';
import { Type } from '../core/schema.js';
import { CHECKPOINT_FILE } from '../train/checkpoint.js';
import { pretrainEncoder } from '../train/pretrained/pretrain.js';
import type { PretrainEvent } from '../train/pretrained/pretrain-events.js';
import { PretrainDataSpec, PretrainMaskingSpec, PretrainModelSpec, PretrainOptimSpec, PretrainRunSpec, parsePretrainSpec } from '../train/pretrained/pretrain-spec.js';
import { defineJobType, type JobRunEvent } from './job-type.js';

export const PRETRAIN_RUN_FOLDER = 'run';

/** The `geul pretrain` spec without `output` (the job's folder) and `run.resume` (the queue decides). */
export const PretrainJobParams = Type.Object({
  data: PretrainDataSpec,
  model: PretrainModelSpec,
  masking: Type.Optional(PretrainMaskingSpec),
  optim: Type.Optional(PretrainOptimSpec),
  run: Type.Optional(Type.Omit(PretrainRunSpec, ['resume'], { additionalProperties: false })),
}, { additionalProperties: false });

/** A pre-training event as the job's generic events (vocabulary and corpus reading are not the run's steps). */
export function pretrainJobEvent(event: PretrainEvent): JobRunEvent[] {
  switch (event.type) {
    case 'start': return [
      { kind: 'progress', step: event.step, total: event.total },
      { kind: 'log', level: 'info', message: `${event.sequences} training sequences (${event.tokens} tokens), ${event.held_out_sequences} held out; ${event.parameters} parameters, vocabulary ${event.vocab_size}` },
    ];
    case 'step': return [
      { kind: 'progress', step: event.step, total: event.total },
      { kind: 'metrics', step: event.step, values: { loss: event.loss, lr: event.lr, tokens_per_s: event.tokens_per_s } },
    ];
    // Stored always (step -1 bypasses the 1% stride), with the evaluation's own step among the values.
    case 'eval': return [{ kind: 'metrics', step: -1, values: { step: event.step, train_loss: event.train_loss, mlm_loss: event.mlm_loss, masked_accuracy: event.masked_accuracy } }];
    // Vocabulary training comes before step 0: the end of its merges is a log line (its size is logged after).
    case 'vocab': return event.stage === 'merge' && event.done === event.total ? [{ kind: 'log', level: 'info', message: `vocabulary: ${event.total} WordPiece merges done` }] : [];
    case 'log': return [{ kind: 'log', level: event.level, message: event.message }];
    case 'done': return [{ kind: 'log', level: 'info', message: `pre-training ${event.reason} at step ${event.step}` }];
    default: return [];
  }
}

export const pretrainJob = defineJobType({
  id: 'pretrain',
  description: 'Pre-train a BERT encoder with masked-LM (the spec of `geul pretrain`), from scratch or from a checkpoint; artifacts: the run folder with the Hugging Face model',
  params: PretrainJobParams,
  fileFields: ['data.sources'],
  checkpointFields: ['model.base', 'model.tokenizer'],
  // The choices that exclude each other (size or base, vocabSize or tokenizer) are checked at submit, not mid-run.
  validate: (params) => void parsePretrainSpec({ ...params, output: { dir: PRETRAIN_RUN_FOLDER } }, (path) => `params.${path}`),
  async run(params, { signal, emit, workDir, resume, config }) {
    const out = join(workDir, PRETRAIN_RUN_FOLDER);
    const fromCheckpoint = resume && existsSync(join(out, CHECKPOINT_FILE));
    if (resume) emit({ kind: 'log', level: 'info', message: fromCheckpoint ? 'resuming from the last checkpoint' : 'no checkpoint yet: starting over' });
    const result = await pretrainEncoder({ ...params, run: { ...params.run, resume: fromCheckpoint }, output: { dir: out } }, {
      signal,
      hub: config,
      onEvent: (event) => {
        for (const e of pretrainJobEvent(event)) emit(e);
      },
    });
    // pretrainEncoder returns after its cancel checkpoint; a job reports the cancel as such.
    if (result.reason === 'cancelled') throw geulError('CANCELLED');
  },
});
