// Beam search for encoder-decoder models (translation); transformers.js 4.3 keeps only the first beam.
import { geulError } from '../core/errors.js';
import { hf } from '../runtime/transformers.js';
import type { LoadedModel } from '../runtime/models.js';

/**
 * Written here because transformers.js 4.3's `generate()` samples `num_beams` tokens but keeps only the first
 * ("TODO: Support beam search"). This is the standard algorithm (as in Hugging Face's BeamSearchScorer): keep the
 * `numBeams` best partial translations by summed log-probability, move finished ones (EOS) to a list scored by
 * sum / length^lengthPenalty, and stop when no running beam can beat the worst finished one. The KV cache is
 * reordered to follow the surviving beams, so each step costs one decoder run for all beams together.
 */
export interface BeamOptions {
  numBeams: number;
  maxNewTokens: number;
  lengthPenalty?: number;
  /** Token forced as the first generated token (M2M100's target-language token). */
  forcedBosTokenId?: number;
  /** How many of the best finished hypotheses to return (transformers' `num_return_sequences`): 1 ≤ n ≤ numBeams. */
  numReturnSequences?: number;
  signal?: AbortSignal;
}

/** One finished translation: its token ids (no start or end token) and its length-penalised log-probability. */
export interface BeamHypothesis { tokens: number[]; score: number }

type Cache = Record<string, hf.Tensor>;

/** Repeats (or reorders) rows along the batch dimension: row i of the result is row `rows[i]` of `t`. */
export function selectRows(t: hf.Tensor, rows: number[]): hf.Tensor {
  const [batch, ...rest] = t.dims;
  const rowSize = rest.reduce((a, b) => a * b, 1);
  const Ctor = (t.data as ArrayLike<number>).constructor as new (n: number) => Float32Array;
  const out = new Ctor(rows.length * rowSize);
  const src = t.data as Float32Array;
  rows.forEach((r, i) => {
    if (r < 0 || r >= batch) throw new RangeError(`row ${r} out of ${batch}`);
    out.set(src.subarray(r * rowSize, (r + 1) * rowSize), i * rowSize);
  });
  return new hf.Tensor(t.type, out, [rows.length, ...rest]);
}

function logSoftmaxRow(data: Float32Array, offset: number, size: number): Float32Array {
  let max = -Infinity;
  for (let i = 0; i < size; i++) max = Math.max(max, data[offset + i]);
  let sum = 0;
  for (let i = 0; i < size; i++) sum += Math.exp(data[offset + i] - max);
  const logSum = max + Math.log(sum);
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = data[offset + i] - logSum;
  return out;
}

interface Hypothesis { tokens: number[]; score: number }

/** Translates one tokenised input with beam search; returns the generated token ids (without the start token). */
export async function beamSearchSeq2Seq(loaded: LoadedModel, inputs: Record<string, hf.Tensor>, options: BeamOptions): Promise<number[]> {
  return (await beamSearchHypotheses(loaded, inputs, { ...options, numReturnSequences: 1 }))[0]?.tokens ?? [];
}

/**
 * Beam search returning the `numReturnSequences` best hypotheses, best first (fewer when fewer beams survive).
 * As in transformers, a search that ends at the length limit before it is done ranks the running beams with the
 * finished ones; one stopped because nothing running can win returns finished translations only.
 */
