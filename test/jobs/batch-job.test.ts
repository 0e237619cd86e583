// The batch job as a plain function: chunks committed to output.jsonl and errors.jsonl, a crash mid-batch resumed after
// the last committed chunk (a torn tail cut off) so every custom_id appears once, cancel keeps what was answered, lines
// of another model fail alone, and the batch object's status and counts follow the job.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type GeulConfig } from '../../src/core/config.js';
import { BATCH_ERRORS, BATCH_OUTPUT, batchJob, readBatchState, type PreparedLine } from '../../src/jobs/batch-job.js';
import { batchFileId, batchIdOf, batchObject, jobIdOf } from '../../src/jobs/batch-object.js';
import type { JobRunEvent } from '../../src/jobs/job-type.js';
import { parseJobParams } from '../../src/jobs/params.js';
import type { JobRecord } from '../../src/jobs/queue.js';
import { fixturesDir } from '../helpers/fixtures.js';

const work = mkdtempSync(join(tmpdir(), 'geul-batch-job-'));
const JOB = 'job_AAAAbbbbCCCCddddEEEEffff';
let config: GeulConfig;
let input: string;

before(async () => {
  const model = join(await fixturesDir(), 'tiny-bert-embed');
  config = loadConfig({ offline: true, cacheDir: join(work, 'cache'), dataDir: join(work, 'data'), logLevel: 'silent' }, { skipFile: true, env: {} });
  const lines: PreparedLine[] = Array.from({ length: 10 }, (_, i) => ({
    line: i + 1, custom_id: `c${i}`,
    run: { task: 'embeddings', face: 'openai-embeddings', items: [`text ${i}`], single: false, options: { model, pooling: 'mean', normalize: true }, model: 'tiny', shape: {} },
  }));
  lines[4] = { line: 5, custom_id: 'c4', error: { code: 'INVALID_INPUT', message: 'Invalid input: body.input: bad' }, response: { status_code: 400, body: { error: { message: 'bad' } } } };
  lines[7] = { ...lines[7], run: { ...(lines[7] as Extract<PreparedLine, { run: unknown }>).run, options: { model: join(work, 'no-such-model'), pooling: 'mean', normalize: true } } } as PreparedLine;
  input = join(work, 'prepared.jsonl');
  writeFileSync(input, lines.map((l) => JSON.stringify(l)).join('\n'));
});

const params = () => parseJobParams(batchJob as never, { input_file_id: input, endpoint: '/v1/embeddings', completion_window: '24h', total: 10, chunkSize: 3 });
const read = (dir: string, name: string) => readFileSync(join(dir, name), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>); // eslint-disable-line @typescript-eslint/no-explicit-any

async function run(dir: string, options: { resume?: boolean; signal?: AbortSignal; onEvent?: (e: JobRunEvent) => void } = {}) {
  mkdirSync(dir, { recursive: true });
  const events: JobRunEvent[] = [];
  await batchJob.run({ ...params(), input_file_id: copyOfInput(dir) } as never, {
    signal: options.signal ?? new AbortController().signal, workDir: dir, resume: options.resume ?? false, config,
    emit: (e) => { events.push(e); options.onEvent?.(e); },
  });
  return events;
}
/** Each run gets its own copy of the prepared input: a finished batch removes its copy. */
function copyOfInput(dir: string): string {
  const copy = `${dir}.input.jsonl`;
  if (!existsSync(copy)) writeFileSync(copy, readFileSync(input));
  return copy;
}

test('an uninterrupted batch: answers in output.jsonl, bad lines and a missing model in errors.jsonl, counts in the state', { timeout: 60_000 }, async () => {
  const dir = join(work, 'whole', JOB);
  const events = await run(dir);
  const out = read(dir, BATCH_OUTPUT);
  assert.deepEqual(out.map((o) => o.custom_id), ['c0', 'c1', 'c2', 'c3', 'c5', 'c6', 'c8', 'c9']);
  assert.equal(out[0].response.body.object, 'list');
  assert.equal(out[0].response.body.data[0].embedding.length > 0, true);
  assert.equal(out[0].response.body.usage.prompt_tokens > 0, true, 'tokens counted with the model\'s tokenizer');
  const errors = read(dir, BATCH_ERRORS);
  assert.deepEqual(errors.map((e) => [e.custom_id, e.error.code]), [['c4', 'INVALID_INPUT'], ['c7', 'MODEL_NOT_FOUND']]);
  assert.equal(errors[1].response.status_code, 404, 'only the line with the missing model fails');
  assert.equal(errors[1].response.body.error.type, 'invalid_request_error');
  assert.match(errors[1].error.message, /"tiny"/, 'the model as the line named it');
  assert.ok(!errors[1].error.message.includes(work), 'never a server path');
  assert.deepEqual(events.filter((e) => e.kind === 'progress').map((e) => (e as { step: number }).step), [0, 3, 6, 9, 10]);
  const state = await readBatchState(dir);
  assert.equal(state?.completed, 8);
  assert.equal(state?.failed, 2);
  assert.ok(state?.finalizingAt);
  assert.ok(!existsSync(`${dir}.input.jsonl`), 'the prepared copy of the input goes once the batch is done');
});

