// Runs a registry task on a request: validate once against the task's schema, batch, and mirror the input shape;
// also a task's stream of one item and its whole-run modes, for the library, the CLI and the worker alike.
import { geulError } from '../core/errors.js';
import { getTask } from './registry.js';
import { prepareRequest } from './request.js';
import type { CliModeOutput, Task, TaskContext } from './types.js';

export { prepareRequest } from './request.js';

/** Runs a task by id or spec; the result is one value for one input, or an array for a batch. */
export async function runTask(taskOrId: Task | string, request: unknown, ctx: TaskContext): Promise<unknown> {
  const task = typeof taskOrId === 'string' ? getTask(taskOrId) : taskOrId;
  if (!task) throw geulError('UNKNOWN_TASK', { task: String(taskOrId) });
  const { items, single, options } = prepareRequest(task, request);
  const results = await task.run(items, options, ctx);
  return single ? results[0] : results;
}

/** Streams one validated item of a streaming task (text pieces; the return value is the full result). */
export function streamTask(task: Task, item: unknown, options: Record<string, unknown>, ctx: TaskContext): AsyncGenerator<string, unknown> {
  if (!task.stream) throw geulError('INVALID_INPUT', { detail: `task "${task.id}" does not stream` });
  return task.stream(item, options, ctx);
}

/** Runs one of a task's whole-run modes (translate's `languages`, similarity's `matrix`) on validated options. */
export function runMode(task: Task, flag: string, texts: string[], options: Record<string, unknown>, ctx: TaskContext): Promise<CliModeOutput> {
  const mode = task.cli.modes.find((m) => m.flag === flag);
  if (!mode) throw geulError('INVALID_INPUT', { detail: `task "${task.id}" has no "${flag}" mode` });
  return mode.run(texts, options, ctx);
}
