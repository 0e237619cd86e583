// The corpus tokenised once into compact word ids (−1 ends a sentence): in shared memory, or a temporary file past a limit.
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sentences, type CorpusOptions } from './corpus.js';

/** Where the ids live: a SharedArrayBuffer every thread reads, or a file each thread streams its share of. */
export type CorpusStore =
  | { kind: 'memory'; ids: Int32Array; length: number }
  | { kind: 'file'; path: string; length: number };

export interface EncodedCorpus {
  /** Distinct tokens in first-seen order; ids in the store index this list. */
  tokens: string[];
  counts: number[];
  /** Tokens in the corpus (separators not counted). */
  words: number;
  store: CorpusStore;
  /** Removes the temporary file, if any. */
  dispose(): void;
}

export interface EncodeOptions extends CorpusOptions {
  /** Ids kept in memory up to this many bytes; beyond, they go to a temporary file (default 1 GiB). */
  memoryLimit?: number;
  tmpDir?: string;
}

const CHUNK = 1 << 20;

/** One streaming pass: tokens → ids (first-seen order) and counts. Never holds the text. */
export async function encodeCorpus(paths: string[], options: EncodeOptions = {}): Promise<EncodedCorpus> {
  const limit = options.memoryLimit ?? 2 ** 30;
  const index = new Map<string, number>();
  const tokens: string[] = [];
  const counts: number[] = [];
  const chunks: Int32Array[] = [];
  let chunk = new Int32Array(CHUNK);
  let used = 0;
  let length = 0;
  let words = 0;
  let file: { dir: string; path: string; fd: number } | undefined;
  const flush = (): void => {
    if (used === 0) return;
    const full = used === chunk.length ? chunk : chunk.slice(0, used);
    if (!file && (length + used) * 4 > limit) {
      const dir = mkdtempSync(join(options.tmpDir ?? tmpdir(), 'geul-corpus-'));
      const path = join(dir, 'ids.i32');
      file = { dir, path, fd: openSync(path, 'w') };
      for (const c of chunks) writeSync(file.fd, c);
      chunks.length = 0;
    }
    if (file) writeSync(file.fd, full);
    else chunks.push(full);
    length += used;
    chunk = new Int32Array(CHUNK);
    used = 0;
  };
  const push = (id: number): void => {
    chunk[used++] = id;
    if (used === CHUNK) flush();
  };
  for await (const line of sentences(paths, options)) {
    for (const token of line) {
      let id = index.get(token);
      if (id === undefined) {
        id = tokens.length;
        index.set(token, id);
        tokens.push(token);
        counts.push(0);
      }
      counts[id]++;
      push(id);
    }
    words += line.length;
    push(-1);
  }
  flush();
  if (file) {
    closeSync(file.fd);
    const dir = file.dir;
    return { tokens, counts, words, store: { kind: 'file', path: file.path, length }, dispose: () => rmSync(dir, { recursive: true, force: true }) };
  }
  const ids = new Int32Array(new SharedArrayBuffer(Math.max(length, 1) * 4));
  let at = 0;
  for (const c of chunks) {
    ids.set(c, at);
    at += c.length;
  }
  return { tokens, counts, words, store: { kind: 'memory', ids, length }, dispose: () => {} };
}

/** Reads store[start, start + out.length) into `out`; returns how many ids were read. */
function read(store: CorpusStore, fd: number | undefined, start: number, out: Int32Array): number {
  const n = Math.max(0, Math.min(out.length, store.length - start));
  if (store.kind === 'memory') {
    out.set(store.ids.subarray(start, start + n));
    return n;
  }
  const bytes = new Uint8Array(out.buffer, out.byteOffset, n * 4);
  let done = 0;
  while (done < bytes.length) {
    const r = readSync(fd as number, bytes, done, bytes.length - done, start * 4 + done);
    if (r === 0) break;
    done += r;
  }
  return Math.floor(done / 4);
}

/** Sentence-aligned [start, end) ranges of the store, one per thread. */
export function slices(store: CorpusStore, parts: number): [number, number][] {
  const fd = store.kind === 'file' ? openSync(store.path, 'r') : undefined;
  try {
    const cuts = [0];
    const window = new Int32Array(1 << 16);
    for (let t = 1; t < parts; t++) {
      // Move each cut forward to just after the next sentence end.
      let at = Math.max(cuts[t - 1], Math.floor((store.length * t) / parts));
      let found = at === 0;
      while (!found && at < store.length) {
        const n = read(store, fd, at - 1, window);
        const end = window.subarray(0, n).indexOf(-1);
        if (end >= 0) {
          at = at + end;
          found = true;
        } else at += n;
      }
      cuts.push(Math.min(at, store.length));
    }
    cuts.push(store.length);
    return cuts.slice(0, -1).map((s, i) => [s, cuts[i + 1]]);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Blocks of final ids for store[start, end): each id mapped through `remap` (−2 = dropped word, removed), −1 kept
 * as the sentence end. Blocks end at sentence ends unless one sentence outgrows the block. The yielded array is
 * reused: use it before asking for the next.
 */
export function* blocks(store: CorpusStore, remap: Int32Array, start: number, end: number, size = 1 << 18): Generator<Int32Array> {
  const fd = store.kind === 'file' ? openSync(store.path, 'r') : undefined;
  try {
    const input = new Int32Array(size);
    const out = new Int32Array(size);
    let n = 0;
    for (let at = start; at < end;) {
      const got = read(store, fd, at, input.subarray(0, Math.min(size, end - at)));
      if (got === 0) break;
      at += got;
      for (let i = 0; i < got; i++) {
        const raw = input[i];
        if (raw >= 0) {
          const id = remap[raw];
          if (id < 0) continue;
          out[n++] = id;
        } else out[n++] = -1;
        if (n === size || (raw < 0 && n > size - 16384)) {
          yield out.subarray(0, n);
          n = 0;
        }
      }
    }
    if (n > 0) yield out.subarray(0, n);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
