// The translate job as a plain function: the translate task's output per line of a text file, in input order and
// equal to the task run directly; options reach the task (alternatives, a missing target language fails the job);
// resume after a cancel writes every row exactly once.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type GeulConfig } from '../../src/core/config.js';
import type { JobRunEvent } from '../../src/jobs/job-type.js';
import { parseJobParams } from '../../src/jobs/params.js';
import { TRANSLATE_OUTPUT, translateJob } from '../../src/jobs/translate-job.js';
import { ModelStore } from '../../src/runtime/models.js';
import { runTask } from '../../src/tasks/run.js';
import { translateTask } from '../../src/tasks/translate.js';
import { fixturesDir } from '../helpers/fixtures.js';

const work = mkdtempSync(join(tmpdir(), 'geul-translate-job-'));
const LINES = ['hello', 'the cat sat on the mat', '', 'good morning', 'a river', 'blue sky', 'fast and slow'];
let model: string;
let config: GeulConfig;

before(async () => {
  model = join(await fixturesDir(), 'tiny-m2m100');
  config = loadConfig({ offline: true, cacheDir: join(work, 'cache'), dataDir: join(work, 'data'), logLevel: 'silent' }, { skipFile: true, env: {} });
  writeFileSync(join(work, 'doc.txt'), `${LINES.join('\n')}\n`);
});

type Row = { index: number; id?: unknown; translation: string; alternatives?: string[] };
const rowsOf = (dir: string) => readFileSync(join(dir, TRANSLATE_OUTPUT), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Row);

async function run(dir: string, params: Record<string, unknown>, options: { resume?: boolean; signal?: AbortSignal; onEvent?: (e: JobRunEvent) => void } = {}) {
  mkdirSync(dir, { recursive: true });
  await translateJob.run(parseJobParams(translateJob, { model, from: 'en', to: 'fr', max_new_tokens: 3, ...params }) as never, {
    signal: options.signal ?? new AbortController().signal, workDir: dir, resume: options.resume ?? false, config,
    emit: (e) => options.onEvent?.(e),
  });
}

test('a text file line by line: one translation per line, in order, equal to the translate task', async () => {
  const dir = join(work, 'plain');
  await run(dir, { input: join(work, 'doc.txt'), chunkSize: 3, window: 3 });
  const rows = rowsOf(dir);
  assert.deepEqual(rows.map((r) => r.index), LINES.map((_, i) => i));
  const direct = await runTask(translateTask, { model, inputs: LINES, from: 'en', to: 'fr', max_new_tokens: 3 }, { models: new ModelStore(config) }) as { text: string }[];
  assert.deepEqual(rows.map((r) => r.translation), direct.map((d) => d.text));
  assert.equal(rows[2].translation, '', 'an empty line stays an empty translation');
});

test('options reach the task: alternatives; no target language for a multilingual model fails the job', async () => {
  const dir = join(work, 'alternatives');
  await run(dir, { input: join(work, 'doc.txt'), alternatives: 1, num_beams: 2 });
  assert.ok(rowsOf(dir).filter((r) => r.translation !== '').every((r) => Array.isArray(r.alternatives)));
  await assert.rejects(run(join(work, 'no-target'), { input: join(work, 'doc.txt'), to: undefined }), (err: Error & { code?: string }) => err.code === 'INVALID_INPUT' && /"to"/.test(err.message));
  assert.ok(!existsSync(join(work, 'no-target', TRANSLATE_OUTPUT)));
  assert.throws(() => parseJobParams(translateJob, { input: 'x', num_beams: 99 }), (err: Error) => /params\.num_beams/.test(err.message));
});

test('cancelled after the first chunk, resumed: every line exactly once, equal to one uninterrupted run', async () => {
  const dir = join(work, 'resumed');
  const controller = new AbortController();
  await assert.rejects(run(dir, { input: join(work, 'doc.txt'), chunkSize: 3, window: 3 }, {
    signal: controller.signal,
    onEvent: (e) => { if (e.kind === 'progress' && e.step === 3) controller.abort(); },
  }), (err: Error & { code?: string }) => err.code === 'CANCELLED');
  const steps: number[] = [];
  await run(dir, { input: join(work, 'doc.txt'), chunkSize: 3, window: 3 }, { resume: true, onEvent: (e) => { if (e.kind === 'progress') steps.push(e.step); } });
  assert.deepEqual(steps, [3, 6, 7]);
  assert.deepEqual(rowsOf(dir), rowsOf(join(work, 'plain')));
});
