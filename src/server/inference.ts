// The server's way to inference: worker pool + micro-batchers for batching tasks, model resolution, readiness.
import { resolve } from 'node:path';
import type { GeulConfig } from '../core/config.js';
import { geulError, isGeulError, type ErrorParams } from '../core/errors.js';
import { MicroBatcher } from '../runtime/batcher.js';
import { WorkerPool, autoWorkers, onnxThreadsPerWorker, siblingWorker, wideWorkerThreads } from '../runtime/pool.js';
import { TASK_LIST } from '../tasks/registry.js';
import type { Task } from '../tasks/types.js';
import type { CountedResults } from '../tasks/worker.js';
import type { Metrics } from './metrics.js';
import { ModelCatalog } from './models.js';

export interface InferenceOptions {
  /** Worker module override (tests); default: the task worker, src/tasks/worker. */
  workerFile?: string;
}

export interface Readiness {
  ready: boolean;
  /** Task id → "ok", or why its default model does not load. */
  models: Record<string, string>;
}

export class Inference {
  readonly pool: WorkerPool;
  readonly catalog: ModelCatalog;
  private readonly batcher: MicroBatcher<unknown, unknown>;
  /** Default models (kind + reference) that loaded once: readiness remembers them and re-checks only failures. */
  private readonly loadedDefaults = new Set<string>();

  constructor(readonly config: GeulConfig, metrics?: Metrics, options: InferenceOptions = {}) {
    this.catalog = new ModelCatalog(config);
    const server = config.server;
    const threads = server.workers > 0 ? server.workers : autoWorkers();
    const worker = siblingWorker(import.meta.url, '../tasks/worker');
    const wideThreads = wideWorkerThreads(threads, config.threads, server.wideWorker);
    this.pool = new WorkerPool({
      filename: options.workerFile ?? worker.filename,
      execArgv: worker.execArgv,
      threads,
      maxQueue: server.queueSize,
      // Each worker's sessions get their share of the cores unless the config names a thread count.
      workerData: { config: { ...config, threads: onnxThreadsPerWorker(threads, config.threads) } },
      ...(wideThreads > 0 ? { wide: { workerData: { config: { ...config, threads: wideThreads } } } } : {}),
    });
    this.pool.onRestart = () => metrics?.workerRestarts.inc();
    this.pool.onLoad = (model, seconds) => metrics?.modelLoad.observe(seconds, { model: this.catalog.publicName(model) });
    this.batcher = new MicroBatcher(
      { maxItems: server.batchMaxSize, maxCost: server.batchMaxTokens, maxWaitMs: server.batchMaxWaitMs, maxInFlight: threads + 1, maxWaiting: server.queueSize },
      async (context, items) => {
        const { task, options, counted } = context as { task: string; options: Record<string, unknown>; counted: boolean };
        // Batched tasks run encoders (small models), so a call that finds the pool idle may take the wide worker.
        if (!counted) return this.pool.run<unknown[]>('task', { task, items, options }, { widen: true });
        const answer = await this.pool.run<CountedResults>('task-counted', { task, items, options }, { widen: true });
        return answer.results.map((value, i) => ({ value, tokens: answer.tokens[i] }));
      },
    );
    this.batcher.onBatch = (n) => metrics?.batchSize.observe(n);
  }

  /** Requests waiting or running (for metrics and back-pressure). */
  get queueDepth(): number {
    return this.pool.pending + this.batcher.waitingRequests;
  }

  /**
   * Runs a task on validated items. `options.model` is the resolved model reference. Batching tasks go through
   * the micro-batcher (an abort then only drops this request's answer); others run as one worker call.
   */
  async run(task: Task, items: unknown[], options: Record<string, unknown>, signal?: AbortSignal): Promise<unknown[]> {
    return this.publicErrors(options.model, () => this.submit(task, items, options, false, signal));
  }

