// Row readers for labelled-text files: JSONL, CSV (RFC 4180), TSV, Parquet and aclImdb-style folders, all streamed.
import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { Transform, type Readable } from 'node:stream';
import { parse as parseCsv } from 'csv-parse';
import iconv from 'iconv-lite';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects, parquetSchema } from 'hyparquet';
import { geulError, isGeulError } from '../../core/errors.js';

export const DATA_FORMATS = ['jsonl', 'csv', 'tsv', 'parquet', 'folder'] as const;
export type DataFormat = (typeof DATA_FORMATS)[number];

/** One raw record: its fields by column name and where it came from ("line 12", "row 7", "file pos/3_8.txt"). */
export interface RawRow {
  values: Record<string, unknown>;
  where: string;
}

/** Called with bytes (or rows for Parquet, files for folders) read so far and the total when known. */
export type ReadProgress = (done: number, total: number) => void;

export interface RowReader {
  /** Column names, read before the first row (JSONL: the first record's keys). */
  columns(): Promise<string[]>;
  /** Class names of integer label columns where the file declares them (Hugging Face Parquet: ClassLabel features). */
  classNames?(): Promise<Record<string, string[]>>;
  rows(): AsyncGenerator<RawRow>;
}

/** Folders that hold no labelled texts in the aclImdb layout (`train/unsup`: unlabelled reviews). */
const SKIPPED_FOLDERS = new Set(['unsup']);

/** The format a path is read as: `.jsonl/.ndjson/.json`, `.csv`, `.tsv/.tab/.txt`, `.parquet`, a folder; `.gz` allowed. */
export async function detectFormat(path: string): Promise<DataFormat> {
  const info = await stat(path).catch((err: NodeJS.ErrnoException) => {
    throw err.code === 'ENOENT' ? geulError('FILE_NOT_FOUND', { path }, err) : geulError('FILE_INVALID', { path, detail: `cannot read it (${err.code ?? err.message})` }, err);
  });
  if (info.isDirectory()) return 'folder';
  const ext = extname(path.replace(/\.gz$/i, '')).toLowerCase();
  if (['.jsonl', '.ndjson', '.json'].includes(ext)) return 'jsonl';
  if (ext === '.csv') return 'csv';
  if (['.tsv', '.tab', '.txt'].includes(ext)) return 'tsv';
  if (ext === '.parquet' || ext === '.pq') return 'parquet';
  throw geulError('FILE_INVALID', { path, detail: `unknown data format "${ext || '(no extension)'}"; use .jsonl, .csv, .tsv, .parquet or a folder (or --format)` });
}

function readError(path: string, err: unknown) {
  if (isGeulError(err)) return err;
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return geulError('FILE_NOT_FOUND', { path }, err);
  return geulError('FILE_INVALID', { path, detail: `cannot read it (${code ?? (err as Error).message})` }, err);
}

/** How text files are read: their encoding (default UTF-8) and a byte-progress callback. */
export interface TextIo {
  onProgress?: ReadProgress;
  /** An encoding iconv-lite knows: utf-8 (default), euc-kr / cp949 (with the UHC extension), shift_jis, gbk, latin1 … */
  encoding?: string;
}

/** A streaming decoder for `encoding` (iconv-lite); INVALID_INPUT for encodings it does not know. */
export function textDecoder(encoding = 'utf-8'): { write(bytes: Buffer): string; end(): string } {
  if (!iconv.encodingExists(encoding)) throw geulError('INVALID_INPUT', { detail: `unknown text encoding "${encoding}" (try utf-8, euc-kr, cp949, shift_jis, gbk, latin1)` });
  const decoder = iconv.getDecoder(encoding);
  return { write: (bytes) => decoder.write(bytes), end: () => decoder.end() ?? '' };
}

const isUtf8 = (encoding?: string) => !encoding || /^utf-?8$/i.test(encoding);

