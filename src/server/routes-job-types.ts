// GET /v1/jobs/types (each job type's params JSON Schema, what the web UI builds its training forms from) and
// GET /v1/datasets (the operator's allow-list `server.datasets`, which jobs name as "dataset:NAME").
import { existsSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { geulError } from '../core/errors.js';
import { Type } from '../core/schema.js';
import { LocalArtifactStore, type ArtifactStore } from '../jobs/artifact-store.js';
import { FINAL_STATES, type JobQueue, type JobRecord } from '../jobs/queue.js';
import { JOB_TYPES } from '../jobs/table.js';
import { clientSchema } from '../tasks/request.js';
import type { ServerContext } from './context.js';
import { ErrorBody } from './errors.js';
import type { ProducedModel } from './models.js';

/** The prefix a file field's value takes to name a dataset of the allow-list. */
export const DATASET_PREFIX = 'dataset:';

const JobTypeInfo = Type.Object({
  id: Type.String(),
  description: Type.String(),
  params_schema: Type.Record(Type.String(), Type.Unknown(), { description: 'JSON Schema of the job\'s `params` (fields with a default are optional)' }),
  file_fields: Type.Array(Type.String(), { description: 'Dotted params fields that take a file id from POST /v1/files (or "dataset:NAME")' }),
  model_fields: Type.Array(Type.String(), { description: 'Dotted params fields that name a catalog model (GET /v1/models) to start from' }),
  submit_via: Type.Union([Type.String(), Type.Null()], { description: 'The route that creates jobs of this type when it is not POST /v1/jobs' }),
});
const Dataset = Type.Object({
  name: Type.String({ description: 'What a job names it by: "dataset:<name>"' }),
  filename: Type.String({ description: 'The file\'s name (never its folder)' }),
  bytes: Type.Union([Type.Integer(), Type.Null()], { description: 'Its size; null when the file is not there' }),
});
const errors = { 401: ErrorBody, 403: ErrorBody };

/** The path of an allow-listed dataset named "dataset:NAME"; a name not on the list is a 400 naming the field. */
export function datasetPath(ctx: ServerContext, value: string, field: string): string {
  const name = value.slice(DATASET_PREFIX.length);
  const path = Object.hasOwn(ctx.config.server.datasets, name) ? ctx.config.server.datasets[name] : undefined;
  if (path === undefined) throw geulError('INVALID_INPUT', { detail: `${field}: no dataset "${name.slice(0, 64)}" on this server (GET /v1/datasets lists them)` });
  return path;
}

export function registerJobTypeRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const jobsScope = ctx.requireScope('jobs');
  app.get('/v1/jobs/types', {
    preHandler: jobsScope,
    schema: { summary: 'The job types, with their params JSON Schemas', tags: ['jobs'], response: { 200: Type.Object({ object: Type.Literal('list'), data: Type.Array(JobTypeInfo) }), ...errors } },
  }, async () => ({
    object: 'list' as const,
    data: JOB_TYPES.map((t) => ({
      id: t.id, description: t.description, params_schema: clientSchema(t.params), file_fields: t.fileFields,
      model_fields: [...(t.checkpointFields ?? []), ...Object.keys(t.modelFields ?? {})], submit_via: t.submitVia ?? null,
    })),
  }));

  app.get('/v1/datasets', {
    preHandler: jobsScope,
    schema: { summary: 'Server-side training data the operator allowed (`server.datasets`)', tags: ['jobs'], response: { 200: Type.Object({ object: Type.Literal('list'), data: Type.Array(Dataset) }), ...errors } },
  }, async () => ({
    object: 'list' as const,
    data: Object.entries(ctx.config.server.datasets).map(([name, path]) => {
      let bytes: number | null = null;
      try {
        bytes = statSync(path).size;
      } catch {
        // Missing or unreadable: listed, with no size (the job would fail with FILE_NOT_FOUND).
      }
      return { name, filename: basename(path), bytes };
    }),
  }));
}

/** Job types whose run folder (`run/`) is a model the task routes can serve. */
const MODEL_JOBS = ['train', 'finetune'];

/**
 * Makes the models of succeeded train/finetune jobs part of the catalog, named by their job id and visible to the
 * job's owner: those already done at start (and on each GET /v1/models), and each as its job succeeds. Only a local
 * artifact store has the folders the workers load; with S3 they stay downloads.
 */
export function watchProducedModels(ctx: ServerContext, queue: JobQueue, artifacts: ArtifactStore): () => void {
  if (!(artifacts instanceof LocalArtifactStore)) return () => {};
  const root = artifacts.root;
  const modelOf = (job: JobRecord | undefined): ProducedModel | undefined => {
    if (!job || job.state !== 'succeeded' || !MODEL_JOBS.includes(job.type)) return undefined;
    const path = join(root, job.id, 'run');
    return existsSync(join(path, 'config.json')) ? { name: job.id, path, owner: job.owner } : undefined;
  };
  ctx.inference.catalog.setProducer(async () => {
    const out: ProducedModel[] = [];
    for (const type of MODEL_JOBS) {
      let after: string | undefined;
      for (;;) {
        const page = await queue.list({ state: 'succeeded', type, limit: 100, after });
        for (const job of page.data) {
          const model = modelOf(job);
          if (model) out.push(model);
        }
        if (!page.hasMore || page.data.length === 0) break;
        after = page.data.at(-1)!.id;
      }
    }
    return out;
  });
  // Every event of every job is a change: a job once seen finished is not looked up again.
  const settled = new Set<string>();
  return queue.onChange((id) => {
    if (settled.has(id)) return;
    queue.get(id).then((job) => {
      const model = modelOf(job);
      if (model) ctx.inference.catalog.addProduced(model);
      if (job && FINAL_STATES.includes(job.state)) settled.add(id);
    }, () => {});
  });
}
