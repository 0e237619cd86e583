// Text classification / sentiment with BERT-style classifiers; long texts are truncated or chunked and averaged.
import { Type } from '../core/schema.js';
import type { LoadedModel } from '../runtime/models.js';
import { ModelField, textInputs, textItem } from './common.js';
import { chunkText, encodeTexts, forward, inputsFromIds, lengthSortedSlices, slices, softmax } from './encoder.js';
import { defineTask } from './types.js';

const Text = textItem({ allowed: true, says: 'An empty text is classified like any other (the model sees only its special tokens).' });
const Request = Type.Object({
  model: ModelField,
  inputs: textInputs(Text),
  top_k: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'Return the k best labels (default: all, best first)' })),
  long_text: Type.Enum(['truncate', 'chunk'], {
    default: 'truncate',
    description: 'Texts longer than the model maximum: "truncate" keeps the first max-length tokens; "chunk" splits the text into overlapping max-length windows and averages their class probabilities, weighted by window length',
  }),
});

const Label = Type.Object({ label: Type.String(), score: Type.Number() });
const Result = Type.Array(Label, { description: 'Labels with probabilities, best first' });

type Options = { top_k?: number; long_text: 'truncate' | 'chunk' };

/** Probabilities from logits: softmax, or independent sigmoids for multi-label models. */
function probabilities(loaded: LoadedModel, logits: ArrayLike<number>): number[] {
  if (loaded.config.problem_type === 'multi_label_classification') return Array.from(logits, (v) => 1 / (1 + Math.exp(-v)));
  return softmax(logits);
}

function labelled(loaded: LoadedModel, probs: number[], topK?: number): { label: string; score: number }[] {
  const id2label = loaded.config.id2label ?? {};
  const ranked = probs.map((score, i) => ({ label: id2label[String(i)] ?? `LABEL_${i}`, score }));
  ranked.sort((a, b) => b.score - a.score);
  return ranked.slice(0, topK ?? ranked.length);
}

async function logitsRows(loaded: LoadedModel, inputs: Record<string, import('../runtime/transformers.js').hf.Tensor>): Promise<number[][]> {
  const { logits } = await forward(loaded, inputs);
  const [rows, labels] = logits.dims;
  const data = logits.data as Float32Array;
  return Array.from({ length: rows }, (_, r) => Array.from(data.subarray(r * labels, (r + 1) * labels)));
}

export async function classifyTexts(loaded: LoadedModel, texts: string[], options: Options, onItemDone?: () => void): Promise<{ label: string; score: number }[][]> {
  const results: { label: string; score: number }[][] = [];
  if (options.long_text === 'truncate') {
    for (const indices of lengthSortedSlices(texts)) {
      const rows = await logitsRows(loaded, encodeTexts(loaded, indices.map((i) => texts[i])).inputs);
      rows.forEach((row, r) => {
        results[indices[r]] = labelled(loaded, probabilities(loaded, row), options.top_k);
        onItemDone?.();
      });
    }
    return results;
  }
  for (const text of texts) {
    const chunks = chunkText(loaded, text);
    const total: number[] = [];
    let weightSum = 0;
    for (const batch of slices(chunks)) {
      const rows = await logitsRows(loaded, inputsFromIds(loaded, batch));
      rows.forEach((row, i) => {
        const weight = batch[i].length;
        probabilities(loaded, row).forEach((p, j) => { total[j] = (total[j] ?? 0) + p * weight; });
        weightSum += weight;
      });
    }
    results.push(labelled(loaded, total.map((p) => p / weightSum), options.top_k));
    onItemDone?.();
  }
  return results;
}

export const classifyTask = defineTask({
  id: 'classify',
  command: 'sentiment',
  aliases: ['classify'],
  summary: 'Classify texts (sentiment and other labels) with a BERT/RoBERTa/DistilBERT classifier',
  kind: 'sequence-classification',
  defaultModel: 'Xenova/distilbert-base-uncased-finetuned-sst-2-english',
  batches: true,
  request: Request,
  item: Text,
  result: Result,
  async run(items, options, ctx) {
    return classifyTexts(await ctx.load(options.model), items, options, ctx.onItemDone);
  },
  format: (_text, labels) => labels.map((l) => `${l.label}\t${l.score.toFixed(4)}`).join('\t'),
  cli: { args: '[texts...]' },
  examples: {
    cli: ['geul sentiment "a great film"', 'geul sentiment --file reviews.txt --json --long-text chunk'],
    http: [{ inputs: 'a great film' }, { inputs: ['a great film', 'a dull film'], top_k: 1 }],
  },
});
