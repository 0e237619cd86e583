// /v1/models: the models this server offers with their size, dtypes and cached state; pull from the hub (progress as
// Server-Sent Events) and delete from the cache, both admin-only.
import type { FastifyInstance } from 'fastify';
import { listCachedModels, listFolderFiles, removeCachedModel, snapshotDir } from '../core/cache.js';
import { DTYPES } from '../core/config.js';
import { geulError, toGeulError } from '../core/errors.js';
import { availableDtypes } from '../core/hub-files.js';
import { pullModel, type DownloadProgress, type HubConfig } from '../core/hub.js';
import { parseHubId, parseModelRef } from '../core/model-id.js';
import { Type, parseWith } from '../core/schema.js';
import { clientSchema } from '../tasks/request.js';
import { asObject, errorResponses } from './admit.js';
import type { ServerContext } from './context.js';
import { ErrorBody } from './errors.js';
import { guessTasks, type ServedModel, type Viewer } from './models.js';
import { callerOf } from './routes-files.js';
import { startSse } from './sse.js';

const ModelEntry = Type.Object({
  id: Type.String(), object: Type.Literal('model'), owned_by: Type.String(), tasks: Type.Array(Type.String()), default_for: Type.Array(Type.String()),
  source: Type.Enum(['folder', 'hub'], { description: 'A --models folder (never deleted over HTTP) or a hub model in the cache' }),
  cached: Type.Boolean({ description: 'Its config and at least one ONNX weights file are on disk (hub models: at the server revision)' }),
  size: Type.Integer({ description: 'Bytes on disk (0 when nothing is cached)' }),
  dtypes: Type.Array(Type.String(), { description: 'Weight precisions whose ONNX files are present (fp32, q8, …)' }),
});
const ModelList = Type.Object({ object: Type.Literal('list'), data: Type.Array(ModelEntry) });

const PullBody = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 200, description: 'Hub model id, e.g. Xenova/all-MiniLM-L6-v2', examples: ['Xenova/all-MiniLM-L6-v2'] }),
  dtype: Type.Enum(DTYPES, { default: 'auto', description: 'Weight precision to fetch (auto: what the model prefers, else fp32)' }),
}, { description: 'Download a hub model into the cache at the server revision' });
const PullEvent = Type.Union([
  Type.Object({ type: Type.Literal('progress'), file: Type.String(), received: Type.Integer(), total: Type.Union([Type.Integer(), Type.Null()]) }),
  Type.Object({
    type: Type.Literal('done'), id: Type.String(), revision: Type.String(), dtype: Type.String(),
    files: Type.Array(Type.Object({ path: Type.String(), size: Type.Integer(), downloaded: Type.Boolean() })),
    downloaded_bytes: Type.Integer(), total_size: Type.Integer(),
  }),
  ErrorBody,
], { description: 'One `data:` event each: progress per file, then `done` (or an error), then `[DONE]`' });
const Deleted = Type.Object({
  id: Type.String(), object: Type.Literal('model'), deleted: Type.Literal(true),
  revisions: Type.Array(Type.String()), freed_bytes: Type.Integer(),
});

type Entry = ServedModel & { source: 'folder' | 'hub'; cached: boolean; size: number; dtypes: string[] };

/** Size, dtypes and cached state of a folder (a --models folder or a cache snapshot). */
async function onDisk(dir: string): Promise<{ cached: boolean; size: number; dtypes: string[] }> {
  const files = await listFolderFiles(dir);
  const paths = files.map((f) => f.path);
  const dtypes = availableDtypes(paths);
  return { cached: paths.includes('config.json') && dtypes.length > 0, size: files.reduce((s, f) => s + f.size, 0), dtypes };
}

async function describe(ctx: ServerContext, model: ServedModel): Promise<Entry> {
  const ref = parseModelRef(ctx.inference.catalog.reference(model.id));
  if (ref.kind === 'local') return { ...model, source: 'folder', ...(await onDisk(ref.path)) };
  return { ...model, source: 'hub', ...(await onDisk(snapshotDir(ctx.config.cacheDir, ref, ctx.config.revision))) };
}

/**
 * The catalog's models, plus the hub models in the cache: those an admin pulled are served (and so listed) unless
 * `cachedHubModels` is off; with --allow-hub-models any snapshot at the server revision is offered, complete or not.
 */
