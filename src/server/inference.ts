// The server's way to inference: worker pool + micro-batchers for encoder tasks, model resolution, readiness.
import type { GeulConfig } from '../core/config.js';
import { MicroBatcher } from '../runtime/batcher.js';
import { WorkerPool, autoWorkers, siblingWorker } from '../runtime/pool.js';
import type { GenerateRequestOptions, GenerateResult } from '../tasks/generate.js';
import type { Language } from '../tasks/translate.js';
import type { AnyTask } from '../tasks/types.js';
import { TASKS } from '../tasks/registry.js';
import type { Metrics } from './metrics.js';
import { ModelCatalog } from './models.js';

/** Tasks whose requests are merged into shared model calls (one result per text, no per-request state). */
export const BATCHED_TASKS = new Set(['embeddings', 'classify']);

export interface InferenceOptions {
  /** Worker module override (tests); default: ./worker next to this module. */
  workerFile?: string;
}

export class Inference {
  readonly pool: WorkerPool;
  readonly catalog: ModelCatalog;
  private readonly batcher: MicroBatcher<unknown, unknown>;
  private readyChecked = false;

  constructor(readonly config: GeulConfig, metrics?: Metrics, options: InferenceOptions = {}) {
    this.catalog = new ModelCatalog(config);
    const server = config.server;
    const threads = server.workers > 0 ? server.workers : autoWorkers();
    const worker = siblingWorker(import.meta.url);
    this.pool = new WorkerPool({
      filename: options.workerFile ?? worker.filename,
      execArgv: worker.execArgv,
      threads,
      maxQueue: server.queueSize,
      workerData: { config },
    });
    this.pool.onRestart = () => metrics?.workerRestarts.inc();
    this.pool.onLoad = (model, seconds) => metrics?.modelLoad.observe(seconds, { model: model.split('/').pop() ?? model });
    this.batcher = new MicroBatcher(
      { maxItems: server.batchMaxSize, maxCost: server.batchMaxTokens, maxWaitMs: server.batchMaxWaitMs, maxInFlight: threads + 1, maxWaiting: server.queueSize },
      (context, items) => {
        const { task, options } = context as { task: string; options: Record<string, unknown> };
        return this.pool.run<unknown[]>('task', { task, items, options });
      },
    );
    this.batcher.onBatch = (n) => metrics?.batchSize.observe(n);
  }

  /** Requests waiting or running (for metrics and back-pressure). */
  get queueDepth(): number {
    return this.pool.pending + this.batcher.waitingRequests;
  }

  /**
   * Runs a task on validated items. `options.model` is the resolved model reference. Encoder tasks go through
   * the micro-batcher (an abort then only drops this request's answer); others run as one worker call.
   */
  async run(task: AnyTask, items: unknown[], options: Record<string, unknown>, signal?: AbortSignal): Promise<unknown[]> {
    if (BATCHED_TASKS.has(task.id)) {
      // Estimated tokens per item: the batcher budgets padded tokens and cuts mixed lengths apart.
      const costs = items.map((t) => Math.ceil(String(t).length / 4) + 2);
      const key = `${task.id}\u0000${JSON.stringify(options)}`;
      return this.batcher.submit(key, { task: task.id, options }, items, costs);
    }
    return this.pool.run<unknown[]>('task', { task: task.id, items, options }, { signal });
  }

  /** Streams one generation; `onText` receives pieces as the worker produces them. */
  stream(prompt: string, options: GenerateRequestOptions & { model: string }, onText: (text: string) => void, signal?: AbortSignal): Promise<GenerateResult> {
    return this.pool.run<GenerateResult>('stream', { prompt, options }, {
      signal,
      onMessage: (m) => onText((m as { text: string }).text),
    });
  }

  /** Loads a model in a worker (so errors surface before a stream starts). */
  load(task: string, model: string): Promise<unknown> {
    return this.pool.run('load', { task, model });
  }

  languages(model: string): Promise<Language[]> {
    return this.pool.run<Language[]>('languages', { model });
  }

  /** Readiness: every operator-configured default model loads (checked once, then remembered). */
  async ready(): Promise<{ ready: boolean; models: Record<string, string> }> {
    const models: Record<string, string> = {};
    let ready = true;
    for (const task of TASKS.filter((t) => this.catalog.hasConfiguredDefault(t))) {
      try {
        if (!this.readyChecked) await this.pool.run('load', { task: task.id, model: this.catalog.resolve(task) });
        models[task.id] = 'ok';
      } catch (err) {
        ready = false;
        models[task.id] = err instanceof Error ? err.message : String(err);
      }
    }
    if (ready) this.readyChecked = true;
    return { ready, models };
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
