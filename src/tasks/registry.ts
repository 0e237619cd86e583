// The task registry: task id → schemas, handler and default model. CLI commands, HTTP routes and UI lists come from it.
import { classifyTask } from './classify.js';
import { embedTask, searchTask, similarityTask } from './embeddings.js';
import { fillMaskTask } from './fill-mask.js';
import { generateTask } from './generate.js';
import { translateTask } from './translate.js';
import type { AnyTask } from './types.js';

export const TASKS: readonly AnyTask[] = [
  generateTask,
  classifyTask,
  embedTask,
  similarityTask,
  searchTask,
  translateTask,
  fillMaskTask,
] as unknown as readonly AnyTask[];

export type TaskId = 'generate' | 'classify' | 'embeddings' | 'similarity' | 'search' | 'translate' | 'fill-mask';

const BY_ID = new Map(TASKS.map((t) => [t.id, t]));

export function getTask(id: string): AnyTask | undefined {
  return BY_ID.get(id);
}
