// The task registry: one keyed table, task id → schemas, handler, model kind, default model, CLI and HTTP metadata.
// CLI commands, HTTP routes, OpenAPI, GET /v1/tasks and the library's types are all generated from it.
import { classifyTask } from './classify.js';
import { detectTask } from './detect.js';
import { embedTask, searchTask, similarityTask } from './embeddings.js';
import { fillMaskTask } from './fill-mask.js';
import { generateTask } from './generate.js';
import { translateTask } from './translate.js';
import type { Task } from './types.js';

/** Keyed by task id (a test checks each key equals its task's id); the order is the order of CLI help and listings. */
export const TASKS = {
  generate: generateTask,
  classify: classifyTask,
  embeddings: embedTask,
  similarity: similarityTask,
  search: searchTask,
  translate: translateTask,
  'fill-mask': fillMaskTask,
  detect: detectTask,
} as const satisfies Record<string, Task>;

export type TaskTable = typeof TASKS;
export type TaskId = keyof TaskTable;

/** Every task, in table order. */
export const TASK_LIST: readonly Task[] = Object.values(TASKS);

export function isTaskId(id: string): id is TaskId {
  return Object.hasOwn(TASKS, id);
}

export function getTask(id: string): Task | undefined {
  return isTaskId(id) ? TASKS[id] : undefined;
}
