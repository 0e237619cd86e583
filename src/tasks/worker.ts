// The inference worker thread: holds the ONNX sessions (one ModelStore per thread) and runs registry tasks off the
// event loop. It lives with the tasks (it imports them) and below the server, which only points its pool here.
import { workerData } from 'node:worker_threads';
import { setTimeout as sleep } from 'node:timers/promises';
import type { GeulConfig } from '../core/config.js';
import { geulError, isGeulError } from '../core/errors.js';
import { ModelStore } from '../runtime/models.js';
import type { ModelKind } from '../runtime/model-kinds.js';
import { END_OF_MESSAGES, RELEASE_OP, arrivedAfterClose, type ReleasePayload, type WorkerCall, type WorkerReply } from '../runtime/pool.js';
import { getTask } from './registry.js';
import { countTokens, renderChat, type ChatMessage } from './chat.js';
import { runMode, streamTask } from './run.js';
import type { Task } from './types.js';

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

/** A batch of validated items with their options (`options.model` is the resolved model reference). */
export interface TaskPayload { task: string; items: unknown[]; options: Record<string, unknown> }
/** What `task-counted` answers: the task's results and each item's token count. */
export interface CountedResults { results: unknown[]; tokens: number[] }
/** One item of a streaming task. */
export interface StreamPayload { task: string; item: unknown; options: Record<string, unknown> }
/** A CLI-style whole-run mode of a task (e.g. translate's `languages`). */
export interface ModePayload { task: string; mode: string; texts: string[]; options: Record<string, unknown> }
export interface LoadPayload { task: string; model: string }
/** Renders a chat with the model's template (the model loaded as the task's kind). */
export interface ChatPromptPayload { task: string; model: string; publicName: string; messages: ChatMessage[] }
/** Counts tokens of texts with the model's tokenizer (usage reports). */
export interface CountTokensPayload { task: string; model: string; texts: string[]; specialTokens: boolean }

function taskOf(id: string): Task {
  const task = getTask(id);
  if (!task) throw geulError('UNKNOWN_TASK', { task: id });
  return task;
}

/** The kind of model a task loads; a built-in task (kind null, e.g. detect) has none to render or count with. */
function modelKind(task: Task): ModelKind {
  if (task.kind === null) throw geulError('INVALID_INPUT', { detail: `task "${task.id}" uses no model` });
  return task.kind;
}

async function handle(call: WorkerCall, signal: AbortSignal): Promise<unknown> {
  if (arrivedAfterClose(call)) throw geulError('OVERLOADED', { retryAfter: 5 });
  if (testDelayMs > 0) await sleep(testDelayMs);
  if (signal.aborted || (call.abortFlag && Atomics.load(call.abortFlag, 0) === 1)) throw geulError('CANCELLED');
  switch (call.op) {
    case 'task': {
      const p = call.payload as TaskPayload;
      return taskOf(p.task).run(p.items, p.options, { models, signal });
    }
    case 'task-counted': {
      // The results and each item's token count (with special tokens, for usage reports) in one hop, not two.
      const p = call.payload as TaskPayload;
      const task = taskOf(p.task);
      const results = await task.run(p.items, p.options, { models, signal });
      const loaded = await models.load(p.options.model as string, modelKind(task), task.id);
      return { results, tokens: countTokens(loaded, p.items as string[], true) } satisfies CountedResults;
    }
    case 'stream': {
      const p = call.payload as StreamPayload;
      const stream = streamTask(taskOf(p.task), p.item, p.options, { models, signal });
      let step = await stream.next();
      while (!step.done) {
        call.port?.postMessage({ text: step.value });
        step = await stream.next();
      }
      return step.value;
    }
    case 'mode': {
      const p = call.payload as ModePayload;
      return (await runMode(taskOf(p.task), p.mode, p.texts, p.options, { models, signal })).value;
    }
    case 'load': {
      const p = call.payload as LoadPayload;
      const task = taskOf(p.task);
      // A built-in task (kind null, e.g. detect) has no model: it is always ready.
      if (task.kind === null) return {};
      const loaded = await models.load(p.model, task.kind, task.id);
      return { max_length: loaded.maxLength };
    }
    case 'chat-prompt': {
      const p = call.payload as ChatPromptPayload;
      const task = taskOf(p.task);
      return renderChat(await models.load(p.model, modelKind(task), task.id), p.messages, p.publicName);
    }
    case 'count-tokens': {
      const p = call.payload as CountTokensPayload;
      const task = taskOf(p.task);
      return countTokens(await models.load(p.model, modelKind(task), task.id), p.texts, p.specialTokens);
    }
    case RELEASE_OP: {
      // Pool shutdown: wait (briefly) until every worker holds one release call, then free the sessions.
      const { barrier, workers } = call.payload as ReleasePayload;
      Atomics.add(barrier, 0, 1);
      Atomics.notify(barrier, 0);
      const until = Date.now() + 2000;
      for (let seen = Atomics.load(barrier, 0); seen < workers && Date.now() < until; seen = Atomics.load(barrier, 0)) {
        Atomics.wait(barrier, 0, seen, until - Date.now());
      }
      await models.dispose();
      return {};
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
