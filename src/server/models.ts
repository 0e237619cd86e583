// Which models the server may use: folders under --models by name, configured defaults, hub models already in the
// cache (unless turned off), and any hub id only if allowed.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { GeulConfig } from '../core/config.js';
import { geulError } from '../core/errors.js';
import { snapshotDir } from '../core/cache.js';
import { availableDtypes } from '../core/hub-files.js';
import { parseHubId, parseModelRef } from '../core/model-id.js';
import { servableKinds, type KindConfig } from '../runtime/model-kinds.js';
import { TASK_LIST, isTaskId } from '../tasks/registry.js';
import type { Task } from '../tasks/types.js';

export interface ServedModel {
  id: string;
  /** Who may use it: the key id of the job that produced it ("geul": the server's own models). */
  owner?: string;
  /** Tasks the model's config.json suggests it can do. */
  tasks: string[];
  /** Tasks for which it is the default. */
  defaultFor: string[];
}

/** Guesses a model's tasks from config.json, by the same rules model loading applies. */
export function guessTasks(dir: string): string[] {
  try {
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as KindConfig;
    const kinds = servableKinds(config);
    return TASK_LIST.filter((t) => t.kind !== null && kinds.includes(t.kind)).map((t) => t.id);
  } catch {
    return [];
  }
}

/**
 * A cache snapshot holds config.json and ONNX weights the server would load: of the server's dtype, or with `auto` of
 * any precision (loading picks what is there), so serving it downloads no weights.
 */
export function snapshotComplete(dir: string, dtype: string): boolean {
  if (!existsSync(join(dir, 'config.json'))) return false;
  const onnx = join(dir, 'onnx');
  const present = availableDtypes([...(existsSync(onnx) ? readdirSync(onnx).map((f) => `onnx/${f}`) : []), ...readdirSync(dir)]);
  return dtype === 'auto' ? present.length > 0 : present.some((d) => d === dtype);
}

/** Client-chosen hub ids could fill the public-name memo without end; past this many it starts over. */
const MAX_REMEMBERED_REFS = 1024;

/** Who asks: models produced by jobs are visible to their owner (and admins) only. */
export interface Viewer { owner: string; admin: boolean }

/** A model a training job exported (its folder in the local artifact store). */
export interface ProducedModel { name: string; path: string; owner: string }

export class ModelCatalog {
  /** Models that succeeded train/finetune jobs exported, by name (the job id); added while the server runs. */
  private readonly produced = new Map<string, ProducedModel & { tasks: string[] }>();
  private producer?: () => Promise<ProducedModel[]>;

  /** Public names of references that are neither --models folders nor produced models, remembered (bounded). */
  private readonly refNames = new Map<string, string>();
  /** Folder name → absolute path, from --models. */
  private readonly local = new Map<string, string>();
  private readonly defaults: Record<string, string>;

  constructor(private readonly config: GeulConfig) {
    const dir = config.server.modelsDir;
    if (dir) {
      const root = resolve(dir);
      if (!existsSync(root)) throw geulError('FILE_NOT_FOUND', { path: root });
      for (const name of readdirSync(root).sort()) {
        const path = join(root, name);
        if (statSync(path).isDirectory() && existsSync(join(path, 'config.json'))) this.local.set(name, path);
      }
    }
    for (const task of Object.keys(config.server.defaults)) {
      if (!isTaskId(task)) throw geulError('INVALID_CONFIG', { detail: `--default ${task}=…: unknown task (tasks: ${TASK_LIST.map((t) => t.id).join(', ')})` });
    }
    this.defaults = config.server.defaults;
  }

  /**
   * The model name a task uses when the request names none: its own `--default`, else its family's
   * (`--default embeddings=X` also serves similarity and search), else the registry default.
   */
  defaultName(task: Task): string {
    return this.defaults[task.id] ?? this.defaults[task.family] ?? task.defaultModel;
  }

  /** True when the default was set by the operator (for the task or its family). */
  hasConfiguredDefault(task: Task): boolean {
    return task.id in this.defaults || task.family in this.defaults;
  }

