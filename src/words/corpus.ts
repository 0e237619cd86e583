// Streaming corpus reading for Word2Vec: Unicode-aware tokens (Hangul words stay whole), optional Gutenberg stripping.
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { geulError } from '../core/errors.js';

export interface CorpusOptions {
  /** Lower-case every token (default true). */
  lowercase?: boolean;
  /**
   * How lines become tokens: `words` (default: runs of letters, marks and digits, inner apostrophes kept,
   * punctuation dropped), `whitespace` (split on spaces only, for pre-tokenised text, as gensim's LineSentence),
   * or a regular expression (string, Unicode mode) whose matches are the tokens.
   */
  tokenizer?: 'words' | 'whitespace' | string;
  /** Keep only the text between Project Gutenberg's "*** START OF" and "*** END OF" lines. */
  stripGutenberg?: boolean;
  /** Called with bytes read so far (over all files) and the total size. */
  onBytes?: (read: number, total: number) => void;
  /** Told once per file about lines that are not text (invalid UTF-8 or NUL bytes), which are skipped. */
  onWarning?: (message: string) => void;
  /** Stops reading between lines (CANCELLED). */
  signal?: AbortSignal;
}

/** U+FFFD (what invalid UTF-8 decodes to) or NUL: the line is not text, so its "words" would be noise. */
const notText = (line: string): boolean => line.includes('\uFFFD') || line.includes('\u0000');

const WORD = /[\p{L}\p{M}\p{N}]+(?:['’][\p{L}\p{M}\p{N}]+)*/gu;

/** The tokenizer function for the options; lines are NFC-normalised first. */
export function makeTokenizer(options: Pick<CorpusOptions, 'lowercase' | 'tokenizer'> = {}): (line: string) => string[] {
  const lowercase = options.lowercase ?? true;
  const kind = options.tokenizer ?? 'words';
  let pattern: RegExp | undefined;
  if (kind === 'words') pattern = WORD;
  else if (kind !== 'whitespace') {
    try {
      pattern = new RegExp(kind, 'gu');
    } catch (err) {
      throw geulError('INVALID_INPUT', { detail: `bad tokenizer pattern ${kind}: ${(err as Error).message}` });
    }
  }
  return (line: string): string[] => {
    // NFC so that decomposed Hangul jamo and accents compare equal to their precomposed forms.
    let text = /[^ -~\t]/.test(line) ? line.normalize('NFC') : line;
    if (lowercase) text = text.toLowerCase();
    if (!pattern) return text.split(/\s+/u).filter((t) => t !== '');
    return text.match(pattern) ?? [];
  };
}

/** Splits a line into word tokens after NFC normalisation; punctuation is dropped. */
export function tokenize(line: string, lowercase = true): string[] {
  return makeTokenizer({ lowercase })(line);
}

const GUTENBERG_START = /^\*\*\*\s*START OF (THE|THIS) PROJECT GUTENBERG/i;
const GUTENBERG_END = /^\*\*\*\s*END OF (THE|THIS) PROJECT GUTENBERG|^End of (the )?Project Gutenberg/i;
/** Header lines held back while looking for the start marker; a file without one is kept whole. */
const GUTENBERG_HEADER_LINES = 1000;

/**
 * Drops a Project Gutenberg header (up to "*** START OF …") and footer (from "End of the Project Gutenberg …" or
 * "*** END OF …"). Streams: at most the first GUTENBERG_HEADER_LINES lines are held while looking for the start.
 */
export class GutenbergFilter {
  private held: string[] | undefined = [];
  private ended = false;

  /** Lines to pass on for this input line. */
  push(line: string): string[] {
    if (this.ended) return [];
    if (this.held) {
      if (GUTENBERG_START.test(line)) {
        this.held = undefined;
        return [];
      }
      this.held.push(line);
      if (this.held.length < GUTENBERG_HEADER_LINES) return [];
      return this.release();
    }
    if (GUTENBERG_END.test(line)) {
      this.ended = true;
      return [];
    }
    return [line];
  }

  /** Lines still held at the end of the file (a file without a header is kept). */
  end(): string[] {
    return this.held ? this.release() : [];
  }

  private release(): string[] {
    const held = this.held ?? [];
    this.held = undefined;
    const end = held.findIndex((l) => GUTENBERG_END.test(l));
    if (end < 0) return held;
    this.ended = true;
    return held.slice(0, end);
  }
}

/** Lines of a UTF-8 text file (gzip when the name ends in .gz), streamed; BOM and CR removed. */
export async function* readLines(path: string, onBytes?: (delta: number) => void): AsyncGenerator<string> {
  if (!existsSync(path)) throw geulError('FILE_NOT_FOUND', { path });
  const raw = createReadStream(path);
  let last = 0;
  if (onBytes) raw.on('data', () => { onBytes(raw.bytesRead - last); last = raw.bytesRead; });
  const input = path.endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
  input.setEncoding('utf8');
  const lines = createInterface({ input, crlfDelay: Infinity });
  let first = true;
  try {
    for await (const line of lines) {
      yield first ? line.replace(/^\uFEFF/, '') : line;
      first = false;
    }
  } catch (err) {
    throw geulError('FILE_INVALID', { path, detail: (err as Error).message });
  } finally {
    lines.close();
    raw.destroy();
  }
}

/** Yields one token array per non-empty line of every file, never holding a whole file in memory. */
export async function* sentences(paths: string[], options: CorpusOptions = {}): AsyncGenerator<string[]> {
  const tokenizeLine = makeTokenizer(options);
  for (const path of paths) if (!existsSync(path)) throw geulError('FILE_NOT_FOUND', { path });
  const total = paths.reduce((sum, p) => sum + statSync(p).size, 0);
  let read = 0;
  const onBytes = options.onBytes ? (delta: number) => { read += delta; options.onBytes?.(read, total); } : undefined;
  for (const path of paths) {
    const filter = options.stripGutenberg ? new GutenbergFilter() : undefined;
    let lines = 0;
    let skipped = 0;
    for await (const line of readLines(path, onBytes)) {
      if (options.signal?.aborted) throw geulError('CANCELLED');
      lines++;
      if (notText(line)) {
        skipped++;
        continue;
      }
      for (const kept of filter ? filter.push(line) : [line]) {
        const tokens = tokenizeLine(kept);
        if (tokens.length > 0) yield tokens;
      }
    }
    for (const kept of filter?.end() ?? []) {
      const tokens = tokenizeLine(kept);
      if (tokens.length > 0) yield tokens;
    }
    if (skipped > 0) {
      const binary = skipped * 2 > lines ? ' (a binary file?)' : '';
      options.onWarning?.(`${path}: skipped ${skipped} of ${lines} lines that are not UTF-8 text${binary}`);
    }
  }
}
