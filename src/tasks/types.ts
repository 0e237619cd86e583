// The shape of a task, and defineTask(): checks a definition against its own schemas, then erases its types once.
import type { TObject } from 'typebox';
import { geulError } from '../core/errors.js';
import type { Static, TSchema } from '../core/schema.js';
import type { LoadedModel, ModelStore } from '../runtime/models.js';
import type { ModelKind } from '../runtime/model-kinds.js';

export interface TaskContext {
  models: ModelStore;
  /** Aborts long work (generation) when the caller goes away. */
  signal?: AbortSignal;
  /** Called once per finished input, for progress bars. */
  onItemDone?: () => void;
}

/** What a task's own code gets: the context plus its model, loaded with the task's kind (the default when none is named). */
export interface TaskRunContext extends TaskContext {
  load(model: string | undefined): Promise<LoadedModel>;
}

/** The request options of a task: everything but `inputs`, defaults applied. */
export type TaskOptions<Req extends TObject> = Omit<Static<Req>, 'inputs'>;

/** A request field the CLI reads from a file named by a flag (`search --docs FILE` fills `documents`). */
export interface CliFileOption {
  flag: string;
  field: string;
  description: string;
  required: boolean;
}

/** What a whole-run CLI mode produces: one JSON value (`--json`) and its human text. */
export interface CliModeOutput {
  value: unknown;
  text: string;
}

/** A flag that makes a CLI command do one whole-run job instead of one result per input (`translate --languages`). */
export interface CliMode<Options> {
  flag: string;
  description: string;
  run(texts: string[], options: Options, ctx: TaskRunContext): Promise<CliModeOutput>;
}

/** A CLI mode of a registry task: options validated by `prepareOptions`. */
export interface TaskMode {
  readonly flag: string;
  readonly description: string;
  run(texts: string[], options: Readonly<Record<string, unknown>>, ctx: TaskContext): Promise<CliModeOutput>;
}

/** A task's model kind, or `null` for a task that runs built-in code and loads no model (language detection). */
export type TaskKind = ModelKind | null;

/** A task as written in its module: typed by its schemas. */
export interface TaskDefinition<Req extends TObject, Item extends TSchema, Res extends TSchema, Kind extends TaskKind = TaskKind> {
  /** Stable id used in the registry, the HTTP path (/v1/<id>) and `--default <id>=…`. */
  id: string;
  /** CLI command name (may differ from id, e.g. `sentiment` for `classify`). */
  command: string;
  aliases?: string[];
  summary: string;
  kind: Kind;
  /** Tasks of one family share their model: `--default <family>=X` serves all of them. Default: the task's own id. */
  family?: string;
  /** The model used when none is named; for a built-in task (kind `null`), the name of its built-in code, for listings. */
  defaultModel: string;
  /** Items of several requests may share one model call (one result per item, no per-request state). */
  batches: boolean;
  /** Full request schema: `model`, `inputs` (one item or a batch) and options. */
  request: Req;
  /** Schema of one input item inside `inputs`. */
  item: Item;
  /** Schema of the result for one input item. */
  result: Res;
  /** Runs the task on a validated batch; returns one result per item, in order. */
  run(items: Static<Item>[], options: TaskOptions<Req>, ctx: TaskRunContext): Promise<Static<Res>[]>;
  /** Streams one item's result as text pieces; the generator's return value is the full result. Only streaming tasks have it. */
  stream?(item: Static<Item>, options: TaskOptions<Req>, ctx: TaskRunContext): AsyncGenerator<string, Static<Res>>;
  /** One result as the CLI's human-readable text (`--json` prints the result itself). */
  format(item: Static<Item>, result: Static<Res>): string;
  cli: {
    /** Usage of the positional arguments, e.g. `[texts...]`. */
    args: string;
    /** Turns positional args / input lines into items (default: each text is one item). */
    toItems?(texts: string[]): Static<Item>[];
    /** Request properties that are not generated CLI options (besides `model` and `inputs`). */
    skipOptions?: string[];
    files?: CliFileOption[];
    modes?: CliMode<TaskOptions<Req>>[];
  };
  examples: {
    cli: string[];
    /** HTTP request bodies for POST /v1/<id> (a test checks each against the schema). */
    http: (Partial<Static<Req>> & { inputs: Static<Req>['inputs'] })[];
  };
}

