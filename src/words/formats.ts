// Vector files: word2vec binary and text (gensim/Google compatible), GloVe text (no header) and fastText .vec; .gz too.
import { createReadStream, createWriteStream, existsSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { once } from 'node:events';
import { createGunzip, gunzipSync } from 'node:zlib';
import { geulError } from '../core/errors.js';
import { WordVectors } from './vectors.js';

export type VectorFormat = 'bin' | 'txt' | 'glove';

export interface ReadOptions {
  /** Default 'auto': `bin` by extension or content, `glove` when line 1 is not "<count> <dim>", else `txt` (.vec too). */
  format?: VectorFormat | 'vec' | 'auto';
  /** Load only the first N words (the most frequent, in word2vec/GloVe/fastText files). */
  limit?: number;
  /** Bytes of the file read so far (compressed bytes for .gz) and its size. */
  onProgress?: (bytesRead: number, totalBytes: number) => void;
}

const invalid = (path: string, detail: string) => geulError('FILE_INVALID', { path, detail });
/** At most `n` characters of `s` for a message (a misread binary file must not flood the terminal). */
const clip = (s: string, n = 40) => (s.length > n ? `${s.slice(0, n)}…` : s);
/** Whether `line` holds a control character no text vector file has (tab, VT, FF and CR excepted). */
function hasControlChars(line: string): boolean {
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c < 9 || (c > 13 && c < 32)) return true;
  }
  return false;
}
const HEADER = /^\s*(\d+)\s+(\d+)\s*$/;
const FASTTEXT_MAGIC = 793712314;

