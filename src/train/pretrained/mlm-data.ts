// Masked-LM data: the corpus encoded once, split into training and a fixed held-out slice by document, packed into
// [CLS] … [SEP] sequences, and batches masked by BERT's 15 % / 80-10-10 rule, reproducibly from (seed, step).
import { geulError } from '../../core/errors.js';
import { Rng } from '../../core/random.js';
import { mix32 } from '../../graph/random.js';
import { IGNORED_LABEL } from './mlm-loss.js';
import type { MlmTokenizer } from './mlm-tokenizer.js';

/** Sequences of `length` ids each (the last one padded), row-major. */
export interface PackedSequences {
  readonly length: number;
  readonly count: number;
  readonly ids: Int32Array;
  /** Real tokens per sequence ([CLS] and [SEP] included); the rest is padding. */
  readonly lengths: Int32Array;
}

export interface MlmCorpus {
  readonly train: PackedSequences;
  readonly heldOut: PackedSequences;
  readonly documents: { readonly train: number; readonly heldOut: number };
  /** Corpus tokens (without the added [CLS]/[SEP]) on each side. */
  readonly tokens: { readonly train: number; readonly heldOut: number };
}

export interface MlmCorpusOptions {
  /** Sequence length, [CLS] and [SEP] included. */
  readonly maxLength: number;
  /** Share of documents held out for evaluation (by a hash of their text, so the same documents whatever the seed). */
  readonly heldOutFraction?: number;
  /** Most held-out sequences kept (evaluation cost); the rest of the held-out documents are not trained on either. */
  readonly maxHeldOutSequences?: number;
  readonly signal?: AbortSignal;
  /** Documents encoded so far. */
  readonly onProgress?: (documents: number) => void;
}

/** A growable Int32 buffer. */
class IntStream {
  data = new Int32Array(1 << 16);
  size = 0;
  push(values: readonly number[]): void {
    if (this.size + values.length > this.data.length) {
      const next = new Int32Array(Math.max(this.data.length * 2, this.size + values.length));
      next.set(this.data.subarray(0, this.size));
      this.data = next;
    }
    for (let i = 0; i < values.length; i++) this.data[this.size + i] = values[i];
    this.size += values.length;
  }
}

/** FNV-1a of the text in [0, 1): which side of the split a document is on, independent of order and seed. */
export function documentHash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0) / 4294967296;
}

/** Cuts `stream` (documents joined by [SEP]) into [CLS] + (length − 2 tokens) + [SEP] sequences. */
export function packSequences(stream: Int32Array, length: number, tokenizer: Pick<MlmTokenizer, 'cls' | 'sep' | 'pad'>): PackedSequences {
  if (length < 3) throw geulError('INVALID_INPUT', { detail: `--max-length must be at least 3 ([CLS], a token, [SEP]), got ${length}` });
  const body = length - 2;
  const count = Math.ceil(stream.length / body);
  const ids = new Int32Array(count * length).fill(tokenizer.pad);
  const lengths = new Int32Array(count);
  for (let s = 0; s < count; s++) {
    const chunk = stream.subarray(s * body, Math.min(stream.length, (s + 1) * body));
    const row = s * length;
    ids[row] = tokenizer.cls;
    ids.set(chunk, row + 1);
    ids[row + 1 + chunk.length] = tokenizer.sep;
    lengths[s] = chunk.length + 2;
  }
  return { length, count, ids, lengths };
}

/** Encodes every document once; held-out documents go to their own stream. */
export async function buildMlmCorpus(documents: AsyncIterable<string>, tokenizer: MlmTokenizer, options: MlmCorpusOptions): Promise<MlmCorpus> {
  const fraction = options.heldOutFraction ?? 0.05;
  const train = new IntStream();
  const held = new IntStream();
  const docs = { train: 0, heldOut: 0 };
  let lastTrainText: string | undefined;
  for await (const text of documents) {
    if (options.signal?.aborted) throw geulError('CANCELLED');
    const ids = tokenizer.encode(text);
    if (ids.length === 0) continue;
    const side = documentHash(text) < fraction ? held : train;
    side.push(ids);
    side.push([tokenizer.sep]);
    if (side === held) docs.heldOut++;
    else {
      docs.train++;
      lastTrainText = text;
    }
    if ((docs.train + docs.heldOut) % 500 === 0) options.onProgress?.(docs.train + docs.heldOut);
  }
  // A corpus too small for the hash to pick any document still gets a held-out slice: its last training document.
  if (docs.heldOut === 0 && docs.train > 1 && lastTrainText !== undefined && fraction > 0) {
    const ids = tokenizer.encode(lastTrainText);
    train.size -= ids.length + 1;
    held.push(ids);
    held.push([tokenizer.sep]);
    docs.train--;
    docs.heldOut++;
  }
  if (docs.train === 0) throw geulError('INVALID_INPUT', { detail: 'the corpus has no text to pre-train on (after holding out the evaluation slice)' });
  // The stream's trailing [SEP] only separates documents; drop the very last one.
  const trimmed = (s: IntStream) => s.data.subarray(0, Math.max(0, s.size - 1));
  const trainSeqs = packSequences(trimmed(train), options.maxLength, tokenizer);
  let heldSeqs = packSequences(trimmed(held), options.maxLength, tokenizer);
  const cap = options.maxHeldOutSequences ?? 512;
  if (heldSeqs.count > cap) heldSeqs = { length: heldSeqs.length, count: cap, ids: heldSeqs.ids.slice(0, cap * heldSeqs.length), lengths: heldSeqs.lengths.slice(0, cap) };
  return { train: trainSeqs, heldOut: heldSeqs, documents: docs, tokens: { train: train.size - docs.train, heldOut: held.size - docs.heldOut } };
}

