// /v1/words/… over inject(): queries on small hand-made vector sets (Korean too), errors, OpenAPI, readiness, auth, hub sets.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/server/app.js';
import { KeyStore } from '../../src/store/keys.js';
import { writeVectors } from '../../src/words/formats.js';
import { WordVectors } from '../../src/words/vectors.js';
import { startFakeHub } from '../helpers/fake-hub.js';
import { post, serverConfig, spawnServe } from '../helpers/server.js';

const dir = mkdtempSync(join(tmpdir(), 'geul-words-http-'));

/** man : king = woman : queen by construction (and 남자 : 왕 = 여자 : 여왕); fruit words elsewhere. */
function handMade(rows: Record<string, number[]>): WordVectors {
  const words = Object.keys(rows);
  return new WordVectors(words, 4, Float32Array.from(words.flatMap((w) => rows[w])));
}
const EN = { man: [1, 0, 0, 0], woman: [1, 1, 0, 0], king: [1, 0, 1, 0], queen: [1, 1, 1, 0], apple: [0, 0, 0, 1], banana: [0, 0.1, 0, 1] };
const KO = { 남자: [1, 0, 0, 0], 여자: [1, 1, 0, 0], 왕: [1, 0, 1, 0], 여왕: [1, 1, 1, 0], 사과: [0, 0, 0, 1], 바나나: [0, 0.1, 0, 1] };

type Json = Record<string, unknown> & { results: { word: string; score: number }[]; error?: { code: string; message: string } };

