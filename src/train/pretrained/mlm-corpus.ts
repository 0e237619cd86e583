// Unlabelled text for pre-training, streamed as documents: text files (a document per line, paragraph or file),
// JSONL/CSV/TSV/Parquet with a text column, and folders of them; optional Project Gutenberg header/footer stripping.
import { readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { geulError } from '../../core/errors.js';
import { GutenbergFilter, readLines } from '../../words/corpus.js';
import { rowReader, type DataFormat } from '../data/formats.js';

export const DOCUMENT_UNITS = ['line', 'paragraph', 'file'] as const;
export type DocumentUnit = (typeof DOCUMENT_UNITS)[number];

export interface CorpusReadOptions {
  /** What one document of a plain text file is (default `line`). */
  readonly documents?: DocumentUnit;
  /** Column holding the text in JSONL/CSV/TSV/Parquet files (default `text`). */
  readonly text?: string;
  /** Drop Project Gutenberg headers and footers in plain text files. */
  readonly stripGutenberg?: boolean;
  readonly signal?: AbortSignal;
}

const PLAIN = new Set(['.txt', '.text', '.md', '']);
const TABLES: Record<string, DataFormat> = { '.jsonl': 'jsonl', '.ndjson': 'jsonl', '.json': 'jsonl', '.csv': 'csv', '.tsv': 'tsv', '.parquet': 'parquet' };

/** The files behind the sources (folders expanded recursively, sorted), each with how it is read. */
export async function corpusFiles(sources: readonly string[]): Promise<{ path: string; format: DataFormat | 'plain' }[]> {
  if (sources.length === 0) throw geulError('INVALID_INPUT', { detail: 'no corpus given (--data FILE…)' });
  const out: { path: string; format: DataFormat | 'plain' }[] = [];
  const visit = async (path: string, top: boolean): Promise<void> => {
    const info = await stat(path).catch(() => undefined);
    if (!info) throw geulError('FILE_NOT_FOUND', { path });
    if (info.isDirectory()) {
      const names = (await readdir(path)).filter((n) => !n.startsWith('.')).sort();
      for (const name of names) await visit(join(path, name), false);
      return;
    }
    const ext = extname(path.replace(/\.gz$/i, '')).toLowerCase();
    if (PLAIN.has(ext)) out.push({ path, format: 'plain' });
    else if (ext in TABLES) out.push({ path, format: TABLES[ext] });
    // Inside folders, files of other kinds (a LICENSE.pdf, images) are skipped; named directly they are an error.
    else if (top) throw geulError('FILE_INVALID', { path, detail: `unknown corpus format "${ext}"; use .txt, .jsonl, .csv, .tsv, .parquet or a folder` });
  };
  for (const source of sources) await visit(source, true);
  if (out.length === 0) throw geulError('INVALID_INPUT', { detail: `no text files in ${sources.join(', ')}` });
  return out;
}

/** Documents of every source in order: non-empty texts. */
export async function* readCorpus(sources: readonly string[], options: CorpusReadOptions = {}): AsyncGenerator<string> {
  const unit = options.documents ?? 'line';
  for (const file of await corpusFiles(sources)) {
    if (file.format !== 'plain') {
      const column = options.text ?? 'text';
      const reader = rowReader(file.path, file.format, { columns: [column] });
      for await (const row of reader.rows()) {
        if (options.signal?.aborted) throw geulError('CANCELLED');
        if (!(column in row.values)) throw geulError('DATA_COLUMN_MISSING', { column, path: file.path, where: ` ${row.where}`, columns: Object.keys(row.values).join(', ') || 'none' });
        const value = row.values[column];
        if (typeof value === 'string' && value.trim() !== '') yield value;
      }
      continue;
    }
    const filter = options.stripGutenberg ? new GutenbergFilter() : undefined;
    let held: string[] = [];
    const flush = function* (): Generator<string> {
      const text = held.join('\n').trim();
      held = [];
      if (text !== '') yield text;
    };
    const take = function* (line: string): Generator<string> {
      if (unit === 'line') {
        if (line.trim() !== '') yield line;
      } else if (unit === 'paragraph' && line.trim() === '') yield* flush();
      else held.push(line);
    };
    let lines = 0;
    for await (const line of readLines(file.path)) {
      if (++lines % 4096 === 0 && options.signal?.aborted) throw geulError('CANCELLED');
      for (const kept of filter ? filter.push(line) : [line]) yield* take(kept);
    }
    for (const kept of filter ? filter.end() : []) yield* take(kept);
    yield* flush();
  }
}