export interface MaskingOptions {
  /** Share of (non-special) tokens chosen for prediction (default 0.15). */
  readonly probability?: number;
  /** Of the chosen: replaced by [MASK] (default 0.8); then a random token (default 0.1); the rest unchanged. */
  readonly maskShare?: number;
  readonly randomShare?: number;
  /** Choose whole words: a WordPiece word and all its `##` pieces are chosen together. */
  readonly wholeWord?: boolean;
}

/** One masked batch, padded to its longest row: int64 [batch, seq] tensors' data. */
export interface MlmBatch {
  readonly batch: number;
  readonly seq: number;
  readonly inputIds: BigInt64Array;
  readonly attentionMask: BigInt64Array;
  /** Original ids at chosen positions, IGNORED_LABEL (-100) elsewhere. */
  readonly labels: BigInt64Array;
  /** Chosen positions (the tokens the loss is over). */
  readonly predicted: number;
}

/** Masks the rows `rows` of `packed` with `rng`. Every row gets at least one chosen token, so a batch's loss is defined. */
export function maskBatch(packed: PackedSequences, rows: readonly number[], tokenizer: MlmTokenizer, rng: Rng, options: MaskingOptions = {}): MlmBatch {
  const probability = options.probability ?? 0.15;
  const maskShare = options.maskShare ?? 0.8;
  const randomShare = options.randomShare ?? 0.1;
  if (options.wholeWord && !tokenizer.continuation) throw geulError('INVALID_INPUT', { detail: '--whole-word needs a WordPiece tokenizer (## continuation pieces)' });
  let seq = 1;
  for (const r of rows) seq = Math.max(seq, packed.lengths[r]);
  const n = rows.length * seq;
  const inputIds = new BigInt64Array(n).fill(BigInt(tokenizer.pad));
  const attentionMask = new BigInt64Array(n);
  const labels = new BigInt64Array(n).fill(BigInt(IGNORED_LABEL));
  let predicted = 0;
  rows.forEach((r, b) => {
    const len = packed.lengths[r];
    const src = packed.ids.subarray(r * packed.length, r * packed.length + len);
    const chosen = new Uint8Array(len);
    const eligible = (i: number) => !tokenizer.special.has(src[i]);
    const startsWord = (i: number) => !options.wholeWord || !tokenizer.continuation![src[i]] || !eligible(i - 1);
    const choose = (i: number) => {
      chosen[i] = 1;
      if (options.wholeWord) for (let j = i + 1; j < len && eligible(j) && tokenizer.continuation![src[j]]; j++) chosen[j] = 1;
    };
    const starts: number[] = [];
    let any = false;
    for (let i = 0; i < len; i++) {
      if (!eligible(i) || !startsWord(i)) continue;
      starts.push(i);
      if (rng.next() >= probability) continue;
      choose(i);
      any = true;
    }
    if (!any && starts.length > 0) choose(starts[rng.int(starts.length)]);
    const row = b * seq;
    for (let i = 0; i < len; i++) {
      attentionMask[row + i] = 1n;
      let id = src[i];
      if (chosen[i]) {
        labels[row + i] = BigInt(id);
        predicted++;
        const u = rng.next();
        if (u < maskShare) id = tokenizer.mask;
        else if (u < maskShare + randomShare) id = randomToken(tokenizer, rng);
      }
      inputIds[row + i] = BigInt(id);
    }
  });
  return { batch: rows.length, seq, inputIds, attentionMask, labels, predicted };
}

/** A uniformly drawn non-special id (Hugging Face draws from the whole vocabulary; specials as inputs teach nothing). */
function randomToken(tokenizer: MlmTokenizer, rng: Rng): number {
  for (;;) {
    const id = rng.int(tokenizer.vocabSize);
    if (!tokenizer.special.has(id)) return id;
  }
}

/** The generator that masks step `step`'s batch: a function of (seed, step) only, so a resumed run masks identically. */
export function stepRng(seed: number, step: number): Rng {
  return new Rng(mix32((mix32(seed) + mix32(step + 1)) >>> 0));
}

/**
 * The sequence rows of step `step`: epochs are seeded shuffles of all `count` sequences, and step t takes positions
 * t·B … t·B + B − 1 of their concatenation (a batch may span two epochs).
 */
export class BatchOrder {
  private cached: { epoch: number; order: number[] } | undefined;
  constructor(private readonly count: number, private readonly batchSize: number, private readonly seed: number) {}

  rows(step: number): number[] {
    const out: number[] = [];
    for (let p = step * this.batchSize; p < (step + 1) * this.batchSize; p++) {
      const epoch = Math.floor(p / this.count);
      out.push(this.order(epoch)[p % this.count]);
    }
    return out;
  }

  /** Epochs done after `step` steps (fractional). */
  epochs(step: number): number {
    return (step * this.batchSize) / this.count;
  }

  private order(epoch: number): number[] {
    if (this.cached?.epoch !== epoch) {
      const order = Array.from({ length: this.count }, (_, i) => i);
      new Rng(mix32((mix32(this.seed ^ 0x5bd1e995) + epoch) >>> 0)).shuffle(order);
      this.cached = { epoch, order };
    }
    return this.cached.order;
  }
}