async function listModels(ctx: ServerContext, viewer: Viewer): Promise<Entry[]> {
  // Models that training jobs produced show without a restart, each to its owner (and admins) only.
  await ctx.inference.catalog.refresh();
  const out = await Promise.all(ctx.inference.catalog.list(viewer).map((m) => describe(ctx, m)));
  const { allowHubModels, cachedHubModels } = ctx.config.server;
  if (!allowHubModels && !cachedHubModels) return out;
  const listed = new Set(out.map((m) => m.id));
  for (const cached of await listCachedModels(ctx.config)) {
    const snapshot = cached.revisions.find((r) => r.revision === ctx.config.revision);
    if (listed.has(cached.id) || !snapshot) continue;
    // Without --allow-hub-models a half-pulled model is not offered: using it would download the rest on demand.
    if (allowHubModels || ctx.inference.catalog.isCachedHubModel(cached.id)) {
      out.push({ id: cached.id, tasks: guessTasks(snapshot.dir), defaultFor: [], source: 'hub', ...(await onDisk(snapshot.dir)) });
    }
  }
  return out;
}

function hubConfig(ctx: ServerContext): HubConfig {
  const c = ctx.config;
  return { hubUrl: c.hubUrl, hubToken: c.hubToken, revision: c.revision, cacheDir: c.cacheDir, offline: c.offline };
}

/** Progress events per file, at most about 50 per file (every chunk would flood a slow client). */
function throttled(send: (p: DownloadProgress) => void): (p: DownloadProgress) => void {
  const last = new Map<string, number>();
  return (p) => {
    const prev = last.get(p.file);
    const step = Math.max(64 * 1024, (p.total ?? 0) / 50);
    if (prev !== undefined && p.received !== p.total && p.received - prev < step) return;
    last.set(p.file, p.received);
    send(p);
  };
}

export function registerModelRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get('/v1/models', {
    schema: { summary: 'Models this server offers, the tasks they serve, and what of them is on disk', tags: ['system'], response: { 200: ModelList, ...errorResponses } },
    preHandler: ctx.requireScope('tasks'),
  }, async (request) => ({
    object: 'list' as const,
    data: (await listModels(ctx, callerOf(ctx, request))).map((m) => ({
      id: m.id, object: 'model' as const, owned_by: m.owner ?? 'geul', tasks: m.tasks, default_for: m.defaultFor,
      source: m.source, cached: m.cached, size: m.size, dtypes: m.dtypes,
    })),
  }));

  app.post('/v1/models/pull', {
    schema: {
      summary: 'Download a hub model into the cache, streaming progress as Server-Sent Events', tags: ['system'],
      description: 'Offline, answers OFFLINE_NOT_CACHED unless every file is cached already. Errors before the download starts are plain JSON answers.',
      body: clientSchema(PullBody), response: { 200: PullEvent, ...errorResponses },
    },
    preHandler: ctx.requireScope('admin'),
  }, async (request, reply) => {
    const body = parseWith(PullBody, asObject(request.body), 'body');
    const ref = parseHubId(body.id);
    if (ctx.inference.catalog.localFolder(ref.id)) throw geulError('INVALID_MODEL_ID', { model: ref.id, detail: 'a --models folder needs no pull' });
    const config = hubConfig(ctx);
    // Offline nothing is downloaded: check the cache first so a refusal is an ordinary error answer.
    const offlineResult = config.offline ? await pullModel(ref.id, config, { dtype: body.dtype }) : undefined;
    const sse = startSse(reply);
    try {
      const result = offlineResult ?? await pullModel(ref.id, config, {
        dtype: body.dtype, signal: sse.signal,
        onProgress: throttled((p) => sse.send({ type: 'progress', file: p.file, received: p.received, total: p.total ?? null })),
      });
      sse.send({
        type: 'done', id: result.id, revision: result.revision, dtype: result.dtype, files: result.files,
        downloaded_bytes: result.downloadedBytes, total_size: result.totalSize,
      });
    } catch (err) {
      if (!sse.signal.aborted) {
        const error = toGeulError(err);
        request.log.warn({ err: error, model: ref.id }, 'model pull failed');
        sse.send(error.toJSON());
      }
    }
    sse.end(true);
  });

  app.delete('/v1/models/*', {
    schema: {
      summary: 'Delete a hub model from the cache (every revision)', tags: ['system'],
      description: 'Only cached hub models: a --models folder is never deleted over HTTP. A model already loaded stays in memory until it is evicted.',
      params: Type.Object({ '*': Type.String({ description: 'Hub model id, e.g. acme/tiny' }) }), response: { 200: Deleted, ...errorResponses, 409: ErrorBody },
    },
    preHandler: ctx.requireScope('admin'),
  }, async (request) => {
    const id = (request.params as { '*': string })['*'];
    const catalog = ctx.inference.catalog;
    if (catalog.localFolder(id) || parseModelRef(catalog.reference(id)).kind === 'local') {
      throw geulError('INVALID_INPUT', { detail: `"${id}" is a --models folder or a local path; geul deletes only cached hub models` });
    }
    parseHubId(id);
    const removed = await removeCachedModel(id, ctx.config);
    return { id: removed.id, object: 'model' as const, deleted: true as const, revisions: removed.removed, freed_bytes: removed.freedBytes };
  });
}

