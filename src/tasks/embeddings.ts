// Sentence embeddings (mean or CLS pooling, optional L2 normalisation), cosine similarity and semantic search.
import { Type } from '../core/schema.js';
import { geulError } from '../core/errors.js';
import type { LoadedModel } from '../runtime/models.js';
import { ModelField, textInputs, textItem } from './common.js';
import { encodeTexts, forward, inputsFromIds, tokenBudgetCalls } from './encoder.js';
import { defineTask } from './types.js';

const Pooling = Type.Enum(['mean', 'cls'], { default: 'mean', description: 'How token vectors become one sentence vector' });
const Normalize = Type.Boolean({ default: true, description: 'Scale each embedding to unit length' });

export interface EmbedOptions {
  pooling: 'mean' | 'cls';
  normalize: boolean;
}

/**
 * Embeds texts; rows are plain number arrays (JSON-ready), in the texts' order. Each text is tokenised once, then the
 * texts are sorted by token count and cut into token-budgeted calls, so a mix of short and long texts pads little.
 */
export async function embedTexts(loaded: LoadedModel, texts: string[], options: EmbedOptions, onItemDone?: () => void, signal?: AbortSignal): Promise<number[][]> {
  const out: number[][] = new Array(texts.length);
  const ids = texts.map((text) => encodeTexts(loaded, [text]).ids[0]);
  for (const indices of tokenBudgetCalls(ids.map((row) => row.length))) {
    if (signal?.aborted) throw geulError('CANCELLED');
    const inputs = inputsFromIds(loaded, indices.map((i) => ids[i]));
    const outputs = await forward(loaded, inputs);
    const hidden = outputs.last_hidden_state ?? outputs.token_embeddings ?? Object.values(outputs)[0];
    const [rows, width, dim] = hidden.dims;
    const data = hidden.data as Float32Array;
    const mask = inputs.attention_mask.data as BigInt64Array;
    for (let r = 0; r < rows; r++) {
      const vector = new Float64Array(dim);
      if (options.pooling === 'cls') {
        for (let d = 0; d < dim; d++) vector[d] = data[r * width * dim + d];
      } else {
        let count = 0;
        for (let t = 0; t < width; t++) {
          if (mask[r * width + t] === 0n) continue;
          count++;
          const at = (r * width + t) * dim;
          for (let d = 0; d < dim; d++) vector[d] += data[at + d];
        }
        for (let d = 0; d < dim; d++) vector[d] /= Math.max(count, 1);
      }
      if (options.normalize) normalizeInPlace(vector);
      out[indices[r]] = Array.from(vector, (v) => Math.fround(v));
      onItemDone?.();
    }
  }
  return out;
}

function normalizeInPlace(v: Float64Array): void {
  let norm = 0;
  for (const x of v) norm += x * x;
  norm = Math.sqrt(norm) || 1;
  for (let i = 0; i < v.length; i++) v[i] /= norm;
}

/** Cosine similarity of two vectors (works whether or not they are normalised). */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return dot / (Math.sqrt(na * nb) || 1);
}

const DEFAULT_EMBEDDER = 'Xenova/all-MiniLM-L6-v2';

/** OpenAI's embeddings API refuses an empty input with 400; geul does the same on every face. */
const Text = textItem({ allowed: false, says: 'Must not be empty: an empty text has no meaning to embed (OpenAI\'s API refuses it too).' });
const EmbedRequest = Type.Object({ model: ModelField, inputs: textInputs(Text), pooling: Pooling, normalize: Normalize });
const Vector = Type.Array(Type.Number(), { description: 'The embedding' });

export const embedTask = defineTask({
  id: 'embeddings',
  command: 'embed',
  summary: 'Turn texts into sentence embeddings (vectors) with a sentence-transformers model',
  kind: 'feature-extraction',
  defaultModel: DEFAULT_EMBEDDER,
  batches: true,
  request: EmbedRequest,
  item: Text,
  result: Vector,
  async run(items, options, ctx) {
    return embedTexts(await ctx.load(options.model), items, options, ctx.onItemDone, ctx.signal);
  },
  format: (_text, vector) => vector.map((v) => v.toFixed(6)).join(' '),
  cli: { args: '[texts...]' },
  examples: {
    cli: ['geul embed --json "one" "two"', 'geul embed --file sentences.txt --pooling cls --json'],
    http: [{ inputs: 'a cat sat on the mat' }, { inputs: ['one', 'two'], pooling: 'cls', normalize: false }],
  },
});

const Pair = Type.Array(Text, { minItems: 2, maxItems: 2, description: 'Two texts to compare (neither may be empty)' });
const SimilarityRequest = Type.Object({
  model: ModelField,
  inputs: Type.Union([Pair, Type.Array(Pair, { minItems: 1, maxItems: 4096 })], { description: 'One pair of texts, or an array of pairs' }),
  pooling: Pooling,
});
const SimilarityResult = Type.Object({ score: Type.Number({ description: 'Cosine similarity in [-1, 1]' }) });

/**
 * CLI texts → pairs: lines of "text<TAB>text", or consecutive texts paired up (a b c d → (a, b), (c, d)).
 * An odd count of untabbed texts is refused rather than guessing what the last one is compared with.
 */
