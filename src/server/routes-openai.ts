// The OpenAI face, so the official SDKs and LangChain work unchanged: embeddings, completions and chat completions.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { geulError, toGeulError } from '../core/errors.js';
import { Type, parseWith, type Static } from '../core/schema.js';
import { TASKS } from '../tasks/registry.js';
import type { ChatMessage, ChatPrompt } from '../tasks/chat.js';
import type { GenerateResult } from '../tasks/generate.js';
import type { Task } from '../tasks/types.js';
import type { ServerContext } from './context.js';
import { admitTask, asObject } from './admit.js';
import { OpenAIErrorBody, markOpenAI, toOpenAIError } from './errors.js';
import { clientGone, startSse } from './sse.js';

const { embeddings: embedTask, generate: generateTask } = TASKS;

const openAIErrors = { 400: OpenAIErrorBody, 401: OpenAIErrorBody, 403: OpenAIErrorBody, 404: OpenAIErrorBody, 413: OpenAIErrorBody, 429: OpenAIErrorBody, 500: OpenAIErrorBody, 503: OpenAIErrorBody };

export const OpenAIEmbeddingsRequest = Type.Object({
  model: Type.Optional(Type.String({ maxLength: 512, description: 'Model name (the server default when omitted)' })),
  input: Type.Union([Type.String({ minLength: 1 }), Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })], { description: 'One text or an array of texts; an empty text is refused with 400, as OpenAI does' }),
  encoding_format: Type.Optional(Type.Enum(['float', 'base64'], { description: '"float" (default): arrays of numbers; "base64": little-endian float32 bytes, as OpenAI sends them (the SDKs ask for it)' })),
  dimensions: Type.Optional(Type.Integer({ minimum: 1, description: 'Keep the first N components and re-normalise; above the model\'s width is a 400. How well a shortened vector works depends on the model (Matryoshka-trained models keep most quality)' })),
  user: Type.Optional(Type.String({ description: 'Accepted and ignored' })),
}, { description: 'OpenAI-compatible embeddings request' });

export const OpenAIEmbeddingsResponse = Type.Object({
  object: Type.Literal('list'),
  data: Type.Array(Type.Object({ object: Type.Literal('embedding'), index: Type.Integer(), embedding: Type.Union([Type.Array(Type.Number()), Type.String({ description: 'base64 of little-endian float32' })]) })),
  model: Type.String(),
  usage: Type.Object({ prompt_tokens: Type.Integer(), total_tokens: Type.Integer() }),
}, { description: 'OpenAI-compatible embeddings response' });

/** A model's token counts for texts (usage reports), from its own tokenizer in a worker. */
async function countTokens(ctx: ServerContext, task: Task, model: string, texts: string[], specialTokens: boolean): Promise<number> {
  const counts = await ctx.inference.pool.run<number[]>('count-tokens', { task: task.id, model, texts, specialTokens });
  return counts.reduce((n, c) => n + c, 0);
}

/** First `n` components, scaled back to unit length. */
function shorten(vector: number[], n: number): number[] {
  const head = vector.slice(0, n);
  const norm = Math.sqrt(head.reduce((s, x) => s + x * x, 0)) || 1;
  return head.map((x) => Math.fround(x / norm));
}

function toBase64(vector: number[]): string {
  const bytes = Buffer.alloc(vector.length * 4);
  vector.forEach((x, i) => bytes.writeFloatLE(x, i * 4));
  return bytes.toString('base64');
}

