// The embed job's vectorFormat bin/txt: vectors.bin/.txt read back (src/words reader) equal to embeddings.jsonl, keyed
// by the id column (or the row index), whitespace in keys replaced, empty ids refused; a server loads the file.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { loadConfig, type GeulConfig } from '../../src/core/config.js';
import { EMBED_OUTPUT, embedJob, vectorsFileName } from '../../src/jobs/embed-job.js';
import { parseJobParams } from '../../src/jobs/params.js';
import { buildServer } from '../../src/server/app.js';
import { readVectors } from '../../src/words/formats.js';
import { fixturesDir } from '../helpers/fixtures.js';
import { post, serverConfig } from '../helpers/server.js';
import { writeTextsJsonl } from './helpers.js';

const work = mkdtempSync(join(tmpdir(), 'geul-embed-vectors-'));
let model: string;
let config: GeulConfig;
const apps: FastifyInstance[] = [];

before(async () => {
  model = join(await fixturesDir(), 'tiny-bert-embed');
  config = loadConfig({ offline: true, cacheDir: join(work, 'cache'), dataDir: join(work, 'data'), logLevel: 'silent' }, { skipFile: true, env: {} });
  writeTextsJsonl(join(work, 'texts.jsonl'), 23);
});
after(async () => { for (const app of apps) await app.close(); });

type Row = { index: number; id?: string; embedding: number[] };
const rowsOf = (dir: string) => readFileSync(join(dir, EMBED_OUTPUT), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Row);

async function run(dir: string, params: Record<string, unknown>, resume = false): Promise<void> {
  mkdirSync(dir, { recursive: true });
  await embedJob.run(parseJobParams(embedJob as never, { model, chunkSize: 5, ...params }) as never, {
    signal: new AbortController().signal, workDir: dir, resume, config, emit: () => {},
  });
}

/** Every vector of the file equals its JSONL row's embedding (float32 rounding aside), in row order. */
async function assertSameVectors(file: string, rows: Row[], keys: string[]): Promise<void> {
  const vectors = await readVectors(file);
  assert.deepEqual(vectors.words, keys);
  assert.equal(vectors.dim, rows[0].embedding.length);
  rows.forEach((row, i) => {
    const read = vectors.data.subarray(i * vectors.dim, (i + 1) * vectors.dim);
    row.embedding.forEach((v, d) => assert.ok(Math.abs(read[d] - v) <= 1e-6 * Math.max(1, Math.abs(v)), `row ${i} dim ${d}: ${read[d]} vs ${v}`));
  });
}

test('vectorFormat bin: vectors.bin keyed by the id column reads back equal to embeddings.jsonl; a rerun keeps it whole', async () => {
  const dir = join(work, 'bin');
  await run(dir, { input: join(work, 'texts.jsonl'), id: 'id', vectorFormat: 'bin' });
  const rows = rowsOf(dir);
  assert.equal(rows.length, 23);
  await assertSameVectors(join(dir, vectorsFileName('bin')), rows, rows.map((r) => r.id!));
  assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.partial')), [], 'no partial file left behind');
  // A crash after embeddings.jsonl was published: the resumed run writes the vector file again from it.
  await run(dir, { input: join(work, 'texts.jsonl'), id: 'id', vectorFormat: 'bin' }, true);
  await assertSameVectors(join(dir, vectorsFileName('bin')), rows, rows.map((r) => r.id!));
});

test('vectorFormat txt without an id column: keyed by row index; the default (jsonl) writes no vector file', async () => {
  const dir = join(work, 'txt');
  await run(dir, { input: join(work, 'texts.jsonl'), vectorFormat: 'txt' });
  const rows = rowsOf(dir);
  await assertSameVectors(join(dir, vectorsFileName('txt')), rows, rows.map((r) => String(r.index)));
  const plain = join(work, 'plain');
  await run(plain, { input: join(work, 'texts.jsonl') });
  assert.ok(!existsSync(join(plain, vectorsFileName('bin'))) && !existsSync(join(plain, vectorsFileName('txt'))));
});

test('keys with whitespace become "_"; a row without an id fails with DATA_INVALID and no vector file', async () => {
  const spaced = join(work, 'spaced.jsonl');
  writeFileSync(spaced, '{"key": "a b", "text": "the cat"}\n{"key": "c\\td", "text": "the dog"}\n');
  const dir = join(work, 'spaced');
  await run(dir, { input: spaced, id: 'key', vectorFormat: 'bin' });
  assert.deepEqual((await readVectors(join(dir, vectorsFileName('bin')))).words, ['a_b', 'c_d']);
  const holes = join(work, 'holes.jsonl');
  writeFileSync(holes, '{"key": "a", "text": "the cat"}\n{"text": "the dog"}\n');
  const failed = join(work, 'holes');
  await assert.rejects(run(failed, { input: holes, id: 'key', vectorFormat: 'txt' }), (err: Error & { code?: string }) => err.code === 'DATA_INVALID' && /row 1/.test(err.message));
  assert.ok(!existsSync(join(failed, vectorsFileName('txt'))));
});

test('a server started with the file as server.vectors answers /v1/words/similar with the JSONL vectors\' nearest row', async () => {
  const dir = join(work, 'bin');
  const rows = rowsOf(dir);
  const cosine = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * b[i], 0) / (Math.hypot(...a) * Math.hypot(...b));
  const others = rows.slice(1).map((r) => ({ id: r.id!, score: cosine(rows[0].embedding, r.embedding) })).sort((a, b) => b.score - a.score);
  const app = await buildServer(serverConfig({ vectors: { embedded: { path: join(dir, vectorsFileName('bin')) } } }));
  apps.push(app);
  const res = await post(app, '/v1/words/similar', { word: rows[0].id, topn: 1 });
  assert.equal(res.status, 200, JSON.stringify(res.json()));
  const [best] = (res.json() as { results: { word: string; score: number }[] }).results;
  assert.equal(best.word, others[0].id);
  assert.ok(Math.abs(best.score - others[0].score) < 1e-4, `${best.score} vs ${others[0].score}`);
});
