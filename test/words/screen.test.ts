// The int8-screened search and the SIMD kernels of every width give the brute-force top k (clusters, ties, restrict_vocab, NaN rows).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { WordVectors, normalize, type Scored } from '../../src/words/vectors.js';
import type { ScreenQuery } from '../../src/words/screen.js';

function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** rows × dim vectors around `centres` cluster centres (near neighbours score close together, as in real sets). */
function clustered(rows: number, dim: number, centres: number, seed: number): WordVectors {
  const rand = random(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const c = Float32Array.from({ length: centres * dim }, gauss);
  const data = new Float32Array(rows * dim);
  for (let r = 0; r < rows; r++) {
    const k = Math.floor(rand() * centres);
    for (let d = 0; d < dim; d++) data[r * dim + d] = c[k * dim + d] + 0.8 * gauss();
  }
  return new WordVectors(Array.from({ length: rows }, (_, i) => `w${i}`), dim, data);
}

/** The reference: every allowed row scored in float64, sorted best first, ties by row order, NaN left out. */
function bruteForce(v: WordVectors, q: ScreenQuery): Scored[] {
  const all: { i: number; s: number }[] = [];
  for (let i = 0; i < Math.min(q.limit, v.size); i++) {
    if (q.exclude.has(i)) continue;
    const row = v.unitRow(i);
    let s = 0;
    for (let d = 0; d < v.dim; d++) s += row[d] * q.vector[d];
    if (!Number.isNaN(s)) all.push({ i, s });
  }
  all.sort((a, b) => b.s - a.s || a.i - b.i);
  return all.slice(0, q.topn).map(({ i, s }) => ({ word: v.words[i], score: s }));
}

function assertSame(actual: Scored[], expected: Scored[], tolerance: number, what: string): void {
  assert.deepEqual(actual.map((h) => h.word), expected.map((h) => h.word), what);
  actual.forEach((h, i) => assert.ok(Math.abs(h.score - expected[i].score) <= tolerance, `${what}: ${h.score} vs ${expected[i].score}`));
}

describe('exact search with the int8 screen', () => {
  const v = clustered(6000, 48, 150, 7);
  const rand = random(99);
  const word = () => `w${Math.floor(rand() * v.size)}`;
  before(() => v.prepareSearch({ threads: 1 }).then(() => undefined));
  after(() => v.releaseSearch());

  test('most_similar queries answered together equal the brute-force top k (mixed topn, negatives, restrict_vocab)', async () => {
    const calls = Array.from({ length: 40 }, (_, i) => ({
      positive: i % 3 === 0 ? [word(), word()] : [word()],
      negative: i % 4 === 0 ? [word()] : [],
      topn: [1, 10, 50, 200][i % 4],
      restrictVocab: i % 5 === 0 ? 1000 + i * 50 : undefined,
    }));
    const queries = v.similarQueries(calls);
    const answers = await v.search(queries);
    queries.forEach((q, i) => assertSame(answers[i], bruteForce(v, q), 1e-12, `query ${i}`));
    // The same answers one at a time and through the synchronous SIMD pass (float32 scores).
    assertSame(await v.similar(calls[1]), answers[1], 1e-12, 'lone');
    for (const i of [0, 1, 2, 3]) assertSame(v.mostSimilar(calls[i]), answers[i], 1e-5, `sync ${i}`);
  });

  test('arbitrary query vectors (not unit length, negative), excluded rows, topn beyond the allowed rows', async () => {
    const vector = Float32Array.from({ length: v.dim }, () => rand() * 6 - 3);
    const queries: ScreenQuery[] = [
      { vector, exclude: new Set([1, 2, 3]), topn: 25, limit: v.size },
      { vector: vector.map((x) => -x), exclude: new Set(), topn: 5, limit: 20 },
      { vector, exclude: new Set([0, 1]), topn: 10, limit: 5 },
      { vector, exclude: new Set(), topn: 0, limit: v.size },
    ];
    const answers = await v.search(queries);
    queries.forEach((q, i) => assertSame(answers[i], bruteForce(v, q), 1e-9, `query ${i}`));
    assert.equal(answers[2].length, 3);
    assert.equal(answers[3].length, 0);
  });
});

describe('search falls back to a full pass where screening cannot narrow down', () => {
  test('30,000 identical rows (ties: row order), a zero row and a NaN row', async () => {
    const dim = 8;
    const rows = 30_010;
    const data = new Float32Array(rows * dim);
    for (let r = 0; r < rows; r++) for (let d = 0; d < dim; d++) data[r * dim + d] = r < 30_000 ? d + 1 : Math.sin(r * 7 + d);
    data.fill(0, 30_000 * dim, 30_001 * dim);
    data[30_002 * dim + 3] = Number.NaN;
    const v = new WordVectors(Array.from({ length: rows }, (_, i) => `w${i}`), dim, data);
    await v.prepareSearch({ threads: 1 });
    try {
      const tie = Float32Array.from({ length: dim }, (_, d) => d + 1);
      normalize(tie);
      const other = Float32Array.from({ length: dim }, (_, d) => Math.cos(d));
      const queries: ScreenQuery[] = [
        { vector: tie, exclude: new Set([0]), topn: 5, limit: rows },
        { vector: other, exclude: new Set(), topn: 20, limit: rows },
      ];
      const answers = await v.search(queries);
      assert.deepEqual(answers[0].map((h) => h.word), ['w1', 'w2', 'w3', 'w4', 'w5']);
      queries.forEach((q, i) => assertSame(answers[i], bruteForce(v, q), 1e-5, `query ${i}`));
      assert.ok(!answers[1].some((h) => h.word === 'w30002'), 'the NaN row is never an answer');
    } finally {
      await v.releaseSearch();
    }
  });

  test('without prepareSearch the SIMD pass answers, the same for one to five queries at once (kernel widths 1, 2, 4)', async () => {
    const v = clustered(3000, 20, 40, 3);
    const queries = v.similarQueries([1, 2, 3, 4, 5].map((i) => ({ positive: [`w${i * 11}`], topn: 15 })));
    for (let n = 1; n <= queries.length; n++) {
      const answers = await v.search(queries.slice(0, n));
      answers.forEach((a, i) => assertSame(a, bruteForce(v, queries[i]), 1e-5, `${n} queries, query ${i}`));
    }
  });
});
