// Vector files: word2vec binary and text (gensim/Google compatible), GloVe text (no header) and fastText .vec.
import { createReadStream } from 'node:fs';
import { open, writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { geulError } from '../core/errors.js';
import { WordVectors } from './vectors.js';

export type VectorFormat = 'bin' | 'txt' | 'glove';

export interface ReadOptions {
  format?: VectorFormat | 'auto';
  /** Load only the first N words (the most frequent in word2vec/GloVe files). */
  limit?: number;
  onProgress?: (wordsRead: number, total: number | undefined) => void;
}

const invalid = (path: string, detail: string) => geulError('FILE_INVALID', { path, detail });

/** `bin` by extension or by a non-text byte after the header; `glove` when the first line is not "count dim". */
async function detectFormat(path: string): Promise<VectorFormat> {
  const handle = await open(path, 'r').catch(() => { throw geulError('FILE_NOT_FOUND', { path }); });
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(4096), 0, 4096, 0);
    const head = buffer.subarray(0, bytesRead);
    const newline = head.indexOf(10);
    const first = head.subarray(0, newline < 0 ? head.length : newline).toString('utf8').trim();
    if (!/^\d+\s+\d+$/.test(first)) return 'glove';
    if (/\.bin$/i.test(path)) return 'bin';
    const rest = head.subarray(newline + 1);
    // Text vectors are printable; binary float32 data almost surely contains control bytes.
    for (const b of rest) if (b < 9 || (b > 13 && b < 32)) return 'bin';
    return 'txt';
  } finally {
    await handle.close();
  }
}

function checkValue(v: number, path: string, word: string): number {
  if (!Number.isFinite(v)) throw invalid(path, `the vector of "${word}" has a non-finite value (${v})`);
  return v;
}

async function readText(path: string, header: boolean, options: ReadOptions): Promise<WordVectors> {
  const lines = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  let expected: number | undefined;
  let dim = 0;
  const words: string[] = [];
  let values = new Float32Array(0);
  let lineNo = 0;
  for await (const raw of lines) {
    lineNo++;
    const line = lineNo === 1 ? raw.replace(/^\uFEFF/, '') : raw;
    if (line.trim() === '') continue;
    if (header && expected === undefined) {
      const m = /^(\d+)\s+(\d+)$/.exec(line.trim());
      if (!m) throw invalid(path, `line 1 should be "<words> <dimensions>", got "${line.slice(0, 40)}"`);
      expected = Number(m[1]);
      dim = Number(m[2]);
      values = new Float32Array(Math.min(expected, options.limit ?? expected) * dim);
      continue;
    }
    const parts = line.trimEnd().split(' ');
    if (dim === 0) {
      dim = parts.length - 1;
      values = new Float32Array(1024 * dim);
    }
    // The last `dim` fields are numbers; everything before is the word (so words may contain spaces).
    if (parts.length < dim + 1) throw invalid(path, `line ${lineNo} has ${parts.length - 1} values, expected ${dim}`);
    const word = parts.slice(0, parts.length - dim).join(' ');
    if (words.length * dim + dim > values.length) {
      const grown = new Float32Array(values.length * 2);
      grown.set(values);
      values = grown;
    }
    for (let d = 0; d < dim; d++) values[words.length * dim + d] = checkValue(Number(parts[parts.length - dim + d]), path, word);
    words.push(word);
    if (words.length % 10000 === 0) options.onProgress?.(words.length, expected);
    if (options.limit && words.length >= options.limit) break;
  }
  lines.close();
  if (expected !== undefined && !options.limit && words.length !== expected) {
    throw invalid(path, `the header announces ${expected} words but the file has ${words.length}`);
  }
  if (words.length === 0) throw invalid(path, 'no vectors');
  options.onProgress?.(words.length, expected);
  return new WordVectors(words, dim, values.slice(0, words.length * dim));
}

