// Maps a checkpoint's tensors onto a model's Hugging Face parameter names, with HF's loading rules and one clear error.
//
// The rules (modeling_utils.py): legacy `gamma`/`beta` are `weight`/`bias`; a checkpoint without the base prefix
// (`bert.`) loads into a model with a head and vice versa; tied weights (the MLM decoder) are filled from what they are
// tied to; `position_ids` buffers, another task's head and an unused pooler are ignored; a missing or resized task head
// (and a pooler the checkpoint lacks) is newly initialised and reported. Anything else missing, unexpected or wrongly shaped fails, listing every name.
import { geulError } from '../errors.js';
import type { WeightSource, WeightTensor } from './tensor.js';

/** What a model expects: its parameter names and shapes, the base prefix, and which names are a task head. */
export interface ModelParameterSpec {
  /** e.g. `BertForSequenceClassification`, for messages. */
  readonly architecture: string;
  /** HF `base_model_prefix`: `bert`, `roberta`, `distilbert`. */
  readonly basePrefix: string;
  /** Every trainable parameter, by its state_dict name, with its torch shape. Tied aliases are not listed here. */
  readonly parameters: ReadonlyMap<string, readonly number[]>;
  /** Name prefixes of the task head: missing or resized there means "newly initialised", not an error. */
  readonly headPrefixes: readonly string[];
  /** Alias → parameter it is tied to (`cls.predictions.decoder.weight` → the word embeddings). */
  readonly tied: ReadonlyMap<string, string>;
}

export interface LoadedWeights {
  /** One tensor per spec parameter present in the checkpoint (newly initialised ones are absent). */
  readonly tensors: Map<string, WeightTensor>;
  /** Head parameters the checkpoint lacks or has in another shape; the caller initialises them. */
  readonly newlyInitialized: string[];
  /** Checkpoint tensors that were not used (another task's head, buffers, an unused pooler), as HF reports them. */
  readonly unused: string[];
}

/** Tensors any checkpoint may carry that no model parameter corresponds to. */
const IGNORED_BUFFERS = [/(^|\.)position_ids$/, /(^|\.)embeddings\.position_embeddings\.inv_freq$/];
/** First name segments of a base model's modules (DistilBERT calls its encoder `transformer`). */
const BASE_SEGMENTS = new Set(['embeddings', 'encoder', 'pooler', 'transformer']);
const LISTED = 12;

/** `LayerNorm.gamma` → `LayerNorm.weight`, `LayerNorm.beta` → `LayerNorm.bias` (TF-era BERT checkpoints). */
export function modernName(name: string): string {
  return name.replace(/\.gamma$/, '.weight').replace(/\.beta$/, '.bias');
}

/** Loads the spec's parameters from `source`; `model` names the checkpoint in errors. */
export function loadStateDict(source: WeightSource, spec: ModelParameterSpec, model: string): LoadedWeights {
  const prefix = `${spec.basePrefix}.`;
  const expectsPrefix = [...spec.parameters.keys()].some((n) => n.startsWith(prefix));
  const fileNames = new Map<string, string>(); // model name → checkpoint name
  const unused: string[] = [];
  const unexpected: string[] = [];
  const checkpointHasPrefix = [...source.tensors.keys()].some((n) => modernName(n).startsWith(prefix));

  for (const original of source.tensors.keys()) {
    let name = modernName(original);
    if (expectsPrefix && !checkpointHasPrefix) name = isBaseName(name) ? `${prefix}${name}` : name;
    else if (!expectsPrefix && checkpointHasPrefix) {
      if (!name.startsWith(prefix)) { unused.push(original); continue; }
      name = name.slice(prefix.length);
    }
    if (spec.tied.has(name)) { unused.push(original); continue; }
    if (spec.parameters.has(name)) {
      if (fileNames.has(name)) unexpected.push(`${original} (a second copy of ${name})`);
      else fileNames.set(name, original);
      continue;
    }
    if (IGNORED_BUFFERS.some((re) => re.test(name))) { unused.push(original); continue; }
    // Inside the base model an unknown tensor means the config does not describe this checkpoint; outside it is
    // another task's head (a pre-training checkpoint fine-tuned for classification) or a pooler this head skips.
    const inBase = expectsPrefix ? name.startsWith(prefix) : isBaseName(name);
    if (inBase && !/(^|\.)pooler\./.test(name)) unexpected.push(original);
    else unused.push(original);
  }

  const missing: string[] = [];
  const wrongShape: string[] = [];
  const newlyInitialized: string[] = [];
  for (const [name, shape] of spec.parameters) {
    const fileName = fileNames.get(name);
    const found = fileName === undefined ? undefined : source.tensors.get(fileName)!.shape;
    if (found && sameShape(found, shape)) continue;
    // A pooler absent from the checkpoint (an MLM checkpoint fine-tuned as a classifier) is new, as in HF.
    if (isHeadName(name, spec) || (!found && /(^|\.)pooler\./.test(name))) newlyInitialized.push(name);
    else if (!found) missing.push(name);
    else wrongShape.push(`${fileName} [${found.join(', ')}] in the checkpoint, [${shape.join(', ')}] in the model`);
    if (found) fileNames.delete(name);
  }
  if (missing.length + unexpected.length + wrongShape.length > 0) {
    const parts = [listed('missing', missing), listed('unexpected', unexpected), listed('wrongly shaped', wrongShape)].filter(Boolean);
    throw geulError('STATE_DICT_MISMATCH', { model, architecture: spec.architecture, detail: parts.join('; ') });
  }

  const tensors = new Map<string, WeightTensor>();
  for (const [name, fileName] of fileNames) tensors.set(name, source.read(fileName));
  return { tensors, newlyInitialized, unused };
}

/** Hugging Face's wording for a new head, e.g. "newly initialized: classifier.weight, classifier.bias". */
export function describeNewlyInitialized(names: readonly string[]): string | undefined {
  return names.length === 0 ? undefined : `newly initialized: ${names.join(', ')}`;
}

function isBaseName(name: string): boolean {
  return BASE_SEGMENTS.has(name.split('.')[0]!);
}

function isHeadName(name: string, spec: ModelParameterSpec): boolean {
  return spec.headPrefixes.some((p) => name.startsWith(p));
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function listed(label: string, names: readonly string[]): string {
  if (names.length === 0) return '';
  const shown = names.slice(0, LISTED).join(', ');
  return `${label} (${names.length}): ${shown}${names.length > LISTED ? `, and ${names.length - LISTED} more` : ''}`;
}
