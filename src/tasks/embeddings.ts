// Sentence embeddings (mean or CLS pooling, optional L2 normalisation), cosine similarity and semantic search.
import { Type } from '../core/schema.js';
import { geulError } from '../core/errors.js';
import type { LoadedModel } from '../runtime/models.js';
import { ModelField, Text, TextInputs } from './common.js';
import { encodeTexts, forward, slices } from './encoder.js';
import type { TaskContext, TaskSpec } from './types.js';

const Pooling = Type.Enum(['mean', 'cls'], { default: 'mean', description: 'How token vectors become one sentence vector' });
const Normalize = Type.Boolean({ default: true, description: 'Scale each embedding to unit length' });

export interface EmbedOptions {
  pooling: 'mean' | 'cls';
  normalize: boolean;
}

/** Embeds texts in batches; rows are plain number arrays (JSON-ready). */
export async function embedTexts(loaded: LoadedModel, texts: string[], options: EmbedOptions, onItemDone?: () => void): Promise<number[][]> {
  const out: number[][] = [];
  for (const batch of slices(texts)) {
    const { inputs } = encodeTexts(loaded, batch);
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
      out.push(Array.from(vector, (v) => Math.fround(v)));
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

async function loadFor(task: { kind: import('../runtime/model-kinds.js').ModelKind; defaultModel: string; id: string }, model: string | undefined, ctx: TaskContext) {
  return ctx.models.load(model ?? task.defaultModel, task.kind, task.id);
}

const DEFAULT_EMBEDDER = 'Xenova/all-MiniLM-L6-v2';

const EmbedRequest = Type.Object({ model: ModelField, inputs: TextInputs, pooling: Pooling, normalize: Normalize });
const Vector = Type.Array(Type.Number(), { description: 'The embedding' });

export const embedTask: TaskSpec<typeof EmbedRequest, typeof Text, typeof Vector> = {
  id: 'embeddings',
  command: 'embed',
  summary: 'Turn texts into sentence embeddings (vectors) with a sentence-transformers model',
  kind: 'feature-extraction',
  defaultModel: DEFAULT_EMBEDDER,
  request: EmbedRequest,
  item: Text,
  result: Vector,
  async run(items, options, ctx) {
    return embedTexts(await loadFor(this, options.model, ctx), items, options, ctx.onItemDone);
  },
  cli: { args: '[texts...]', examples: ['geul embed --json "one" "two"', 'geul embed --file sentences.txt --pooling cls --json'] },
};

const Pair = Type.Array(Text, { minItems: 2, maxItems: 2, description: 'Two texts to compare' });
const SimilarityRequest = Type.Object({
  model: ModelField,
  inputs: Type.Union([Pair, Type.Array(Pair, { minItems: 1, maxItems: 4096 })], { description: 'One pair of texts, or an array of pairs' }),
  pooling: Pooling,
});
const SimilarityResult = Type.Object({ score: Type.Number({ description: 'Cosine similarity in [-1, 1]' }) });

export const similarityTask: TaskSpec<typeof SimilarityRequest, typeof Pair, typeof SimilarityResult> = {
  id: 'similarity',
  command: 'similarity',
  summary: 'Cosine similarity of two texts (or of each pair in a batch) from their embeddings',
  kind: 'feature-extraction',
  defaultModel: DEFAULT_EMBEDDER,
  request: SimilarityRequest,
  item: Pair,
  result: SimilarityResult,
  async run(items, options, ctx) {
    const loaded = await loadFor(this, options.model, ctx);
    const vectors = await embedTexts(loaded, items.flat(), { pooling: options.pooling, normalize: true });
    return items.map((_, i) => {
      ctx.onItemDone?.();
      return { score: cosine(vectors[2 * i], vectors[2 * i + 1]) };
    });
  },
  cli: {
    args: '[texts...]',
    /** Two positional texts are one pair; file lines are tab-separated pairs. */
    toItems(texts) {
      if (texts.length === 2 && !texts.some((t) => t.includes('\t'))) return [[texts[0], texts[1]]];
      return texts.map((line) => {
        const parts = line.split('\t');
        if (parts.length !== 2) throw geulError('INVALID_INPUT', { detail: `similarity needs two texts, or lines of "text<TAB>text"; got "${line.slice(0, 80)}"` });
        return [parts[0], parts[1]];
      });
    },
    examples: ['geul similarity --json "a cat" "a dog"', 'geul similarity --file pairs.tsv --json'],
  },
};

/** All-pairs cosine matrix of texts (library helper; the CLI exposes it as `similarity --matrix`). */
export async function similarityMatrix(loaded: LoadedModel, texts: string[], pooling: 'mean' | 'cls' = 'mean'): Promise<number[][]> {
  const vectors = await embedTexts(loaded, texts, { pooling, normalize: true });
  return vectors.map((a) => vectors.map((b) => cosine(a, b)));
}

const SearchRequest = Type.Object({
  model: ModelField,
  inputs: TextInputs,
  documents: Type.Array(Text, { minItems: 1, maxItems: 100_000, description: 'The documents to search' }),
  top_k: Type.Integer({ minimum: 1, maximum: 1000, default: 5, description: 'How many documents to return per query' }),
  pooling: Pooling,
});
const Hit = Type.Object({ index: Type.Integer({ description: 'Position in documents' }), score: Type.Number(), text: Type.String() });
const SearchResult = Type.Array(Hit, { description: 'Best documents first' });

export const searchTask: TaskSpec<typeof SearchRequest, typeof Text, typeof SearchResult> = {
  id: 'search',
  command: 'search',
  summary: 'Semantic search: the documents closest in meaning to each query',
  kind: 'feature-extraction',
  defaultModel: DEFAULT_EMBEDDER,
  request: SearchRequest,
  item: Text,
  result: SearchResult,
  async run(queries, options, ctx) {
    const loaded = await loadFor(this, options.model, ctx);
    const docVectors = await embedTexts(loaded, options.documents, { pooling: options.pooling, normalize: true });
    const queryVectors = await embedTexts(loaded, queries, { pooling: options.pooling, normalize: true });
    return queryVectors.map((q) => {
      const hits = docVectors.map((d, index) => ({ index, score: cosine(q, d), text: options.documents[index] }));
      hits.sort((a, b) => b.score - a.score);
      ctx.onItemDone?.();
      return hits.slice(0, options.top_k);
    });
  },
  cli: {
    args: '[queries...]',
    skipOptions: ['documents'],
    examples: ['geul search --docs docs.txt "how do I cook rice"', 'geul search --docs faq.jsonl --top-k 3 --json "환불 방법"'],
  },
};