/** A UTF-8 stream of the file (gunzipped for .gz, re-encoded from io.encoding) that reports bytes read. */
function openText(path: string, io: TextIo = {}, total = 0): Readable {
  const decoder = isUtf8(io.encoding) ? undefined : textDecoder(io.encoding);
  const raw = createReadStream(path);
  let done = 0;
  const onProgress = io.onProgress;
  if (onProgress) raw.on('data', (chunk) => onProgress((done += chunk.length), total));
  let out: Readable = raw;
  const then = (next: Transform) => {
    const from = out;
    from.on('error', (err) => next.destroy(err));
    out = from.pipe(next);
  };
  if (/\.gz$/i.test(path)) then(createGunzip());
  if (decoder) {
    then(new Transform({
      transform(chunk: Buffer, _encoding, done) { done(null, decoder.write(chunk)); },
      flush(done) { done(null, decoder.end()); },
    }));
  }
  return out;
}

async function fileSize(path: string): Promise<number> {
  return stat(path).then((s) => s.size, (err: unknown) => { throw readError(path, err); });
}

/** Lines with their 1-based numbers; a UTF-8 byte order mark on the first line is dropped. */
export async function* lines(path: string, io: TextIo = {}): AsyncGenerator<[string, number]> {
  const input = openText(path, io, await fileSize(path));
  const reader = createInterface({ input, crlfDelay: Infinity });
  let n = 0;
  try {
    for await (const line of reader) {
      n++;
      yield [n === 1 ? line.replace(/^\uFEFF/, '') : line, n];
    }
  } catch (err) {
    throw readError(path, err);
  } finally {
    reader.close();
    input.destroy();
  }
}

/** JSONL (one object per line), or a whole-file JSON array of objects when the first non-blank line starts with "[". */
function jsonlReader(path: string, io: TextIo): RowReader {
  const parse = (line: string, n: number): Record<string, unknown> => {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw geulError('DATA_INVALID', { path, where: ` line ${n}`, detail: 'not valid JSON (JSONL needs one JSON object per line)' });
    }
    if (!value || typeof value !== 'object' || Array.isArray(value)) throw geulError('DATA_INVALID', { path, where: ` line ${n}`, detail: 'expected a JSON object' });
    return value as Record<string, unknown>;
  };
  const firstLine = async (): Promise<string | undefined> => {
    for await (const [line] of lines(path, { encoding: io.encoding })) if (line.trim() !== '') return line.trim();
    return undefined;
  };
  async function* arrayRows(): AsyncGenerator<RawRow> {
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of openText(path, io, await fileSize(path))) chunks.push(chunk as Buffer);
    } catch (err) {
      throw readError(path, err);
    }
    let items: unknown;
    try {
      items = JSON.parse(Buffer.concat(chunks).toString('utf8').replace(/^\uFEFF/, ''));
    } catch (err) {
      throw geulError('DATA_INVALID', { path, where: '', detail: `not valid JSON (${(err as Error).message})` });
    }
    if (!Array.isArray(items)) throw geulError('DATA_INVALID', { path, where: '', detail: 'expected a JSON array of objects, or one JSON object per line' });
    for (let i = 0; i < items.length; i++) {
      const item: unknown = items[i];
      if (!item || typeof item !== 'object' || Array.isArray(item)) throw geulError('DATA_INVALID', { path, where: ` item ${i + 1}`, detail: 'expected a JSON object' });
      yield { values: item as Record<string, unknown>, where: `item ${i + 1}` };
    }
  }
  return {
    async columns() {
      const line = await firstLine();
      if (line === undefined || line.startsWith('[')) return [];
      return Object.keys(parse(line, 1));
    },
    async *rows() {
      if ((await firstLine())?.startsWith('[')) {
        yield* arrayRows();
        return;
      }
      for await (const [line, n] of lines(path, io)) {
        if (line.trim() !== '') yield { values: parse(line, n), where: `line ${n}` };
      }
    },
  };
}

