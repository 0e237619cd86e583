// The Hugging Face text-embeddings-inference face: POST /embed, POST /predict, GET /info, answered as TEI answers them.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { geulError } from '../core/errors.js';
import { Type } from '../core/schema.js';
import type { Task } from '../tasks/types.js';
import { TASKS } from '../tasks/registry.js';
import type { ServerContext } from './context.js';
import { admitTask, asObject, errorResponses } from './admit.js';
import { clientGone } from './sse.js';

const { embeddings: embedTask, classify: classifyTask } = TASKS;
const Inputs = Type.Union([Type.String(), Type.Array(Type.String(), { minItems: 1 })], { description: 'One text or a batch' });

const EmbedRequest = Type.Object({
  inputs: Inputs,
  normalize: Type.Optional(Type.Boolean({ default: true })),
  truncate: Type.Optional(Type.Boolean({ description: 'false: a text longer than the model window is refused with 413 (as TEI does); absent or true: it is truncated' })),
  truncation_direction: Type.Optional(Type.Enum(['Right'], { description: 'Only "Right" (keep the start)' })),
}, { description: 'TEI-compatible embed request' });
const PredictRequest = Type.Object({
  inputs: Inputs,
  raw_scores: Type.Optional(Type.Literal(false, { description: 'Only probabilities are returned' })),
  truncate: Type.Optional(Type.Boolean({ description: 'false: a text longer than the model window is refused with 413 (as TEI does); absent or true: it is truncated' })),
}, { description: 'TEI-compatible predict request' });
const Prediction = Type.Array(Type.Object({ score: Type.Number(), label: Type.String() }));

/**
 * TEI's `truncate: false`: every text must fit the model window (special tokens included), else 413 naming the first
 * one that does not. Counted with the model's own tokenizer in a worker, before any inference runs.
 */
async function refuseLongTexts(ctx: ServerContext, task: Task, items: unknown[], options: Record<string, unknown>): Promise<void> {
  const model = options.model as string;
  const loaded = (await ctx.inference.load(task, model)) as { max_length?: number };
  const limit = loaded.max_length ?? 512;
  const counts = await ctx.inference.pool.run<number[]>('count-tokens', { task: task.id, model, texts: items, specialTokens: true });
  const over = counts.findIndex((n) => n > limit);
  if (over >= 0) throw geulError('PAYLOAD_TOO_LARGE', { detail: `inputs[${over}] has ${counts[over]} tokens, over the model's ${limit} (send truncate: true to cut it)` });
}

async function embed(ctx: ServerContext, request: FastifyRequest, reply: FastifyReply) {
  const raw = asObject(request.body);
  const { items, options } = await admitTask(ctx, request, embedTask, { inputs: raw.inputs, normalize: raw.normalize ?? true });
  if (raw.truncate === false) await refuseLongTexts(ctx, embedTask, items, options);
  // TEI answers a list of vectors even for one text.
  return ctx.inference.run(embedTask, items, options, clientGone(reply));
}

async function predict(ctx: ServerContext, request: FastifyRequest, reply: FastifyReply) {
  const raw = asObject(request.body);
  const { items, single, options } = await admitTask(ctx, request, classifyTask, { inputs: raw.inputs });
  if (raw.truncate === false) await refuseLongTexts(ctx, classifyTask, items, options);
  const results = (await ctx.inference.run(classifyTask, items, options, clientGone(reply))) as { label: string; score: number }[][];
  const out = results.map((labels) => labels.map((l) => ({ score: l.score, label: l.label })));
  return single ? out[0] : out;
}

async function info(ctx: ServerContext) {
  const model = ctx.inference.catalog.resolve(embedTask);
  const loaded = (await ctx.inference.load(embedTask, model)) as { max_length?: number };
  const server = ctx.config.server;
  return {
    model_id: ctx.inference.catalog.publicName(model),
    model_sha: null,
    model_dtype: 'float32',
    model_type: { embedding: { pooling: 'mean' } },
    max_concurrent_requests: server.queueSize,
    max_input_length: loaded.max_length ?? 512,
    max_batch_tokens: server.batchMaxTokens,
    max_batch_requests: server.batchMaxSize,
    max_client_batch_size: server.maxBatch,
    tokenization_workers: 1,
    version: '0.1.0',
  };
}

export function registerTeiRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.post('/embed', {
    schema: { summary: 'TEI-compatible embeddings (a list of vectors)', tags: ['tei'], body: EmbedRequest, response: { 200: Type.Array(Type.Array(Type.Number())), ...errorResponses } },
    preHandler: ctx.requireScope('tasks'),
  }, (request, reply) => embed(ctx, request, reply));
  app.post('/predict', {
    schema: { summary: 'TEI-compatible classification (labels with scores, best first)', tags: ['tei'], body: PredictRequest, response: { 200: Type.Union([Prediction, Type.Array(Prediction)]), ...errorResponses } },
    preHandler: ctx.requireScope('tasks'),
  }, (request, reply) => predict(ctx, request, reply));
  app.get('/info', {
    schema: { summary: 'TEI-compatible model info (the default embeddings model)', tags: ['tei'], response: { 200: Type.Record(Type.String(), Type.Unknown()), ...errorResponses } },
    preHandler: ctx.requireScope('tasks'),
  }, () => info(ctx));
}
