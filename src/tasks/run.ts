// Runs a registry task on a request: validate once against the task's schema, batch, and mirror the input shape.
import { Value } from 'typebox/value';
import { parseLoose, parseWith } from '../core/schema.js';
import { geulError } from '../core/errors.js';
import { getTask } from './registry.js';
import type { AnyTask, TaskContext } from './types.js';

/**
 * Validates a request and returns its items plus whether the caller sent one item (not a batch).
 * `convert` first turns strings into the schema's numbers and booleans (command-line flags arrive as strings).
 */
export function prepareRequest(task: AnyTask, request: unknown, how: { convert?: boolean } = {}): { items: unknown[]; single: boolean; options: Record<string, unknown> } {
  const parse = how.convert ? parseLoose : parseWith;
  const parsed = parse(task.request, request, task.id) as Record<string, unknown> & { inputs: unknown };
  const { inputs, ...options } = parsed;
  const single = Value.Check(task.item, inputs);
  return { items: single ? [inputs] : (inputs as unknown[]), single, options };
}

/** Runs a task by id or spec; the result is one value for one input, or an array for a batch. */
export async function runTask(taskOrId: AnyTask | string, request: unknown, ctx: TaskContext): Promise<unknown> {
  const task = typeof taskOrId === 'string' ? getTask(taskOrId) : taskOrId;
  if (!task) throw geulError('UNKNOWN_TASK', { task: String(taskOrId) });
  const { items, single, options } = prepareRequest(task, request);
  const results = await task.run(items as never[], options as never, ctx);
  return single ? results[0] : results;
}