test('a crash after two chunks, a torn tail, then a resume: every custom_id exactly once, the same files as one run', { timeout: 60_000 }, async () => {
  const whole = join(work, 'whole', JOB);
  const dir = join(work, 'crashed', JOB);
  // The process dies right after chunk 2 is committed (an error thrown from the event is as abrupt as a kill here).
  await assert.rejects(run(dir, { onEvent: (e) => { if (e.kind === 'progress' && e.step === 6) throw new Error('killed'); } }), /killed/);
  assert.ok(!existsSync(join(dir, BATCH_OUTPUT)), 'nothing is published before the end');
  appendFileSync(join(dir, `.${BATCH_OUTPUT}.partial`), '{"id": "batch_req_torn", "custom_');
  appendFileSync(join(dir, `.${BATCH_ERRORS}.partial`), '{"id"');
  const events = await run(dir, { resume: true });
  assert.equal((events[0] as { step: number }).step, 6, 'resumes after the committed lines');
  assert.equal(readFileSync(join(dir, BATCH_OUTPUT), 'utf8').replace(/"created":\d+/g, ''), readFileSync(join(whole, BATCH_OUTPUT), 'utf8').replace(/"created":\d+/g, ''));
  assert.equal(readFileSync(join(dir, BATCH_ERRORS), 'utf8'), readFileSync(join(whole, BATCH_ERRORS), 'utf8'));
  assert.deepEqual(await run(dir, { resume: true }), [], 'a finished batch is left alone by a rerun');
});

test('cancel between chunks keeps the committed answers, published', { timeout: 60_000 }, async () => {
  const dir = join(work, 'cancelled', JOB);
  const controller = new AbortController();
  await assert.rejects(run(dir, { signal: controller.signal, onEvent: (e) => { if (e.kind === 'progress' && e.step === 3) controller.abort(); } }),
    (err: Error & { code?: string }) => err.code === 'CANCELLED');
  assert.deepEqual(read(dir, BATCH_OUTPUT).map((o) => o.custom_id), ['c0', 'c1', 'c2']);
  assert.equal(readFileSync(join(dir, BATCH_ERRORS), 'utf8'), '');
});

test('the batch object follows the job: ids, status, counts, timestamps', () => {
  assert.equal(batchIdOf(JOB), 'batch_AAAAbbbbCCCCddddEEEEffff');
  assert.equal(jobIdOf(batchIdOf(JOB)), JOB);
  assert.equal(jobIdOf('job_x'), undefined);
  assert.match(batchFileId(JOB, 'output'), /^file-[0-9a-f]{24}$/);
  assert.notEqual(batchFileId(JOB, 'output'), batchFileId(JOB, 'errors'));
  const job: JobRecord = {
    id: JOB, type: 'batch', state: 'running', params: { input_file_id: 'file-x', endpoint: '/v1/embeddings', completion_window: '24h', total: 10 }, runParams: {},
    owner: 'local', step: 3, total: 10, createdAt: 1_000_000, startedAt: 2_000_000, finishedAt: null, error: null, attempts: 1, cancelRequested: false,
    cancelRequestedAt: null,
  };
  const state = { lines: 3, outBytes: 1, errBytes: 0, completed: 2, failed: 1, total: 10, finalizingAt: null };
  const files = { output: null, errors: null };
  assert.equal(batchObject({ ...job, state: 'queued' }, undefined, files).status, 'validating');
  assert.deepEqual(batchObject({ ...job, state: 'queued' }, undefined, files).request_counts, { total: 10, completed: 0, failed: 0 });
  const running = batchObject(job, state, files);
  assert.equal(running.status, 'in_progress');
  assert.deepEqual(running.request_counts, { total: 10, completed: 2, failed: 1 });
  assert.equal(running.in_progress_at, 2000);
  assert.equal(running.expires_at, 1000 + 86400);
  assert.equal(running.cancelling_at, null);
  const cancelling = batchObject({ ...job, cancelRequested: true, cancelRequestedAt: 2_500_000 }, state, files);
  assert.equal(cancelling.status, 'cancelling');
  assert.equal(cancelling.cancelling_at, 2500, 'when the cancel was asked for');
  const cancelled = batchObject({ ...job, state: 'cancelled', cancelRequested: true, cancelRequestedAt: 2_500_000, finishedAt: 2_700_000 }, state, files);
  assert.deepEqual([cancelled.status, cancelled.cancelling_at, cancelled.cancelled_at], ['cancelled', 2500, 2700]);
  const lateCancel = batchObject({ ...job, state: 'succeeded', cancelRequested: true, cancelRequestedAt: 2_500_000, finishedAt: 2_700_000 }, state, files);
  assert.equal(lateCancel.cancelling_at, null, 'a cancel that came too late leaves a completed batch without cancelling_at');
  assert.equal(batchObject(job, { ...state, finalizingAt: 3_000_000 }, files).status, 'finalizing');
  const failed = batchObject({ ...job, state: 'failed', finishedAt: 4_000_000, error: { code: 'JOB_PROCESS_DIED', message: 'gone' } }, state, files);
  assert.equal(failed.failed_at, 4000);
  assert.deepEqual(failed.errors?.data.map((e) => e.code), ['JOB_PROCESS_DIED']);
  assert.equal(batchObject({ ...job, state: 'succeeded', finishedAt: 5_000_000 }, state, files).completed_at, 5000);
});
