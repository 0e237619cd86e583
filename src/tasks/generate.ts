// Text generation with GPT-2-family causal language models: sampling controls, seeds, stop strings and streaming.
import { Type, type Static } from '../core/schema.js';
import { geulError } from '../core/errors.js';
import { hf } from '../runtime/transformers.js';
import type { LoadedModel } from '../runtime/models.js';
import { ModelField, textInputs, textItem } from './common.js';
import { AbortCriteria, SeededSamplingProcessor, StopStringCriteria, cutAtStop } from './sampling.js';
import { defineTask } from './types.js';

export const GenerateOptions = {
  max_new_tokens: Type.Integer({ minimum: 1, maximum: 4096, default: 50, description: 'Most tokens to generate' }),
  do_sample: Type.Boolean({ default: false, description: 'Sample instead of always taking the most likely token' }),
  temperature: Type.Number({ exclusiveMinimum: 0, maximum: 100, default: 1, description: 'Sampling temperature (with do_sample)' }),
  top_k: Type.Integer({ minimum: 0, maximum: 100_000, default: 50, description: 'Sample among the k most likely tokens; 0 = all' }),
  top_p: Type.Number({ exclusiveMinimum: 0, maximum: 1, default: 1, description: 'Nucleus sampling: smallest set of tokens whose probability reaches p' }),
  repetition_penalty: Type.Number({ exclusiveMinimum: 0, maximum: 100, default: 1, description: 'Above 1 discourages repeating tokens' }),
  seed: Type.Optional(Type.Integer({ minimum: 0, maximum: 4294967295, description: 'Random seed: the same seed gives the same text' })),
  stop: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { maxItems: 16, description: 'Stop when any of these strings is generated (it is not included)' })),
};

const Text = textItem({ allowed: true, says: 'An empty prompt starts from the model\'s beginning-of-text token, as GPT-2 was trained.' });
const Request = Type.Object({ model: ModelField, inputs: textInputs(Text), ...GenerateOptions });
const Result = Type.Object({
  text: Type.String({ description: 'The generated continuation (without the prompt)' }),
  tokens: Type.Integer({ description: 'How many tokens were generated' }),
  finish_reason: Type.Enum(['stop', 'length', 'cancelled'], { description: 'Why generation ended' }),
});

export type GenerateRequestOptions = Omit<Static<typeof Request>, 'inputs' | 'model'>;
export type GenerateResult = Static<typeof Result>;

interface GenerationHooks {
  signal?: AbortSignal;
  /** Receives decoded text pieces as they are produced. */
  onText?: (piece: string) => void;
}

/** How many positions (prompt + generated tokens) the model has embeddings for. */
export function positionLimit(loaded: LoadedModel): number {
  const c = loaded.config;
  return Number(c.n_positions ?? c.max_position_embeddings ?? loaded.maxLength);
}

function promptIds(loaded: LoadedModel, prompt: string): number[] {
  const ids = loaded.tokenizer.encode(prompt, { add_special_tokens: false });
  if (ids.length > 0) return ids;
  // An empty prompt starts from the beginning-of-text token, as GPT-2 was trained.
  const bos = Number(loaded.config.bos_token_id ?? loaded.tokenizer.all_special_ids[0] ?? 0);
  return [bos];
}