describe('word-vector routes', () => {
  let app: FastifyInstance;
  before(async () => {
    await writeVectors(join(dir, 'en.bin'), handMade(EN), 'bin');
    await writeVectors(join(dir, 'ko.txt'), handMade(KO), 'txt');
    writeFileSync(join(dir, 'broken.txt'), '3 4\nman 1 0 0 0\n');
    app = await buildServer(serverConfig({
      vectors: { en: { path: join(dir, 'en.bin') }, ko: { path: join(dir, 'ko.txt'), format: 'txt' }, broken: { path: join(dir, 'broken.txt') } },
    }));
  });
  after(() => app.close());
  const ask = async (path: string, body: unknown) => {
    const res = await post(app, `/v1/words/${path}`, body);
    return { status: res.status, json: res.json() as Json };
  };

  test('similar: one word, positive/negative lists, topn; inputs excluded, best first', async () => {
    const one = await ask('similar', { word: 'king', topn: 2 });
    assert.equal(one.status, 200, JSON.stringify(one.json));
    assert.equal(one.json.vectors, 'en');
    assert.equal(one.json.results.length, 2);
    assert.deepEqual(one.json.results.map((r) => r.word), ['queen', 'man']);
    assert.ok(one.json.results[0].score >= one.json.results[1].score);
    const mixed = await ask('similar', { positive: ['king', 'woman'], negative: ['man'], topn: 1 });
    assert.deepEqual(mixed.json.results.map((r) => r.word), ['queen']);
    const ko = await ask('similar', { vectors: 'ko', word: '사과', topn: 1 });
    assert.deepEqual([ko.json.vectors, ko.json.results[0].word], ['ko', '바나나']);
  });

  test('analogy (3CosAdd and 3CosMul), similarity and odd, in English and Korean', async () => {
    for (const method of ['add', 'mul']) {
      assert.equal((await ask('analogy', { a: 'man', b: 'king', c: 'woman', method, topn: 1 })).json.results[0].word, 'queen', method);
      assert.equal((await ask('analogy', { vectors: 'ko', a: '남자', b: '왕', c: '여자', method, topn: 1 })).json.results[0].word, '여왕', method);
    }
    const sim = await ask('similarity', { a: 'apple', b: 'apple' });
    assert.ok(Math.abs((sim.json.score as number) - 1) < 1e-6);
    const koSim = await ask('similarity', { vectors: 'ko', a: '사과', b: '바나나' });
    assert.ok((koSim.json.score as number) > 0.9);
    assert.deepEqual((await ask('odd', { words: ['apple', 'banana', 'king'] })).json, { vectors: 'en', word: 'king' });
    assert.equal((await ask('odd', { vectors: 'ko', words: ['사과', '바나나', '왕'] })).json.word, '왕');
    const near = await ask('nearest', { vector: [0, 0, 0, 1], topn: 1, exclude: ['apple'] });
    assert.equal(near.json.results[0].word, 'banana');
  });

  test('vectors: unit-length rows in request order, null for a word the set lacks (Korean too)', async () => {
    const res = await post(app, '/v1/words/vectors', { words: ['queen', 'nope', 'apple'] });
    assert.equal(res.status, 200, res.body);
    const body = res.json() as unknown as { vectors: string; data: { word: string; vector: number[] | null }[] };
    assert.equal(body.vectors, 'en');
    assert.deepEqual(body.data.map((d) => d.word), ['queen', 'nope', 'apple']);
    assert.equal(body.data[1].vector, null);
    const queen = body.data[0].vector!;
    assert.equal(queen.length, 4);
    for (let i = 0; i < 4; i++) assert.ok(Math.abs(queen[i] - EN.queen[i] / Math.sqrt(3)) < 1e-6, 'queen / |queen|');
    const ko = (await post(app, '/v1/words/vectors', { vectors: 'ko', words: ['사과'] })).json() as unknown as { data: { vector: number[] }[] };
    assert.deepEqual(ko.data[0].vector, [0, 0, 0, 1]);
    assert.equal((await post(app, '/v1/words/vectors', { words: [] })).status, 400);
  });

  test('unknown words, sets and bad bodies are catalogued 4xx errors naming the problem', async () => {
    const cases: [string, unknown, number, string, RegExp][] = [
      ['similar', { word: 'unicorn' }, 404, 'UNKNOWN_WORD', /"unicorn" is not in the vocabulary/],
      ['analogy', { vectors: 'ko', a: '남자', b: '왕', c: '공주' }, 404, 'UNKNOWN_WORD', /"공주"/],
      ['similarity', { a: 'King', b: 'queen' }, 404, 'UNKNOWN_WORD', /"King".*but "king" is/],
      ['similar', { vectors: 'fr', word: 'roi' }, 404, 'UNKNOWN_VECTORS', /"fr" is not served here \(sets: en, ko, broken\)/],
      ['similar', {}, 400, 'INVALID_INPUT', /at least one word/],
      ['similar', { word: 'king', topn: 0 }, 400, 'INVALID_INPUT', /topn/],
      ['analogy', { a: 'man', b: 'king', c: 'woman', method: 'div' }, 400, 'INVALID_INPUT', /method/],
      ['odd', { words: ['king'] }, 400, 'INVALID_INPUT', /words/],
      ['nearest', { vector: [1, 2] }, 400, 'INVALID_INPUT', /2 dimensions, expected 4/],
      ['similarity', { a: 'king' }, 400, 'INVALID_INPUT', /body/],
    ];
    for (const [path, body, status, code, message] of cases) {
      const res = await ask(path, body);
      assert.equal(res.status, status, `${path} ${JSON.stringify(body)}: ${JSON.stringify(res.json)}`);
      assert.equal(res.json.error?.code, code);
      assert.match(res.json.error?.message ?? '', message);
    }
    const bad = await post(app, '/v1/words/similar', '[1]');
    assert.equal(bad.status, 400);
  });

  test('a broken file: 503 VECTORS_UNAVAILABLE without paths, listed as failed, /ready 503; other sets still answer', async () => {
    const res = await ask('similar', { vectors: 'broken', word: 'man' });
    assert.equal(res.status, 503);
    assert.equal(res.json.error?.code, 'VECTORS_UNAVAILABLE');
    assert.doesNotMatch(res.json.error?.message ?? '', /broken\.txt/);
    const sets = (await app.inject({ url: '/v1/words/vectors' })).json() as { default: string; data: { name: string; state: string; words?: number; dim?: number; error?: string }[] };
    assert.equal(sets.default, 'en');
    assert.deepEqual(sets.data.map((s) => [s.name, s.state, s.words, s.dim, s.error]), [['en', 'ready', 6, 4, undefined], ['ko', 'ready', 6, 4, undefined], ['broken', 'failed', undefined, undefined, 'FILE_INVALID']]);
    const ready = await app.inject({ url: '/ready' });
    assert.equal(ready.statusCode, 503);
    assert.deepEqual(ready.json().vectors, { en: 'ok', ko: 'ok', broken: 'FILE_INVALID' });
    assert.equal((await ask('similar', { word: 'king', topn: 1 })).status, 200);
  });

  test('OpenAPI documents the words routes with their schemas; metrics count them by route', async () => {
    const doc = (await app.inject({ url: '/openapi.json' })).json() as { paths: Record<string, Record<string, { tags?: string[]; requestBody?: { content: Record<string, { schema: { properties: Record<string, unknown> } }> } }>> };
    for (const op of ['similar', 'analogy', 'similarity', 'odd', 'nearest']) {
      const route = doc.paths[`/v1/words/${op}`]?.post;
      assert.ok(route, op);
      assert.deepEqual(route.tags, ['words']);
      assert.ok(route.requestBody?.content['application/json'].schema.properties.vectors, op);
    }
    assert.ok(doc.paths['/v1/words/vectors'].get);
    const metrics = (await app.inject({ url: '/metrics' })).body;
    assert.match(metrics, /geul_http_requests_total\{route="\/v1\/words\/similar",method="POST",status="200"\} \d+/);
    assert.match(metrics, /geul_words_queue_depth 0/);
  });

  test('queries arriving together (scored in shared matrix passes) answer exactly as one at a time', async () => {
    const bodies: [string, unknown][] = [
      ['similar', { word: 'king', topn: 3 }], ['analogy', { a: 'man', b: 'king', c: 'woman', topn: 2 }],
      ['similar', { positive: ['apple'], negative: ['man'], topn: 4 }], ['similar', { word: 'unicorn' }],
      ['analogy', { a: 'man', b: 'king', c: 'woman', method: 'mul' }], ['similar', { word: 'queen', restrict_vocab: 3 }],
      ['similar', { vectors: 'ko', word: '왕', topn: 2 }], ['similarity', { a: 'king', b: 'queen' }], ['similar', { word: 'banana', topn: 5 }],
    ];
    const alone = [];
    for (const [path, body] of bodies) alone.push(await ask(path, body));
    const together = await Promise.all(bodies.map(([path, body]) => ask(path, body)));
    assert.deepEqual(together, alone);
    assert.equal(together[3].status, 404);
  });

  test('if the word-vector thread dies, the next query starts a new one and reloads the set', async () => {
    const worker = (app.geul.words as unknown as { worker?: { terminate(): Promise<number> } }).worker;
    assert.ok(worker);
    await worker.terminate();
    await new Promise((done) => setImmediate(done));
    const res = await ask('similar', { vectors: 'ko', word: '왕', topn: 1 });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.equal(res.json.results[0].word, '여왕');
  });
});