export function textPairs(texts: string[]): [string, string][] {
  const tabbed = texts.filter((t) => t.includes('\t')).length;
  if (tabbed === texts.length) {
    return texts.map((line) => {
      const parts = line.split('\t');
      if (parts.length !== 2) throw geulError('INVALID_INPUT', { detail: `similarity needs lines of "text<TAB>text"; got "${line.slice(0, 80)}"` });
      return [parts[0], parts[1]];
    });
  }
  if (tabbed > 0) throw geulError('INVALID_INPUT', { detail: 'similarity needs either texts to pair up (a b c d → a~b, c~d) or lines of "text<TAB>text", not both' });
  if (texts.length % 2 !== 0) throw geulError('INVALID_INPUT', { detail: `similarity scores pairs of texts (a b c d → a~b, c~d); got ${texts.length} texts, an odd count` });
  return Array.from({ length: texts.length / 2 }, (_, i) => [texts[2 * i], texts[2 * i + 1]]);
}

export const similarityTask = defineTask({
  id: 'similarity',
  command: 'similarity',
  summary: 'Cosine similarity of each pair of texts (a b c d → a~b, c~d) from their embeddings',
  kind: 'feature-extraction',
  family: 'embeddings',
  defaultModel: DEFAULT_EMBEDDER,
  batches: false,
  request: SimilarityRequest,
  item: Pair,
  result: SimilarityResult,
  async run(items, options, ctx) {
    const vectors = await embedTexts(await ctx.load(options.model), items.flat(), { pooling: options.pooling, normalize: true });
    return items.map((_, i) => {
      ctx.onItemDone?.();
      return { score: cosine(vectors[2 * i], vectors[2 * i + 1]) };
    });
  },
  format: (_pair, result) => result.score.toFixed(4),
  cli: {
    args: '[texts...]',
    toItems: textPairs,
    modes: [{
      flag: 'matrix',
      description: 'print the cosine similarity matrix of all given texts',
      async run(texts, options, ctx) {
        const matrix = await similarityMatrix(await ctx.load(options.model), texts, options.pooling);
        return { value: { matrix }, text: matrix.map((row) => row.map((v) => v.toFixed(4)).join('\t')).join('\n') };
      },
    }],
  },
  examples: {
    cli: ['geul similarity --json "a cat" "a dog"', 'geul similarity "a cat" "a dog" "a car" "a bus"', 'geul similarity --file pairs.tsv --json', 'geul similarity --matrix "a" "b" "c"'],
    http: [{ inputs: ['a cat', 'a dog'] }, { inputs: [['a cat', 'a dog'], ['a car', 'a bus']] }],
  },
});

/** All-pairs cosine matrix of texts (library helper; the CLI exposes it as `similarity --matrix`). */
export async function similarityMatrix(loaded: LoadedModel, texts: string[], pooling: 'mean' | 'cls' = 'mean'): Promise<number[][]> {
  for (const text of texts) if (text.length === 0) throw geulError('INVALID_INPUT', { detail: 'similarity: texts must not be empty' });
  const vectors = await embedTexts(loaded, texts, { pooling, normalize: true });
  return vectors.map((a) => vectors.map((b) => cosine(a, b)));
}

const SearchRequest = Type.Object({
  model: ModelField,
  inputs: textInputs(Text),
  documents: Type.Array(Text, { minItems: 1, maxItems: 100_000, description: 'The documents to search (none may be empty)' }),
  top_k: Type.Integer({ minimum: 1, maximum: 1000, default: 5, description: 'How many documents to return per query' }),
  pooling: Pooling,
});
const Hit = Type.Object({ index: Type.Integer({ description: 'Position in documents' }), score: Type.Number(), text: Type.String() });
const SearchResult = Type.Array(Hit, { description: 'Best documents first' });

export const searchTask = defineTask({
  id: 'search',
  command: 'search',
  summary: 'Semantic search: the documents closest in meaning to each query',
  kind: 'feature-extraction',
  family: 'embeddings',
  defaultModel: DEFAULT_EMBEDDER,
  batches: false,
  request: SearchRequest,
  item: Text,
  result: SearchResult,
  async run(queries, options, ctx) {
    const loaded = await ctx.load(options.model);
    const docVectors = await embedTexts(loaded, options.documents, { pooling: options.pooling, normalize: true });
    const queryVectors = await embedTexts(loaded, queries, { pooling: options.pooling, normalize: true });
    return queryVectors.map((q) => {
      const hits = docVectors.map((d, index) => ({ index, score: cosine(q, d), text: options.documents[index] }));
      hits.sort((a, b) => b.score - a.score);
      ctx.onItemDone?.();
      return hits.slice(0, options.top_k);
    });
  },
  format: (query, hits) => [`# ${query}`, ...hits.map((h) => `${h.score.toFixed(4)}\t${h.index}\t${h.text}`)].join('\n'),
  cli: {
    args: '[queries...]',
    skipOptions: ['documents'],
    files: [{ flag: 'docs', field: 'documents', description: 'documents to search: one per line, or JSONL with a "text" field', required: true }],
  },
  examples: {
    cli: ['geul search --docs docs.txt "how do I cook rice"', 'geul search --docs faq.jsonl --top-k 3 --json "환불 방법"'],
    http: [{ inputs: 'how do I cook rice', documents: ['Rinse the rice, then simmer it.', 'Stocks fell today.'], top_k: 1 }],
  },
});