/** OpenAI `POST /v1/embeddings` (chosen when the body has `input`); `usage` counts the model's tokens. */
export async function openAIEmbeddings(ctx: ServerContext, request: FastifyRequest, reply: FastifyReply, raw: Record<string, unknown>) {
  markOpenAI(request);
  const body = parseWith(OpenAIEmbeddingsRequest, raw, 'request');
  const { items, options } = await admitTask(ctx, request, embedTask, { model: body.model, inputs: body.input });
  const counted = await ctx.inference.runCounted(embedTask, items, options, clientGone(reply));
  let vectors = counted.results as number[][];
  if (body.dimensions !== undefined) {
    const width = vectors[0]?.length ?? 0;
    if (body.dimensions > width) throw geulError('INVALID_INPUT', { detail: `dimensions: ${body.dimensions} is more than the model's ${width}` });
    const n = body.dimensions;
    vectors = vectors.map((v) => shorten(v, n));
  }
  const tokens = counted.tokens;
  const base64 = body.encoding_format === 'base64';
  return {
    object: 'list',
    data: vectors.map((v, index) => ({ object: 'embedding', index, embedding: base64 ? toBase64(v) : v })),
    model: body.model ?? ctx.inference.catalog.publicName(ctx.inference.catalog.defaultName(embedTask)),
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  };
}

const Stop = Type.Union([Type.String(), Type.Array(Type.String(), { maxItems: 16 })], { description: 'Stop before any of these strings' });
const Sampling = {
  temperature: Type.Optional(Type.Number({ minimum: 0, maximum: 2, description: '0 = greedy; default 1 (sampling)' })),
  top_p: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1 })),
  n: Type.Optional(Type.Integer({ minimum: 1, description: 'Only 1 is supported; more is a 400' })),
  stream: Type.Optional(Type.Boolean()),
  stop: Type.Optional(Type.Union([Stop, Type.Null()])),
  seed: Type.Optional(Type.Integer({ minimum: 0 })),
  user: Type.Optional(Type.String({ description: 'Accepted and ignored' })),
};

const CompletionsRequest = Type.Object({
  model: Type.Optional(Type.String({ maxLength: 512 })),
  prompt: Type.Union([Type.String(), Type.Array(Type.String(), { minItems: 1 })]),
  max_tokens: Type.Optional(Type.Integer({ minimum: 1, default: 16 })),
  ...Sampling,
}, { description: 'OpenAI-compatible completions request' });

const Usage = Type.Object({ prompt_tokens: Type.Integer(), completion_tokens: Type.Integer(), total_tokens: Type.Integer() });
const Choice = Type.Object({ text: Type.String(), index: Type.Integer(), logprobs: Type.Null(), finish_reason: Type.Union([Type.String(), Type.Null()]) });
const CompletionsResponse = Type.Object({
  id: Type.String(), object: Type.Literal('text_completion'), created: Type.Integer(), model: Type.String(),
  choices: Type.Array(Choice),
  usage: Usage,
}, { description: 'OpenAI-compatible completion (or, with stream, SSE chunks of this shape ending in `data: [DONE]`)' });

/** OpenAI's sampling fields as the generate task's options. */
function generateOptions(raw: Record<string, unknown>, inputs: unknown, maxTokens: unknown): Record<string, unknown> {
  const temperature = typeof raw.temperature === 'number' ? raw.temperature : 1;
  if (raw.n !== undefined && raw.n !== 1) throw geulError('INVALID_INPUT', { detail: 'n: only 1 choice per request is supported; send the request several times (with different seeds) for more' });
  return {
    model: raw.model,
    inputs,
    max_new_tokens: maxTokens,
    do_sample: temperature > 0,
    ...(temperature > 0 ? { temperature } : {}),
    ...(raw.top_p !== undefined ? { top_p: raw.top_p } : {}),
    ...(raw.seed !== undefined ? { seed: raw.seed } : {}),
    ...(raw.stop !== undefined && raw.stop !== null ? { stop: [raw.stop].flat() } : {}),
  };
}

const OPENAI_FINISH: Record<string, string> = { stop: 'stop', length: 'length', cancelled: 'stop' };

function publicModel(ctx: ServerContext, requested: unknown): string {
  return typeof requested === 'string' ? requested : ctx.inference.catalog.publicName(ctx.inference.catalog.defaultName(generateTask));
}

