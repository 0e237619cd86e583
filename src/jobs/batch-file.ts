// The chunked file runner behind the batch jobs (embed, classify, translate): input rows of a JSONL/CSV/TSV/Parquet
// or plain text file → one JSONL line per row, in input order, appended a window (of whole chunks) at a time; each window
// is committed (append, fsync, then an atomically replaced state file), so a rerun after a crash cuts off what came after
// the last commit and continues from there: the published output holds every input row exactly once.
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
import { JobTrace } from './trace.js';

/** Input formats of a batch job; `text` is one row per line (the line is the row's text). */
export const BATCH_FORMATS = ['jsonl', 'csv', 'tsv', 'parquet', 'text'] as const;
export type BatchFormat = (typeof BATCH_FORMATS)[number];

/** The input fields every batch job has (spread into each job's one params schema). */
export const BatchInputFields = {
  input: Type.String({ minLength: 1, description: 'Input file id (POST /v1/files): .jsonl, .csv, .tsv, .parquet, or .txt (one text per line)' }),
  format: Type.Optional(Type.Enum(BATCH_FORMATS, { description: 'Input format (default: from the file name; .txt is read line by line)' })),
  text: Type.String({ minLength: 1, default: 'text', description: 'Column (JSONL field) holding the text' }),
  id: Type.Optional(Type.String({ minLength: 1, description: 'Column copied to each output line as "id" (text files: "line" is the line number)' })),
  chunkSize: Type.Integer({ minimum: 1, maximum: 4096, default: 64, description: 'Rows per chunk: a window is whole chunks, so every commit (and a resume) falls on a chunk boundary' }),
  window: Type.Integer({ minimum: 1, maximum: 16_384, default: 1024, description: 'Rows computed together (whole chunks): the model sees them sorted by length, so mixed lengths pad little; output stays in input order, committed (appended, fsynced, progress counted) a window at a time: the unit a resume restarts from' }),
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
  /** Rows handed to `process` at once, rounded up to whole chunks (default: one chunk); committed together after. */
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

/** A window's output lines as one buffer: "index" (and "id") first, then the job's fields, one JSON line per row. */
function serialise(rows: (BatchRow & { id?: unknown })[], results: Record<string, unknown>[], withId: boolean): Buffer {
  const lines = new Array<string>(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    lines[i] = `${JSON.stringify({ index: r.index, ...(withId && { id: r.id }), ...results[i] })}\n`;
  }
  return Buffer.from(lines.join(''));
}

async function countRows(path: string, format: BatchFormat, column: string): Promise<number> {
  let n = 0;
  for await (const _row of batchRows(path, format, column)) n++;
  return n;
}

/**
 * Runs (or resumes) a batch file job in `workDir`. Rows are computed and committed a window (of whole chunks) at a
 * time, in input order. Progress events count committed rows; an abort stops between windows with CANCELLED, leaving
 * the committed windows for a later resume. A finished output is left alone by a rerun.
 */
export async function runBatchFile(job: BatchFileJob, { signal, emit, workDir, resume, trace = new JobTrace(false) }: Pick<JobRunContext, 'signal' | 'emit' | 'workDir' | 'resume' | 'trace'>): Promise<void> {
  const started = trace.mark();
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
  // Whatever an interrupted attempt appended after its last commit is cut off here, then written again.
  const out = await open(partial, previous ? 'r+' : 'w');
  // Rows per window: whole chunks, so a resume (which starts at a chunk boundary) sees the same chunks.
  const windowRows = Math.max(1, Math.ceil((job.window ?? job.chunkSize) / job.chunkSize)) * job.chunkSize;
  // Window N's commit (write, fsync, state) runs while window N+1 computes; commits stay in order.
  let committing: Promise<void> = Promise.resolve();
  let chunks = 0;
  try {
    await out.truncate(state.bytes);
    let index = 0;
    let chunk: (BatchRow & { id?: unknown })[] = [];
    // One commit per window (one append, one fsync, one state file), not per chunk: each await of a commit needs the
    // event loop, which the model's synchronous runs hold while the next window computes, so per-chunk commits fell
    // behind and the next window waited for them (GEUL_JOB_TRACE showed it as "wait for commits").
    const commit = async (rows: typeof chunk, results: Record<string, unknown>[]) => {
      // A cancel stops before a window computed meanwhile is written.
      if (signal.aborted) throw geulError('CANCELLED');
      const bytes = trace.span('serialise', () => serialise(rows, results, job.id !== undefined));
      await trace.span('append', () => out.write(bytes, 0, bytes.length, state.bytes));
      await trace.span('fsync', () => out.sync());
      state.rows += rows.length;
      state.bytes += bytes.length;
      chunks += Math.ceil(rows.length / job.chunkSize);
      await trace.span('state file', () => writeAtomic(statePath, JSON.stringify(state)));
      trace.span('progress emit', () => emit({ kind: 'progress', step: state.rows, total: state.total }));
    };
    let reading = trace.mark();
    const flush = async () => {
      trace.since('read + check rows', reading);
      const rows = chunk;
      chunk = [];
      if (signal.aborted) throw geulError('CANCELLED');
      const results = await trace.span('task call', () => job.process(rows.map(({ index: i, text }) => ({ index: i, text })), signal));
      if (results.length !== rows.length) throw geulError('INTERNAL', { detail: `a window of ${rows.length} rows gave ${results.length} results` });
      await trace.span('wait for commits', () => committing);
      committing = commit(rows, results);
      committing.catch(() => {}); // awaited before the next commit and at the end; not an unhandled rejection meanwhile
      reading = trace.mark();
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
  if (trace.enabled) {
    trace.since('whole run', started);
    emit({ kind: 'log', level: 'info', message: trace.summary(`batch ${job.output}, ${state.total} rows, chunkSize ${job.chunkSize}, window ${windowRows}`, chunks) });
  }
}
