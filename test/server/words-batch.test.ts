// Concurrent /v1/words queries share screening passes in the word-vector thread and still give the library's exact answers.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/server/app.js';
import { readVectors, writeVectors } from '../../src/words/formats.js';
import { WordVectors, type Scored } from '../../src/words/vectors.js';
import { post, serverConfig } from '../helpers/server.js';

const dir = mkdtempSync(join(tmpdir(), 'geul-words-batch-'));

function clustered(rows: number, dim: number): WordVectors {
  let a = 5;
  const rand = () => {
    a = (Math.imul(a, 1664525) + 1013904223) | 0;
    return (a >>> 0) / 4294967296;
  };
  const centres = Array.from({ length: 60 }, () => Array.from({ length: dim }, () => rand() - 0.5));
  const data = new Float32Array(rows * dim);
  for (let r = 0; r < rows; r++) {
    const c = centres[Math.floor(rand() * centres.length)];
    for (let d = 0; d < dim; d++) data[r * dim + d] = c[d] + 0.4 * (rand() - 0.5);
  }
  return new WordVectors(Array.from({ length: rows }, (_, i) => `w${i}`), dim, data);
}

describe('concurrent word queries', () => {
  let app: FastifyInstance;
  let reference: WordVectors;
  before(async () => {
    const path = join(dir, 'set.bin');
    await writeVectors(path, clustered(5000, 32));
    reference = await readVectors(path);
    app = await buildServer(serverConfig({ vectors: { set: { path } } }));
  });
  after(() => app.close());

  test('60 requests at once (similar, analogy, nearest) answer as the library does one by one', async () => {
    const words = (i: number) => `w${(i * 7919) % 5000}`;
    const cases = Array.from({ length: 60 }, (_, i) => {
      if (i % 3 === 0) {
        const body = { positive: [words(i)], negative: i % 2 ? [words(i + 1)] : [], topn: 1 + (i % 25), restrict_vocab: i % 4 === 0 ? 2500 : undefined };
        return { path: 'similar', body, expected: reference.mostSimilar({ positive: body.positive, negative: body.negative, topn: body.topn, restrictVocab: body.restrict_vocab }) };
      }
      if (i % 3 === 1) {
        const [x, y, z] = [words(i), words(i + 2), words(i + 3)];
        return { path: 'analogy', body: { a: x, b: y, c: z, topn: 8 }, expected: reference.analogy(x, y, z, { topn: 8 }) };
      }
      const vector = Array.from(reference.vector(words(i))).map((x, d) => x + (d % 2 ? 0.1 : -0.1));
      return { path: 'nearest', body: { vector, topn: 12, exclude: [words(i)] }, expected: reference.nearest(vector, 12, [words(i)]) };
    });
    const answers = await Promise.all(cases.map((c) => post(app, `/v1/words/${c.path}`, c.body)));
    answers.forEach((res, i) => {
      assert.equal(res.status, 200, res.body);
      const got = (res.json() as { results: Scored[] }).results;
      assert.deepEqual(got.map((h) => h.word), cases[i].expected.map((h) => h.word), `${cases[i].path} #${i}`);
      got.forEach((h, j) => assert.ok(Math.abs(h.score - cases[i].expected[j].score) < 1e-5, `${cases[i].path} #${i} score`));
    });
  });
});