/**
 * A registry task with its types erased: what routes, the CLI, the worker and OpenAPI work with. `Req`, `Item` and
 * `Res` stay on the schema fields only, so the library can still derive precise types with `Static`.
 * `run`, `stream` and modes expect a request already validated by `prepareRequest` (src/tasks/request.ts).
 */
export interface Task<Req extends TObject = TObject, Item extends TSchema = TSchema, Res extends TSchema = TSchema, Kind extends TaskKind = TaskKind> {
  readonly id: string;
  readonly command: string;
  readonly aliases: readonly string[];
  readonly summary: string;
  readonly kind: Kind;
  readonly family: string;
  readonly defaultModel: string;
  readonly batches: boolean;
  readonly streams: boolean;
  readonly request: Req;
  readonly item: Item;
  readonly result: Res;
  run(items: readonly unknown[], options: Readonly<Record<string, unknown>>, ctx: TaskContext): Promise<unknown[]>;
  /** Present exactly when `streams` is true. */
  stream?(item: unknown, options: Readonly<Record<string, unknown>>, ctx: TaskContext): AsyncGenerator<string, unknown>;
  format(item: unknown, result: unknown): string;
  readonly cli: {
    readonly args: string;
    toItems(texts: string[]): unknown[];
    readonly skipOptions: readonly string[];
    readonly files: readonly CliFileOption[];
    readonly modes: readonly TaskMode[];
  };
  readonly examples: { readonly cli: readonly string[]; readonly http: readonly Record<string, unknown>[] };
}

/** Older name of an erased task, kept for callers that only need "some task". */
export type AnyTask = Task;

/**
 * Builds a registry task from its typed definition. This is the one place where validated, untyped requests
 * meet a task's typed code: every consumer validates through `prepareRequest` first, so the narrowing holds.
 */
export function defineTask<Req extends TObject, Item extends TSchema, Res extends TSchema, Kind extends TaskKind>(def: TaskDefinition<Req, Item, Res, Kind>): Task<Req, Item, Res, Kind> {
  const kind: TaskKind = def.kind;
  const context = (ctx: TaskContext): TaskRunContext => ({
    ...ctx,
    load: (model) => {
      if (kind === null) throw geulError('INVALID_INPUT', { detail: `task "${def.id}" uses no model` });
      return ctx.models.load(model ?? def.defaultModel, kind, def.id);
    },
  });
  const options = (raw: unknown) => raw as TaskOptions<Req>;
  const item = (raw: unknown) => raw as Static<Item>;
  const stream = def.stream;
  return {
    id: def.id,
    command: def.command,
    aliases: def.aliases ?? [],
    summary: def.summary,
    kind: def.kind,
    family: def.family ?? def.id,
    defaultModel: def.defaultModel,
    batches: def.batches,
    streams: stream !== undefined,
    request: def.request,
    item: def.item,
    result: def.result,
    run: (items, raw, ctx) => def.run(items.map(item), options(raw), context(ctx)),
    ...(stream ? { stream: (one: unknown, raw: Readonly<Record<string, unknown>>, ctx: TaskContext) => stream(item(one), options(raw), context(ctx)) } : {}),
    format: (one, result) => def.format(item(one), result as Static<Res>),
    cli: {
      args: def.cli.args,
      toItems: (texts) => (def.cli.toItems ? def.cli.toItems(texts) : texts),
      skipOptions: def.cli.skipOptions ?? [],
      files: def.cli.files ?? [],
      modes: (def.cli.modes ?? []).map((mode): TaskMode => ({ flag: mode.flag, description: mode.description, run: (texts, raw, ctx) => mode.run(texts, options(raw), context(ctx)) })),
    },
    examples: def.examples,
  };
}
