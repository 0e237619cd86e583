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
 * A hijacked reply skips Fastify's onResponse (its log line and metric), so the stream records its own end:
 * 200 when it ended, 499 when the client closed it first.
 */
function recordEnd(reply: FastifyReply): void {
  reply.raw.once('close', () => {
    const status = reply.raw.writableFinished ? reply.raw.statusCode : CLIENT_CLOSED;
    const ms = reply.elapsedTime;
    reply.request.log.info({ res: { statusCode: status }, responseTime: ms, ...(status === CLIENT_CLOSED ? { reason: 'client closed the stream' } : {}) }, 'request completed');
    reply.server.geul.metrics.recordRequest(reply.request.routeOptions.url ?? 'unmatched', reply.request.method, status, ms / 1000);
  });
}

export function startSse(reply: FastifyReply): SseStream {
  const signal = clientGone(reply);
  recordEnd(reply);
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
