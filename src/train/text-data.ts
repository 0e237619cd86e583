// Training data for text runs: streams the sources (never holding the texts), splits, builds the label set and the
// word vocabulary from the training rows only, and encodes every row to token ids.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { HubConfig } from '../core/hub.js';
import { readExamples, type DataOptions, type Example } from './data/dataset.js';
import type { DataFormat, ReadProgress } from './data/formats.js';
import { LabelSet } from './data/labels.js';
import { stratifiedMask } from './data/split.js';
import { WordCounter, WordVocab } from './data/vocab.js';
import { PretrainedVocab, type TextVocab } from './data/pretrained-tokenizer.js';
import { loadConfig } from '../core/config.js';

export { WordVocab, tokenize, PAD, UNK } from './data/vocab.js';
export type { TextVocab } from './data/pretrained-tokenizer.js';

/** Token ids per row (cut to the maximum length) and class indices. */
export interface Encoded {
  ids: number[][];
  labels: number[];
}

export interface TextDataOptions {
  /** Training data: a file, an aclImdb-style folder or `hf://datasets/owner/name`. */
  data: string;
  /** Validation data; default: a stratified `validFraction` of `data`. */
  valid?: string;
  text: string;
  label: string;
  /** Label names in class order; data labels map onto them by name or as 0-based integers. Default: sorted data labels. */
  labels?: string[];
  format?: DataFormat;
  /** Text encoding of the files (default utf-8). */
  encoding?: string;
  /** Rows with empty text: "skip" (default, one warning) or "error". */
  emptyText?: 'skip' | 'error';
  /** Hub datasets: split of `data` (default "train") and of `valid` (default "validation"). */
  split?: string;
  validSplit?: string;
  hub?: HubConfig;
  /** Share of `data` held out for validation when `valid` is not given (default 0.2). */
  validFraction?: number;
  seed: number;
  maxLength: number;
  vocabSize: number;
  /** Words seen fewer times in the training rows are dropped (default 1). */
  minCount?: number;
  /**
   * A pretrained tokenizer (local folder or Hub id with tokenizer.json) to use instead of building a word vocabulary;
   * its files are exported with the model.
   */
  tokenizer?: string;
  /** Lower-case texts (default true). */
  lowercase?: boolean;
  onWarning?: (message: string) => void;
  /** Progress of the first read of `data` (bytes, Parquet rows or folder files, as the readers report). */
  onProgress?: ReadProgress;
  /** Characters of text kept in memory after the first pass instead of reading the data again (default 256 Mi). */
  memoryBudget?: number;
}

const DEFAULT_MEMORY_BUDGET = 256 * 2 ** 20;

export interface PreparedData {
  train: Encoded;
  valid: Encoded;
  vocab: TextVocab;
  labels: string[];
}

/** What vocab.json holds: the words (or the pretrained tokenizer's source), the label names in class order, and whether texts are lower-cased. */
export interface SavedVocab {
  words?: string[];
  tokenizer?: string;
  labels: string[];
  lowercase?: boolean;
}

export async function readVocabFile(out: string): Promise<SavedVocab> {
  return JSON.parse(await readFile(join(out, 'vocab.json'), 'utf8')) as SavedVocab;
}

export async function writeVocabFile(out: string, vocab: TextVocab, labels: string[]): Promise<void> {
  await writeFile(join(out, 'vocab.json'), JSON.stringify({ ...vocab.toJSON(), labels }));
}

function readOptions(o: TextDataOptions, valid: boolean, warn: boolean, onLabelNames?: (names: string[]) => void): DataOptions {
  return {
    text: o.text, label: o.label, format: valid ? undefined : o.format, encoding: o.encoding, emptyText: o.emptyText, hub: o.hub,
    split: valid ? (o.validSplit ?? 'validation') : o.split, onWarning: warn ? o.onWarning : undefined,
    onProgress: warn && !valid ? o.onProgress : undefined, onLabelNames,
  };
}

/**
 * Reads the data in passes, so that data bigger than memory works: (1) labels (and word counts when a separate
 * validation source is given), (2) word counts of the training rows of a held-out split, (3) encoding. Passes 2
 * and 3 reuse the rows of pass 1 when their texts fit `memoryBudget`, else read the source again. With `saved`
 * (a resumed run) the vocabulary and labels come from vocab.json instead.
 * Errors: those of readExamples, DATA_ONE_CLASS, DATA_LABEL_UNKNOWN (a row's label outside the label set).
 */
export async function prepareTextData(o: TextDataOptions, saved?: SavedVocab): Promise<PreparedData> {
  const tokenizer = saved ? saved.tokenizer : o.tokenizer;
  const pretrained = tokenizer ? await PretrainedVocab.load(tokenizer, o.hub ?? loadConfig()) : undefined;
  const counter = new WordCounter({ lowercase: o.lowercase });
  const rawLabels: string[] = [];
  // Rows are kept from the first pass while they fit the budget, so data that fits in memory is read once.
  let kept: Example[] | undefined = [];
  let chars = 0;
  // Integer labels with class names in the file (Hugging Face ClassLabel) are named by them, unless `labels` says otherwise.
  let declared: string[] | undefined;
  for await (const e of readExamples(o.data, readOptions(o, false, true, (names) => (declared = names)))) {
    rawLabels.push(e.label);
    if (o.valid && !saved && !pretrained) counter.add(e.text);
    if (kept && (chars += e.text.length) <= (o.memoryBudget ?? DEFAULT_MEMORY_BUDGET)) kept.push(e);
    else kept = undefined;
  }
  const data = (): AsyncIterable<Example> | Example[] => kept ?? readExamples(o.data, readOptions(o, false, false));
  const inValid = o.valid ? undefined : stratifiedMask(rawLabels, o.validFraction ?? 0.2, o.seed);
  const trainLabels = inValid ? rawLabels.filter((_, i) => inValid[i] === 0) : rawLabels;
  const labelSet = saved ? new LabelSet(saved.labels, o.data) : LabelSet.fromData(trainLabels, o.data, o.labels?.length ? o.labels : declared);
  if (inValid && !saved && !pretrained) {
    let i = 0;
    for await (const e of data()) if (inValid[i++] === 0) counter.add(e.text);
  }
  const vocab: TextVocab = pretrained ?? (saved ? new WordVocab(saved.words ?? [], { lowercase: saved.lowercase }) : counter.vocab({ maxSize: o.vocabSize, minCount: o.minCount }));
  const train: Encoded = { ids: [], labels: [] };
  const valid: Encoded = { ids: [], labels: [] };
  const encodeInto = async (source: string, rows: AsyncIterable<Example> | Example[], validSource: boolean, target: (i: number) => Encoded) => {
    const set = validSource ? new LabelSet(labelSet.names, source) : labelSet;
    let i = 0;
    for await (const e of rows) {
      const into = target(i++);
      into.labels.push(set.index(e.label, e.where));
      into.ids.push(vocab.encode(e.text, o.maxLength));
    }
  };
  await encodeInto(o.data, data(), false, (i) => (inValid?.[i] ? valid : train));
  if (o.valid) await encodeInto(o.valid, readExamples(o.valid, readOptions(o, true, true)), true, () => valid);
  return { train, valid, vocab, labels: labelSet.names };
}
