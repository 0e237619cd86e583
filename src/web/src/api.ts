// The UI's only way to the server: fetch over the public HTTP API, errors as {status, code, message}, SSE streams.
import { EventSourceParserStream, type EventSourceMessage } from 'eventsource-parser/stream';
const KEY_STORAGE = 'geul.apiKey';

/** An answer that was not 2xx, or no answer at all (status 0), in the server's error-catalog terms. */
export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly retryAfter?: number) {
    super(message);
  }
}

// The key lives in session storage only (gone with the tab), never in URLs or logs.
let apiKey: string | null = sessionStorage.getItem(KEY_STORAGE);
const keyListeners = new Set<() => void>();

export function currentKey(): string | null {
  return apiKey;
}

export function setKey(key: string | null): void {
  apiKey = key;
  if (key) sessionStorage.setItem(KEY_STORAGE, key);
  else sessionStorage.removeItem(KEY_STORAGE);
  for (const listener of keyListeners) listener();
}

export function onKeyChange(listener: () => void): () => void {
  keyListeners.add(listener);
  return () => keyListeners.delete(listener);
}

function headers(json: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  if (json) out['content-type'] = 'application/json';
  if (apiKey) out['authorization'] = `Bearer ${apiKey}`;
  return out;
}

async function failure(res: Response): Promise<ApiError> {
  let code = `HTTP_${res.status}`;
  let message = res.statusText || `The server answered ${res.status}`;
  try {
    const body = (await res.json()) as { error?: { code?: string; message?: string } };
    if (body.error?.code) code = body.error.code;
    if (body.error?.message) message = body.error.message;
  } catch {
    // Not JSON (a proxy's page): keep the status line.
  }
  const retry = Number(res.headers.get('retry-after'));
  return new ApiError(res.status, code, message, Number.isFinite(retry) && retry > 0 ? retry : undefined);
}

async function send(path: string, init: RequestInit, accept: readonly number[] = []): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(path, init);
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiError(0, 'NETWORK', `Cannot reach the geul server (${(err as Error).message}). Is \`geul serve\` still running?`);
  }
  if (!res.ok && !accept.includes(res.status)) throw await failure(res);
  return res;
}

/** GETs JSON; `accept` lists error statuses whose body is still the answer (/ready says why it is not ready with a 503). */
export async function getJson<T>(path: string, signal?: AbortSignal, accept: readonly number[] = []): Promise<T> {
  const res = await send(path, { headers: headers(false), signal }, accept);
  return (await res.json()) as T;
}

export async function postJson<T>(path: string, body: unknown, signal?: AbortSignal): Promise<T> {
  const res = await send(path, { method: 'POST', headers: headers(true), body: JSON.stringify(body), signal });
  return (await res.json()) as T;
}

/**
 * POSTs a streaming request and yields each Server-Sent Event's JSON data until `[DONE]`. Aborting `signal` closes the
 * connection, which is how the server learns to stop (it cancels the generation when its client goes away).
 */
export async function* postStream(path: string, body: unknown, signal: AbortSignal): AsyncGenerator<Record<string, unknown>> {
  const res = await send(path, { method: 'POST', headers: headers(true), body: JSON.stringify(body), signal });
  for await (const message of sseMessages(res)) {
    if (message.data === '[DONE]') return;
    const parsed = JSON.parse(message.data) as Record<string, unknown> & { error?: { code: string; message: string } };
    if (parsed.error) throw new ApiError(500, parsed.error.code, parsed.error.message);
    yield parsed;
  }
}

/** The Server-Sent Events of a response, parsed by eventsource-parser (comments and keep-alives dropped). */
async function* sseMessages(res: Response): AsyncGenerator<EventSourceMessage> {
  if (!res.body) throw new ApiError(0, 'NETWORK', 'The server sent no stream');
  const reader = res.body.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream()).getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    if (value.data) yield value;
  }
}

export async function deleteJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  const res = await send(path, { method: 'DELETE', headers: headers(false), signal });
  return (await res.json()) as T;
}

/** POSTs a multipart form (a file upload: POST /v1/files) and answers its JSON. */
export async function postForm<T>(path: string, form: FormData, signal?: AbortSignal): Promise<T> {
  // No content-type: the browser writes the multipart boundary itself.
  const res = await send(path, { method: 'POST', headers: headers(false), body: form, signal });
  return (await res.json()) as T;
}

export interface NamedEvent { id: number; event: string; data: Record<string, unknown> }

/**
 * GETs a stream of named Server-Sent Events (a job's events) with the key in the Authorization header, which
 * EventSource cannot send; `after` is the Last-Event-ID to resume from. Ends when the server ends the stream.
 */
export async function* getEvents(path: string, after: number, signal: AbortSignal): AsyncGenerator<NamedEvent> {
  const res = await send(path, { headers: { ...headers(false), ...(after > 0 && { 'last-event-id': String(after) }) }, signal });
  for await (const message of sseMessages(res)) {
    yield { id: Number(message.id), event: message.event ?? 'message', data: JSON.parse(message.data) as Record<string, unknown> };
  }
}
