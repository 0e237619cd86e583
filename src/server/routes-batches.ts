// /v1/batches as OpenAI's Batch API, so the SDKs work unchanged: create (the input checked line by line, the valid
// lines charged to the key's quota), get, list (cursor), cancel. Each batch is a job of type "batch" (GET /v1/jobs).
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { geulError } from '../core/errors.js';
import { Type, parseLoose, parseWith } from '../core/schema.js';
import { BATCH_ENDPOINTS, BATCH_ERRORS, BATCH_OUTPUT, readBatchState } from '../jobs/batch-job.js';
import { BATCH_STATUSES, batchFileId, batchIdOf, batchObject, jobIdOf } from '../jobs/batch-object.js';
import type { JobRecord } from '../jobs/queue.js';
import { jobWorkDir, jobsDir } from '../jobs/runner.js';
import type { JobService } from '../jobs/service.js';
import { randomId } from '../jobs/sqlite-queue.js';
import { clientSchema } from '../tasks/request.js';
import { prepareBatchInput } from './batch-input.js';
import type { ServerContext } from './context.js';
import { OpenAIErrorBody } from './errors.js';
import { callerOf, visibleFile } from './routes-files.js';

const CreateBatch = Type.Object({
  input_file_id: Type.String({ minLength: 1, description: 'A JSONL file uploaded with purpose "batch": one {custom_id, method: "POST", url, body} per line' }),
  endpoint: Type.Enum(BATCH_ENDPOINTS, { description: 'The url every line names' }),
  completion_window: Type.Literal('24h', { description: 'Only "24h", as OpenAI' }),
  metadata: Type.Optional(Type.Union([Type.Record(Type.String({ maxLength: 64 }), Type.String({ maxLength: 512 }), { maxProperties: 16 }), Type.Null()])),
}, { description: 'OpenAI-compatible batch request' });
const Counts = Type.Object({ total: Type.Integer(), completed: Type.Integer(), failed: Type.Integer() });
const Nullable = (schema: ReturnType<typeof Type.Integer> | ReturnType<typeof Type.String>) => Type.Union([schema, Type.Null()]);
const BatchObject = Type.Object({
  id: Type.String(), object: Type.Literal('batch'), endpoint: Type.String(), errors: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
  input_file_id: Type.String(), completion_window: Type.String(), status: Type.Enum(BATCH_STATUSES),
  output_file_id: Nullable(Type.String()), error_file_id: Nullable(Type.String()), created_at: Type.Integer(), in_progress_at: Nullable(Type.Integer()),
  expires_at: Type.Integer(), finalizing_at: Nullable(Type.Integer()), completed_at: Nullable(Type.Integer()), failed_at: Nullable(Type.Integer()),
  expired_at: Type.Null(), cancelling_at: Nullable(Type.Integer()), cancelled_at: Nullable(Type.Integer()), request_counts: Counts,
  metadata: Type.Union([Type.Record(Type.String(), Type.String()), Type.Null()]),
}, { description: 'OpenAI\'s Batch object' });
const BatchList = Type.Object({ object: Type.Literal('list'), data: Type.Array(BatchObject), first_id: Nullable(Type.String()), last_id: Nullable(Type.String()), has_more: Type.Boolean() });
const ListQuery = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
  after: Type.Optional(Type.String({ minLength: 1, description: 'A batch id: the page after it (newest first)' })),
});
const IdParams = Type.Object({ id: Type.String() });
const errors = { 400: OpenAIErrorBody, 401: OpenAIErrorBody, 403: OpenAIErrorBody, 404: OpenAIErrorBody, 429: OpenAIErrorBody };