/** Reads the binary format in chunks: header line, then per word `word<space>` + dim float32 (+ optional newline). */
async function readBinary(path: string, options: ReadOptions): Promise<WordVectors> {
  const handle = await open(path, 'r');
  try {
    const chunk = Buffer.alloc(1 << 20);
    let buf = Buffer.alloc(0);
    let position = 0;
    let eof = false;
    const fill = async (need: number): Promise<boolean> => {
      while (buf.length < need && !eof) {
        const { bytesRead } = await handle.read(chunk, 0, chunk.length, position);
        position += bytesRead;
        if (bytesRead === 0) eof = true;
        else buf = Buffer.concat([buf, chunk.subarray(0, bytesRead)]);
      }
      return buf.length >= need;
    };
    await fill(256);
    const nl = buf.indexOf(10);
    const m = /^(\d+)\s+(\d+)\s*$/.exec(buf.subarray(0, nl).toString('utf8'));
    if (nl < 0 || !m) throw invalid(path, 'the first line should be "<words> <dimensions>"');
    const count = Number(m[1]);
    const dim = Number(m[2]);
    buf = buf.subarray(nl + 1);
    const n = Math.min(count, options.limit ?? count);
    const words: string[] = [];
    const values = new Float32Array(n * dim);
    const view = new Float32Array(dim);
    const bytes = new Uint8Array(view.buffer);
    for (let i = 0; i < n; i++) {
      await fill(4096 + dim * 4);
      let start = 0;
      while (start < buf.length && (buf[start] === 10 || buf[start] === 13)) start++;
      const space = buf.indexOf(32, start);
      if (space < 0 || buf.length < space + 1 + dim * 4) throw invalid(path, `truncated: ${i} of ${count} vectors readable`);
      const word = buf.subarray(start, space).toString('utf8');
      bytes.set(buf.subarray(space + 1, space + 1 + dim * 4));
      for (let d = 0; d < dim; d++) values[i * dim + d] = checkValue(view[d], path, word);
      words.push(word);
      buf = buf.subarray(space + 1 + dim * 4);
      if ((i + 1) % 10000 === 0) options.onProgress?.(i + 1, count);
    }
    options.onProgress?.(n, count);
    return new WordVectors(words, dim, values);
  } finally {
    await handle.close();
  }
}

export async function readVectors(path: string, options: ReadOptions = {}): Promise<WordVectors> {
  const format = !options.format || options.format === 'auto' ? await detectFormat(path) : options.format;
  if (format === 'bin') return readBinary(path, options);
  return readText(path, format === 'txt', options);
}

/** Writes word2vec text or binary (gensim's `save_word2vec_format`: no newline after binary vectors). */
export async function writeVectors(path: string, vectors: WordVectors, format: 'bin' | 'txt' = 'bin'): Promise<void> {
  const { words, dim, data } = vectors;
  const parts: Buffer[] = [Buffer.from(`${words.length} ${dim}\n`)];
  for (let i = 0; i < words.length; i++) {
    const word = words[i];
    const row = data.subarray(i * dim, (i + 1) * dim);
    if (format === 'bin') {
      if (/[\s]/u.test(word)) throw geulError('INVALID_INPUT', { detail: `"${word}" contains whitespace, which the binary word2vec format cannot store; use the text format` });
      parts.push(Buffer.from(`${word} `, 'utf8'), Buffer.from(new Float32Array(row).buffer));
    } else {
      if (/[\n\r]/.test(word)) throw geulError('INVALID_INPUT', { detail: `"${word}" contains a line break` });
      parts.push(Buffer.from(`${word} ${Array.from(row, (v) => formatFloat(v)).join(' ')}\n`, 'utf8'));
    }
  }
  await writeFile(path, Buffer.concat(parts));
}

/** Shortest text that reads back as the same float32 (so text round trips are exact). */
function formatFloat(v: number): string {
  for (let p = 6; p <= 9; p++) {
    const s = v.toPrecision(p);
    if (Math.fround(Number(s)) === v) return String(Number(s));
  }
  return String(v);
}
