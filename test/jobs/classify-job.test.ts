// The classify job as a plain function: the classify task's labels per row in input order (the same as the task
// run directly), a plain text file read line by line, cancel then resume after a torn write (every row exactly once),
// and params checked by the job's one schema.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type GeulConfig } from '../../src/core/config.js';
import { partialName } from '../../src/jobs/batch-file.js';
import { CLASSIFY_OUTPUT, classifyJob } from '../../src/jobs/classify-job.js';
import type { JobRunEvent } from '../../src/jobs/job-type.js';
import { parseJobParams } from '../../src/jobs/params.js';
import { ModelStore } from '../../src/runtime/models.js';
import { classifyTask } from '../../src/tasks/classify.js';
import { runTask } from '../../src/tasks/run.js';
import { fixturesDir } from '../helpers/fixtures.js';
import { writeTextsJsonl } from './helpers.js';

const work = mkdtempSync(join(tmpdir(), 'geul-classify-job-'));
let model: string;
let config: GeulConfig;

before(async () => {
  model = join(await fixturesDir(), 'tiny-bert-sentiment');
  config = loadConfig({ offline: true, cacheDir: join(work, 'cache'), dataDir: join(work, 'data'), logLevel: 'silent' }, { skipFile: true, env: {} });
  writeTextsJsonl(join(work, 'texts.jsonl'), 45);
});

type Row = { index: number; id?: unknown; labels: { label: string; score: number }[] };
const rowsOf = (dir: string, file = CLASSIFY_OUTPUT) => readFileSync(join(dir, file), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Row);

async function run(dir: string, params: Record<string, unknown>, options: { resume?: boolean; signal?: AbortSignal; onEvent?: (e: JobRunEvent) => void } = {}) {
  mkdirSync(dir, { recursive: true });
  const events: JobRunEvent[] = [];
  await classifyJob.run(parseJobParams(classifyJob, { model, ...params }) as never, {
    signal: options.signal ?? new AbortController().signal, workDir: dir, resume: options.resume ?? false, config,
    emit: (e) => { events.push(e); options.onEvent?.(e); },
  });
  return events;
}

test('labels per row in input order, equal to the classify task run on the same texts; progress counts rows', async () => {
  const dir = join(work, 'plain');
  const events = await run(dir, { input: join(work, 'texts.jsonl'), id: 'id', chunkSize: 10, window: 10, top_k: 1 });
  const rows = rowsOf(dir);
  assert.deepEqual(rows.map((r) => r.index), Array.from({ length: 45 }, (_, i) => i));
  assert.deepEqual(rows.map((r) => r.id), Array.from({ length: 45 }, (_, i) => `r${i}`));
  const texts = readFileSync(join(work, 'texts.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { text: string }).text);
  const direct = await runTask(classifyTask, { model, inputs: texts, top_k: 1 }, { models: new ModelStore(config) }) as Row['labels'][];
  rows.forEach((r, i) => {
    assert.equal(r.labels.length, 1, 'top_k reaches the task');
    assert.equal(r.labels[0].label, direct[i][0].label);
    assert.ok(Math.abs(r.labels[0].score - direct[i][0].score) < 1e-5);
  });
  assert.deepEqual(events.filter((e) => e.kind === 'progress').map((e) => (e as { step: number }).step), [0, 10, 20, 30, 40, 45]);
});

test('a .txt file is read line by line (empty lines are rows too), "line" as the id', async () => {
  const txt = join(work, 'reviews.txt');
  writeFileSync(txt, 'a great film\n\nthe plot, dull\tand slow\n');
  const dir = join(work, 'text');
  await run(dir, { input: txt, id: 'line' });
  const rows = rowsOf(dir);
  assert.deepEqual(rows.map((r) => [r.index, r.id]), [[0, 1], [1, 2], [2, 3]]);
  assert.ok(rows.every((r) => r.labels.length >= 2 && r.labels.every((l) => typeof l.label === 'string' && Number.isFinite(l.score))));
});

test('cancel between chunks, resume after a torn write: every row exactly once, equal to one uninterrupted run', async () => {
  const dir = join(work, 'resumed');
  const controller = new AbortController();
  const params = { input: join(work, 'texts.jsonl'), id: 'id', chunkSize: 10, window: 10, top_k: 1 };
  await assert.rejects(run(dir, params, {
    signal: controller.signal,
    onEvent: (e) => { if (e.kind === 'progress' && e.step === 20) controller.abort(); },
  }), (err: Error & { code?: string }) => err.code === 'CANCELLED');
  assert.equal(rowsOf(dir, partialName(CLASSIFY_OUTPUT)).length, 20);
  assert.ok(!existsSync(join(dir, CLASSIFY_OUTPUT)), 'an unfinished output is not published');
  appendFileSync(join(dir, partialName(CLASSIFY_OUTPUT)), '{"index": 20, "labels": [');
  const events = await run(dir, params, { resume: true });
  assert.equal((events[0] as { step: number }).step, 20, 'resumes after the committed rows');
  assert.deepEqual(rowsOf(dir), rowsOf(join(work, 'plain')));
});

test('params: one schema, errors name the field; the task\'s options are the job\'s', () => {
  const bad = (params: Record<string, unknown>, field: RegExp) => assert.throws(() => parseJobParams(classifyJob, params), (err: Error & { code?: string }) => err.code === 'INVALID_INPUT' && field.test(err.message));
  bad({}, /params\.input/);
  bad({ input: 'x', top_k: 0 }, /params\.top_k/);
  bad({ input: 'x', long_text: 'fold' }, /params\.long_text/);
  bad({ input: 'x', chunkSize: 5000 }, /params\.chunkSize/);
  bad({ input: 'x', inputs: ['a'] }, /params\.inputs: unknown field/);
  assert.equal(parseJobParams(classifyJob, { input: 'x' }).long_text, 'truncate');
});
