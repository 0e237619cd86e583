// POST /v1/<task> for every registry task and GET /v1/tasks, all generated from the registry; streaming tasks send SSE.
import type { FastifyInstance, FastifyReply } from 'fastify';
import { geulError, toGeulError } from '../core/errors.js';
import { Type, type TSchema } from '../core/schema.js';
import { TASK_LIST } from '../tasks/registry.js';
import { clientSchema } from '../tasks/request.js';
import type { Task } from '../tasks/types.js';
import { admitTask, asObject, errorResponses } from './admit.js';
import { clientGone, startSse } from './sse.js';
import type { ServerContext } from './context.js';
import { SHARED_PATH_FACES } from './routes-compat.js';

const StreamField = Type.Optional(Type.Boolean({ default: false, description: 'Stream text pieces as Server-Sent Events (one input only)' }));

/** The request body clients send to POST /v1/<task>, as plain JSON Schema. */
export function taskRequestSchema(task: Task): Record<string, unknown> {
  const schema = task.streams ? Type.Object({ ...task.request.properties, stream: StreamField }, { description: task.summary }) : task.request;
  return clientSchema(schema);
}

// The route also names `stream` where nothing streams: the body parser keeps only named fields, and `stream: true`
// there must be a clear 400, not silently answered without streaming. /v1/tasks leaves it out (no form should offer it).
const NoStreamField = Type.Optional(Type.Boolean({ default: false, description: 'This task does not stream: `true` is a 400' }));

function routeBodySchema(task: Task): Record<string, unknown> {
  if (task.streams) return taskRequestSchema(task);
  return clientSchema(Type.Object({ ...task.request.properties, stream: NoStreamField }, { description: task.summary }));
}

/** What POST /v1/<task> answers: one result for one input, an array for a batch. */
export function taskResponseSchema(task: Task): Record<string, unknown> {
  return clientSchema(Type.Union([task.result, Type.Array(task.result)], { description: 'One result for one input, an array for a batch' }));
}

async function streamTask(ctx: ServerContext, reply: FastifyReply, task: Task, item: unknown, options: Record<string, unknown>): Promise<void> {
  await ctx.inference.load(task, options.model as string);
  const sse = startSse(reply);
  try {
    const result = await ctx.inference.stream(task, item, options, (text) => sse.send({ text }), sse.signal);
    sse.send({ done: true, ...(result as Record<string, unknown>) });
  } catch (err) {
    const error = toGeulError(err);
    // The 200 is already sent: a server-side failure mid-stream is refunded here, as a 5xx answer would be.
    if (error.status >= 500) await ctx.guard.refund(reply.request);
    if (!sse.signal.aborted) sse.send(error.toJSON());
  }
  sse.end();
}

const TaskInfo = Type.Object({
  id: Type.String(),
  description: Type.String(),
  default_model: Type.String({ description: "The model used when a request names none (this server's default)" }),
  batches: Type.Boolean({ description: "Concurrent requests' inputs may share one model call" }),
  streams: Type.Boolean({ description: 'Accepts `stream: true` (Server-Sent Events)' }),
  request_schema: Type.Record(Type.String(), Type.Unknown(), { description: 'JSON Schema of the POST /v1/<id> body' }),
  response_schema: Type.Record(Type.String(), Type.Unknown(), { description: 'JSON Schema of its answer' }),
  cli: Type.Object({
    command: Type.String({ description: 'The `geul` command that runs this task' }),
    files: Type.Array(Type.Object({ field: Type.String(), flag: Type.String() }), { description: 'Request fields the command reads from a file named by a flag' }),
  }, { description: 'How the same request is made from the command line (the web UI shows it next to each result)' }),
  examples: Type.Object({
    cli: Type.Array(Type.String(), { description: 'geul command lines' }),
    http: Type.Array(Type.Record(Type.String(), Type.Unknown()), { description: 'POST /v1/<id> bodies' }),
  }),
});

export function registerTaskRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get('/v1/tasks', {
    schema: {
      summary: 'The tasks this server runs, with their request and response JSON Schemas (what the web UI builds its forms from)',
      tags: ['tasks'],
      response: { 200: Type.Object({ object: Type.Literal('list'), data: Type.Array(TaskInfo) }), ...errorResponses },
    },
    preHandler: ctx.requireScope('tasks'),
  }, async () => ({
    object: 'list' as const,
    data: TASK_LIST.map((task) => ({
      id: task.id,
      description: task.summary,
      default_model: ctx.inference.catalog.publicName(ctx.inference.catalog.defaultName(task)),
      batches: task.batches,
      streams: task.streams,
      request_schema: taskRequestSchema(task),
      response_schema: taskResponseSchema(task),
      cli: { command: task.command, files: task.cli.files.map((f) => ({ field: f.field, flag: `--${f.flag}` })) },
      examples: { cli: [...task.examples.cli], http: [...task.examples.http] },
    })),
  }));

  for (const task of TASK_LIST) {
    // Another API's request on the same path (OpenAI's embeddings): the body decides which, the answer follows it.
    const face = SHARED_PATH_FACES[task.id];
    // OpenAPI 3.1 schemas take JSON Schema's `examples`: the registry's HTTP examples show in /docs.
    const body = { ...routeBodySchema(task), examples: task.examples.http } as TSchema;
    app.post(`/v1/${task.id}`, {
      schema: {
        summary: task.summary,
        tags: ['tasks'],
        body: face ? Type.Union([body, face.request], { description: face.description }) : body,
        response: { 200: face ? Type.Union([taskResponseSchema(task) as TSchema, face.response]) : taskResponseSchema(task), ...errorResponses },
      },
      preHandler: ctx.requireScope('tasks'),
    }, async (request, reply) => {
      const raw = asObject(request.body);
      if (face?.matches(raw)) return face.handle(ctx, request, reply, raw);
      const { items, single, options, stream } = await admitTask(ctx, request, task, raw);
      if (stream) {
        if (!task.streams || !single) throw geulError('INVALID_INPUT', { detail: `"stream" needs a streaming task (${TASK_LIST.filter((t) => t.streams).map((t) => `/v1/${t.id}`).join(', ')}) with one input` });
        return streamTask(ctx, reply, task, items[0], options);
      }
      const results = await ctx.inference.run(task, items, options, clientGone(reply));
      return single ? results[0] : results;
    });
  }
}
