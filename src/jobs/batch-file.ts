// The chunked file runner behind the batch jobs (embed, classify, translate): input rows of a JSONL/CSV/TSV/Parquet
// or plain text file → one JSONL line per row, in input order, appended chunk by chunk; each chunk is committed (append,
// fsync, then an atomically replaced state file), so a rerun after a crash cuts off what came after the last commit
// and continues from there: the published output holds every input row exactly once.
import { existsSync } from 'node:fs';
import { open, readFile, rename, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { TSchema } from 'typebox';
import { Value } from 'typebox/value';
import { geulError } from '../core/errors.js';
import { Type } from '../core/schema.js';
import { writeAtomic } from '../core/files.js';
import { detectFormat, lines, rowReader, type RawRow } from '../train/data/formats.js';
import type { JobRunContext } from './job-type.js';

/** Input formats of a batch job; `text` is one row per line (the line is the row's text). */
export const BATCH_FORMATS = ['jsonl', 'csv', 'tsv', 'parquet', 'text'] as const;
export type BatchFormat = (typeof BATCH_FORMATS)[number];

/** The input fields every batch job has (spread into each job's one params schema). */
export const BatchInputFields = {
  input: Type.String({ minLength: 1, description: 'Input file id (POST /v1/files): .jsonl, .csv, .tsv, .parquet, or .txt (one text per line)' }),
  format: Type.Optional(Type.Enum(BATCH_FORMATS, { description: 'Input format (default: from the file name; .txt is read line by line)' })),
  text: Type.String({ minLength: 1, default: 'text', description: 'Column (JSONL field) holding the text' }),
  id: Type.Optional(Type.String({ minLength: 1, description: 'Column copied to each output line as "id" (text files: "line" is the line number)' })),
  chunkSize: Type.Integer({ minimum: 1, maximum: 4096, default: 64, description: 'Rows per chunk: the unit of progress, output and resume' }),
  window: Type.Integer({ minimum: 1, maximum: 16_384, default: 1024, description: 'Rows computed together (whole chunks): the model sees them sorted by length, so mixed lengths pad little; output stays in input order, committed chunk by chunk' }),
};

/** One input row as a job's `process` sees it. */
export interface BatchRow {
  index: number;
  text: string;
}

export interface BatchFileJob {
  input: string;
  format?: BatchFormat;
  /** Column holding the text, and the one copied as "id". */
  text: string;
  id?: string;
  chunkSize: number;
  /** Rows handed to `process` at once, rounded up to whole chunks (default: one chunk); committed chunk by chunk after. */
  window?: number;
  /** The published output's file name in the job's folder (an artifact once every row is in). */
  output: string;
  /** Whether an empty text is a row like any other (classify, translate) or a data error (embed). */
  allowEmpty: boolean;
  /** The task's item schema: a text it refuses (too long) is a data error naming the row, not a failed chunk. */
  item?: TSchema;
  /**
   * One JSON object per row, in the rows' order; the runner adds "index" and "id". Gets a window of whole chunks (free
   * to compute them in any order, e.g. sorted by length); must not depend on earlier windows.
   */
  process(rows: BatchRow[], signal: AbortSignal): Promise<Record<string, unknown>[]>;
}

/** How far the output is committed: rows done, the output's length in bytes after them, and the input it belongs to. */
interface BatchState { rows: number; bytes: number; total: number; input: { path: string; size: number } }

/** The output while it grows: hidden, so not an artifact until it is renamed to `output`. */
export const partialName = (output: string) => `.${output}.partial`;
const stateName = (output: string) => `.${output}.state.json`;

/** The format a batch input is read as: `.txt` (also gzipped) line by line, the others as training data files are. */
export async function detectBatchFormat(path: string): Promise<BatchFormat> {
  const format = await detectFormat(path);
  if (format === 'folder') throw geulError('FILE_INVALID', { path, detail: 'a batch input is one file, not a folder' });
  if (format === 'tsv' && extname(path.replace(/\.gz$/i, '')).toLowerCase() === '.txt') return 'text';
  return format;
}

async function* batchRows(path: string, format: BatchFormat, column: string): AsyncGenerator<RawRow> {
  if (format !== 'text') {
    yield* rowReader(path, format).rows();
    return;
  }
  for await (const [line, n] of lines(path)) yield { values: { [column]: line, line: n }, where: `line ${n}` };
}

async function readState(path: string): Promise<BatchState | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as BatchState;
  } catch {
    return undefined;
  }
}

async function countRows(path: string, format: BatchFormat, column: string): Promise<number> {
  let n = 0;
  for await (const _row of batchRows(path, format, column)) n++;
  return n;
}

/**
 * Runs (or resumes) a batch file job in `workDir`. Rows are computed a window (of whole chunks) at a time and committed
 * chunk by chunk in input order. Progress events count committed rows; an abort stops between chunks with CANCELLED,
 * leaving the committed chunks for a later resume. A finished output is left alone by a rerun.
 */
