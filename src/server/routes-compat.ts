// Compatible faces so existing clients work unchanged: OpenAI embeddings and completions (LibreTranslate: routes-libretranslate.ts).
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { geulError, toGeulError } from '../core/errors.js';
import { Type } from '../core/schema.js';
import { TASKS } from '../tasks/registry.js';
import type { GenerateResult } from '../tasks/generate.js';
import type { ServerContext } from './context.js';
import { admitTask, asObject, errorResponses } from './admit.js';
import { estimateTokens } from './guard.js';
import { clientGone, startSse } from './sse.js';

const { embeddings: embedTask, generate: generateTask } = TASKS;

export const OpenAIEmbeddingsRequest = Type.Object({
  model: Type.Optional(Type.String({ maxLength: 512, description: 'Model name (the server default when omitted)' })),
  input: Type.Union([Type.String({ minLength: 1 }), Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })], { description: 'One text or an array of texts; an empty text is refused with 400, as OpenAI does' }),
  encoding_format: Type.Optional(Type.Enum(['float'], { description: 'Only "float" is supported' })),
  user: Type.Optional(Type.String()),
}, { description: 'OpenAI-compatible embeddings request' });

export const OpenAIEmbeddingsResponse = Type.Object({
  object: Type.Literal('list'),
  data: Type.Array(Type.Object({ object: Type.Literal('embedding'), index: Type.Integer(), embedding: Type.Array(Type.Number()) })),
  model: Type.String(),
  usage: Type.Object({ prompt_tokens: Type.Integer(), total_tokens: Type.Integer() }),
}, { description: 'OpenAI-compatible embeddings response' });

/** OpenAI `POST /v1/embeddings` (chosen when the body has `input`). `usage` counts are estimates (~4 chars/token). */
export async function openAIEmbeddings(ctx: ServerContext, request: FastifyRequest, reply: FastifyReply, raw: Record<string, unknown>) {
  if (raw.encoding_format !== undefined && raw.encoding_format !== 'float') throw geulError('INVALID_INPUT', { detail: 'encoding_format: only "float" is supported' });
  const { items, options } = admitTask(ctx, request, embedTask, { model: raw.model, inputs: raw.input });
  const vectors = (await ctx.inference.run(embedTask, items, options, clientGone(reply))) as number[][];
  const tokens = estimateTokens((items as string[]).reduce((n, t) => n + t.length, 0));
  return {
    object: 'list',
    data: vectors.map((embedding, index) => ({ object: 'embedding', index, embedding })),
    model: (raw.model as string | undefined) ?? ctx.inference.catalog.publicName(ctx.inference.catalog.defaultName(embedTask)),
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  };
}

const CompletionsRequest = Type.Object({
  model: Type.Optional(Type.String({ maxLength: 512 })),
  prompt: Type.Union([Type.String(), Type.Array(Type.String(), { minItems: 1 })]),
  max_tokens: Type.Optional(Type.Integer({ minimum: 1, default: 16 })),
  temperature: Type.Optional(Type.Number({ minimum: 0, maximum: 2, description: '0 = greedy; default 1 (sampling)' })),
  top_p: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1 })),
  n: Type.Optional(Type.Literal(1)),
  stream: Type.Optional(Type.Boolean()),
  stop: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String(), { maxItems: 16 })])),
  seed: Type.Optional(Type.Integer({ minimum: 0 })),
  user: Type.Optional(Type.String()),
}, { description: 'OpenAI-compatible completions request' });

const Choice = Type.Object({ text: Type.String(), index: Type.Integer(), logprobs: Type.Null(), finish_reason: Type.Union([Type.String(), Type.Null()]) });
const CompletionsResponse = Type.Object({
  id: Type.String(), object: Type.Literal('text_completion'), created: Type.Integer(), model: Type.String(),
  choices: Type.Array(Choice),
  usage: Type.Object({ prompt_tokens: Type.Integer(), completion_tokens: Type.Integer(), total_tokens: Type.Integer() }),
}, { description: 'OpenAI-compatible completion (or, with stream, SSE chunks of this shape ending in `data: [DONE]`)' });