/** TSV as IANA defines it: a header row, fields split on tabs, no quoting (GLUE's SST-2, NSMC's ratings files). */
function tsvReader(path: string, io: TextIo): RowReader {
  let header: string[] | undefined;
  const readHeader = async () => {
    for await (const [line] of lines(path, { encoding: io.encoding })) return (header = line.split('\t').map((h) => h.trim()));
    return (header = []);
  };
  return {
    columns: async () => header ?? readHeader(),
    async *rows() {
      const names = header ?? (await readHeader());
      for await (const [line, n] of lines(path, io)) {
        if (n === 1 || line.trim() === '') continue;
        const cells = line.split('\t');
        if (cells.length !== names.length) throw geulError('DATA_INVALID', { path, where: ` line ${n}`, detail: `${cells.length} tab-separated fields, the header has ${names.length}` });
        yield { values: Object.fromEntries(names.map((h, i) => [h, cells[i]])), where: `line ${n}` };
      }
    },
  };
}

/** CSV per RFC 4180 (quoted fields with commas, quotes and newlines) through csv-parse; the first record is the header. */
function csvReader(path: string, io: TextIo): RowReader {
  let header: string[] | undefined;
  const records = async function* (progress: boolean): AsyncGenerator<{ record: string[]; line: number }> {
    const input = openText(path, progress ? io : { encoding: io.encoding }, await fileSize(path));
    const parser = input.pipe(parseCsv({ bom: true, info: true, skip_empty_lines: true, relax_column_count: false }));
    input.on('error', (err) => parser.destroy(err));
    try {
      for await (const item of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) yield { record: item.record, line: item.info.lines };
    } catch (err) {
      if (isGeulError(err) || (err as NodeJS.ErrnoException).syscall) throw readError(path, err);
      const csv = err as { message?: string; lines?: number };
      throw geulError('DATA_INVALID', { path, where: csv.lines ? ` line ${csv.lines}` : '', detail: `not valid CSV: ${csv.message?.replace(/^Invalid [^:]*: /, '') ?? 'parse error'}` }, err);
    } finally {
      parser.destroy();
      input.destroy();
    }
  };
  const readHeader = async () => {
    for await (const { record } of records(false)) return (header = record.map((h) => h.trim()));
    return (header = []);
  };
  return {
    columns: async () => header ?? readHeader(),
    async *rows() {
      let names: string[] | undefined;
      for await (const { record, line } of records(true)) {
        if (!names) {
          names = header = record.map((h) => h.trim());
          continue;
        }
        const row = names;
        yield { values: Object.fromEntries(row.map((h, i) => [h, record[i]])), where: `line ${line}` };
      }
    },
  };
}

/**
 * The ClassLabel names the `datasets` library writes into Parquet metadata (key "huggingface":
 * {"info": {"features": {"label": {"_type": "ClassLabel", "names": [...]}}}}), by column.
 */
export function classLabelNames(metadata: { key: string; value?: string }[] | undefined): Record<string, string[]> {
  const entry = metadata?.find((kv) => kv.key === 'huggingface')?.value;
  if (!entry) return {};
  try {
    const info = JSON.parse(entry) as { info?: { features?: Record<string, { _type?: string; names?: unknown }> } };
    const out: Record<string, string[]> = {};
    for (const [column, feature] of Object.entries(info.info?.features ?? {})) {
      if (feature?._type === 'ClassLabel' && Array.isArray(feature.names) && feature.names.every((n) => typeof n === 'string')) out[column] = feature.names as string[];
    }
    return out;
  } catch {
    return {}; // metadata we cannot read only costs the names
  }
}

