// Operational routes: liveness, readiness, Prometheus metrics, the model list and translation languages.
import type { FastifyInstance } from 'fastify';
import { Type } from '../core/schema.js';
import { TASKS } from '../tasks/registry.js';
import { ErrorBody } from './errors.js';
import { errorResponses } from './admit.js';
import type { ServerContext } from './context.js';
import { callerOf } from './routes-files.js';
import { translationLanguages } from './routes-libretranslate.js';

export function registerSystemRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get('/health', {
    schema: { summary: 'Liveness: the server answers', tags: ['system'], response: { 200: Type.Object({ status: Type.Literal('ok') }) } },
  }, async () => ({ status: 'ok' as const }));

  const Readiness = Type.Object({
    ready: Type.Boolean(),
    models: Type.Record(Type.String(), Type.String()),
    vectors: Type.Record(Type.String(), Type.String(), { description: 'Configured word-vector sets: "ok", "loading", or the error code of a failed load' }),
  });
  app.get('/ready', {
    schema: { summary: "Readiness: every task's default model and the configured word-vector sets load (models: task → \"ok\" or why not)", tags: ['system'], response: { 200: Readiness, 503: Readiness } },
  }, async (_request, reply) => {
    const state = await ctx.inference.ready();
    const vectors = ctx.words.readiness();
    const ready = state.ready && Object.values(vectors).every((v) => v === 'ok');
    return reply.status(ready ? 200 : 503).send({ ...state, ready, vectors });
  });

  app.get('/metrics', {
    schema: { summary: 'Prometheus metrics (text exposition format)', tags: ['system'], response: { 200: Type.String(), 401: ErrorBody, 403: ErrorBody } },
    preHandler: ctx.requireScope('admin'),
  }, async (_request, reply) => reply.type('text/plain; version=0.0.4; charset=utf-8').send(ctx.metrics.render()));

  app.get('/v1/models', {
    schema: {
      summary: 'Models this server offers and the tasks they serve', tags: ['system'],
      response: {
        200: Type.Object({
          object: Type.Literal('list'),
          data: Type.Array(Type.Object({ id: Type.String(), object: Type.Literal('model'), owned_by: Type.String(), tasks: Type.Array(Type.String()), default_for: Type.Array(Type.String()) })),
        }),
        ...errorResponses,
      },
    },
    preHandler: ctx.requireScope('tasks'),
  }, async (request) => {
    // Models that training jobs produced show without a restart, each to its owner (and admins) only.
    await ctx.inference.catalog.refresh();
    return {
      object: 'list' as const,
      data: ctx.inference.catalog.list(callerOf(ctx, request)).map((m) => ({ id: m.id, object: 'model' as const, owned_by: m.owner ?? 'geul', tasks: m.tasks, default_for: m.defaultFor })),
    };
  });

  app.get('/v1/languages', {
    schema: {
      summary: 'Languages a translation model translates between', tags: ['tasks'],
      querystring: Type.Object({ model: Type.Optional(Type.String({ maxLength: 512 })) }),
      response: { 200: Type.Object({ model: Type.String(), languages: Type.Array(Type.Object({ code: Type.String(), name: Type.String() })) }), ...errorResponses },
    },
    preHandler: ctx.requireScope('tasks'),
  }, async (request) => {
    const requested = (request.query as { model?: string }).model || undefined;
    const catalog = ctx.inference.catalog;
    return { model: requested ?? catalog.publicName(catalog.defaultName(TASKS.translate)), languages: await translationLanguages(ctx, requested) };
  });
}