test('a server without vector sets says how to add one', async () => {
  const app = await buildServer(serverConfig());
  try {
    const res = await post(app, '/v1/words/similar', { word: 'king' });
    assert.equal(res.status, 404);
    assert.match(res.json().error?.message ?? '', /none is configured: start the server with --vectors NAME=FILE/);
    assert.deepEqual((await app.inject({ url: '/v1/words/vectors' })).json(), { default: null, data: [] });
  } finally {
    await app.close();
  }
});

test('words routes need the tasks scope when auth is on; a hub-hosted set loads through the cache', async () => {
  const hub = await startFakeHub({ repos: { 'acme/vecs': { main: { 'v/en.bin': readFileSync(join(dir, 'en.bin')) } } } });
  const keys = new KeyStore(':memory:');
  const tasks = keys.create({ name: 'tasks', scopes: ['tasks'] }).key;
  const app = await buildServer(serverConfig({ auth: 'required', vectors: { hubbed: { path: 'hub:acme/vecs/v/en.bin' } } }, { offline: false, hubUrl: hub.url }), { keys });
  try {
    assert.equal((await post(app, '/v1/words/similar', { word: 'king' })).status, 401);
    assert.equal((await app.inject({ url: '/v1/words/vectors' })).statusCode, 401);
    const res = await post(app, '/v1/words/analogy', { a: 'man', b: 'king', c: 'woman', topn: 1 }, { authorization: `Bearer ${tasks}` });
    assert.equal(res.status, 200, res.body);
    const answer = res.json() as Json;
    assert.deepEqual([answer.vectors, answer.results.map((r) => r.word)], ['hubbed', ['queen']]);
    assert.equal(hub.count({ kind: 'cdn', file: 'v/en.bin' }), 1);
  } finally {
    await app.close();
    keys.close();
    await hub.close();
  }
});

test('geul serve --vectors NAME=FILE and a bare FILE (named after it), with --vectors-limit', { timeout: 60_000 }, async () => {
  const ko = join(dir, 'ko-serve.txt');
  await writeVectors(ko, handMade(KO), 'txt');
  const { child, url } = await spawnServe(['--import', 'tsx', 'src/cli/bin.ts', 'serve', '--port', '0', '--workers', '1', '--data-dir', dir, '--log-level', 'warn',
    '--vectors', `en=${join(dir, 'en.bin')}`, '--vectors', ko, '--vectors-limit', '3'], { ...process.env, GEUL_CONFIG: join(dir, 'none.json') });
  try {
    const answer = await fetch(`${url}/v1/words/similar`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ vectors: 'ko-serve', word: '남자', topn: 5 }) });
    assert.equal(answer.status, 200);
    assert.deepEqual(((await answer.json()) as Json).results.map((r) => r.word).sort(), ['여자', '왕'].sort());
    assert.equal((await fetch(`${url}/v1/words/similarity`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ a: 'man', b: 'king' }) })).status, 200);
    const sets = (await (await fetch(`${url}/v1/words/vectors`)).json()) as { default: string; data: { name: string; words: number }[] };
    assert.deepEqual([sets.default, sets.data.map((d) => [d.name, d.words])], ['en', [['en', 3], ['ko-serve', 3]]]);
  } finally {
    child.kill('SIGTERM');
  }
});
