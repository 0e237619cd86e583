// /v1/jobs: submit, list (cursor), get, cancel, watch (SSE with replay) and download the artifacts of durable jobs
// (through the artifact store); jobs belong to the key that made them. The file routes (routes-files.ts) and the Batch
// API (routes-batches.ts) share its service.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { geulError } from '../core/errors.js';
import { parseModelRef } from '../core/model-id.js';
import { Type, parseLoose, parseWith } from '../core/schema.js';
import { openArtifactStore } from '../jobs/artifact-store.js';
import { sendDownload } from './download.js';
import { safeFilename } from '../jobs/files.js';
import { JobRequest } from '../jobs/job-type.js';
import { parseJobParams, setValueAt, valueAt } from '../jobs/params.js';
import { FINAL_STATES, JOB_STATES, type JobRecord, type JobState } from '../jobs/queue.js';
import { JobService } from '../jobs/service.js';
import { JOB_TYPES, getJobType } from '../jobs/table.js';
import { getTask } from '../tasks/registry.js';
import { clientSchema } from '../tasks/request.js';
import type { ServerContext } from './context.js';
import { ErrorBody } from './errors.js';
import { registerBatchRoutes } from './routes-batches.js';
import { callerOf, registerFileRoutes, seconds } from './routes-files.js';
import { DATASET_PREFIX, datasetPath, registerJobTypeRoutes, watchProducedModels } from './routes-job-types.js';
import { startSse } from './sse.js';

const FILE_ID = /^file-[A-Za-z0-9]{24}$/;

const Artifact = Type.Object({ name: Type.String(), bytes: Type.Integer(), url: Type.String() });
const JobObject = Type.Object({
  id: Type.String(), object: Type.Literal('job'), type: Type.String(), state: Type.Enum(JOB_STATES), params: Type.Record(Type.String(), Type.Unknown()),
  progress: Type.Object({ step: Type.Integer(), total: Type.Union([Type.Integer(), Type.Null()]), eta_s: Type.Union([Type.Number(), Type.Null()]) }),
  created_at: Type.Integer({ description: 'Unix seconds' }), started_at: Type.Union([Type.Integer(), Type.Null()]), finished_at: Type.Union([Type.Integer(), Type.Null()]),
  error: Type.Union([Type.Object({ code: Type.String(), message: Type.String() }), Type.Null()]),
  artifacts: Type.Array(Artifact),
}, { description: 'A durable job' });
const JobList = Type.Object({ object: Type.Literal('list'), data: Type.Array(JobObject), has_more: Type.Boolean() });
const ListQuery = Type.Object({
  state: Type.Optional(Type.Enum(JOB_STATES)),
  type: Type.Optional(Type.String({ minLength: 1 })),
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
  after: Type.Optional(Type.String({ minLength: 1, description: 'A job id: the page after it (newest first)' })),
});
const IdParams = Type.Object({ id: Type.String() });
// Fields with defaults are optional to clients (clientSchema), as on the task routes.
const SubmitBody = clientSchema(Type.Union(JOB_TYPES.filter((t) => !t.submitVia).map((t) => Type.Object({ type: Type.Literal(t.id), params: t.params }, { description: t.description }))));
const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 429: ErrorBody };