  /**
   * Like run(), and also counts each item's tokens with the model's tokenizer (special tokens included), in the
   * same worker call: usage reports (OpenAI's `usage`) cost no second hop.
   */
  async runCounted(task: Task, items: unknown[], options: Record<string, unknown>, signal?: AbortSignal): Promise<{ results: unknown[]; tokens: number }> {
    return this.publicErrors(options.model, async () => {
      const answers = (await this.submit(task, items, options, true, signal)) as { value: unknown; tokens: number }[];
      return { results: answers.map((a) => a.value), tokens: answers.reduce((n, a) => n + a.tokens, 0) };
    });
  }

  private submit(task: Task, items: unknown[], options: Record<string, unknown>, counted: boolean, signal?: AbortSignal): Promise<unknown[]> {
    if (task.batches) {
      // Estimated tokens per item: the batcher budgets padded tokens and cuts mixed lengths apart.
      const costs = items.map((t) => Math.ceil(String(t).length / 4) + 2);
      const key = `${task.id}\u0000${counted ? 'counted' : ''}\u0000${JSON.stringify(options)}`;
      return this.batcher.submit(key, { task: task.id, options, counted }, items, costs);
    }
    if (!counted) return this.pool.run<unknown[]>('task', { task: task.id, items, options }, { signal });
    return this.pool.run<CountedResults>('task-counted', { task: task.id, items, options }, { signal })
      .then((answer) => answer.results.map((value, i) => ({ value, tokens: answer.tokens[i] })));
  }

  /** Streams one item of a streaming task; `onText` receives pieces as the worker produces them. */
  stream(task: Task, item: unknown, options: Record<string, unknown>, onText: (text: string) => void, signal?: AbortSignal): Promise<unknown> {
    return this.publicErrors(options.model, () => this.pool.run('stream', { task: task.id, item, options }, {
      signal,
      onMessage: (m) => onText((m as { text: string }).text),
    }));
  }

  /** Runs a task's whole-run mode (e.g. translate's `languages`) in a worker and returns its value. */
  mode(task: Task, mode: string, options: Record<string, unknown>, texts: string[] = []): Promise<unknown> {
    return this.publicErrors(options.model, () => this.pool.run('mode', { task: task.id, mode, texts, options }));
  }

  /** Loads a model in a worker (so errors surface before a stream starts). */
  load(task: Task, model: string): Promise<unknown> {
    return this.publicErrors(model, () => this.pool.run('load', { task: task.id, model }));
  }

  /**
   * Readiness: every task's default model loads. Successes are remembered; failures are tried again on the next
   * call, so the server turns ready once a missing model appears (e.g. after `geul models pull`).
   */
  async ready(): Promise<Readiness> {
    const models: Record<string, string> = {};
    for (const task of TASK_LIST) {
      const ref = this.catalog.resolve(task);
      const key = `${task.kind}\u0000${ref}`;
      try {
        if (!this.loadedDefaults.has(key)) {
          await this.load(task, ref);
          this.loadedDefaults.add(key);
        }
        models[task.id] = 'ok';
      } catch (err) {
        models[task.id] = err instanceof Error ? err.message : String(err);
      }
    }
    return { ready: Object.values(models).every((state) => state === 'ok'), models };
  }

  /** Errors name the model as the client knows it (a --models folder name), never a server path. */
  private async publicErrors<T>(model: unknown, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      if (!isGeulError(err) || typeof model !== 'string') throw err;
      const name = this.catalog.publicName(model);
      const scrub = (text: string) => {
        let out = name === model ? text : text.split(model).join(name);
        for (const dir of [this.config.cacheDir, this.config.server.modelsDir]) if (dir) out = out.split(resolve(dir)).join('…');
        return out;
      };
      const params: ErrorParams = {};
      for (const [key, value] of Object.entries(err.params)) params[key] = typeof value === 'string' ? scrub(value) : value;
      throw geulError(err.code, params, err);
    }
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