export async function runBatchFile(job: BatchFileJob, { signal, emit, workDir, resume }: Pick<JobRunContext, 'signal' | 'emit' | 'workDir' | 'resume'>): Promise<void> {
  const format = job.format ?? (await detectBatchFormat(job.input));
  const partial = join(workDir, partialName(job.output));
  const statePath = join(workDir, stateName(job.output));
  const info = await stat(job.input).catch(() => {
    throw geulError('FILE_NOT_FOUND', { path: job.input });
  });
  const input = { path: job.input, size: info.size };
  const saved = resume ? await readState(statePath) : undefined;
  const sameInput = saved?.input?.path === input.path && saved.input.size === input.size;
  // An attempt that died after its final rename is done; one whose partial output is gone starts over.
  if (saved && sameInput && saved.rows === saved.total && existsSync(join(workDir, job.output))) return;
  const previous = saved && sameInput && existsSync(partial) ? saved : undefined;
  const state: BatchState = previous ?? { rows: 0, bytes: 0, total: await countRows(job.input, format, job.text), input };
  if (!previous) await writeAtomic(statePath, JSON.stringify(state));
  emit({ kind: 'progress', step: state.rows, total: state.total });
  // Whatever an interrupted attempt appended after its last committed chunk is cut off here, then written again.
  const out = await open(partial, previous ? 'r+' : 'w');
  // Rows per window: whole chunks, so a resume (which starts at a chunk boundary) sees the same chunks.
  const windowRows = Math.max(1, Math.ceil((job.window ?? job.chunkSize) / job.chunkSize)) * job.chunkSize;
  // Window N's commits (write, fsync, state per chunk) run while window N+1 computes; commits stay in order.
  let committing: Promise<void> = Promise.resolve();
  try {
    await out.truncate(state.bytes);
    let index = 0;
    let chunk: (BatchRow & { id?: unknown })[] = [];
    const commit = async (rows: typeof chunk, results: Record<string, unknown>[]) => {
      const text = rows.map((r, i) => `${JSON.stringify({ index: r.index, ...(job.id !== undefined && { id: r.id }), ...results[i] })}\n`).join('');
      const bytes = Buffer.from(text);
      await out.write(bytes, 0, bytes.length, state.bytes);
      await out.sync();
      state.rows += rows.length;
      state.bytes += bytes.length;
      await writeAtomic(statePath, JSON.stringify(state));
      emit({ kind: 'progress', step: state.rows, total: state.total });
    };
    const commitChunks = async (rows: typeof chunk, results: Record<string, unknown>[]) => {
      for (let at = 0; at < rows.length; at += job.chunkSize) {
        // A cancel stops after the chunk whose commit saw it: what computed meanwhile is not written.
        if (signal.aborted) throw geulError('CANCELLED');
        await commit(rows.slice(at, at + job.chunkSize), results.slice(at, at + job.chunkSize));
      }
    };
    const flush = async () => {
      const rows = chunk;
      chunk = [];
      if (signal.aborted) throw geulError('CANCELLED');
      const results = await job.process(rows.map(({ index: i, text }) => ({ index: i, text })), signal);
      if (results.length !== rows.length) throw geulError('INTERNAL', { detail: `a window of ${rows.length} rows gave ${results.length} results` });
      await committing;
      committing = commitChunks(rows, results);
      committing.catch(() => {}); // awaited before the next commit and at the end; not an unhandled rejection meanwhile
    };
    for await (const row of batchRows(job.input, format, job.text)) {
      const at = index++;
      if (at < state.rows) continue;
      const text = row.values[job.text];
      if (text === undefined) throw geulError('DATA_COLUMN_MISSING', { column: job.text, path: job.input, where: ` (${row.where})`, columns: Object.keys(row.values).join(', ') });
      if (typeof text !== 'string' || (text === '' && !job.allowEmpty)) throw geulError('DATA_EMPTY_TEXT', { path: job.input, where: ` ${row.where}`, column: job.text });
      const chars = text.length;
      if (job.item && !Value.Check(job.item, text)) {
        const [error] = Value.Errors(job.item, text);
        throw geulError('DATA_INVALID', { path: job.input, where: ` ${row.where}`, detail: `column "${job.text}" ${error?.message ?? 'is not a valid text'}${chars > 1000 ? ` (${chars} characters)` : ''}` });
      }
      chunk.push({ index: at, text, id: job.id !== undefined ? row.values[job.id] : undefined });
      if (chunk.length >= windowRows) await flush();
    }
    if (chunk.length > 0) await flush();
    await committing;
    if (state.rows !== state.total) throw geulError('FILE_INVALID', { path: job.input, detail: `it changed while the job ran (${state.total} rows counted, ${state.rows} read)` });
  } finally {
    // A failed or cancelled run still lets its last commit finish before the file closes.
    await committing.catch(() => {});
    await out.close();
  }
  await rename(partial, join(workDir, job.output));
}
