// The `finetune` job: a Hugging Face encoder fine-tuned for text classification (finetuneEncoder) in the job's folder,
// resumed from its last checkpoint after a crash or restart; steps become progress and metrics, the run folder (the
// exported model, checkpoint.bin, metrics.json, report.html) the artifacts.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Type } from '../core/schema.js';
import { CHECKPOINT_FILE } from '../train/checkpoint.js';
import { finetuneEncoder } from '../train/pretrained/finetune.js';
import { FinetuneDataSpec, FinetuneModelSpec, FinetuneOptimSpec, FinetuneRunSpec } from '../train/pretrained/finetune-spec.js';
import { defineJobType } from './job-type.js';
import { trainJobEvent } from './train-job.js';

/** The run folder inside the job's folder (as for `train`). */
export const FINETUNE_RUN_FOLDER = 'run';

/** The `geul finetune` spec without `output` (the job's folder) and `run.resume` (the queue decides). */
export const FinetuneJobParams = Type.Object({
  data: FinetuneDataSpec,
  model: FinetuneModelSpec,
  optim: Type.Optional(FinetuneOptimSpec),
  run: Type.Optional(Type.Omit(FinetuneRunSpec, ['resume'], { additionalProperties: false })),
}, { additionalProperties: false });

export const finetuneJob = defineJobType({
  id: 'finetune',
  description: 'Fine-tune a pretrained encoder (BERT, DistilBERT, RoBERTa) for text classification (the spec of `geul finetune`); artifacts: the run folder with the Hugging Face model',
  params: FinetuneJobParams,
  fileFields: ['data.source', 'data.valid'],
  checkpointFields: ['model.base'],
  async run(params, { signal, emit, workDir, resume, config }) {
    const out = join(workDir, FINETUNE_RUN_FOLDER);
    // Resume only from a checkpoint: an attempt that died before its first one starts over (same seed, same run).
    const fromCheckpoint = resume && existsSync(join(out, CHECKPOINT_FILE));
    if (resume) emit({ kind: 'log', level: 'info', message: fromCheckpoint ? 'resuming from the last checkpoint' : 'no checkpoint yet: starting over' });
    await finetuneEncoder({ ...params, run: { ...params.run, resume: fromCheckpoint }, output: { dir: out } }, {
      signal,
      hub: config,
      onEvent: (event) => {
        for (const e of trainJobEvent(event)) emit(e);
      },
    });
  },
});