export async function beamSearchHypotheses(loaded: LoadedModel, inputs: Record<string, hf.Tensor>, options: BeamOptions): Promise<BeamHypothesis[]> {
  const { numBeams, maxNewTokens } = options;
  const wanted = options.numReturnSequences ?? 1;
  if (!Number.isInteger(wanted) || wanted < 1 || wanted > numBeams) {
    throw geulError('INVALID_INPUT', { detail: `beam search returns 1 to num_beams (${numBeams}) sequences, not ${wanted}` });
  }
  const lengthPenalty = options.lengthPenalty ?? 1;
  const config = loaded.config;
  const eos = Number(config.eos_token_id ?? 2);
  const start = Number(config.decoder_start_token_id ?? eos);
  const model = loaded.model as unknown as {
    forward(x: Record<string, unknown>): Promise<Record<string, hf.Tensor>>;
  };

  // Encode once, then give every beam the same encoder states.
  const encoded = await encode(loaded, inputs);
  const beamRows = Array.from({ length: numBeams }, () => 0);
  const encoderStates = selectRows(encoded, beamRows);
  const encoderMask = selectRows(inputs.attention_mask, beamRows);

  let beams: Hypothesis[] = Array.from({ length: numBeams }, (_, i) => ({ tokens: [], score: i === 0 ? 0 : -Infinity }));
  const finished: Hypothesis[] = [];
  let cache: Cache | undefined;
  let lastTokens = Array.from({ length: numBeams }, () => start);
  let done = false;

  for (let step = 0; step < maxNewTokens; step++) {
    if (options.signal?.aborted) break;
    const outputs = await model.forward({
      attention_mask: encoderMask,
      encoder_outputs: encoderStates,
      decoder_input_ids: new hf.Tensor('int64', BigInt64Array.from(lastTokens, BigInt), [numBeams, 1]),
      past_key_values: cache ? new hf.DynamicCache(cache) : undefined,
    });
    const logits = outputs.logits;
    const vocab = logits.dims[2];
    const width = logits.dims[1];
    const data = logits.data as Float32Array;

    const candidates: { beam: number; token: number; score: number }[] = [];
    for (let b = 0; b < numBeams; b++) {
      if (!Number.isFinite(beams[b].score)) continue;
      const logp = logSoftmaxRow(data, (b * width + width - 1) * vocab, vocab);
      if (step === 0 && options.forcedBosTokenId !== undefined) {
        candidates.push({ beam: b, token: options.forcedBosTokenId, score: beams[b].score + logp[options.forcedBosTokenId] });
        continue;
      }
      // Only the best 2·numBeams tokens of a beam can survive this step.
      const top = topIndices(logp, 2 * numBeams);
      for (const token of top) candidates.push({ beam: b, token, score: beams[b].score + logp[token] });
    }
    candidates.sort((a, b) => b.score - a.score);

    const next: Hypothesis[] = [];
    const origins: number[] = [];
    for (const c of candidates) {
      const tokens = [...beams[c.beam].tokens, c.token];
      if (c.token === eos) {
        finished.push({ tokens, score: c.score / Math.pow(tokens.length, lengthPenalty) });
      } else {
        next.push({ tokens, score: c.score });
        origins.push(c.beam);
      }
      if (next.length === numBeams) break;
    }
    finished.sort((a, b) => b.score - a.score);
    finished.splice(numBeams);
    if (next.length === 0) break;
    while (next.length < numBeams) {
      next.push({ tokens: next[0].tokens, score: -Infinity });
      origins.push(origins[0]);
    }

    // Done when enough translations finished and no running beam can still beat the worst of them.
    const bestRunning = next[0].score / Math.pow(next[0].tokens.length, lengthPenalty);
    beams = next;
    lastTokens = next.map((h) => h.tokens[h.tokens.length - 1]);
    cache = reorderCache(outputs, cache, origins);
    if (finished.length >= numBeams && finished[finished.length - 1].score >= bestRunning) {
      done = true;
      break;
    }
  }

  const running = done ? [] : beams.filter((h) => Number.isFinite(h.score) && h.tokens.length > 0)
    .map((h) => ({ tokens: h.tokens, score: h.score / Math.pow(h.tokens.length, lengthPenalty) }));
  const ranked = [...finished, ...running].sort((a, b) => b.score - a.score).slice(0, Math.min(numBeams, wanted));
  return ranked.map((h) => ({ tokens: h.tokens.filter((t) => t !== eos), score: h.score }));
}

async function encode(loaded: LoadedModel, inputs: Record<string, hf.Tensor>): Promise<hf.Tensor> {
  const sessions = (loaded.model as unknown as { sessions: Record<string, { run(feeds: Record<string, unknown>): Promise<Record<string, unknown>>; inputNames: string[] }> }).sessions;
  const session = sessions.model;
  const feeds: Record<string, unknown> = {};
  for (const name of session.inputNames) feeds[name] = (inputs[name] as unknown as { ort_tensor?: unknown }).ort_tensor ?? inputs[name];
  const out = await session.run(feeds);
  const hidden = out.last_hidden_state as { type: string; data: Float32Array; dims: number[] };
  return new hf.Tensor(hidden.type as 'float32', hidden.data, hidden.dims);
}

/** The new cache: this step's `present.*` outputs (encoder K/V kept from before), rows following the beams. */
function reorderCache(outputs: Record<string, hf.Tensor>, previous: Cache | undefined, origins: number[]): Cache {
  const next: Cache = {};
  for (const [name, tensor] of Object.entries(outputs)) {
    if (!name.startsWith('present')) continue;
    const pastName = name.replace('present', 'past_key_values');
    const source = name.includes('encoder') && previous?.[pastName] ? previous[pastName] : tensor;
    next[pastName] = name.includes('encoder') ? source : selectRows(source, origins);
  }
  return next;
}

function topIndices(values: Float32Array, k: number): number[] {
  const idx = Array.from(values.keys());
  idx.sort((a, b) => values[b] - values[a]);
  return idx.slice(0, k);
}
