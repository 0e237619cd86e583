// POST /v1/<task> for every registry task, generated from its schemas; /v1/generate streams SSE with `stream: true`.
import type { FastifyInstance, FastifyReply } from 'fastify';
import { geulError, toGeulError } from '../core/errors.js';
import { Type, type TSchema } from '../core/schema.js';
import { TASKS } from '../tasks/registry.js';
import type { AnyTask } from '../tasks/types.js';
import type { GenerateRequestOptions } from '../tasks/generate.js';
import { admitTask, asObject, errorResponses } from './admit.js';
import { clientGone, startSse } from './sse.js';
import type { ServerContext } from './context.js';
import { OpenAIEmbeddingsRequest, OpenAIEmbeddingsResponse, openAIEmbeddings } from './routes-compat.js';

function requestSchema(task: AnyTask): TSchema {
  const base = task.request as TSchema & { properties: Record<string, TSchema> };
  if (task.id === 'generate') {
    return Type.Object({ ...base.properties, stream: Type.Optional(Type.Boolean({ default: false, description: 'Stream text pieces as Server-Sent Events (one prompt only)' })) }, { description: task.summary });
  }
  if (task.id === 'embeddings') {
    return Type.Union([base, OpenAIEmbeddingsRequest], { description: 'geul\'s own request (`inputs`) or the OpenAI request (`input`); the body decides which, and the answer has the same shape' });
  }
  return base;
}

async function streamGeneration(ctx: ServerContext, reply: FastifyReply, prompt: string, options: Record<string, unknown>): Promise<void> {
  await ctx.inference.load('generate', options.model as string);
  const sse = startSse(reply);
  try {
    const result = await ctx.inference.stream(prompt, options as GenerateRequestOptions & { model: string }, (text) => sse.send({ text }), sse.signal);
    sse.send({ done: true, ...result });
  } catch (err) {
    const error = toGeulError(err);
    if (!sse.signal.aborted) sse.send(error.toJSON());
  }
  sse.end();
}

export function registerTaskRoutes(app: FastifyInstance, ctx: ServerContext): void {
  for (const task of TASKS) {
    const result = Type.Union([task.result, Type.Array(task.result)], { description: 'One result for one input, an array for a batch' });
    app.post(`/v1/${task.id}`, {
      schema: {
        summary: task.summary,
        tags: ['tasks'],
        body: requestSchema(task),
        response: { 200: task.id === 'embeddings' ? Type.Union([result, OpenAIEmbeddingsResponse]) : result, ...errorResponses },
      },
      preHandler: ctx.requireScope('tasks'),
    }, async (request, reply) => {
      const raw = asObject(request.body);
      if (task.id === 'embeddings' && 'input' in raw && !('inputs' in raw)) return openAIEmbeddings(ctx, request, reply, raw);
      const { items, single, options, stream } = admitTask(ctx, request, task, raw);
      if (stream) {
        if (task.id !== 'generate' || !single) throw geulError('INVALID_INPUT', { detail: '"stream" needs /v1/generate with one prompt' });
        return streamGeneration(ctx, reply, items[0] as string, options);
      }
      const results = await ctx.inference.run(task, items, options, clientGone(reply));
      return single ? results[0] : results;
    });
  }
}
