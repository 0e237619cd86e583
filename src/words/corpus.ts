// Streaming corpus reading for Word2Vec: Unicode-aware tokens (Hangul words stay whole), optional Gutenberg stripping.
import { createReadStream, existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { geulError } from '../core/errors.js';

export interface CorpusOptions {
  lowercase?: boolean;
  /** Keep only the text between Project Gutenberg's "*** START OF" and "*** END OF" lines. */
  stripGutenberg?: boolean;
}

const TOKEN = /[\p{L}\p{M}\p{N}]+(?:['’][\p{L}]+)*/gu;

/** Splits a line into word tokens after NFC normalisation; punctuation is dropped. */
export function tokenize(line: string, lowercase = true): string[] {
  const text = line.normalize('NFC');
  return (lowercase ? text.toLowerCase() : text).match(TOKEN) ?? [];
}

/** Yields one token array per non-empty line of every file, never holding a whole file in memory. */
export async function* sentences(paths: string[], options: CorpusOptions = {}): AsyncGenerator<string[]> {
  for (const path of paths) {
    if (!existsSync(path)) throw geulError('FILE_NOT_FOUND', { path });
    const lines = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
    let inside = !options.stripGutenberg;
    for await (const line of lines) {
      if (options.stripGutenberg) {
        if (/^\*\*\* ?START OF/i.test(line)) { inside = true; continue; }
        if (/^\*\*\* ?END OF/i.test(line)) { inside = false; continue; }
      }
      if (!inside) continue;
      const tokens = tokenize(line.replace(/^\uFEFF/, ''), options.lowercase ?? true);
      if (tokens.length > 0) yield tokens;
    }
  }
}
