// Other APIs' requests on geul's own paths (OpenAI embeddings on /v1/embeddings): the body decides which face answers.
// The faces' own routes live in routes-openai.ts, routes-libretranslate.ts and routes-tei.ts.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ServerContext } from './context.js';
import { OpenAIEmbeddingsRequest, OpenAIEmbeddingsResponse, openAIEmbeddings } from './routes-openai.js';

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