/** Streams one generation as SSE: `chunk(text)` for each piece, `last(result)` at the end, then `data: [DONE]`. */
async function streamGeneration(ctx: ServerContext, reply: FastifyReply, prompt: string, options: Record<string, unknown>,
  chunk: (text: string) => unknown, last: (result: GenerateResult) => unknown[], first: unknown[] = []): Promise<void> {
  await ctx.inference.load(generateTask, options.model as string);
  const sse = startSse(reply);
  for (const event of first) sse.send(event);
  try {
    const result = (await ctx.inference.stream(generateTask, prompt, options, (text) => sse.send(chunk(text)), sse.signal)) as GenerateResult;
    for (const event of last(result)) sse.send(event);
  } catch (err) {
    const error = toGeulError(err);
    // The 200 is already sent: a server-side failure mid-stream is refunded here, as a 5xx answer would be.
    if (error.status >= 500) await ctx.guard.refund(reply.request);
    if (!sse.signal.aborted) sse.send(toOpenAIError(error).body);
  }
  sse.end(true);
}

async function completions(ctx: ServerContext, request: FastifyRequest, reply: FastifyReply) {
  const raw = asObject(request.body);
  const { items, options } = await admitTask(ctx, request, generateTask, generateOptions(raw, raw.prompt, raw.max_tokens ?? 16));
  const id = `cmpl-${randomUUID().replace(/-/g, '')}`;
  const created = Math.floor(Date.now() / 1000);
  const model = publicModel(ctx, raw.model);
  const chunk = (text: string, finish: string | null) => ({ id, object: 'text_completion', created, model, choices: [{ text, index: 0, logprobs: null, finish_reason: finish }] });
  if (raw.stream === true) {
    if (items.length !== 1) throw geulError('INVALID_INPUT', { detail: 'stream needs one prompt' });
    return streamGeneration(ctx, reply, items[0] as string, options, (text) => chunk(text, null), (result) => [chunk('', OPENAI_FINISH[result.finish_reason])]);
  }
  const results = (await ctx.inference.run(generateTask, items, options, clientGone(reply))) as GenerateResult[];
  // An empty prompt still feeds the model its beginning-of-text token.
  const promptTokens = Math.max(items.length, await countTokens(ctx, generateTask, options.model as string, items as string[], false));
  const completion = results.reduce((n, r) => n + r.tokens, 0);
  return {
    id, object: 'text_completion', created, model,
    choices: results.map((r, index) => ({ text: r.text, index, logprobs: null, finish_reason: OPENAI_FINISH[r.finish_reason] })),
    usage: { prompt_tokens: promptTokens, completion_tokens: completion, total_tokens: promptTokens + completion },
  };
}

const TextPart = Type.Object({ type: Type.Literal('text'), text: Type.String() });
const Message = Type.Object({
  role: Type.Enum(['system', 'developer', 'user', 'assistant'], { description: '"developer" is read as "system"; tool messages are not supported' }),
  content: Type.Union([Type.String(), Type.Array(TextPart), Type.Null()], { description: 'Text, or text parts (joined)' }),
  name: Type.Optional(Type.String()),
});

export const ChatCompletionsRequest = Type.Object({
  model: Type.Optional(Type.String({ maxLength: 512, description: 'A model with a chat template (the generate default when omitted)' })),
  messages: Type.Array(Message, { minItems: 1, description: 'The conversation so far' }),
  max_tokens: Type.Optional(Type.Union([Type.Integer({ minimum: 1 }), Type.Null()])),
  max_completion_tokens: Type.Optional(Type.Union([Type.Integer({ minimum: 1 }), Type.Null()], { description: 'Wins over max_tokens; default: the server\'s max_new_tokens limit' })),
  stream_options: Type.Optional(Type.Union([Type.Object({ include_usage: Type.Optional(Type.Boolean()) }), Type.Null()])),
  ...Sampling,
}, { description: 'OpenAI-compatible chat completions request' });

const ChatChoice = Type.Object({
  index: Type.Integer(),
  message: Type.Object({ role: Type.Literal('assistant'), content: Type.String(), refusal: Type.Null() }),
  logprobs: Type.Null(),
  finish_reason: Type.String(),
});
const ChatCompletionsResponse = Type.Object({
  id: Type.String(), object: Type.Literal('chat.completion'), created: Type.Integer(), model: Type.String(),
  choices: Type.Array(ChatChoice),
  usage: Usage,
}, { description: 'OpenAI-compatible chat completion (or, with stream, `chat.completion.chunk` SSE events ending in `data: [DONE]`)' });