function completionOptions(raw: Record<string, unknown>): Record<string, unknown> {
  const temperature = typeof raw.temperature === 'number' ? raw.temperature : 1;
  if (raw.n !== undefined && raw.n !== 1) throw geulError('INVALID_INPUT', { detail: 'n: only 1 is supported' });
  return {
    model: raw.model,
    inputs: raw.prompt,
    max_new_tokens: raw.max_tokens ?? 16,
    do_sample: temperature > 0,
    ...(temperature > 0 ? { temperature } : {}),
    ...(raw.top_p !== undefined ? { top_p: raw.top_p } : {}),
    ...(raw.seed !== undefined ? { seed: raw.seed } : {}),
    ...(raw.stop !== undefined ? { stop: [raw.stop].flat() } : {}),
  };
}

const OPENAI_FINISH: Record<string, string> = { stop: 'stop', length: 'length', cancelled: 'stop' };

async function completions(ctx: ServerContext, request: FastifyRequest, reply: FastifyReply) {
  const raw = asObject(request.body);
  const { items, options } = admitTask(ctx, request, generateTask, completionOptions(raw));
  const id = `cmpl-${randomUUID().replace(/-/g, '')}`;
  const created = Math.floor(Date.now() / 1000);
  const model = (raw.model as string | undefined) ?? ctx.inference.catalog.publicName(ctx.inference.catalog.defaultName(generateTask));
  const promptTokens = estimateTokens((items as string[]).reduce((n, t) => n + t.length, 0));
  const chunk = (text: string, finish: string | null) => ({ id, object: 'text_completion', created, model, choices: [{ text, index: 0, logprobs: null, finish_reason: finish }] });
  if (raw.stream === true) {
    if (items.length !== 1) throw geulError('INVALID_INPUT', { detail: 'stream needs one prompt' });
    await ctx.inference.load(generateTask, options.model as string);
    const sse = startSse(reply);
    try {
      const result = (await ctx.inference.stream(generateTask, items[0], options, (text) => sse.send(chunk(text, null)), sse.signal)) as GenerateResult;
      sse.send(chunk('', OPENAI_FINISH[result.finish_reason]));
    } catch (err) {
      if (!sse.signal.aborted) sse.send(toGeulError(err).toJSON());
    }
    return sse.end(true);
  }
  const results = (await ctx.inference.run(generateTask, items, options, clientGone(reply))) as GenerateResult[];
  const completion = results.reduce((n, r) => n + r.tokens, 0);
  return {
    id, object: 'text_completion', created, model,
    choices: results.map((r, index) => ({ text: r.text, index, logprobs: null, finish_reason: OPENAI_FINISH[r.finish_reason] })),
    usage: { prompt_tokens: promptTokens, completion_tokens: completion, total_tokens: promptTokens + completion },
  };
}

/** Other APIs' requests that share a geul task's path; the body tells them apart. */
export const SHARED_PATH_FACES: Record<string, {
  request: typeof OpenAIEmbeddingsRequest;
  response: typeof OpenAIEmbeddingsResponse;
  description: string;
  matches(raw: Record<string, unknown>): boolean;
  handle(ctx: ServerContext, request: FastifyRequest, reply: FastifyReply, raw: Record<string, unknown>): Promise<unknown>;
} | undefined> = {
  embeddings: {
    request: OpenAIEmbeddingsRequest,
    response: OpenAIEmbeddingsResponse,
    description: 'geul\'s own request (`inputs`) or the OpenAI request (`input`); the body decides which, and the answer has the same shape',
    matches: (raw) => 'input' in raw && !('inputs' in raw),
    handle: openAIEmbeddings,
  },
};

export function registerCompatRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.post('/v1/completions', {
    schema: { summary: 'OpenAI-compatible text completion (with `stream`: SSE ending in `data: [DONE]`)', tags: ['openai'], body: CompletionsRequest, response: { 200: CompletionsResponse, ...errorResponses } },
    preHandler: ctx.requireScope('tasks'),
  }, (request, reply) => completions(ctx, request, reply));
}
