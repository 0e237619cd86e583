// OpenAI's request and answer shapes over the registry tasks (embeddings, completions, errors), shared by the HTTP
// face (src/server/routes-openai.ts) and the Batch API's job (src/jobs/batch-job.ts), so both answer alike.
import { geulError, type GeulError } from '../core/errors.js';
import { Type } from '../core/schema.js';
import type { GenerateResult } from './generate.js';

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

/** The embeddings answer: `dimensions` shortens (a 400 above the model's width), `encoding_format` picks the encoding. */
export function embeddingList(vectors: number[][], tokens: number, request: { dimensions?: number; encoding_format?: string }, model: string) {
  let out = vectors;
  if (request.dimensions !== undefined) {
    const width = vectors[0]?.length ?? 0;
    if (request.dimensions > width) throw geulError('INVALID_INPUT', { detail: `dimensions: ${request.dimensions} is more than the model's ${width}` });
    const n = request.dimensions;
    out = vectors.map((v) => shorten(v, n));
  }
  const base64 = request.encoding_format === 'base64';
  return {
    object: 'list' as const,
    data: out.map((v, index) => ({ object: 'embedding' as const, index, embedding: base64 ? toBase64(v) : v })),
    model,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  };
}

/** OpenAI's sampling fields as the generate task's options. */
export function generateOptions(raw: Record<string, unknown>, inputs: unknown, maxTokens: unknown): Record<string, unknown> {
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

/** A completions body as the generate task's request (`max_tokens` defaults to 16, as OpenAI's). */
export function completionsTaskRequest(raw: Record<string, unknown>): Record<string, unknown> {
  return generateOptions(raw, raw.prompt, raw.max_tokens ?? 16);
}

export const OPENAI_FINISH: Record<string, string> = { stop: 'stop', length: 'length', cancelled: 'stop' };

/** The non-streaming completions answer; `promptTokens` counts the prompts with the model's tokenizer. */
export function completionObject(results: GenerateResult[], promptTokens: number, meta: { id: string; created: number; model: string }) {
  const completion = results.reduce((n, r) => n + r.tokens, 0);
  return {
    id: meta.id, object: 'text_completion' as const, created: meta.created, model: meta.model,
    choices: results.map((r, index) => ({ text: r.text, index, logprobs: null, finish_reason: OPENAI_FINISH[r.finish_reason] })),
    usage: { prompt_tokens: promptTokens, completion_tokens: completion, total_tokens: promptTokens + completion },
  };
}

const OPENAI_TYPES: Record<number, string> = { 401: 'authentication_error', 403: 'permission_error', 429: 'rate_limit_error' };

/**
 * A catalog error as OpenAI answers it: a request the model cannot serve (422 here) is OpenAI's 400
 * invalid_request_error; auth, unknown models, limits and server failures keep their status.
 */
export function toOpenAIError(error: GeulError): { status: number; body: { error: { message: string; type: string; param: string | null; code: string } } } {
  const status = error.status === 422 ? 400 : error.status;
  const type = OPENAI_TYPES[status] ?? (status >= 500 ? 'server_error' : 'invalid_request_error');
  const detail = typeof error.params.detail === 'string' ? /^(?:request\.)?([a-z_]+(?:\.\w+)*):/.exec(error.params.detail) : null;
  const param = detail ? detail[1] : error.params.model !== undefined ? 'model' : null;
  return { status, body: { error: { message: error.message, type, param, code: error.code } } };
}
