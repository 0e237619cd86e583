// The inference worker: holds the ONNX sessions (one ModelStore per thread) and runs registry tasks off the event loop.
import { workerData } from 'node:worker_threads';
import { setTimeout as sleep } from 'node:timers/promises';
import type { GeulConfig } from '../core/config.js';
import { geulError, isGeulError } from '../core/errors.js';
import { ModelStore } from '../runtime/models.js';
import { END_OF_MESSAGES, type WorkerCall, type WorkerReply } from '../runtime/pool.js';
import { getTask } from '../tasks/registry.js';
import { streamGenerate, generateTask, type GenerateRequestOptions } from '../tasks/generate.js';
import { modelLanguages, translateTask } from '../tasks/translate.js';

const config = (workerData as { config: GeulConfig }).config;
/** Model loads finished since the last reply, reported to the main thread for metrics. */
let loads: { model: string; seconds: number }[] = [];

class TimedModelStore extends ModelStore {
  private readonly seen = new Set<string>();
  override load(...args: Parameters<ModelStore['load']>): ReturnType<ModelStore['load']> {
    const key = args.join('\u0000');
    const pending = super.load(...args);
    if (!this.seen.has(key)) {
      this.seen.add(key);
      const start = performance.now();
      pending.then(() => loads.push({ model: args[0], seconds: (performance.now() - start) / 1000 }), () => this.seen.delete(key));
    }
    return pending;
  }
}

const models = new TimedModelStore(config);
/** Test hook: hold every call this long first, so a test can kill a worker mid-request. */
const testDelayMs = Number(process.env.GEUL_TEST_WORKER_DELAY_MS ?? 0);

export interface TaskPayload { task: string; items: unknown[]; options: Record<string, unknown> }
export interface StreamPayload { prompt: string; options: GenerateRequestOptions & { model: string } }
export interface LoadPayload { task: string; model: string }

async function handle(call: WorkerCall, signal: AbortSignal): Promise<unknown> {
  if (testDelayMs > 0) await sleep(testDelayMs);
  if (signal.aborted || (call.abortFlag && Atomics.load(call.abortFlag, 0) === 1)) throw geulError('CANCELLED');
  switch (call.op) {
    case 'task': {
      const p = call.payload as TaskPayload;
      const task = getTask(p.task);
      if (!task) throw geulError('UNKNOWN_TASK', { task: p.task });
      return task.run(p.items as never[], p.options as never, { models, signal });
    }
    case 'stream': {
      const p = call.payload as StreamPayload;
      const loaded = await models.load(p.options.model, generateTask.kind, generateTask.id);
      const stream = streamGenerate(loaded, p.prompt, p.options, signal);
      let step = await stream.next();
      while (!step.done) {
        call.port?.postMessage({ text: step.value });
        step = await stream.next();
      }
      return step.value;
    }
    case 'languages': {
      const p = call.payload as LoadPayload;
      return modelLanguages(await models.load(p.model, translateTask.kind, translateTask.id));
    }
    case 'load': {
      const p = call.payload as LoadPayload;
      const task = getTask(p.task);
      if (!task) throw geulError('UNKNOWN_TASK', { task: p.task });
      await models.load(p.model, task.kind, task.id);
      return true;
    }
    default:
      throw geulError('INTERNAL');
  }
}

/** piscina entry: never throws; errors travel as catalog codes so the main thread can rebuild them. */
export default async function run(call: WorkerCall): Promise<WorkerReply> {
  const controller = new AbortController();
  call.port?.on('message', (m) => { if (m === 'abort') controller.abort(); });
  let reply: WorkerReply;
  try {
    reply = { ok: true, value: await handle(call, controller.signal) };
  } catch (err) {
    if (isGeulError(err)) reply = { ok: false, code: err.code, params: err.params };
    else reply = { ok: false, code: 'INTERNAL', params: {}, detail: err instanceof Error ? err.message.split('\n')[0] : String(err) };
  } finally {
    // Messages on the port and the task's result travel separately: this marker tells the pool every message is out.
    call.port?.postMessage(END_OF_MESSAGES);
    call.port?.close();
  }
  if (loads.length > 0) {
    reply.loads = loads;
    loads = [];
  }
  return reply;
}
