// Running encoder models (BERT-style) on batches of texts: tokenise, pad, run, and split long texts into chunks.
import { planCalls } from '../runtime/batcher.js';
import { hf } from '../runtime/transformers.js';
import type { LoadedModel } from '../runtime/models.js';

/** Texts per forward pass: bounds memory for large inputs without hurting throughput. */
export const ENCODER_BATCH = 32;

export interface EncodedBatch {
  inputs: Record<string, hf.Tensor>;
  /** Token ids per row without padding (for finding [MASK] positions, lengths). */
  ids: number[][];
}

/** Tokenises texts with the model's own special tokens, truncated to its maximum length, padded to the longest. */
export function encodeTexts(loaded: LoadedModel, texts: string[]): EncodedBatch {
  const encoded = loaded.tokenizer(texts, { padding: true, truncation: true, max_length: loaded.maxLength }) as unknown as Record<string, hf.Tensor>;
  const mask = encoded.attention_mask;
  const width = mask.dims[1];
  const maskData = mask.data as BigInt64Array;
  const idData = encoded.input_ids.data as BigInt64Array;
  const ids = texts.map((_, r) => {
    const row: number[] = [];
    for (let c = 0; c < width; c++) if (maskData[r * width + c] !== 0n) row.push(Number(idData[r * width + c]));
    return row;
  });
  return { inputs: encoded, ids };
}

/** Builds padded model inputs from explicit id rows (used for chunks of long texts). */
export function inputsFromIds(loaded: LoadedModel, rows: number[][]): Record<string, hf.Tensor> {
  const width = Math.max(...rows.map((r) => r.length));
  const pad = BigInt(loaded.tokenizer.pad_token_id ?? 0);
  const ids = new BigInt64Array(rows.length * width).fill(pad);
  const mask = new BigInt64Array(rows.length * width);
  rows.forEach((row, r) => row.forEach((id, c) => {
    ids[r * width + c] = BigInt(id);
    mask[r * width + c] = 1n;
  }));
  const dims = [rows.length, width];
  return {
    input_ids: new hf.Tensor('int64', ids, dims),
    attention_mask: new hf.Tensor('int64', mask, dims),
    token_type_ids: new hf.Tensor('int64', new BigInt64Array(rows.length * width), dims),
  };
}

/** The special tokens a model wraps one sequence in, found by encoding the empty string. */
export function specialWrap(loaded: LoadedModel): { prefix: number[]; suffix: number[] } {
  const specials = loaded.tokenizer.encode('');
  // BERT gives [CLS][SEP], RoBERTa <s></s>: one leading token, the rest trailing. Models without specials give [].
  return specials.length === 0 ? { prefix: [], suffix: [] } : { prefix: specials.slice(0, 1), suffix: specials.slice(1) };
}

/**
 * Splits a text into model-sized chunks of whole tokens, each wrapped in the model's special tokens.
 * Chunks overlap by `stride` tokens so no sentence is judged only from a fragment at a boundary.
 */
export function chunkText(loaded: LoadedModel, text: string, stride = 32): number[][] {
  const { prefix, suffix } = specialWrap(loaded);
  const body = loaded.tokenizer.encode(text, { add_special_tokens: false });
  const room = loaded.maxLength - prefix.length - suffix.length;
  if (body.length <= room) return [[...prefix, ...body, ...suffix]];
  const step = Math.max(1, room - Math.min(stride, Math.floor(room / 4)));
  const chunks: number[][] = [];
  for (let start = 0; start < body.length; start += step) {
    chunks.push([...prefix, ...body.slice(start, start + room), ...suffix]);
    if (start + room >= body.length) break;
  }
  return chunks;
}

/** Runs the model and returns its outputs by name. */
export async function forward(loaded: LoadedModel, inputs: Record<string, hf.Tensor>): Promise<Record<string, hf.Tensor>> {
  return (await (loaded.model as unknown as (x: Record<string, hf.Tensor>) => Promise<Record<string, hf.Tensor>>)(inputs));
}

/** Splits `items` into consecutive slices of at most `size`. */
export function slices<T>(items: T[], size = ENCODER_BATCH): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Slices of `items`' indices with similar lengths together (longest first), so each forward pass pads little: a batch of
 * mixed sentences padded to its longest wastes most of its compute. Callers write results back by index.
 */
export function lengthSortedSlices(items: readonly { length: number }[], size = ENCODER_BATCH): number[][] {
  const order = items.map((_, i) => i).sort((a, b) => items[b].length - items[a].length || a - b);
  return slices(order, size);
}

/** Most texts in one token-budgeted forward pass (tokenBudgetCalls). */
export const ENCODER_MAX_ITEMS = 64;
/** Padded tokens (rows × the longest row) one token-budgeted forward pass may hold: bounds activation memory. */
export const ENCODER_TOKEN_BUDGET = 8192;

/**
 * Groups of `lengths`' indices (token counts), shortest first, cut by the micro-batcher's planner (TEI-style padded-token
 * budget, a cut wherever it saves more padding than another call costs): a window of mixed lengths pads little.
 * Callers write results back by index.
 */
export function tokenBudgetCalls(lengths: readonly number[], maxItems = ENCODER_MAX_ITEMS, maxTokens = ENCODER_TOKEN_BUDGET): number[][] {
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[a] - lengths[b] || a - b);
  const cuts = planCalls(order.map((i) => lengths[i]), maxItems, maxTokens, 32);
  return cuts.slice(1).map((end, c) => order.slice(cuts[c], end));
}

export function softmax(row: ArrayLike<number>): number[] {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) max = Math.max(max, row[i]);
  const exps = Array.from(row, (v) => Math.exp(v - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((v) => v / sum);
}