/** Generates one continuation; deterministic for a fixed seed (or always, when not sampling). */
export async function generateOne(loaded: LoadedModel, prompt: string, options: GenerateRequestOptions, hooks: GenerationHooks = {}): Promise<GenerateResult> {
  const ids = promptIds(loaded, prompt);
  const room = positionLimit(loaded) - ids.length;
  if (room <= 0) throw geulError('INVALID_INPUT', { detail: `the prompt is ${ids.length} tokens; ${loaded.id} reads at most ${positionLimit(loaded)}` });
  const input_ids = new hf.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]);
  const attention_mask = new hf.Tensor('int64', new BigInt64Array(ids.length).fill(1n), [1, ids.length]);
  const stops = options.stop ?? [];
  const stopping: hf.StoppingCriteria[] = [];
  if (stops.length > 0) stopping.push(new StopStringCriteria(loaded.tokenizer, stops, [ids.length]));
  if (hooks.signal) stopping.push(new AbortCriteria(hooks.signal));
  const processors: hf.LogitsProcessor[] = options.do_sample ? [new SeededSamplingProcessor(options)] : [];
  const streamer = hooks.onText
    ? new hf.TextStreamer(loaded.tokenizer, { skip_prompt: true, skip_special_tokens: true, callback_function: hooks.onText })
    : undefined;
  const output = (await loaded.model.generate({
    input_ids,
    attention_mask,
    // Past the model's position table the output is garbage or an error, so the request is capped there.
    max_new_tokens: Math.min(options.max_new_tokens, room),
    do_sample: false,
    repetition_penalty: options.repetition_penalty,
    logits_processor: processors,
    stopping_criteria: stopping,
    streamer,
  } as never)) as hf.Tensor;
  const all = Array.from(output.data as BigInt64Array, Number);
  let generated = all.slice(ids.length);
  const eos = new Set([loaded.config.eos_token_id].flat().filter((x) => x !== undefined && x !== null).map(Number));
  const hitEos = generated.length > 0 && eos.has(generated[generated.length - 1]);
  if (hitEos) generated = generated.slice(0, -1);
  // The model may end at once (its first token is end-of-text): nothing to decode then.
  const decoded = generated.length > 0 ? loaded.tokenizer.decode(generated, { skip_special_tokens: true }) : '';
  const cut = cutAtStop(decoded, stops);
  const finish = hooks.signal?.aborted ? 'cancelled' : hitEos || cut.stopped ? 'stop' : 'length';
  return { text: cut.text, tokens: generated.length, finish_reason: finish };
}

/**
 * Streams a continuation as text pieces. Text that could be the start of a stop string is held back
 * until it is clear, so a stop string never reaches the caller.
 */
export async function* streamGenerate(loaded: LoadedModel, prompt: string, options: GenerateRequestOptions, signal?: AbortSignal): AsyncGenerator<string, GenerateResult> {
  const pieces: string[] = [];
  let wake: (() => void) | undefined;
  let done = false;
  let failure: unknown;
  let result: GenerateResult | undefined;
  const holdBack = Math.max(0, ...(options.stop ?? []).map((s) => s.length - 1));
  generateOne(loaded, prompt, options, { signal, onText: (piece) => { pieces.push(piece); wake?.(); } })
    .then((r) => { result = r; }, (err: unknown) => { failure = err; })
    .finally(() => { done = true; wake?.(); });
  let sent = 0;
  let buffered = '';
  while (true) {
    if (pieces.length === 0 && !done) await new Promise<void>((resolve) => { wake = resolve; });
    wake = undefined;
    buffered += pieces.splice(0).join('');
    if (done) break;
    const cut = cutAtStop(buffered, options.stop ?? []);
    const safe = cut.stopped ? cut.text.length : buffered.length - holdBack;
    if (safe > sent) {
      yield buffered.slice(sent, safe);
      sent = safe;
    }
  }
  if (failure) throw failure;
  const final = result as GenerateResult;
  if (final.text.length > sent) yield final.text.slice(sent);
  return final;
}

export const generateTask = defineTask({
  id: 'generate',
  command: 'generate',
  summary: 'Continue a prompt with a GPT-2-family language model',
  kind: 'causal-lm',
  defaultModel: 'Xenova/gpt2',
  // One prompt at a time: each has its own seed stream and stop state, and GPT-2 has no pad token for batching.
  batches: false,
  request: Request,
  item: Text,
  result: Result,
  async run(items, options, ctx) {
    const loaded = await ctx.load(options.model);
    const results: GenerateResult[] = [];
    for (const prompt of items) {
      results.push(await generateOne(loaded, prompt, options, { signal: ctx.signal }));
      ctx.onItemDone?.();
    }
    return results;
  },
  async *stream(prompt, options, ctx) {
    return yield* streamGenerate(await ctx.load(options.model), prompt, options, ctx.signal);
  },
  // The continuation only, as in --stream and in --json's "text": every output mode prints the same text.
  format: (_prompt, result) => result.text,
  cli: { args: '[prompts...]' },
  examples: {
    cli: ['geul generate --max-new-tokens 40 "Once upon a time"', 'geul generate --do-sample --temperature 0.8 --top-p 0.9 --seed 7 --stream "The weather"'],
    http: [{ inputs: 'Once upon a time', max_new_tokens: 40 }, { inputs: 'The weather', do_sample: true, temperature: 0.8, top_p: 0.9, seed: 7 }],
  },
});