export async function registerJobRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  // Artifacts are read through the store finished jobs publish to (config.jobs.artifacts), wherever they ran; a store
  // that cannot work stops the start here, before any job runs.
  const artifacts = await openArtifactStore(ctx.config);
  await artifacts.check().catch(async (err: unknown) => {
    await artifacts.close();
    throw err;
  });
  app.addHook('onClose', async () => artifacts.close());
  app.log.info({ artifacts: artifacts.description }, 'job artifacts are published to and read from this store');
  const service = await JobService.open(ctx.config, {
    onError: (err) => app.log.error({ err }, 'a job runner could not record to the queue'),
    perOwnerLimit: ctx.guard.enabled,
    keys: ctx.keys,
  });
  const { queue, files, runner } = service;
  const requeued = await service.start();
  if (requeued > 0) app.log.warn({ requeued }, 'jobs left running by the last server process were re-queued; they resume');
  app.addHook('onClose', async () => service.close());
  const unwatch = watchProducedModels(ctx, queue, artifacts);
  await ctx.inference.catalog.refresh();
  app.addHook('onClose', async () => unwatch());
  const jobsScope = ctx.requireScope('jobs');

  const caller = (request: FastifyRequest) => callerOf(ctx, request);
  /** The job if the caller may see it; others' jobs are 404, as if they did not exist. */
  const visibleJob = async (request: FastifyRequest, id: string): Promise<JobRecord> => {
    const job = await queue.get(id);
    const { owner, admin } = caller(request);
    if (!job || (!admin && job.owner !== owner)) throw geulError('NOT_FOUND', { what: `Job "${id.slice(0, 64)}"` });
    return job;
  };
  const jobJson = async (job: JobRecord) => {
    const elapsed = job.startedAt !== null ? Date.now() - job.startedAt : 0;
    // Never negative: a step past an estimated total, or a worker's clock ahead of this server's, means "about done".
    const eta = job.state === 'running' && job.total && job.step > 0 ? Math.max(0, Math.round((elapsed / 1000) * ((job.total - job.step) / job.step))) : null;
    const published = job.state === 'succeeded' || !artifacts.onlyPublished ? await artifacts.list(job.id) : [];
    return {
      id: job.id, object: 'job' as const, type: job.type, state: job.state, params: job.params,
      progress: { step: job.step, total: job.total, eta_s: eta }, created_at: seconds(job.createdAt)!, started_at: seconds(job.startedAt),
      finished_at: seconds(job.finishedAt), error: job.error,
      artifacts: published.map((a) => ({ ...a, url: `/v1/jobs/${job.id}/artifacts/${a.name.split('/').map(encodeURIComponent).join('/')}` })),
    };
  };

  /**
   * A training job's base checkpoint or tokenizer: a catalog model (--models) by name; for admin keys (and with auth
   * off) any path or hub id; for others a hub id only with --allow-hub-models, and never a name that is a server folder.
   */
  const checkpointRef = (value: string, name: string, admin: boolean): string => {
    const folder = ctx.inference.catalog.localFolder(value);
    if (folder) return folder;
    if (admin) return value;
    const hub = (() => {
      try {
        return parseModelRef(value).kind === 'hub';
      } catch {
        return false;
      }
    })();
    if (hub && ctx.config.server.allowHubModels) return value;
    throw geulError('INVALID_INPUT', { detail: `${name}: no model "${value.slice(0, 200)}" on this server (GET /v1/models lists them${hub ? '; hub ids need --allow-hub-models' : ''})` });
  };

  /** Params → what the runner gets: file ids become paths (only the owner's files), model names resolve as for tasks. */
  const runParams = async (request: FastifyRequest, typeId: string, params: Record<string, unknown>): Promise<Record<string, unknown>> => {
    const type = getJobType(typeId);
    const { owner, admin } = caller(request);
    const resolved = structuredClone(params);
    const resolveFile = async (value: unknown, name: string): Promise<unknown> => {
      if (typeof value !== 'string') return value;
      if (FILE_ID.test(value)) {
        const file = await files.get(value);
        if (!file || (!admin && file.owner !== owner)) throw geulError('INVALID_INPUT', { detail: `${name}: no file "${value}" (upload it with POST /v1/files)` });
        return file.path;
      }
      // The operator's allow-list (server.datasets) is open to every key that may submit jobs.
      if (value.startsWith(DATASET_PREFIX)) return datasetPath(ctx, value, name);
      // Paths on the server's disk are for its operator: with auth on, only admin keys may name them.
      if (ctx.guard.enabled && !admin && !value.startsWith('hf://')) throw geulError('INVALID_INPUT', { detail: `${name}: must be a file id from POST /v1/files` });
      return value;
    };
    for (const field of type.fileFields) {
      const value = valueAt(resolved, field);
      if (value === undefined) continue;
      setValueAt(resolved, field, Array.isArray(value) ? await Promise.all(value.map((v, i) => resolveFile(v, `params.${field}.${i}`))) : await resolveFile(value, `params.${field}`));
    }
    for (const field of type.checkpointFields ?? []) {
      const value = valueAt(resolved, field);
      if (typeof value === 'string') setValueAt(resolved, field, checkpointRef(value, `params.${field}`, admin));
    }
    for (const [field, taskId] of Object.entries(type.modelFields ?? {})) {
      setValueAt(resolved, field, ctx.inference.catalog.resolve(getTask(taskId)!, valueAt(resolved, field) as string | undefined, { owner, admin }));
    }
    return resolved;
  };

  app.post('/v1/jobs', {
    preHandler: jobsScope,
    schema: { summary: 'Submit a job', description: 'Queues a training or batch job; it runs in a child process and survives server restarts.', tags: ['jobs'], body: SubmitBody, response: { 201: JobObject, ...errors } },
  }, async (request, reply) => {
    const body = parseWith(JobRequest, request.body ?? {}, 'request');
    const type = getJobType(body.type);
    if (type.submitVia) throw geulError('INVALID_INPUT', { detail: `type: "${type.id}" jobs are created with ${type.submitVia}` });
    const params = parseJobParams(type, body.params);
    const { owner } = caller(request);
    const job = await queue.submit({ type: type.id, params, runParams: await runParams(request, type.id, params), owner, maxPending: ctx.guard.enabled ? ctx.config.jobs.maxPendingPerKey : undefined });
    return reply.status(201).send(await jobJson(job));
  });

  app.get('/v1/jobs', {
    preHandler: jobsScope,
    schema: { summary: 'List jobs', description: 'Newest first; page with `after` (the last id of the previous page) while `has_more`.', tags: ['jobs'], querystring: clientSchema(ListQuery), response: { 200: JobList, ...errors } },
  }, async (request) => {
    const query = parseLoose(ListQuery, request.query ?? {}, 'query');
    const { owner, admin } = caller(request);
    if (query.after !== undefined) await visibleJob(request, query.after);
    const page = await queue.list({ owner: admin ? undefined : owner, state: query.state as JobState | undefined, type: query.type, limit: query.limit, after: query.after });
    return { object: 'list', data: await Promise.all(page.data.map(jobJson)), has_more: page.hasMore };
  });

  app.get('/v1/jobs/:id', {
    preHandler: jobsScope, schema: { summary: 'Get a job', tags: ['jobs'], params: IdParams, response: { 200: JobObject, ...errors } },
  }, async (request) => jobJson(await visibleJob(request, (request.params as { id: string }).id)));

  app.post('/v1/jobs/:id/cancel', {
    preHandler: jobsScope,
    schema: { summary: 'Cancel a job', description: 'A queued job is cancelled at once; a running one is aborted (training checkpoints first).', tags: ['jobs'], params: IdParams, response: { 200: JobObject, ...errors } },
  }, async (request) => {
    const job = await visibleJob(request, (request.params as { id: string }).id);
    const updated = (await queue.requestCancel(job.id)) ?? job;
    runner.cancel(job.id);
    return jobJson(updated);
  });

  app.get('/v1/jobs/:id/events', {
    preHandler: jobsScope,
    schema: { summary: 'Watch a job (Server-Sent Events)', description: 'Events `progress`, `metrics`, `log` and `state`, each with an `id:`; reconnect with `Last-Event-ID` to replay what was missed. The stream ends after the final `state`.', tags: ['jobs'], params: IdParams },
  }, async (request, reply) => {
    const job = await visibleJob(request, (request.params as { id: string }).id);
    const given = request.headers['last-event-id'] ?? (request.query as { after?: string } | undefined)?.after;
    await streamEvents(reply, queue, job.id, Number.isSafeInteger(Number(given)) && Number(given) > 0 ? Number(given) : 0);
  });

  app.get('/v1/jobs/:id/artifacts', {
    preHandler: jobsScope, schema: { summary: 'List a job\'s artifacts', tags: ['jobs'], params: IdParams },
  }, async (request) => ({ object: 'list', data: (await jobJson(await visibleJob(request, (request.params as { id: string }).id))).artifacts }));

  app.get('/v1/jobs/:id/artifacts/*', {
    preHandler: jobsScope, schema: { summary: 'Download an artifact', description: 'Supports `Range: bytes=…` (206).', tags: ['jobs'] },
  }, async (request, reply) => {
    const { id, '*': name } = request.params as { id: string; '*': string };
    const job = await visibleJob(request, id);
    const file = await artifacts.stat(job.id, name);
    if (!file) throw geulError('NOT_FOUND', { what: `Artifact "${name.slice(0, 200)}"` });
    return sendDownload(request, reply, { bytes: file.bytes, filename: safeFilename(name) }, (range) => artifacts.read(job.id, name, range));
  });

  registerJobTypeRoutes(app, ctx);
  await registerFileRoutes(app, ctx, files);
  await registerBatchRoutes(app, ctx, service, visibleJob);
}

