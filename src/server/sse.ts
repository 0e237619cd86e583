// Server-Sent Events on a hijacked Fastify reply: `data: {json}\n\n` events, and a signal that fires when the client leaves.
import type { FastifyReply } from 'fastify';

export interface SseStream {
  send(data: unknown): void;
  /** `data: [DONE]` (the OpenAI end marker) when asked, then closes. */
  end(done?: boolean): void;
  /** Aborts when the client disconnects before the stream ended. */
  signal: AbortSignal;
}

export function clientGone(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  reply.raw.on('close', () => {
    if (!reply.raw.writableFinished) controller.abort();
  });
  return controller.signal;
}

/** Status of a stream the client closed before its end (nginx's convention; also the CANCELLED code's status). */
export const CLIENT_CLOSED = 499;

/**
 * Fastify records a request (log line, metric) when its response finishes or errors; a stream the client closes does
 * neither, so it is recorded here, as 499.
 */
function recordClientClose(reply: FastifyReply): void {
  let errored = false;
  reply.raw.once('error', () => { errored = true; });
  reply.raw.once('close', () => {
    if (reply.raw.writableFinished || errored) return;
    const ms = reply.elapsedTime;
    reply.request.log.info({ res: { statusCode: CLIENT_CLOSED }, responseTime: ms, reason: 'client closed the stream' }, 'request completed');
    reply.server.geul.metrics.recordRequest(reply.request.routeOptions.url ?? 'unmatched', reply.request.method, CLIENT_CLOSED, ms / 1000);
  });
}

export function startSse(reply: FastifyReply): SseStream {
  const signal = clientGone(reply);
  recordClientClose(reply);
  const headers = { ...reply.getHeaders() } as Record<string, string>;
  delete headers['content-length'];
  reply.hijack();
  reply.raw.writeHead(200, {
    ...headers,
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  reply.raw.flushHeaders();
  return {
    signal,
    send(data) {
      if (!reply.raw.destroyed) reply.raw.write(`data: ${JSON.stringify(data)}\n\n`);
    },
    end(done = false) {
      if (reply.raw.destroyed) return;
      if (done) reply.raw.write('data: [DONE]\n\n');
      reply.raw.end();
    },
  };
}
