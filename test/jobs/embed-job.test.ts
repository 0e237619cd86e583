// The embed job as a plain function: chunks appended in input order, resume after the last committed chunk (a torn
// tail written after it is cut off, so no row appears twice), CSV input, cancel between chunks, clear data errors.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type GeulConfig } from '../../src/core/config.js';
import { EMBED_OUTPUT, EMBED_PARTIAL, embedJob } from '../../src/jobs/embed-job.js';
import type { JobRunEvent } from '../../src/jobs/job-type.js';
import { parseJobParams } from '../../src/jobs/params.js';
import { ModelStore } from '../../src/runtime/models.js';
import { embedTask } from '../../src/tasks/embeddings.js';
import { runTask } from '../../src/tasks/run.js';
import { fixturesDir } from '../helpers/fixtures.js';
import { writeTextsJsonl } from './helpers.js';

const work = mkdtempSync(join(tmpdir(), 'geul-embed-job-'));
let model: string;
let config: GeulConfig;

before(async () => {
  model = join(await fixturesDir(), 'tiny-bert-embed');
  config = loadConfig({ offline: true, cacheDir: join(work, 'cache'), dataDir: join(work, 'data'), logLevel: 'silent' }, { skipFile: true, env: {} });
  writeTextsJsonl(join(work, 'texts.jsonl'), 57);
});

type Row = { index: number; id?: string; embedding: number[] };
const rowsOf = (dir: string, file = EMBED_OUTPUT) => readFileSync(join(dir, file), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Row);

async function run(dir: string, params: Record<string, unknown>, options: { resume?: boolean; signal?: AbortSignal; onEvent?: (e: JobRunEvent) => void } = {}) {
  mkdirSync(dir, { recursive: true });
  const events: JobRunEvent[] = [];
  await embedJob.run(parseJobParams(embedJob as never, { model, ...params }) as never, {
    signal: options.signal ?? new AbortController().signal, workDir: dir, resume: options.resume ?? false, config,
    emit: (e) => { events.push(e); options.onEvent?.(e); },
  });
  return events;
}

test('rows come out in input order with their ids, one line each; progress counts rows', async () => {
  const dir = join(work, 'plain');
  const events = await run(dir, { input: join(work, 'texts.jsonl'), id: 'id', chunkSize: 10, window: 10 });
  const rows = rowsOf(dir);
  assert.deepEqual(rows.map((r) => r.index), Array.from({ length: 57 }, (_, i) => i));
  assert.deepEqual(rows.map((r) => r.id), Array.from({ length: 57 }, (_, i) => `r${i}`));
  const norms = rows.map((r) => Math.hypot(...r.embedding));
  norms.forEach((n) => assert.ok(Math.abs(n - 1) < 1e-4, 'normalised by default'));
  assert.deepEqual(events.filter((e) => e.kind === 'progress').map((e) => (e as { step: number }).step), [0, 10, 20, 30, 40, 50, 57]);
});

test('cancel between chunks, then resume after a torn write: every row exactly once, the same vectors as one run', async () => {
  const whole = join(work, 'plain');
  const dir = join(work, 'resumed');
  const controller = new AbortController();
  await assert.rejects(run(dir, { input: join(work, 'texts.jsonl'), id: 'id', chunkSize: 10, window: 10 }, {
    signal: controller.signal,
    onEvent: (e) => { if (e.kind === 'progress' && e.step === 30) controller.abort(); },
  }), (err: Error & { code?: string }) => err.code === 'CANCELLED');
  assert.equal(rowsOf(dir, EMBED_PARTIAL).length, 30);
  assert.ok(!existsSync(join(dir, EMBED_OUTPUT)), 'an unfinished output is not published');
  // A crash mid-append leaves bytes after the last committed chunk: the resume must cut them off.
  appendFileSync(join(dir, EMBED_PARTIAL), '{"index": 30, "embedding": [1, 2');
  const events = await run(dir, { input: join(work, 'texts.jsonl'), id: 'id', chunkSize: 10, window: 10 }, { resume: true });
  assert.equal((events[0] as { step: number }).step, 30, 'resumes after the committed rows');
  assert.deepEqual(rowsOf(dir), rowsOf(whole));
  assert.deepEqual(await run(dir, { input: join(work, 'texts.jsonl'), id: 'id', chunkSize: 10, window: 10 }, { resume: true }), [], 'a finished output is left alone by a rerun');
  assert.deepEqual(rowsOf(dir), rowsOf(whole));
});

test('a mixed-length file computed in windows of several chunks: the same vectors as one-at-a-time embedding, in input order', async () => {
  const words = ['cat', 'river', 'green', 'slow', 'tree'];
  // Short and long rows interleaved, so every chunk mixes lengths and a window sorts across chunks.
  const texts = Array.from({ length: 45 }, (_, i) => Array.from({ length: i % 3 === 0 ? 40 + (i % 9) : 1 + (i % 4) }, (_, k) => words[(i + k) % 5]).join(' '));
  const input = join(work, 'mixed.jsonl');
  writeFileSync(input, texts.map((text, i) => JSON.stringify({ id: `m${i}`, text })).join('\n'));
  const dir = join(work, 'mixed');
  const events = await run(dir, { input, id: 'id', chunkSize: 4, window: 20 });
  assert.deepEqual(events.filter((e) => e.kind === 'progress').map((e) => (e as { step: number }).step), [0, 20, 40, 45], 'committed a window (5 chunks) at a time');
  const rows = rowsOf(dir);
  assert.deepEqual(rows.map((r) => [r.index, r.id]), texts.map((_, i) => [i, `m${i}`]));
  const models = new ModelStore(config);
  try {
    for (const [i, text] of texts.entries()) {
      const single = await runTask(embedTask, { model, inputs: text }, { models }) as number[];
      single.forEach((v, d) => assert.ok(Math.abs(v - rows[i].embedding[d]) < 1e-5, `row ${i}, dim ${d}: ${v} vs ${rows[i].embedding[d]}`));
    }
  } finally {
    await models.dispose();
  }
});

test('CSV input with a named column; a missing column and an empty text are data errors naming the place', async () => {
  const csv = join(work, 'texts.csv');
  writeFileSync(csv, 'sentence,label\n"a cat, on a mat",1\nthe dog,0\n');
  const dir = join(work, 'csv');
  await run(dir, { input: csv, text: 'sentence' });
  assert.equal(rowsOf(dir).length, 2);
  await assert.rejects(run(join(work, 'missing'), { input: csv, text: 'body' }), (err: Error & { code?: string }) => err.code === 'DATA_COLUMN_MISSING' && /"body"/.test(err.message));
  assert.ok(!existsSync(join(work, 'missing', EMBED_OUTPUT)), 'a failed job publishes no half-written output');
  const empty = join(work, 'empty.jsonl');
  writeFileSync(empty, '{"text": "fine"}\n{"text": ""}\n');
  await assert.rejects(run(join(work, 'empty'), { input: empty }), (err: Error & { code?: string }) => err.code === 'DATA_EMPTY_TEXT' && /line 2/.test(err.message));
});
