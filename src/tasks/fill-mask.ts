// Fill-mask with masked language models: the k most likely tokens for the one mask in each text.
import { Type } from '../core/schema.js';
import { geulError } from '../core/errors.js';
import type { LoadedModel } from '../runtime/models.js';
import { ModelField, textInputs, textItem } from './common.js';
import { encodeTexts, forward, slices, softmax } from './encoder.js';
import { defineTask } from './types.js';

const Text = textItem({ allowed: false, says: 'Must hold exactly one [MASK] (or the model\'s own mask token); an empty text is refused.' });
const Request = Type.Object({
  model: ModelField,
  inputs: textInputs(Text),
  top_k: Type.Integer({ minimum: 1, maximum: 100, default: 5, description: 'How many candidate tokens to return' }),
});

const Candidate = Type.Object({
  token: Type.String({ description: 'The predicted token as text' }),
  token_id: Type.Integer(),
  score: Type.Number(),
  sequence: Type.String({ description: 'The input with the mask filled in' }),
});
const Result = Type.Array(Candidate);

/** Users may write `[MASK]` whatever the model's own mask token is (e.g. RoBERTa's `<mask>`). */
function withModelMask(loaded: LoadedModel, text: string): string {
  const mask = loaded.tokenizer.mask_token;
  if (!mask) throw geulError('TASK_NOT_SUPPORTED', { model: loaded.id, task: 'fill-mask', detail: 'its tokenizer has no mask token' });
  return mask === '[MASK]' ? text : text.replaceAll('[MASK]', mask);
}

export async function fillMask(loaded: LoadedModel, texts: string[], topK: number, onItemDone?: () => void) {
  const maskId = loaded.tokenizer.mask_token_id;
  const results: { token: string; token_id: number; score: number; sequence: string }[][] = [];
  for (const batch of slices(texts.map((t) => withModelMask(loaded, t)))) {
    const { inputs, ids } = encodeTexts(loaded, batch);
    const { logits } = await forward(loaded, inputs);
    const [, width, vocab] = logits.dims;
    const data = logits.data as Float32Array;
    ids.forEach((row, r) => {
      const positions = row.flatMap((id, i) => (id === maskId ? [i] : []));
      if (positions.length !== 1) {
        throw geulError('INVALID_INPUT', { detail: `fill-mask needs exactly one ${loaded.tokenizer.mask_token} in each text; found ${positions.length} in "${batch[r].slice(0, 80)}"` });
      }
      const at = (r * width + positions[0]) * vocab;
      const probs = softmax(data.subarray(at, at + vocab));
      const best = Array.from(probs.keys()).sort((a, b) => probs[b] - probs[a]).slice(0, topK);
      results.push(best.map((tokenId) => {
        const filled = row.slice();
        filled[positions[0]] = tokenId;
        return {
          token: loaded.tokenizer.decode([tokenId], { skip_special_tokens: false }).trim(),
          token_id: tokenId,
          score: probs[tokenId],
          sequence: loaded.tokenizer.decode(filled, { skip_special_tokens: true }),
        };
      }));
      onItemDone?.();
    });
  }
  return results;
}

export const fillMaskTask = defineTask({
  id: 'fill-mask',
  command: 'fill-mask',
  summary: 'Predict the token hidden behind [MASK] with a masked language model (BERT-style)',
  kind: 'masked-lm',
  defaultModel: 'Xenova/bert-base-uncased',
  batches: false,
  request: Request,
  item: Text,
  result: Result,
  async run(items, options, ctx) {
    return fillMask(await ctx.load(options.model), items, options.top_k, ctx.onItemDone);
  },
  format: (_text, candidates) => candidates.map((c) => `${c.score.toFixed(4)}\t${c.token}\t${c.sequence}`).join('\n'),
  cli: { args: '[texts...]' },
  examples: {
    cli: ['geul fill-mask "paris is the [MASK] of france"', 'geul fill-mask --top-k 10 --json "서울은 한국의 [MASK]이다"'],
    http: [{ inputs: 'paris is the [MASK] of france', top_k: 3 }],
  },
});
