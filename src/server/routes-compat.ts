// Compatible faces so existing clients work unchanged: LibreTranslate translate/languages, and the table of other APIs
// on geul's own paths (OpenAI embeddings; the OpenAI routes live in routes-openai.ts).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { geulError } from '../core/errors.js';
import { Type } from '../core/schema.js';
import { TASKS } from '../tasks/registry.js';
import type { ServerContext } from './context.js';
import { admitTask, asObject, errorResponses } from './admit.js';
import { OpenAIEmbeddingsRequest, OpenAIEmbeddingsResponse, openAIEmbeddings } from './routes-openai.js';
import { clientGone } from './sse.js';

const { translate: translateTask } = TASKS;

const LibreTranslateRequest = Type.Object({
  q: Type.Union([Type.String(), Type.Array(Type.String(), { minItems: 1 })], { description: 'Text or texts to translate' }),
  source: Type.String({ description: 'Source language code ("auto" = the model decides)' }),
  target: Type.String({ description: 'Target language code' }),
  format: Type.Optional(Type.Enum(['text', 'html'])),
  api_key: Type.Optional(Type.String({ description: 'API key (instead of Authorization: Bearer)' })),
}, { description: 'LibreTranslate-compatible translate request' });
const LibreTranslateResponse = Type.Object({ translatedText: Type.Union([Type.String(), Type.Array(Type.String())]) });
const LibreLanguages = Type.Array(Type.Object({ code: Type.String(), name: Type.String(), targets: Type.Array(Type.String()) }));

async function libreTranslate(ctx: ServerContext, request: FastifyRequest, reply: FastifyReply) {
  const raw = asObject(request.body);
  if (raw.format === 'html') throw geulError('INVALID_INPUT', { detail: 'format "html" is not supported; send plain text' });
  if (typeof raw.target !== 'string') throw geulError('INVALID_INPUT', { detail: 'target: required' });
  if (typeof raw.source !== 'string') throw geulError('INVALID_INPUT', { detail: 'source: required' });
  const { items, single, options } = admitTask(ctx, request, translateTask, {
    inputs: raw.q, to: raw.target, ...(raw.source === 'auto' ? {} : { from: raw.source }),
  });
  const results = (await ctx.inference.run(translateTask, items, options, clientGone(reply))) as { text: string }[];
  return { translatedText: single ? results[0].text : results.map((r) => r.text) };
}

/** The languages of a translation model (the default when none is named), from the translate task's `languages` mode. */
export async function translationLanguages(ctx: ServerContext, requested?: string): Promise<{ code: string; name: string }[]> {
  const model = ctx.inference.catalog.resolve(translateTask, requested);
  return (await ctx.inference.mode(translateTask, 'languages', { model })) as { code: string; name: string }[];
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
  app.post('/translate', {
    schema: { summary: 'LibreTranslate-compatible translation', tags: ['libretranslate'], body: LibreTranslateRequest, response: { 200: LibreTranslateResponse, ...errorResponses } },
    preHandler: ctx.requireScope('tasks'),
  }, (request, reply) => libreTranslate(ctx, request, reply));
  app.get('/languages', {
    schema: { summary: 'LibreTranslate-compatible language list of the default translation model', tags: ['libretranslate'], response: { 200: LibreLanguages, ...errorResponses } },
    preHandler: ctx.requireScope('tasks'),
  }, async () => {
    const languages = await translationLanguages(ctx);
    const codes = languages.map((l) => l.code);
    return languages.map((l) => ({ code: l.code, name: l.name, targets: codes }));
  });
}
