// Decoding controls shared by generation and translation: temperature, top-k, top-p, seeded sampling, stop strings.
import { mulberry32 } from '../core/random.js';
import { hf } from '../runtime/transformers.js';

/**
 * transformers.js 4.3 applies temperature only and ships TopK/TopP warpers without an implementation, and its
 * sampler draws from one global RNG. geul therefore decodes greedily inside transformers.js and does the
 * sampling in its own last logits processor with a per-request seeded RNG: the chosen token keeps its logit,
 * every other token gets -Infinity, so greedy selection picks exactly the sampled token.
 */
export interface SamplingOptions {
  do_sample: boolean;
  temperature: number;
  top_k: number;
  top_p: number;
  seed?: number;
}

/** The per-request generator: the seed fully determines the sampled tokens. */
export const seededRandom = mulberry32;

/** Picks one token id from a row of logits after temperature, top-k and top-p filtering. */
export function sampleFromLogits(row: Float32Array, options: SamplingOptions, random: () => number): number {
  const temperature = options.temperature > 0 ? options.temperature : 1;
  const order = Array.from(row.keys()).filter((i) => Number.isFinite(row[i]));
  order.sort((a, b) => row[b] - row[a]);
  const k = options.top_k > 0 ? Math.min(options.top_k, order.length) : order.length;
  const candidates = order.slice(0, Math.max(1, k));
  const maxLogit = row[candidates[0]] / temperature;
  let weights = candidates.map((i) => Math.exp(row[i] / temperature - maxLogit));
  let total = weights.reduce((a, b) => a + b, 0);
  if (options.top_p > 0 && options.top_p < 1) {
    let cumulative = 0;
    let keep = 0;
    while (keep < weights.length && cumulative < options.top_p * total) cumulative += weights[keep++];
    weights = weights.slice(0, Math.max(1, keep));
    total = weights.reduce((a, b) => a + b, 0);
  }
  let r = random() * total;
  for (let i = 0; i < weights.length; i++) {
    r -= weights[i];
    if (r <= 0) return candidates[i];
  }
  return candidates[weights.length - 1];
}

type LogitsTensor = hf.Tensor & { [index: number]: hf.Tensor };

/** The last logits processor: samples with the request's own RNG and masks everything else. */
export class SeededSamplingProcessor extends hf.LogitsProcessor {
  private readonly random: () => number;

  constructor(private readonly options: SamplingOptions) {
    super();
    this.random = seededRandom(options.seed ?? Math.floor(Math.random() * 2 ** 32));
  }

  override _call(_inputIds: bigint[][], logits: hf.Tensor): hf.Tensor {
    const rows = logits as LogitsTensor;
    const batch = logits.dims[0];
    for (let b = 0; b < batch; b++) {
      const row = rows[b].data as Float32Array;
      const chosen = sampleFromLogits(row, this.options, this.random);
      const keep = row[chosen];
      row.fill(-Infinity);
      row[chosen] = Number.isFinite(keep) ? keep : 0;
    }
    return logits;
  }
}

/** Stops a sequence once its generated text contains any stop string (the text is cut there afterwards). */
export class StopStringCriteria extends hf.StoppingCriteria {
  constructor(
    private readonly tokenizer: hf.PreTrainedTokenizer,
    private readonly stops: string[],
    private readonly promptLengths: number[],
  ) {
    super();
  }

  override _call(inputIds: Array<Array<number | bigint>>): boolean[] {
    return inputIds.map((ids, b) => {
      const generated = ids.slice(this.promptLengths[b] ?? 0);
      // Only the tail can contain a new match; decoding a window keeps this O(stop length) per step.
      const window = generated.slice(-32);
      const text = this.tokenizer.decode(window.map(Number), { skip_special_tokens: true });
      return this.stops.some((s) => text.includes(s));
    });
  }
}

/** Cuts text at the first stop string; reports whether one was found. */
export function cutAtStop(text: string, stops: string[]): { text: string; stopped: boolean } {
  let cut = -1;
  for (const stop of stops) {
    const at = text.indexOf(stop);
    if (at >= 0 && (cut < 0 || at < cut)) cut = at;
  }
  return cut < 0 ? { text, stopped: false } : { text: text.slice(0, cut), stopped: true };
}

/** Stops generation when the caller's AbortSignal fires (client disconnected, Ctrl-C). */
export class AbortCriteria extends hf.StoppingCriteria {
  constructor(private readonly signal: AbortSignal) {
    super();
  }

  override _call(inputIds: Array<Array<number | bigint>>): boolean[] {
    return inputIds.map(() => this.signal.aborted);
  }
}