/** Parquet via hyparquet, one row group at a time (only the needed columns are decoded). */
function parquetReader(path: string, onProgress?: ReadProgress, wanted?: string[]): RowReader {
  const open = async () => {
    try {
      const file = await asyncBufferFromFile(path);
      const metadata = await parquetMetadataAsync(file);
      return { file, metadata, names: parquetSchema(metadata).children.map((c) => c.element.name) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code) throw readError(path, err);
      throw geulError('FILE_INVALID', { path, detail: `not a Parquet file (${(err as Error).message})` }, err);
    }
  };
  return {
    columns: async () => (await open()).names,
    classNames: async () => classLabelNames((await open()).metadata.key_value_metadata),
    async *rows() {
      const { file, metadata, names } = await open();
      const columns = wanted?.filter((c) => names.includes(c));
      const total = Number(metadata.num_rows);
      let start = 0;
      for (const group of metadata.row_groups) {
        const end = start + Number(group.num_rows);
        let objects: Record<string, unknown>[];
        try {
          objects = await parquetReadObjects({ file, columns, rowStart: start, rowEnd: end });
        } catch (err) {
          throw geulError('FILE_INVALID', { path, detail: `cannot decode rows ${start + 1}-${end} (${(err as Error).message})` }, err);
        }
        for (let i = 0; i < objects.length; i++) yield { values: objects[i], where: `row ${start + i + 1}` };
        start = end;
        onProgress?.(start, total);
      }
    },
  };
}

/** aclImdb layout: `DIR/<label>/*.txt`, one text per file, the label is the folder name (`unsup` is skipped). */
function folderReader(path: string, io: TextIo): RowReader {
  const decode = (bytes: Buffer): string => {
    if (isUtf8(io.encoding)) return bytes.toString('utf8');
    const decoder = textDecoder(io.encoding);
    return decoder.write(bytes) + decoder.end();
  };
  const labelDirs = async (): Promise<{ label: string; files: string[] }[]> => {
    let entries;
    try {
      entries = await readdir(path, { withFileTypes: true });
    } catch (err) {
      throw readError(path, err);
    }
    const out: { label: string; files: string[] }[] = [];
    const byName = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true });
    for (const dir of entries.filter((e) => e.isDirectory() && !SKIPPED_FOLDERS.has(e.name)).map((e) => e.name).sort(byName)) {
      const files = (await readdir(join(path, dir), { withFileTypes: true })).filter((e) => e.isFile() && e.name.endsWith('.txt')).map((e) => e.name).sort(byName);
      if (files.length > 0) out.push({ label: dir, files });
    }
    if (out.length < 2) {
      const found = out.length === 0 ? 'no label folders with .txt files' : `only one label folder with .txt files ("${out[0].label}")`;
      throw geulError('DATA_INVALID', { path, where: '', detail: `${found}; expected DIR/<label>/*.txt with at least two labels, as in aclImdb/train/{pos,neg}` });
    }
    return out;
  };
  return {
    columns: async () => ['text', 'label', 'file'],
    async *rows() {
      const dirs = await labelDirs();
      const total = dirs.reduce((s, d) => s + d.files.length, 0);
      let done = 0;
      for (const { label, files } of dirs) {
        for (const name of files) {
          const file = join(label, name);
          let text: string;
          try {
            text = decode(await readFile(join(path, file))).replace(/^\uFEFF/, '');
          } catch (err) {
            throw readError(join(path, file), err);
          }
          yield { values: { text, label, file }, where: `file ${file}` };
          io.onProgress?.(++done, total);
        }
      }
    },
  };
}

/** A reader for one local file or folder; `columns` limits what Parquet decodes. */
export function rowReader(path: string, format: DataFormat, options: TextIo & { columns?: string[] } = {}): RowReader {
  switch (format) {
    case 'jsonl': return jsonlReader(path, options);
    case 'tsv': return tsvReader(path, options);
    case 'csv': return csvReader(path, options);
    case 'parquet': return parquetReader(path, options.onProgress, options.columns);
    case 'folder': return folderReader(path, options);
  }
}
