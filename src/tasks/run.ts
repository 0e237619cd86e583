// Runs a registry task on a request: validate once against the task's schema, batch, and mirror the input shape.
import { geulError } from '../core/errors.js';
import { getTask } from './registry.js';
import { prepareRequest } from './request.js';
import type { Task, TaskContext } from './types.js';

export { prepareRequest } from './request.js';

/** Runs a task by id or spec; the result is one value for one input, or an array for a batch. */
export async function runTask(taskOrId: Task | string, request: unknown, ctx: TaskContext): Promise<unknown> {
  const task = typeof taskOrId === 'string' ? getTask(taskOrId) : taskOrId;
  if (!task) throw geulError('UNKNOWN_TASK', { task: String(taskOrId) });
  const { items, single, options } = prepareRequest(task, request);
  const results = await task.run(items, options, ctx);
  return single ? results[0] : results;
}
