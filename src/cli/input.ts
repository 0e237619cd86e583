// Where CLI texts come from: positional arguments, a file (one text per line, or JSONL), or standard input.
import { createReadStream, existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { geulError } from '../core/errors.js';

export interface TextSource {
  /** Streams texts one at a time so large files never sit in memory whole. */
  texts: AsyncIterable<string>;
  /** Total count when cheaply known (arguments), for progress bars. */
  total?: number;
  fromFile: boolean;
}

/** One text per JSONL line: a JSON string, or an object with a `text` (or chosen) field. */
export function textFromJsonLine(line: string, field: string, where: string): string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw geulError('DATA_INVALID', { path: where, where: '', detail: `not valid JSON: ${line.slice(0, 60)}` });
  }
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null && typeof (value as Record<string, unknown>)[field] === 'string') {
    return (value as Record<string, string>)[field];
  }
  throw geulError('DATA_INVALID', { path: where, where: '', detail: `each line must be a JSON string or an object with a "${field}" string field` });
}

async function* lines(stream: NodeJS.ReadableStream, jsonl: boolean, field: string, where: string): AsyncGenerator<string> {
  const reader = createInterface({ input: stream, crlfDelay: Infinity });
  let n = 0;
  for await (const raw of reader) {
    n++;
    const line = raw.replace(/^\uFEFF/, '');
    if (line.trim() === '') continue;
    yield jsonl ? textFromJsonLine(line, field, `${where}:${n}`) : line;
  }
}

export function textSource(args: string[], opts: { file?: string; textField?: string }, stdin: NodeJS.ReadStream = process.stdin): TextSource {
  const field = opts.textField ?? 'text';
  if (opts.file) {
    if (args.length > 0) throw geulError('INVALID_INPUT', { detail: 'give texts as arguments or with --file, not both' });
    if (opts.file !== '-' && !existsSync(opts.file)) throw geulError('FILE_NOT_FOUND', { path: opts.file });
    const stream = opts.file === '-' ? stdin : createReadStream(opts.file, { encoding: 'utf8' });
    return { texts: lines(stream, /\.jsonl$/i.test(opts.file), field, opts.file), fromFile: true };
  }
  if (args.length > 0) {
    return { texts: (async function* () { yield* args; })(), total: args.length, fromFile: false };
  }
  if (stdin.isTTY) throw geulError('INVALID_INPUT', { detail: 'no input: give texts as arguments, with --file, or on standard input' });
  return { texts: lines(stdin, false, field, 'stdin'), fromFile: true };
}

/** Groups an async stream into arrays of at most `size`. */
export async function* chunked<T>(items: AsyncIterable<T>, size: number): AsyncGenerator<T[]> {
  let batch: T[] = [];
  for await (const item of items) {
    batch.push(item);
    if (batch.length >= size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/** Reads a whole small file as lines (for --docs and similar options). */
export async function readLines(path: string, field = 'text'): Promise<string[]> {
  if (!existsSync(path)) throw geulError('FILE_NOT_FOUND', { path });
  const out: string[] = [];
  for await (const line of lines(createReadStream(path, { encoding: 'utf8' }), /\.jsonl$/i.test(path), field, path)) out.push(line);
  return out;
}