async function head(path: string, bytes = 4096): Promise<Buffer> {
  if (!existsSync(path)) throw geulError('FILE_NOT_FOUND', { path });
  if (path.endsWith('.gz')) {
    // Only the start is needed: inflate the first compressed block(s) leniently.
    const handle = await open(path, 'r');
    try {
      const { buffer, bytesRead } = await handle.read(Buffer.alloc(65536), 0, 65536, 0);
      try {
        return gunzipSync(buffer.subarray(0, bytesRead), { finishFlush: 2 /* Z_SYNC_FLUSH */ }).subarray(0, bytes);
      } catch (err) {
        throw invalid(path, `not a gzip file (${(err as Error).message})`);
      }
    } finally {
      await handle.close();
    }
  }
  const handle = await open(path, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(bytes), 0, bytes, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** `bin` by extension or by a non-text byte after the header; `glove` when the first line is not "count dim". */
export async function detectFormat(path: string): Promise<VectorFormat> {
  const start = await head(path);
  if (start.length >= 4 && start.readInt32LE(0) === FASTTEXT_MAGIC) {
    throw invalid(path, 'this is a fastText model (.bin); read its .vec file instead');
  }
  const newline = start.indexOf(10);
  const first = start.subarray(0, newline < 0 ? start.length : newline).toString('utf8').replace(/^\uFEFF/, '');
  if (!HEADER.test(first)) return 'glove';
  if (/\.bin(\.gz)?$/i.test(path)) return 'bin';
  // Text vectors are printable; binary float32 data almost surely holds control bytes.
  for (const b of start.subarray(newline + 1)) if (b < 9 || (b > 13 && b < 32)) return 'bin';
  return 'txt';
}

/** The file as a stream of chunks (inflated for .gz), reporting raw bytes read. */
async function* chunks(path: string, onProgress?: (read: number, total: number) => void): AsyncGenerator<Buffer> {
  const total = statSync(path).size;
  const raw = createReadStream(path, { highWaterMark: 1 << 20 });
  let last = -1;
  const report = () => {
    if (raw.bytesRead - last >= 1 << 20 || raw.bytesRead === total) {
      last = raw.bytesRead;
      onProgress?.(raw.bytesRead, total);
    }
  };
  const input = path.endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
  try {
    for await (const chunk of input) {
      report();
      yield chunk as Buffer;
    }
  } catch (err) {
    if ((err as { code?: string }).code?.startsWith('Z_')) throw invalid(path, `corrupt gzip data (${(err as Error).message})`);
    throw err;
  } finally {
    raw.destroy();
  }
}

/** Lines of the file (LF or CRLF, BOM dropped), without holding more than a chunk. */
async function* lines(path: string, onProgress?: (read: number, total: number) => void): AsyncGenerator<string> {
  let rest = '';
  let first = true;
  const decoder = new TextDecoder('utf-8');
  for await (const chunk of chunks(path, onProgress)) {
    let text = rest + decoder.decode(chunk, { stream: true });
    if (first) {
      text = text.replace(/^\uFEFF/, '');
      first = false;
    }
    const parts = text.split('\n');
    rest = parts.pop() as string;
    for (const p of parts) yield p.endsWith('\r') ? p.slice(0, -1) : p;
  }
  rest += decoder.decode();
  if (rest !== '') yield rest.endsWith('\r') ? rest.slice(0, -1) : rest;
}

/** Growable row storage for files without a word count (GloVe). */
class Rows {
  values: Float32Array;
  count = 0;
  constructor(readonly dim: number, capacity: number) {
    this.values = new Float32Array(Math.max(1, capacity) * dim);
  }
  row(): Float32Array {
    if ((this.count + 1) * this.dim > this.values.length) {
      const grown = new Float32Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    return this.values.subarray(this.count * this.dim, ++this.count * this.dim);
  }
  done(): Float32Array {
    return this.values.length === this.count * this.dim ? this.values : this.values.slice(0, this.count * this.dim);
  }
}

const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$|^[-+]?(nan|inf|infinity)$/i;

async function readText(path: string, header: boolean, options: ReadOptions): Promise<WordVectors> {
  let expected: number | undefined;
  let rows: Rows | undefined;
  const words: string[] = [];
  let lineNo = 0;
  const limit = options.limit && options.limit > 0 ? options.limit : Infinity;
  for await (const line of lines(path, options.onProgress)) {
    lineNo++;
    if (line.trim() === '') continue;
    if (lineNo <= 3 && hasControlChars(line)) throw invalid(path, `line ${lineNo} is not text: a binary word2vec file? (read it with --format bin, or auto)`);
    if (!header && lineNo === 1 && HEADER.test(line)) throw invalid(path, `line 1 is a word2vec header "${line.trim()}", not a GloVe vector (read it as txt, or auto)`);
    if (header && expected === undefined) {
      const m = HEADER.exec(line);
      if (!m) throw invalid(path, `line 1 should be "<words> <dimensions>", got "${clip(line)}"`);
      expected = Number(m[1]);
      if (Number(m[2]) < 1) throw invalid(path, 'the header announces 0 dimensions');
      rows = new Rows(Number(m[2]), Math.min(expected, limit));
      continue;
    }
    if (words.length >= Math.min(expected ?? Infinity, limit)) {
      if (words.length >= limit) break;
      throw invalid(path, `the header announces ${expected} words but line ${lineNo} holds another one`);
    }
    // gensim: rstrip, then split on single spaces. The last `dim` fields are numbers, the rest is the word
    // (so words with spaces, which only the text format can hold, read back whole).
    const parts = line.trimEnd().split(' ');
    rows ??= new Rows(parts.length - 1, 1024);
    const dim = rows.dim;
    const wordParts = parts.length - dim;
    if (dim < 1 || wordParts < 1 || (wordParts > 1 && parts.slice(1, wordParts).every((p) => NUMBER.test(p)))) {
      throw invalid(path, `line ${lineNo} has ${parts.length - 1} values, expected ${dim}`);
    }
    const word = parts.slice(0, wordParts).join(' ');
    const row = rows.row();
    for (let d = 0; d < dim; d++) {
      const field = parts[wordParts + d];
      const v = field === '' ? NaN : Number(field);
      if (!Number.isFinite(v)) throw invalid(path, `line ${lineNo}: the vector of "${clip(word)}" has a bad value "${clip(field)}"`);
      row[d] = v;
    }
    words.push(word);
  }
  if (expected !== undefined && words.length < Math.min(expected, limit)) {
    throw invalid(path, `the header announces ${expected} words but the file has ${words.length} (truncated?)`);
  }
  if (!rows || words.length === 0) throw invalid(path, 'no vectors');
  return new WordVectors(words, rows.dim, rows.done());
}

/** Whether the bytes after a header start with a text line "word v1 … v<dim>" (a text file read as binary). */
function looksLikeText(after: Buffer, dim: number): boolean {
  const nl = after.indexOf(10);
  if (nl < 0) return false;
  const fields = after.subarray(0, nl).toString('utf8').trimEnd().split(' ');
  return fields.length === dim + 1 && fields.slice(1).every((f) => NUMBER.test(f));
}

/** The binary format: header line, then per word `word<space>` + dim little-endian float32 (+ optional newline). */
async function readBinary(path: string, options: ReadOptions): Promise<WordVectors> {
  let buf: Buffer = Buffer.alloc(0);
  let count = -1;
  let dim = 0;
  let n = 0;
  const words: string[] = [];
  let values = new Float32Array(0);
  const floats = new Float32Array(1);
  const floatBytes = new Uint8Array(floats.buffer);
  for await (const chunk of chunks(path, options.onProgress)) {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    let at = 0;
    if (count < 0) {
      const nl = buf.indexOf(10);
      if (nl < 0) {
        if (buf.length > 256) throw invalid(path, 'the first line should be "<words> <dimensions>"');
        continue;
      }
      const m = HEADER.exec(buf.subarray(0, nl).toString('utf8').replace(/^\uFEFF/, ''));
      if (!m || Number(m[2]) < 1) throw invalid(path, 'the first line should be "<words> <dimensions>"');
      count = Number(m[1]);
      dim = Number(m[2]);
      n = Math.min(count, options.limit && options.limit > 0 ? options.limit : count);
      values = new Float32Array(n * dim);
      at = nl + 1;
      if (looksLikeText(buf.subarray(at), dim)) throw invalid(path, 'this is a text vector file (a word and its numbers on each line); read it with --format txt, or auto');
    }
    while (words.length < n) {
      while (at < buf.length && (buf[at] === 10 || buf[at] === 13)) at++;
      const space = buf.indexOf(32, at);
      if (space < 0 || buf.length < space + 1 + dim * 4) {
        if (buf.length - at > 100000 + dim * 4) throw invalid(path, `no word ends within 100 kB after vector ${words.length}`);
        break;
      }
      const word = buf.toString('utf8', at, space);
      const base = words.length * dim;
      for (let d = 0, p = space + 1; d < dim; d++, p += 4) {
        floatBytes[0] = buf[p]; floatBytes[1] = buf[p + 1]; floatBytes[2] = buf[p + 2]; floatBytes[3] = buf[p + 3];
        if (!Number.isFinite(floats[0])) throw invalid(path, `the vector of "${clip(word)}" (number ${words.length + 1}) has a non-finite value`);
        values[base + d] = floats[0];
      }
      words.push(word);
      at = space + 1 + dim * 4;
    }
    buf = buf.subarray(at);
    if (words.length >= n && count >= 0) break;
  }
  if (count < 0) throw invalid(path, 'empty file');
  if (words.length < n) throw invalid(path, `truncated: ${words.length} of ${count} vectors readable`);
  return new WordVectors(words, dim, values);
}

/** Reads word2vec (binary or text), GloVe or fastText .vec vectors, streaming; `.gz` files are inflated on the fly. */
export async function readVectors(path: string, options: ReadOptions = {}): Promise<WordVectors> {
  if (!existsSync(path)) throw geulError('FILE_NOT_FOUND', { path });
  if (!statSync(path).isFile()) throw invalid(path, 'this is a folder, not a vector file');
  const requested = options.format ?? 'auto';
  const format = requested === 'auto' ? await detectFormat(path) : requested === 'vec' ? 'txt' : requested;
  if (format === 'bin') return readBinary(path, options);
  return readText(path, format === 'txt', options);
}

export interface WriteOptions {
  /** Replace whitespace inside words by this string (the binary format cannot store words with spaces). */
  replaceSpaces?: string;
}

/** Shortest decimal that reads back as the same float32 (so text round trips are exact), like numpy's repr. */
export function formatFloat(v: number): string {
  for (let p = 6; p <= 9; p++) {
    const s = v.toPrecision(p);
    if (Math.fround(Number(s)) === v) return String(Number(s));
  }
  return String(v);
}

/**
 * Writes gensim's `save_word2vec_format`: header "<count> <dim>", then `word v1 … vd` lines (txt) or `word ` + float32
 * little-endian bytes (bin, no newline after a vector, as gensim; word2vec.c and gensim both read it). Streams.
 */
export async function writeVectors(path: string, vectors: WordVectors, format: 'bin' | 'txt' = 'bin', options: WriteOptions = {}): Promise<void> {
  const { words, dim, data } = vectors;
  const names = words.map((w) => (options.replaceSpaces !== undefined ? w.replace(/\s/gu, options.replaceSpaces) : w));
  for (const word of names) {
    if (word === '') throw geulError('INVALID_INPUT', { detail: 'an empty word cannot be written' });
    if (format === 'bin' && /\s/u.test(word)) {
      throw geulError('INVALID_INPUT', { detail: `"${word}" contains whitespace, which the binary word2vec format cannot store; write text, or replace spaces (--replace-spaces _)` });
    }
    if (/[\n\r]/.test(word)) throw geulError('INVALID_INPUT', { detail: `"${word}" contains a line break` });
  }
  const out = createWriteStream(path);
  const failed = new Promise<never>((_, reject) => out.once('error', (err) => reject(geulError('FILE_INVALID', { path, detail: err.message }))));
  failed.catch(() => {});
  const write = async (chunk: string | Buffer): Promise<void> => {
    if (!out.write(chunk)) await Promise.race([once(out, 'drain'), failed]);
  };
  await write(`${words.length} ${dim}\n`);
  const le = new Uint8Array(Float32Array.of(1).buffer)[3] === 0x3f;
  for (let i = 0; i < words.length; i++) {
    const row = data.subarray(i * dim, (i + 1) * dim);
    if (format === 'bin') {
      const bytes = Buffer.from(row.slice().buffer);
      if (!le) for (let p = 0; p < bytes.length; p += 4) bytes.subarray(p, p + 4).reverse();
      await write(Buffer.concat([Buffer.from(`${names[i]} `, 'utf8'), bytes]));
    } else {
      let line = names[i];
      for (let d = 0; d < dim; d++) line += ` ${formatFloat(row[d])}`;
      await write(`${line}\n`);
    }
  }
  out.end();
  await Promise.race([once(out, 'finish'), failed]);
}