function chatMessages(body: Static<typeof ChatCompletionsRequest>): ChatMessage[] {
  return body.messages.map((m) => ({
    role: m.role === 'developer' ? 'system' : m.role,
    content: typeof m.content === 'string' ? m.content : (m.content ?? []).map((p) => p.text).join(''),
  }));
}

async function chatCompletions(ctx: ServerContext, request: FastifyRequest, reply: FastifyReply) {
  const body = parseWith(ChatCompletionsRequest, asObject(request.body), 'request');
  const messages = chatMessages(body);
  const limit = ctx.config.server.maxTextLength;
  if (messages.reduce((n, m) => n + m.content.length, 0) > limit) throw geulError('PAYLOAD_TOO_LARGE', { detail: `messages: the conversation may be at most ${limit} characters` });
  const maxTokens = body.max_completion_tokens ?? body.max_tokens ?? ctx.config.server.maxNewTokens;
  // Validates the sampling fields and model before any worker runs; the rendered prompt is admitted (limits, quota) below.
  const options = generateOptions(body, '', maxTokens);
  const model = ctx.inference.catalog.resolve(generateTask, body.model);
  await ctx.inference.load(generateTask, model);
  const rendered = await ctx.inference.pool.run<ChatPrompt>('chat-prompt', { task: generateTask.id, model, publicName: ctx.inference.catalog.publicName(model), messages });
  const admitted = await admitTask(ctx, request, generateTask, { ...options, inputs: rendered.prompt });
  const id = `chatcmpl-${randomUUID().replace(/-/g, '')}`;
  const created = Math.floor(Date.now() / 1000);
  const name = publicModel(ctx, body.model);
  const usage = (result: GenerateResult) => ({ prompt_tokens: rendered.tokens, completion_tokens: result.tokens, total_tokens: rendered.tokens + result.tokens });
  if (body.stream === true) {
    const withUsage = body.stream_options?.include_usage === true;
    const chunk = (delta: Record<string, unknown>, finish: string | null) => ({
      id, object: 'chat.completion.chunk', created, model: name,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
      ...(withUsage ? { usage: null } : {}),
    });
    return streamGeneration(ctx, reply, rendered.prompt, admitted.options, (content) => chunk({ content }, null), (result) => [
      chunk({}, OPENAI_FINISH[result.finish_reason]),
      ...(withUsage ? [{ id, object: 'chat.completion.chunk', created, model: name, choices: [], usage: usage(result) }] : []),
    ], [chunk({ role: 'assistant', content: '' }, null)]);
  }
  const [result] = (await ctx.inference.run(generateTask, admitted.items, admitted.options, clientGone(reply))) as GenerateResult[];
  return {
    id, object: 'chat.completion', created, model: name,
    choices: [{ index: 0, message: { role: 'assistant', content: result.text, refusal: null }, logprobs: null, finish_reason: OPENAI_FINISH[result.finish_reason] }],
    usage: usage(result),
  };
}

export function registerOpenAIRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.post('/v1/completions', {
    schema: { summary: 'OpenAI-compatible text completion (with `stream`: SSE ending in `data: [DONE]`)', tags: ['openai'], body: CompletionsRequest, response: { 200: CompletionsResponse, ...openAIErrors } },
    preHandler: ctx.requireScope('tasks'),
  }, (request, reply) => completions(ctx, request, reply));
  app.post('/v1/chat/completions', {
    schema: {
      summary: 'OpenAI-compatible chat completion for models with a chat template (with `stream`: `chat.completion.chunk` SSE ending in `data: [DONE]`)',
      tags: ['openai'], body: ChatCompletionsRequest, response: { 200: ChatCompletionsResponse, ...openAIErrors },
    },
    preHandler: ctx.requireScope('tasks'),
  }, (request, reply) => chatCompletions(ctx, request, reply));
}