export function registerBatchRoutes(app: FastifyInstance, ctx: ServerContext, service: JobService, visibleJob: (request: FastifyRequest, id: string) => Promise<JobRecord>): void {
  const { queue, files, runner } = service;
  const jobsScope = ctx.requireScope('jobs');

  /** The batch's job if the caller may see it (404 otherwise, as for jobs). */
  const visibleBatch = async (request: FastifyRequest, id: string): Promise<JobRecord> => {
    const jobId = jobIdOf(id);
    const job = jobId ? await visibleJob(request, jobId).catch(() => undefined) : undefined;
    if (!job || job.type !== 'batch') throw geulError('NOT_FOUND', { what: `Batch "${id.slice(0, 64)}"` });
    return job;
  };

  /** The batch object; its finished output and error files become files of its owner (fixed ids, added once). */
  const batchJson = async (job: JobRecord) => {
    const dir = jobWorkDir(ctx.config, job.id);
    const fileId = async (which: 'output' | 'errors', name: string): Promise<string | null> => {
      const id = batchFileId(job.id, which);
      if (await files.get(id)) return id;
      const info = await stat(join(dir, name)).catch(() => undefined);
      if (!info?.isFile() || info.size === 0) return null;
      await files.ensure({ id, owner: job.owner, purpose: 'batch_output', filename: `${batchIdOf(job.id)}_${which === 'output' ? 'output' : 'error'}.jsonl`, bytes: info.size, path: join(dir, name) });
      return id;
    };
    const final = job.state === 'succeeded' || job.state === 'failed' || job.state === 'cancelled';
    const output = final ? await fileId('output', BATCH_OUTPUT) : null;
    const errorsId = final ? await fileId('errors', BATCH_ERRORS) : null;
    return batchObject(job, await readBatchState(dir), { output, errors: errorsId });
  };

  app.post('/v1/batches', {
    preHandler: jobsScope,
    schema: {
      summary: 'Create a batch', tags: ['batches'], body: clientSchema(CreateBatch), response: { 200: BatchObject, ...errors },
      description: 'Checks every line of the input file now (a bad line goes to the error file, it does not fail the batch), charges the valid lines to the key\'s quota as their requests would be, and queues a job of type "batch".',
    },
  }, async (request) => {
    const body = parseWith(CreateBatch, request.body ?? {}, 'request');
    let input;
    try {
      input = await visibleFile(ctx, files, request, body.input_file_id);
    } catch {
      throw geulError('INVALID_INPUT', { detail: `input_file_id: no file "${body.input_file_id.slice(0, 64)}" (upload it with POST /v1/files, purpose "batch")` });
    }
    if (input.purpose !== 'batch') throw geulError('INVALID_INPUT', { detail: `input_file_id: the file's purpose is "${input.purpose}", not "batch"` });
    const prepared = join(jobsDir(ctx.config), 'batches', `${randomId('input_')}.jsonl`);
    const counted = await prepareBatchInput(ctx, input.path, body.endpoint, prepared, callerOf(ctx, request));
    const discard = () => rm(prepared, { force: true });
    if (counted.total === 0) {
      await discard();
      throw geulError('INVALID_INPUT', { detail: 'input_file_id: the file holds no request lines' });
    }
    const params = { input_file_id: input.id, endpoint: body.endpoint, completion_window: body.completion_window, ...(body.metadata !== undefined && { metadata: body.metadata }), total: counted.total, chunkSize: 32 };
    let job: JobRecord;
    try {
      // Every valid line costs what its request would: one charge for all of them, so a batch is admitted whole or not at all.
      await ctx.guard.charge(request, counted.chars, counted.tokens);
      // The runner gives back what lines that fail while running were charged (JobService's keys), to this key and day.
      const charge = ctx.guard.chargeOf(request);
      job = await queue.submit({ type: 'batch', params, runParams: { ...params, input_file_id: prepared, ...(charge && { charge }) }, owner: callerOf(ctx, request).owner, maxPending: ctx.guard.enabled ? ctx.config.jobs.maxPendingPerKey : undefined });
    } catch (err) {
      await ctx.guard.refund(request);
      await discard();
      throw err;
    }
    return batchJson(job);
  });

  app.get('/v1/batches/:id', {
    preHandler: jobsScope, schema: { summary: 'Get a batch', tags: ['batches'], params: IdParams, response: { 200: BatchObject, ...errors } },
  }, async (request) => batchJson(await visibleBatch(request, (request.params as { id: string }).id)));

  app.get('/v1/batches', {
    preHandler: jobsScope,
    schema: { summary: 'List batches', description: 'Newest first; page with `after` while `has_more`.', tags: ['batches'], querystring: clientSchema(ListQuery), response: { 200: BatchList, ...errors } },
  }, async (request) => {
    const query = parseLoose(ListQuery, request.query ?? {}, 'query');
    const { owner, admin } = callerOf(ctx, request);
    const after = query.after !== undefined ? (await visibleBatch(request, query.after)).id : undefined;
    const page = await queue.list({ owner: admin ? undefined : owner, type: 'batch', limit: query.limit, after });
    const data = await Promise.all(page.data.map(batchJson));
    return { object: 'list', data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: page.hasMore };
  });

  app.post('/v1/batches/:id/cancel', {
    preHandler: jobsScope,
    schema: { summary: 'Cancel a batch', description: 'A waiting batch is cancelled at once; a running one stops after its chunk ("cancelling"), keeping what it answered.', tags: ['batches'], params: IdParams, response: { 200: BatchObject, ...errors } },
  }, async (request) => {
    const job = await visibleBatch(request, (request.params as { id: string }).id);
    const updated = (await queue.requestCancel(job.id)) ?? job;
    runner.cancel(job.id);
    return batchJson(updated);
  });
}