/** Writes the job's events after `cursor` as named SSE events, waiting for more, until the final `state` or the client leaves. */
async function streamEvents(reply: FastifyReply, queue: JobService['queue'], id: string, from: number): Promise<void> {
  const sse = startSse(reply);
  let cursor = from;
  let wake: (() => void) | undefined;
  const unsubscribe = queue.onChange((changed) => { if (changed === id) wake?.(); });
  sse.signal.addEventListener('abort', () => wake?.(), { once: true });
  const keepAlive = setInterval(() => { if (!reply.raw.destroyed) reply.raw.write(': keep-alive\n\n'); }, 15_000);
  try {
    for (;;) {
      if (sse.signal.aborted) return;
      const events = await queue.events(id, cursor);
      let ended = false;
      for (const e of events) {
        if (!reply.raw.destroyed) reply.raw.write(`id: ${e.id}\nevent: ${e.kind}\ndata: ${JSON.stringify(e.data)}\n\n`);
        cursor = e.id;
        if (e.kind === 'state' && FINAL_STATES.includes(e.data.state as JobState)) ended = true;
      }
      if (ended || (events.length === 0 && FINAL_STATES.includes((await queue.get(id))!.state))) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 1000);
        wake = () => { clearTimeout(timer); resolve(); };
      });
    }
  } finally {
    unsubscribe();
    clearInterval(keepAlive);
    sse.end();
  }
}
