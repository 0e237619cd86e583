// The server's word-vector sets (config `server.vectors`, `geul serve --vectors NAME=FILE`): loaded once, queried by name.
//
// Where queries run: in ONE dedicated worker thread that holds every set once (words-thread.ts), not on the event loop
// and not in the inference pool. A query scans the whole unit-length matrix: 400k words × 300 dims is ~120M
// multiply-adds, tens of ms even with the WASM SIMD kernel, and inline that would stall every other request (health
// checks, SSE streams) for as long. The piscina pool's workers would each need their own copy of each set (~0.5 GB for
// 400k × 300 as a query-only unit matrix). So the event loop only validates and forwards; the thread scores queries that
// arrive together in shared passes: an int8 screening pass (words/screen.ts, exact after rescoring; ≈ 8 ms for 400k × 300
// on 2 cores) answers up to 32 queries per set, at most `server.queueSize` wait (then 503 OVERLOADED), and loading never
// blocks the event loop.
import { Worker } from 'node:worker_threads';
import type { GeulConfig } from '../core/config.js';
import { geulError, type ErrorCode, type GeulError } from '../core/errors.js';
import type { Logger } from '../core/logging.js';
import { siblingThreadEntry } from '../runtime/pool.js';
import type { LoadCall, QueryCall, WordsCall, WordsReply } from './words-thread.js';

export type SetState = 'loading' | 'ready' | 'failed';
export interface SetInfo { name: string; state: SetState; default: boolean; words?: number; dim?: number; error?: string }

interface SetEntry {
  name: string;
  source: GeulConfig['server']['vectors'][string];
  state: SetState;
  words?: number;
  dim?: number;
  error?: GeulError;
  failedAt?: number;
  loaded?: Promise<void>;
}

/** A failed load is tried again by the next query after this long (a hub download may work the second time). */
const RETRY_MS = 60_000;
const NAME = /^[\w.-]{1,64}$/;

export class WordSets {
  private worker?: Worker;
  private closed = false;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  private readonly entries = new Map<string, SetEntry>();
  readonly defaultName?: string;

  constructor(private readonly config: GeulConfig, private readonly log?: Logger) {
    for (const [name, source] of Object.entries(config.server.vectors)) {
      if (!NAME.test(name)) throw geulError('INVALID_CONFIG', { detail: `vector set name "${name}": use letters, digits, ".", "-" and "_" (at most 64)` });
      this.entries.set(name, { name, source, state: 'loading' });
    }
    this.defaultName = this.entries.keys().next().value;
  }

  /** Loads and queries sent to the thread and not answered yet (metrics). */
  get queueDepth(): number {
    return this.pending.size;
  }

  /** Starts loading every configured set in the background (their state shows in list() and /ready). */
  preload(): void {
    for (const e of this.entries.values()) this.ensure(e).catch(() => undefined);
  }

  list(): SetInfo[] {
    return [...this.entries.values()].map((e) => ({
      name: e.name, state: e.state, default: e.name === this.defaultName,
      ...(e.words !== undefined && { words: e.words, dim: e.dim }),
      ...(e.error && { error: e.error.code }),
    }));
  }

  /** Readiness per set: "ok", "loading", or the error code of a failed load. */
  readiness(): Record<string, string> {
    return Object.fromEntries(this.list().map((s) => [s.name, s.state === 'ready' ? 'ok' : s.error ?? s.state]));
  }

  /** Runs a query on a set (the default one when `name` is undefined), loading the set first if needed. */
  async query<T>(name: string | undefined, op: QueryCall['op'], args: Record<string, unknown>): Promise<{ name: string; value: T }> {
    const entry = this.entry(name);
    await this.ensure(entry);
    if (this.pending.size >= this.config.server.queueSize) throw geulError('OVERLOADED', { retryAfter: 1 });
    return { name: entry.name, value: (await this.call({ op, name: entry.name, args })) as T };
  }

  close(): void {
    this.closed = true;
    const worker = this.worker;
    this.worker = undefined;
    void worker?.terminate();
    this.failAll(geulError('CANCELLED'));
  }

  private entry(name: string | undefined): SetEntry {
    const entry = this.entries.get(name ?? this.defaultName ?? '');
    if (entry) return entry;
    const known = this.entries.size > 0 ? ` (sets: ${[...this.entries.keys()].join(', ')})` : ' (none is configured: start the server with --vectors NAME=FILE)';
    throw geulError('UNKNOWN_VECTORS', { name: name ?? '(default)', known });
  }

  private ensure(e: SetEntry): Promise<void> {
    if (e.state === 'failed' && e.failedAt !== undefined && Date.now() - e.failedAt < RETRY_MS) {
      return Promise.reject(geulError('VECTORS_UNAVAILABLE', { name: e.name, detail: e.error?.code ?? 'INTERNAL' }));
    }
    if (e.state === 'failed') e.loaded = undefined;
    e.loaded ??= (async () => {
      e.state = 'loading';
      const { path, limit, format } = e.source;
      const hub = { hubUrl: this.config.hubUrl, hubToken: this.config.hubToken, revision: this.config.revision, cacheDir: this.config.cacheDir, offline: this.config.offline };
      const started = performance.now();
      try {
        const info = (await this.call({ op: 'load', name: e.name, path, limit, format, hub } satisfies LoadCall)) as { words: number; dim: number; screened: boolean };
        Object.assign(e, { state: 'ready', words: info.words, dim: info.dim, error: undefined, failedAt: undefined });
        this.log?.info({ vectors: e.name, words: info.words, dim: info.dim, screened: info.screened, seconds: (performance.now() - started) / 1000 }, 'word vectors loaded');
      } catch (err) {
        Object.assign(e, { state: 'failed', error: err, failedAt: Date.now() });
        if (!this.closed) this.log?.error({ vectors: e.name, err }, 'word vectors failed to load');
        throw geulError('VECTORS_UNAVAILABLE', { name: e.name, detail: (err as GeulError).code ?? 'INTERNAL' }, err);
      }
    })();
    return e.loaded;
  }

  private call(message: Omit<LoadCall, 'id'> | Omit<QueryCall, 'id'>): Promise<unknown> {
    if (this.closed) return Promise.reject(geulError('CANCELLED'));
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      // The thread keeps the process alive only while it owes an answer.
      if (this.pending.size === 0) worker.ref();
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ ...message, id } as WordsCall);
    });
  }

  /** Starts the thread; from TypeScript sources (tests) it registers tsx first, as the training threads do. */
  private start(): Worker {
    const { entry, eval: fromSource } = siblingThreadEntry(import.meta.url, 'words-thread');
    const worker = new Worker(entry, { eval: fromSource });
    worker.unref();
    worker.on('message', (reply: WordsReply) => {
      const p = this.pending.get(reply.id);
      if (!p) return;
      this.pending.delete(reply.id);
      if (this.pending.size === 0) worker.unref();
      if (reply.ok) p.resolve(reply.value);
      else p.reject(geulError(reply.code as ErrorCode, reply.params, reply.detail));
    });
    const died = (err: unknown) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.log?.error({ err }, 'word-vector thread died; sets reload on the next query');
      for (const e of this.entries.values()) Object.assign(e, { state: 'loading', loaded: undefined });
      this.failAll(geulError('INTERNAL', {}, err));
    };
    worker.on('error', died);
    worker.on('exit', (code) => died(new Error(`exit code ${code}`)));
    this.worker = worker;
    return worker;
  }

  private failAll(error: GeulError): void {
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
  }
}
