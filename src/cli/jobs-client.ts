// A small client of a running geul server's /v1/jobs and /v1/files (for `geul jobs …`): JSON calls, streamed uploads,
// artifact downloads that continue a partial file with a Range request, and an SSE reader that reconnects with Last-Event-ID.
import { createWriteStream, openAsBlob } from 'node:fs';
import { mkdir, rename, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ERROR_CATALOG, geulError, GeulError, type ErrorCode } from '../core/errors.js';

export interface JobJson {
  id: string; object: 'job'; type: string; state: string; params: Record<string, unknown>;
  progress: { step: number; total: number | null; eta_s: number | null };
  created_at: number; started_at: number | null; finished_at: number | null;
  error: { code: string; message: string } | null; artifacts: { name: string; bytes: number; url: string }[];
}

export interface JobStreamEvent { id: number; event: string; data: Record<string, unknown> }

const FINAL = ['succeeded', 'failed', 'cancelled'];

export class JobsClient {
  constructor(readonly url: string, private readonly key?: string) {}

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return { ...(this.key ? { authorization: `Bearer ${this.key}` } : {}), ...extra };
  }

  private async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(`${this.url.replace(/\/+$/, '')}${path}`, { ...init, headers: this.headers(init.headers as Record<string, string> | undefined) });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw geulError('SERVER_UNREACHABLE', { url: this.url, detail: cause?.code ?? cause?.message ?? (err as Error).message }, err);
    }
    if (res.status >= 400) throw await serverError(res);
    return res;
  }

  async json<T>(path: string, body?: unknown): Promise<T> {
    const init: RequestInit = body === undefined ? {} : { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } };
    return (await (await this.fetch(path, init)).json()) as T;
  }

  /** Streams a local file to POST /v1/files; returns its file id. */
  async upload(path: string, purpose: 'batch' | 'data'): Promise<string> {
    await stat(path).catch(() => { throw geulError('FILE_NOT_FOUND', { path }); });
    const form = new FormData();
    form.set('purpose', purpose);
    // A Blob backed by the file: fetch streams it rather than reading it whole.
    form.set('file', await openAsBlob(path), basename(path));
    const res = await this.fetch('/v1/files', { method: 'POST', body: form });
    return ((await res.json()) as { id: string }).id;
  }

  /** Downloads an artifact to `out`, continuing a partial `out.partial` with a Range request; the file appears whole. */
  async download(id: string, name: string, out: string): Promise<number> {
    const partial = `${out}.partial`;
    await mkdir(dirname(out), { recursive: true });
    const have = await stat(partial).then((s) => s.size, () => 0);
    const path = `/v1/jobs/${encodeURIComponent(id)}/artifacts/${name.split('/').map(encodeURIComponent).join('/')}`;
    let res: Response;
    try {
      res = await this.fetch(path, { headers: have > 0 ? { range: `bytes=${have}-` } : {} });
    } catch (err) {
      // The partial file is already whole (416): keep it.
      if (!(err instanceof GeulError && err.code === 'RANGE_NOT_SATISFIABLE')) throw err;
      await rename(partial, out);
      return have;
    }
    const append = res.status === 206;
    await pipeline(Readable.fromWeb(res.body as never), createWriteStream(partial, { flags: append ? 'a' : 'w' }));
    await rename(partial, out);
    return (await stat(out)).size;
  }

  /**
   * Yields the job's events until the final `state`, reconnecting (with Last-Event-ID) when the connection drops, so
   * nothing is missed or seen twice.
   */
  async *events(id: string, options: { retries?: number } = {}): AsyncGenerator<JobStreamEvent> {
    let last = 0;
    let failures = 0;
    for (;;) {
      let ended = false;
      try {
        const res = await this.fetch(`/v1/jobs/${encodeURIComponent(id)}/events`, { headers: last > 0 ? { 'last-event-id': String(last) } : {} });
        for await (const event of readSse(res)) {
          last = event.id;
          failures = 0;
          yield event;
          if (event.event === 'state' && FINAL.includes(String(event.data.state))) ended = true;
        }
      } catch (err) {
        if (err instanceof GeulError && err.code !== 'SERVER_UNREACHABLE') throw err;
        if (++failures > (options.retries ?? 30)) throw err;
        await new Promise((r) => setTimeout(r, Math.min(5000, 200 * 2 ** failures)));
        continue;
      }
      if (ended) return;
      // The stream closed before the end (a server restart): reconnect after a breath.
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/** The server's `{error: {code, message}}` as the same catalog error here. */
async function serverError(res: Response): Promise<GeulError> {
  const body = (await res.json().catch(() => undefined)) as { error?: { code?: string; message?: string } } | undefined;
  const code = body?.error?.code;
  if (code && code in ERROR_CATALOG) {
    const error = new GeulError(code as ErrorCode, {});
    Object.defineProperty(error, 'message', { value: body.error?.message ?? error.message });
    return error;
  }
  return geulError('INTERNAL', {}, new Error(`HTTP ${res.status}`));
}

async function* readSse(res: Response): AsyncGenerator<JobStreamEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const fields = Object.fromEntries(block.split('\n').filter((l) => !l.startsWith(':')).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trimStart()]));
      if (fields.data !== undefined) yield { id: Number(fields.id), event: fields.event ?? 'message', data: JSON.parse(fields.data) as Record<string, unknown> };
    }
  }
}
