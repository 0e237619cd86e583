// /v1/words/…: word-vector queries with gensim's semantics (similar, analogy, similarity, odd, nearest) and the sets served.
import type { FastifyInstance } from 'fastify';
import { Type, parseWith, type Static, type TSchema } from '../core/schema.js';
import type { Scored } from '../words/vectors.js';
import { clientSchema } from '../tasks/request.js';
import { asObject, errorResponses } from './admit.js';
import type { ServerContext } from './context.js';
import { estimateTokens, measureTexts } from './guard.js';
import type { QueryCall } from './words-thread.js';

const Word = Type.String({ minLength: 1, maxLength: 200 });
const Words = (description: string, minItems = 0) => Type.Array(Word, { minItems, maxItems: 100, description });
const common = {
  vectors: Type.Optional(Type.String({ maxLength: 64, description: 'Vector set to ask (GET /v1/words/vectors lists them); the server default when omitted' })),
};
const topn = Type.Integer({ minimum: 1, maximum: 1000, default: 10, description: 'How many words to return' });
const restrictVocab = Type.Optional(Type.Integer({ minimum: 1, description: 'Only the N most frequent words are candidates (gensim restrict_vocab)' }));

const SimilarRequest = Type.Object({
  ...common,
  word: Type.Optional(Word),
  positive: Type.Optional(Words('Words to move towards (with `word`, if given)')),
  negative: Type.Optional(Words('Words to move away from')),
  topn,
  restrict_vocab: restrictVocab,
}, { description: 'gensim most_similar: words closest to the mean of `word`/`positive` minus `negative` (inputs excluded)' });

const AnalogyRequest = Type.Object({
  ...common,
  a: Word, b: Word, c: Word,
  topn,
  method: Type.Enum(['add', 'mul'], { default: 'add', description: '3CosAdd (gensim most_similar) or 3CosMul (most_similar_cosmul)' }),
  restrict_vocab: restrictVocab,
}, { description: 'a is to b as c is to ? (b − a + c)' });

const SimilarityRequest = Type.Object({ ...common, a: Word, b: Word }, { description: 'Cosine similarity of two words' });
const OddRequest = Type.Object({ ...common, words: Words('The words to compare', 2) }, { description: "gensim doesnt_match: the word farthest from the others' mean" });
const NearestRequest = Type.Object({
  ...common,
  vector: Type.Array(Type.Number(), { minItems: 1, maxItems: 10_000, description: 'A vector with as many numbers as the set has dimensions' }),
  topn,
  exclude: Type.Optional(Words('Words left out of the answer')),
}, { description: 'gensim similar_by_vector: words nearest to a vector' });

const VectorsRequest = Type.Object({
  ...common,
  words: Type.Array(Word, { minItems: 1, maxItems: 2000, description: 'The words whose vectors to return (the web UI maps them)' }),
}, { description: 'The unit-length vectors of some words; a word not in the set gets `null`' });
const VectorsAnswer = Type.Object({
  vectors: Type.String(),
  data: Type.Array(Type.Object({ word: Type.String(), vector: Type.Union([Type.Array(Type.Number()), Type.Null()]) }), { description: 'In request order' }),
});

const ScoredList = Type.Object({
  vectors: Type.String({ description: 'The vector set that answered' }),
  results: Type.Array(Type.Object({ word: Type.String(), score: Type.Number() }), { description: 'Best first' }),
});
const ScoreAnswer = Type.Object({ vectors: Type.String(), score: Type.Number({ description: 'Cosine similarity, −1 … 1' }) });
const WordAnswer = Type.Object({ vectors: Type.String(), word: Type.String({ description: "The word that doesn't match" }) });

interface WordsRoute<S extends TSchema> {
  op: QueryCall['op'];
  summary: string;
  body: S;
  response: TSchema;
  args(body: Static<S>): Record<string, unknown>;
  answer(name: string, value: unknown): unknown;
}

const list = (name: string, value: unknown) => ({ vectors: name, results: value as Scored[] });
const route = <S extends TSchema>(r: WordsRoute<S>) => r as unknown as WordsRoute<TSchema>;

const ROUTES: WordsRoute<TSchema>[] = [
  route({
    op: 'similar', summary: 'Most similar words (gensim most_similar)', body: SimilarRequest, response: ScoredList, answer: list,
    args: (b) => ({ positive: [...(b.word === undefined ? [] : [b.word]), ...(b.positive ?? [])], negative: b.negative, topn: b.topn, restrictVocab: b.restrict_vocab }),
  }),
  route({
    op: 'analogy', summary: 'Analogies: a is to b as c is to ? (3CosAdd or 3CosMul)', body: AnalogyRequest, response: ScoredList, answer: list,
    args: (b) => ({ a: b.a, b: b.b, c: b.c, topn: b.topn, method: b.method, restrictVocab: b.restrict_vocab }),
  }),
  route({
    op: 'similarity', summary: 'Cosine similarity of two words', body: SimilarityRequest, response: ScoreAnswer,
    args: (b) => ({ a: b.a, b: b.b }), answer: (name, value) => ({ vectors: name, score: value as number }),
  }),
  route({
    op: 'odd', summary: "The word that doesn't match the others (gensim doesnt_match)", body: OddRequest, response: WordAnswer,
    args: (b) => ({ words: b.words }), answer: (name, value) => ({ vectors: name, word: value as string }),
  }),
  route({
    op: 'nearest', summary: 'Words nearest to a vector (gensim similar_by_vector)', body: NearestRequest, response: ScoredList, answer: list,
    args: (b) => ({ vector: b.vector, topn: b.topn, exclude: b.exclude }),
  }),
  // Vectors, not a server-side 2-D projection: the browser projects (PCA, UMAP) the points the user picked, and
  // re-projects as they add or isolate words without another request.
  route({
    op: 'vectors', summary: 'The unit-length vectors of some words (for maps and your own analysis)', body: VectorsRequest, response: VectorsAnswer,
    args: (b) => ({ words: b.words }), answer: (name, value) => ({ vectors: name, data: value }),
  }),
];

const VectorSets = Type.Object({
  default: Type.Union([Type.String(), Type.Null()], { description: 'The set used when a request names none' }),
  data: Type.Array(Type.Object({
    name: Type.String(),
    state: Type.Enum(['loading', 'ready', 'failed']),
    default: Type.Boolean(),
    words: Type.Optional(Type.Integer()),
    dim: Type.Optional(Type.Integer()),
    error: Type.Optional(Type.String({ description: 'Error code of a failed load (details in the server log)' })),
  })),
});

export function registerWordRoutes(app: FastifyInstance, ctx: ServerContext): void {
  for (const r of ROUTES) {
    app.post(`/v1/words/${r.op}`, {
      schema: { summary: r.summary, tags: ['words'], body: clientSchema(r.body), response: { 200: r.response, ...errorResponses } },
      preHandler: ctx.requireScope('tasks'),
    }, async (request) => {
      const body = parseWith(r.body, asObject(request.body), 'body') as Static<TSchema> & { vectors?: string };
      const chars = measureTexts(body).chars;
      await ctx.guard.charge(request, chars, estimateTokens(chars));
      const { name, value } = await ctx.words.query(body.vectors, r.op, r.args(body));
      return r.answer(name, value);
    });
  }

  app.get('/v1/words/vectors', {
    schema: { summary: 'Word-vector sets this server offers (loaded once, kept in memory)', tags: ['words'], response: { 200: VectorSets, ...errorResponses } },
    preHandler: ctx.requireScope('tasks'),
  }, async () => ({ default: ctx.words.defaultName ?? null, data: ctx.words.list() }));
}