  /**
   * Turns a requested model name into what the model store loads. Path-like or malformed ids → 400
   * INVALID_MODEL_ID; well-formed ids this server does not offer → 404 MODEL_NOT_FOUND.
   */
  resolve(task: Task, requested?: string, viewer?: Viewer): string {
    const name = requested ?? this.defaultName(task);
    const path = this.local.get(name);
    if (path) return path;
    const made = this.produced.get(name);
    if (made && viewer && (viewer.admin || viewer.owner === made.owner)) return made.path;
    // A default given as a path is listed (and may be asked for) by its public name, never by the path.
    const byPublicName = Object.values(this.defaults).find((ref) => ref !== name && this.publicName(ref) === name);
    if (byPublicName) return byPublicName;
    const operatorChosen = requested === undefined || Object.values(this.defaults).includes(name);
    // Operator-chosen defaults may be any reference (hub id or folder); request-chosen ones must be plain hub ids.
    if (operatorChosen) return name;
    parseHubId(name);
    if (parseModelRef(name).kind === 'local') throw geulError('INVALID_MODEL_ID', { model: name, detail: 'local paths are not accepted over HTTP' });
    if (!this.config.server.allowHubModels && !this.isCachedHubModel(name)) throw geulError('MODEL_NOT_FOUND', { model: name, where: ' on this server (see GET /v1/models)' });
    return name;
  }

  /**
   * True when `id` (a hub id) may be served because it is in the cache already: its config and ONNX weights at the
   * server's revision (what an admin's pull leaves there), unless the operator turned cached hub models off.
   */
  isCachedHubModel(id: string): boolean {
    if (!this.config.server.cachedHubModels) return false;
    const ref = parseModelRef(id);
    if (ref.kind !== 'hub') return false;
    return snapshotComplete(snapshotDir(this.config.cacheDir, ref, this.config.revision), this.config.dtype);
  }

  /**
   * What a listed name refers to: a --models folder's path, an operator default's reference (hub id or path), or the
   * name itself (a hub id). Server-side only: the listing shows sizes from it, never the path.
   */
  reference(name: string): string {
    return this.local.get(name) ?? this.produced.get(name)?.path ?? Object.values(this.defaults).find((ref) => this.publicName(ref) === name) ?? name;
  }

  /** The folder of a --models model by its name (training jobs take their base checkpoint or tokenizer from it). */
  localFolder(name: string): string | undefined {
    return this.local.get(name);
  }

  /**
   * The name clients know a model reference by: the folder name for --models folders, the last path segment for an
   * operator's local path, the id itself for hub ids. Errors and listings use it so no server path reaches a client.
   */
  publicName(ref: string): string {
    for (const [name, path] of this.local) if (path === ref) return name;
    for (const made of this.produced.values()) if (made.path === ref) return made.name;
    let name = this.refNames.get(ref);
    if (name === undefined) {
      // parseModelRef stats the file system (a bare name may be a folder in the cwd): once per reference, not per request.
      try {
        name = parseModelRef(ref).kind === 'local' ? basename(ref) : ref;
      } catch {
        name = basename(ref);
      }
      if (this.refNames.size >= MAX_REMEMBERED_REFS) this.refNames.clear();
      this.refNames.set(ref, name);
    }
    return name;
  }

  /** Adds a model a job produced (idempotent); a name the server's own folders use is never shadowed. */
  addProduced(model: ProducedModel): void {
    if (this.local.has(model.name) || this.produced.has(model.name)) return;
    this.produced.set(model.name, { ...model, tasks: guessTasks(model.path) });
  }

  /** Where produced models come from (the jobs routes): `refresh()` asks it, so other processes' jobs show too. */
  setProducer(producer: () => Promise<ProducedModel[]>): void {
    this.producer = producer;
  }

  async refresh(): Promise<void> {
    for (const model of (await this.producer?.()) ?? []) this.addProduced(model);
  }

  /** The models `viewer` may use: the server's, then (newest last) those its jobs produced. */
  list(viewer?: Viewer): ServedModel[] {
    const out = new Map<string, ServedModel>();
    for (const [name, path] of this.local) out.set(name, { id: name, tasks: guessTasks(path), defaultFor: [] });
    for (const task of TASK_LIST) {
      // Built-in tasks (detect) load no model: nothing to list.
      if (task.kind === null) continue;
      const name = this.publicName(this.defaultName(task));
      const entry = out.get(name) ?? { id: name, tasks: [task.id], defaultFor: [] };
      entry.defaultFor.push(task.id);
      if (!entry.tasks.includes(task.id)) entry.tasks.push(task.id);
      out.set(name, entry);
    }
    for (const made of this.produced.values()) {
      if (viewer && (viewer.admin || viewer.owner === made.owner) && !out.has(made.name)) out.set(made.name, { id: made.name, owner: made.owner, tasks: made.tasks, defaultFor: [] });
    }
    return [...out.values()];
  }
}
