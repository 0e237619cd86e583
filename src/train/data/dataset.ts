// Labelled texts from any data source (file, folder, Hub dataset) with column mapping and row-level checks, streamed.
import type { HubConfig } from '../../core/hub.js';
import { geulError } from '../../core/errors.js';
import { detectFormat, rowReader, type DataFormat, type ReadProgress } from './formats.js';
import { ensureHubDataset, parseHubDataset } from './hub.js';
import { labelString } from './labels.js';

export interface Example {
  text: string;
  /** The raw label as a string ("1", "pos", "true"). */
  label: string;
  /** Where the row came from, for messages: "line 12", "row 7", "file pos/3_8.txt". */
  where: string;
}

export interface DataOptions {
  /** Text column (default "text"). aclImdb-style folders always provide "text" and "label". */
  text?: string;
  /** Label column (default "label"). */
  label?: string;
  /** Overrides the format guessed from the extension. */
  format?: DataFormat;
  /**
   * Rows whose text is empty or only whitespace: "skip" (default) drops them and reports one warning with their
   * count and first locations through onWarning; "error" stops at the first with DATA_EMPTY_TEXT.
   */
  emptyText?: 'skip' | 'error';
  /** Text encoding of the files (default utf-8; e.g. euc-kr for NSMC's original ratings files). Parquet is always UTF-8. */
  encoding?: string;
  /** Hub datasets: the split to read (default "train"). */
  split?: string;
  /** Hub datasets: where the Hub is and the cache lives (geul's config). */
  hub?: HubConfig;
  /** Stop after this many examples. */
  limit?: number;
  onWarning?: (message: string) => void;
  /** Progress of reading: bytes for text files, rows for Parquet, files for folders. */
  onProgress?: ReadProgress;
  /** Hub datasets: download progress per file. */
  onDownload?: (file: string, received: number, total: number | undefined) => void;
  /** Told the class names the file declares for integer labels (Hugging Face Parquet ClassLabel), before the first row. */
  onLabelNames?: (names: string[]) => void;
}

interface Part {
  path: string;
  format: DataFormat;
}

/** The local files behind a source: itself, or a Hub dataset split's Parquet files (downloaded if needed). */
export async function resolveSource(source: string, options: DataOptions = {}): Promise<Part[]> {
  const hubRef = parseHubDataset(source);
  if (hubRef) {
    if (!options.hub) throw geulError('INVALID_INPUT', { detail: `reading ${source} needs the hub configuration` });
    const files = await ensureHubDataset(hubRef, options.hub, { split: options.split, onProgress: options.onDownload });
    return files.map((path) => ({ path, format: 'parquet' as const }));
  }
  return [{ path: source, format: options.format ?? (await detectFormat(source)) }];
}

function textOf(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  return undefined;
}

/**
 * Streams the examples of `source` (a .jsonl/.csv/.tsv/.parquet file, optionally .gz for text formats; an
 * aclImdb-style folder; or `hf://datasets/owner/name[@rev][/path]`). Errors name the file and row:
 * FILE_NOT_FOUND / FILE_INVALID (unreadable), DATA_COLUMN_MISSING, DATA_INVALID (no label, malformed row),
 * DATA_EMPTY_TEXT (with emptyText "error").
 */
export async function* readExamples(source: string, options: DataOptions = {}): AsyncGenerator<Example> {
  const textKey = options.text ?? 'text';
  const labelKey = options.label ?? 'label';
  const parts = await resolveSource(source, options);
  const skipped: string[] = [];
  let skippedCount = 0;
  const garbled: string[] = [];
  let garbledCount = 0;
  let count = 0;
  let rowsBefore = 0;
  for (const part of parts) {
    const display = parts.length > 1 ? `${source} (${part.path.split('/').slice(-2).join('/')})` : source;
    const onProgress = options.onProgress && (parts.length > 1 && part.format === 'parquet'
      ? (done: number, total: number) => options.onProgress?.(rowsBefore + done, rowsBefore + total)
      : options.onProgress);
    const reader = rowReader(part.path, part.format, { onProgress, encoding: options.encoding, columns: [textKey, labelKey] });
    const columns = await reader.columns();
    const isFolder = part.format === 'folder';
    const [tk, lk] = isFolder ? ['text', 'label'] : [textKey, labelKey];
    const declared = options.onLabelNames && part === parts[0] ? (await reader.classNames?.())?.[lk] : undefined;
    if (declared && declared.length >= 2) options.onLabelNames?.(declared);
    for (const key of [tk, lk]) {
      if (part.format !== 'jsonl' && !columns.includes(key)) throw geulError('DATA_COLUMN_MISSING', { column: key, path: display, where: '', columns: columns.join(', ') || 'none' });
    }
    let rows = 0;
    for await (const row of reader.rows()) {
      rows++;
      const at = ` ${row.where}`;
      for (const key of [tk, lk]) {
        if (!(key in row.values)) throw geulError('DATA_COLUMN_MISSING', { column: key, path: display, where: at, columns: Object.keys(row.values).join(', ') || 'none' });
      }
      const text = textOf(row.values[tk]);
      if (text === undefined && row.values[tk] !== null && row.values[tk] !== undefined) {
        throw geulError('DATA_INVALID', { path: display, where: at, detail: `column "${tk}" holds ${typeof row.values[tk]}, not text` });
      }
      if (text === undefined || text.trim() === '') {
        if (options.emptyText === 'error') throw geulError('DATA_EMPTY_TEXT', { path: display, where: at, column: tk });
        if (skippedCount++ < 5) skipped.push(row.where);
        continue;
      }
      if (text.includes('\uFFFD') && garbledCount++ < 3) garbled.push(row.where);
      const label = labelString(row.values[lk]);
      if (label === undefined) throw geulError('DATA_INVALID', { path: display, where: at, detail: `no label in column "${lk}"` });
      yield { text, label, where: parts.length > 1 ? `${row.where} of ${part.path.split('/').pop()}` : row.where };
      if (options.limit !== undefined && ++count >= options.limit) break;
    }
    rowsBefore += rows;
    if (options.limit !== undefined && count >= options.limit) break;
  }
  if (garbledCount > 0) {
    const encoding = options.encoding ?? 'utf-8';
    options.onWarning?.(`${garbledCount} text${garbledCount === 1 ? '' : 's'} in ${source} hold bytes that are not valid ${encoding} (${garbled.join(', ')}${garbledCount > 3 ? ', …' : ''}); if the file uses another encoding, name it with --encoding (e.g. euc-kr)`);
  }
  if (skippedCount > 0) {
    const first = skipped.join(', ');
    options.onWarning?.(`skipped ${skippedCount} row${skippedCount === 1 ? '' : 's'} with empty text in column "${textKey}" of ${source} (${first}${skippedCount > 5 ? ', …' : ''})`);
  }
}

/** All examples of a source in memory (for data that fits; stream readExamples otherwise). */
export async function loadExamples(source: string, options: DataOptions = {}): Promise<Example[]> {
  const out: Example[] = [];
  for await (const example of readExamples(source, options)) out.push(example);
  return out;
}
