// Scores any loaded classification model on labelled examples through the same code as the `sentiment` task.
import { geulError } from '../core/errors.js';
import type { LoadedModel } from '../runtime/models.js';
import { classifyTexts } from '../tasks/classify.js';
import type { Example } from './data/dataset.js';
import { LabelSet } from './data/labels.js';
import { classificationMetrics, type ClassificationMetrics } from './metrics.js';

export interface EvalOptions {
  /** Names for the data's labels in order: data label i (or a name) → this name, then matched to the model's labels. */
  labels?: string[];
  /** Texts longer than the model maximum: as the classify task's long_text. */
  longText?: 'truncate' | 'chunk';
  /** Texts handed to the model per call (default 64). */
  batchSize?: number;
  /** Data source name for messages. */
  source?: string;
  onItemDone?: () => void;
}

export interface EvalResult extends ClassificationMetrics {
  /** Each data label found → the model label it was scored as. */
  label_map: Record<string, string>;
}

/** The model's label names by output index (id2label; LABEL_i where missing). */
export function modelLabels(loaded: LoadedModel): string[] {
  const id2label = (loaded.config.id2label ?? {}) as Record<string, string>;
  const count = Math.max(Number(loaded.config.num_labels ?? 0), ...Object.keys(id2label).map((k) => Number(k) + 1), 0);
  if (count < 2) throw geulError('TASK_NOT_SUPPORTED', { model: loaded.id, task: 'eval', detail: 'the model declares fewer than two labels (config.json id2label)' });
  return Array.from({ length: count }, (_, i) => id2label[String(i)] ?? `LABEL_${i}`);
}

/**
 * Maps data labels onto the model's labels: a data label equal to a model label (case-insensitively) is that
 * label; an integer i is the model's i-th label when no model label is itself an integer. With `names`, a data
 * label is first turned into its name (by name or as index i into `names`), which is then matched to the model's
 * labels by name, or else by its position in `names` when there are as many names as model labels.
 */
export function labelMapper(model: string[], source: string, names?: string[]): (label: string, where: string) => number {
  const target = new LabelSet(model, source);
  const data = names && names.length > 0 ? new LabelSet(names, source) : undefined;
  return (label, where) => {
    const position = data?.index(label, where);
    const named = data && position !== undefined ? data.names[position] : label;
    // A name the model does not know keeps its position when both label lists are equally long.
    const i = target.lookup(named) ?? (data && data.size === model.length ? position : undefined);
    if (i === undefined) {
      throw geulError('DATA_LABEL_UNKNOWN', { label: named, path: source, where: where ? ` ${where}` : '', labels: `the model's labels: ${model.join(', ')}; map them with --labels` });
    }
    return i;
  };
}

/** Classifies every example with the loaded model and scores the predictions against the data's labels. */
export async function evaluateClassifier(loaded: LoadedModel, examples: Example[], options: EvalOptions = {}): Promise<EvalResult> {
  const labels = modelLabels(loaded);
  const index = new Map(labels.map((l, i) => [l, i]));
  const map = labelMapper(labels, options.source ?? 'the data', options.labels);
  const truth = new Int32Array(examples.length);
  const labelMap: Record<string, string> = {};
  examples.forEach((e, i) => {
    truth[i] = map(e.label, e.where);
    labelMap[e.label] = labels[truth[i]];
  });
  const predicted = new Int32Array(examples.length);
  const scores = new Float64Array(examples.length);
  const size = options.batchSize ?? 64;
  for (let start = 0; start < examples.length; start += size) {
    const batch = examples.slice(start, start + size).map((e) => e.text);
    const results = await classifyTexts(loaded, batch, { long_text: options.longText ?? 'truncate' }, options.onItemDone);
    results.forEach((ranked, j) => {
      predicted[start + j] = index.get(ranked[0].label) ?? 0;
      scores[start + j] = ranked.find((r) => r.label === labels[1])?.score ?? 0;
    });
  }
  const metrics = classificationMetrics(truth, predicted, labels, labels.length === 2 ? scores : undefined);
  return { ...metrics, label_map: labelMap };
}
