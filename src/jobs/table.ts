// The one table of job types: POST /v1/jobs validation, OpenAPI, the CLI and the runners all read it.
// Adding a type is one defineJobType() file and one line here.
import { geulError } from '../core/errors.js';
import { batchJob } from './batch-job.js';
import { classifyJob } from './classify-job.js';
import { embedJob } from './embed-job.js';
import { finetuneJob } from './finetune-job.js';
import type { JobType } from './job-type.js';
import { pretrainJob } from './pretrain-job.js';
import { trainJob } from './train-job.js';
import { translateJob } from './translate-job.js';
import { word2vecJob } from './word2vec-job.js';

export const JOB_TYPES: readonly JobType[] = [trainJob, finetuneJob, pretrainJob, word2vecJob, embedJob, classifyJob, translateJob, batchJob] as unknown as JobType[];

export function getJobType(id: string): JobType {
  const type = JOB_TYPES.find((t) => t.id === id);
  if (!type) throw geulError('INVALID_INPUT', { detail: `type: unknown job type "${id}" (known: ${JOB_TYPES.map((t) => t.id).join(', ')})` });
  return type;
}
