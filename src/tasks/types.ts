// The shape of a task: request/response schemas, a handler over a batch, and how the CLI feeds it.
import type { Static, TSchema } from '../core/schema.js';
import type { ModelStore } from '../runtime/models.js';
import type { ModelKind } from '../runtime/model-kinds.js';

export interface TaskContext {
  models: ModelStore;
  /** Aborts long work (generation) when the caller goes away. */
  signal?: AbortSignal;
  /** Called once per finished input, for progress bars. */
  onItemDone?: () => void;
}

/** One command-line option generated from a request property. */
export interface TaskSpec<Req extends TSchema = TSchema, Item extends TSchema = TSchema, Res extends TSchema = TSchema> {
  /** Stable id used in the registry, the HTTP path (/v1/<id>) and the CLI. */
  id: string;
  /** CLI command name (may differ from id, e.g. `sentiment` for `classify`). */
  command: string;
  aliases?: string[];
  summary: string;
  kind: ModelKind;
  defaultModel: string;
  /** Full request schema: `model`, `inputs` (one or a batch) and options. */
  request: Req;
  /** Schema of one input item inside `inputs`. */
  item: Item;
  /** Schema of the result for one input item. */
  result: Res;
  /** Runs the task on a batch of items (already validated); returns one result per item, in order. */
  run(items: Static<Item>[], options: Omit<Static<Req>, 'inputs'>, ctx: TaskContext): Promise<Static<Res>[]>;
  cli: {
    /** Usage of the positional arguments, e.g. `[texts...]`. */
    args: string;
    /** Turns positional args / input lines into items (default: each text is one item). */
    toItems?(texts: string[]): Static<Item>[];
    /** Request properties that are not CLI options (besides `inputs`). */
    skipOptions?: string[];
    examples: string[];
  };
}

export type AnyTask = TaskSpec<TSchema, TSchema, TSchema>;

/** Normalises `inputs` to an array and remembers whether the caller sent a single item. */
export function asBatch<T>(inputs: T | T[], isItem: (v: unknown) => boolean): { items: T[]; single: boolean } {
  if (isItem(inputs)) return { items: [inputs as T], single: true };
  return { items: inputs as T[], single: false };
}
