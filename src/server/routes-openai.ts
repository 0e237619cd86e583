// The OpenAI face, so the official SDKs and LangChain work unchanged: embeddings, completions and chat completions.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { geulError, toGeulError } from '../core/errors.js';
import { Type, parseWith, type Static } from '../core/schema.js';
import { TASKS } from '../tasks/registry.js';
import type { ChatMessage, ChatPrompt } from '../tasks/chat.js';
import { OPENAI_FINISH, OpenAIEmbeddingsRequest, OpenAIEmbeddingsResponse, completionObject, completionsTaskRequest, embeddingList, generateOptions } from '../tasks/openai.js';
import type { GenerateResult } from '../tasks/generate.js';
import type { Task } from '../tasks/types.js';
import type { ServerContext } from './context.js';
import { admitTask, asObject } from './admit.js';
import { OpenAIErrorBody, markOpenAI, toOpenAIError } from './errors.js';
import { clientGone, startSse } from './sse.js';

const { embeddings: embedTask, generate: generateTask } = TASKS;

// Re-exported for routes-compat (the OpenAI body on /v1/embeddings).
export { OpenAIEmbeddingsRequest, OpenAIEmbeddingsResponse };

const openAIErrors = { 400: OpenAIErrorBody, 401: OpenAIErrorBody, 403: OpenAIErrorBody, 404: OpenAIErrorBody, 413: OpenAIErrorBody, 429: OpenAIErrorBody, 500: OpenAIErrorBody, 503: OpenAIErrorBody };

/** A model's token counts for texts (usage reports), from its own tokenizer in a worker. */
async function countTokens(ctx: ServerContext, task: Task, model: string, texts: string[], specialTokens: boolean): Promise<number> {
  const counts = await ctx.inference.pool.run<number[]>('count-tokens', { task: task.id, model, texts, specialTokens });
  return counts.reduce((n, c) => n + c, 0);
}

/** OpenAI `POST /v1/embeddings` (chosen when the body has `input`); `usage` counts the model's tokens. */
export async function openAIEmbeddings(ctx: ServerContext, request: FastifyRequest, reply: FastifyReply, raw: Record<string, unknown>) {
  markOpenAI(request);
  const body = parseWith(OpenAIEmbeddingsRequest, raw, 'request');
  const { items, options } = await admitTask(ctx, request, embedTask, { model: body.model, inputs: body.input });
  const counted = await ctx.inference.runCounted(embedTask, items, options, clientGone(reply));
  const model = body.model ?? ctx.inference.catalog.publicName(ctx.inference.catalog.defaultName(embedTask));
  return embeddingList(counted.results as number[][], counted.tokens, body, model);
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
  const { items, options } = await admitTask(ctx, request, generateTask, completionsTaskRequest(raw));
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
  return completionObject(results, promptTokens, { id, created, model });
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
