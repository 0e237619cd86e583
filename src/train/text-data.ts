// Minimal labelled-text loading and word vocabulary for the trainer, until src/train/data and src/train/vocab land.
// TODO(train-data): replace with the shared dataset readers and vocabulary; keep tokenize() identical to tokenizer.json.
import { readFile } from 'node:fs/promises';
import { geulError } from '../core/errors.js';
import { Rng } from '../core/random.js';

export interface Example {
  text: string;
  label: string;
}

/** Reads JSONL, TSV or CSV (header row; CSV without quoted commas) and picks the text and label columns. */
export async function readExamples(path: string, textKey = 'text', labelKey = 'label'): Promise<Example[]> {
  let raw: string;
  try {
    raw = await readFile(path, 'utf8');
  } catch (err) {
    throw geulError('FILE_NOT_FOUND', { path }, err);
  }
  const lines = raw.split(/\r?\n/).filter((l) => l.trim() !== '');
  const rows: Example[] = [];
  if (path.endsWith('.jsonl') || path.endsWith('.json')) {
    lines.forEach((line, i) => {
      const obj = JSON.parse(line) as Record<string, unknown>;
      const text = obj[textKey];
      const label = obj[labelKey];
      if (typeof text !== 'string' || label === undefined || label === null) throw geulError('DATA_INVALID', { path, where: ` line ${i + 1}`, detail: `needs "${textKey}" and "${labelKey}"` });
      rows.push({ text, label: String(label) });
    });
    return rows;
  }
  const sep = path.endsWith('.tsv') ? '\t' : ',';
  const header = lines[0].split(sep).map((h) => h.trim());
  const ti = header.indexOf(textKey);
  const li = header.indexOf(labelKey);
  if (ti < 0 || li < 0) throw geulError('DATA_INVALID', { path, where: '', detail: `columns "${textKey}" and "${labelKey}" not in header (${header.join(', ')})` });
  lines.slice(1).forEach((line, i) => {
    const cells = line.split(sep);
    if (cells[ti] === undefined || cells[li] === undefined || cells[li].trim() === '') throw geulError('DATA_INVALID', { path, where: ` line ${i + 2}`, detail: 'missing text or label' });
    rows.push({ text: cells[ti], label: cells[li].trim() });
  });
  return rows;
}

/** Splits off `fraction` of each label's rows (seeded) for validation. */
export function stratifiedSplit(rows: Example[], fraction: number, seed: number): { train: Example[]; valid: Example[] } {
  const rng = new Rng(seed);
  const byLabel = new Map<string, Example[]>();
  for (const r of rows) byLabel.set(r.label, [...(byLabel.get(r.label) ?? []), r]);
  const train: Example[] = [];
  const valid: Example[] = [];
  for (const label of [...byLabel.keys()].sort()) {
    const items = rng.shuffle([...(byLabel.get(label) as Example[])]);
    const cut = Math.round(items.length * fraction);
    valid.push(...items.slice(0, cut));
    train.push(...items.slice(cut));
  }
  return { train: rng.shuffle(train), valid };
}

/** Lower-cased words and punctuation runs: what tokenizer.json's Lowercase + Whitespace pre-tokenizer produce. */
export function tokenize(text: string): string[] {
  return text.toLowerCase().match(/\w+|[^\w\s]+/gu) ?? [];
}

export const PAD = '[PAD]';
export const UNK = '[UNK]';

export class WordVocab {
  readonly ids = new Map<string, number>();

  constructor(readonly words: string[]) {
    words.forEach((w, i) => this.ids.set(w, i));
  }

  /** Most frequent words first (ties alphabetical), [PAD]=0 and [UNK]=1. */
  static build(texts: string[], options: { maxSize?: number; minCount?: number } = {}): WordVocab {
    const counts = new Map<string, number>();
    for (const t of texts) for (const w of tokenize(t)) counts.set(w, (counts.get(w) ?? 0) + 1);
    const words = [...counts].filter(([, c]) => c >= (options.minCount ?? 1)).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([w]) => w);
    return new WordVocab([PAD, UNK, ...words.slice(0, (options.maxSize ?? 30000) - 2)]);
  }

  encode(text: string, maxLength: number): number[] {
    const ids = tokenize(text).map((w) => this.ids.get(w) ?? 1);
    return ids.length === 0 ? [1] : ids.slice(0, maxLength);
  }

  /** tokenizer.json (WordLevel, Lowercase, Whitespace) and tokenizer_config.json that transformers.js loads. */
  tokenizerFiles(maxLength: number): Record<string, string> {
    const tokenizer = {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: [PAD, UNK].map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
      normalizer: { type: 'Lowercase' },
      pre_tokenizer: { type: 'Whitespace' },
      post_processor: null,
      decoder: null,
      model: { type: 'WordLevel', vocab: Object.fromEntries(this.ids), unk_token: UNK },
    };
    const config = { tokenizer_class: 'PreTrainedTokenizerFast', model_max_length: maxLength, pad_token: PAD, unk_token: UNK, do_lower_case: true };
    return { 'tokenizer.json': JSON.stringify(tokenizer), 'tokenizer_config.json': JSON.stringify(config, null, 2) };
  }
}
