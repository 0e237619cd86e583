// Batch jobs that run a registry task over a file (classify, translate): the task's own request schema supplies the
// options (one params schema per job type, validated like POST /v1/<task>), the batch file runner the chunks and resume.
import type { TObject } from 'typebox';
import { Type } from '../core/schema.js';
import { ModelStore } from '../runtime/models.js';
import { runTask } from '../tasks/run.js';
import type { Task } from '../tasks/types.js';
import { BatchInputFields, runBatchFile, type BatchFormat } from './batch-file.js';
import { defineJobType, type JobType } from './job-type.js';

export interface TaskFileJobSpec {
  id: string;
  description: string;
  task: Task;
  /** The published output's file name. */
  output: string;
  /** One task result → the fields of its output line. */
  line(result: unknown): Record<string, unknown>;
}

/** The params of a task file job: the batch input fields, `model`, and the task's options (its request minus model/inputs). */
export function taskFileParams(task: Task): TObject {
  return Type.Object({
    ...BatchInputFields,
    model: Type.Optional(Type.String({ minLength: 1, maxLength: 512, description: `Model (as for POST /v1/${task.id})` })),
    ...Type.Omit(task.request, ['model', 'inputs']).properties,
  }, { additionalProperties: false });
}

export function defineTaskFileJob(spec: TaskFileJobSpec): JobType {
  return defineJobType({
    id: spec.id,
    description: spec.description,
    params: taskFileParams(spec.task),
    fileFields: ['input'],
    modelFields: { model: spec.task.id },
    async run(params, context) {
      const { input, format, text, id, chunkSize, window, ...options } = params as Record<string, unknown> & { input: string; format?: BatchFormat; text: string; id?: string; chunkSize: number; window?: number };
      const models = new ModelStore(context.config);
      await runBatchFile({
        input, format, text, id, chunkSize, window, output: spec.output, allowEmpty: true, item: spec.task.item,
        async process(rows, signal) {
          const results = await runTask(spec.task, { ...options, inputs: rows.map((r) => r.text) }, { models, signal }) as unknown[];
          return results.map(spec.line);
        },
      }, context);
    },
  });
}
