// Test fixtures for fine-tuning: a reference checkpoint copied with a generated WordPiece tokenizer, and a small
// separable sentiment dataset (the label is decided by which sentiment words a text holds).
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BERT_SPECIALS, bertTokenizerFiles } from '../../../src/fixtures/wordpiece-tokenizer.js';

export const POSITIVE = ['good', 'great', 'excellent', 'love', 'wonderful'];
export const NEGATIVE = ['bad', 'terrible', 'boring', 'hate', 'awful'];
const FILLER = ['the', 'film', 'movie', 'plot', 'story', 'actor', 'really', 'very', 'a', 'was', 'and', 'it'];

/** Specials, letters and their ## continuations, and the dataset's words: about 80 tokens. */
export function tinyVocab(extra = 0): string[] {
  const letters = 'abcdefghijklmnopqrstuvwxyz'.split('');
  const fillers = Array.from({ length: extra }, (_, i) => `extra${i}`);
  return [...BERT_SPECIALS, ...letters, ...letters.map((c) => `##${c}`), ...POSITIVE, ...NEGATIVE, ...FILLER, ...fillers];
}

/** A copy of `reference` (config.json, model.safetensors) with tokenizer files for `vocab`, in a new temp folder. */
export function tinyBase(reference: string, vocab = tinyVocab()): string {
  const dir = mkdtempSync(join(tmpdir(), 'geul-ft-base-'));
  for (const file of ['config.json', 'model.safetensors']) copyFileSync(join(reference, file), join(dir, file));
  for (const [name, text] of Object.entries(bertTokenizerFiles(vocab, 64))) writeFileSync(join(dir, name), text);
  return dir;
}

/** `count` rows of {text, label}: fillers plus one or two words of the label's side; lengths vary with the row. */
export function sentimentRows(count: number, labels: [string, string] = ['neg', 'pos'], seed = 1): { text: string; label: string }[] {
  let state = seed;
  const next = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const pick = (words: string[]) => words[Math.floor(next() * words.length)];
  return Array.from({ length: count }, (_, i) => {
    const positive = i % 2 === 1;
    const words = Array.from({ length: 2 + Math.floor(next() * 6) }, () => pick(FILLER));
    const side = positive ? POSITIVE : NEGATIVE;
    words.splice(Math.floor(next() * words.length), 0, pick(side));
    if (next() < 0.5) words.push(pick(side));
    return { text: words.join(' '), label: labels[Number(positive)] };
  });
}

export function writeJsonl(dir: string, name: string, rows: readonly object[]): string {
  const path = join(dir, name);
  writeFileSync(path, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return path;
}
