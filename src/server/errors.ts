// HTTP error mapping: every failure becomes a catalog error `{error: {code, message}}` with its status (OpenAI's shape
// and statuses on the OpenAI routes); never a stack.
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { geulError, isGeulError, type GeulError } from '../core/errors.js';
import { Type } from '../core/schema.js';
import { toOpenAIError } from '../tasks/openai.js';

export { toOpenAIError };

/** The error body every route documents. */
export const ErrorBody = Type.Object({
  error: Type.Object({
    code: Type.String({ description: 'Stable error code from the catalog (docs/errors.md)' }),
    message: Type.String({ description: 'Readable message, safe to show' }),
  }),
}, { description: 'An error from the catalog' });

/** Maps Fastify's own errors (body parsing, limits) to catalog codes. */
export function toHttpError(err: unknown): GeulError {
  if (isGeulError(err)) return err;
  const e = err as Partial<FastifyError> & { name?: string };
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return geulError('PAYLOAD_TOO_LARGE', { detail: 'the body is larger than the server accepts' }, err);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return geulError('INVALID_INPUT', { detail: 'send the body as application/json' }, err);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return geulError('INVALID_INPUT', { detail: 'the JSON body is empty' }, err);
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return geulError('INVALID_INPUT', { detail: 'malformed JSON' }, err);
    default:
      break;
  }
  if (e.name === 'SyntaxError' || (e.statusCode === 400 && /JSON/i.test(String(e.message)))) return geulError('INVALID_INPUT', { detail: 'malformed JSON' }, err);
  if (e.statusCode === 413) return geulError('PAYLOAD_TOO_LARGE', { detail: 'the body is larger than the server accepts' }, err);
  if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) return geulError('INVALID_INPUT', { detail: 'bad request' }, err);
  return geulError('INTERNAL', {}, err);
}

/** OpenAI's error body: the SDKs build their error classes from the status and read `error.message`. */
export const OpenAIErrorBody = Type.Object({
  error: Type.Object({
    message: Type.String(),
    type: Type.String({ description: 'invalid_request_error, authentication_error, permission_error, rate_limit_error or server_error' }),
    param: Type.Union([Type.String(), Type.Null()], { description: 'The request field at fault, when known' }),
    code: Type.String({ description: 'geul\'s stable error code (docs/errors.md)' }),
  }),
}, { description: 'An error in OpenAI\'s shape (the OpenAI-compatible routes)' });

/** Routes that always answer errors in OpenAI's shape; /v1/embeddings does when the body was OpenAI's (markOpenAI). */
const OPENAI_ROUTES = new Set(['/v1/completions', '/v1/chat/completions', '/v1/models', '/v1/batches', '/v1/batches/:id', '/v1/batches/:id/cancel']);
const openAIRequests = new WeakSet<FastifyRequest>();

/** Marks a request on a shared path as OpenAI's, so its errors take OpenAI's shape. */
export function markOpenAI(request: FastifyRequest): void {
  openAIRequests.add(request);
}

export function speaksOpenAI(request: FastifyRequest): boolean {
  return openAIRequests.has(request) || OPENAI_ROUTES.has(request.routeOptions?.url ?? '');
}

/** Writes a catalog error (OpenAI's shape on its routes), with Retry-After when the error carries one. */
export function sendError(reply: FastifyReply, error: GeulError, request?: FastifyRequest): FastifyReply {
  if (error.params.retryAfter !== undefined) reply.header('retry-after', String(error.params.retryAfter));
  const openAI = request && speaksOpenAI(request) ? toOpenAIError(error) : undefined;
  return reply.status(openAI?.status ?? error.status).type('application/json; charset=utf-8').send(openAI?.body ?? error.toJSON());
}

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const error = toHttpError(err);
    if (error.status >= 500 && error.code !== 'OVERLOADED') request.log.error({ err: error.cause ?? err, code: error.code }, 'request failed');
    else request.log.info({ code: error.code, status: error.status }, error.message);
    return sendError(reply, error, request);
  });
  app.setNotFoundHandler((request, reply) => sendError(reply, geulError('NOT_FOUND', { what: `Route ${request.method} ${request.url.split('?')[0].slice(0, 200)}` })));
}

/**
 * Answers what Node's HTTP parser refuses before Fastify sees a request (malformed request line, huge headers, a body
 * that never arrives) in the same `{error: {code, message}}` shape, then closes the connection.
 */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const error = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? geulError('REQUEST_TIMEOUT')
    : err.code === 'HPE_HEADER_OVERFLOW' ? geulError('HEADERS_TOO_LARGE')
      : geulError('INVALID_INPUT', { detail: 'malformed HTTP request' });
  const body = JSON.stringify(error.toJSON());
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${error.status} ${STATUS_CODES[error.status]}\r\nContent-Type: application/json; charset=utf-8\r\n`
      + `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy(err);
}
