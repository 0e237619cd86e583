// GEUL_JOB_TRACE=1: spans counted with finite wall/CPU times, nothing recorded when off, a batch job's trace logged at
// its end (one task call, append, fsync and state file per window), and through a real runner and child process both
// the child's spans and the runner's queue writes reach the job's log.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/core/config.js';
import { runBatchFile, type BatchFileJob } from '../../src/jobs/batch-file.js';
import type { JobRunEvent } from '../../src/jobs/job-type.js';
import { JobRunner } from '../../src/jobs/runner.js';
import { SqliteJobQueue } from '../../src/jobs/sqlite-queue.js';
import { JobTrace, jobTraceEnabled } from '../../src/jobs/trace.js';
import { fixturesDir } from '../helpers/fixtures.js';
import { waitFor, writeTextsJsonl } from './helpers.js';

const work = mkdtempSync(join(tmpdir(), 'geul-trace-'));

test('a trace counts sync and async spans with finite times; a disabled one records nothing; the switch is GEUL_JOB_TRACE=1', async () => {
  assert.equal(jobTraceEnabled({ GEUL_JOB_TRACE: '1' }), true);
  assert.equal(jobTraceEnabled({ GEUL_JOB_TRACE: '0' }), false);
  assert.equal(jobTraceEnabled({}), false);
  const off = new JobTrace(false);
  assert.equal(off.span('x', () => 7), 7);
  assert.equal(await off.span('y', async () => 8), 8);
  assert.equal(off.size, 0);
  const on = new JobTrace(true);
  assert.equal(on.span('sync', () => Array.from({ length: 1000 }, (_, i) => i).reduce((a, b) => a + b, 0)), 499_500);
  on.span('sync', () => 0);
  assert.equal(await on.span('async', () => new Promise<number>((r) => setTimeout(() => r(3), 5))), 3);
  await assert.rejects(on.span('failing', async () => { throw new Error('no'); }), /no/);
  const summary = on.summary('unit', 2);
  assert.match(summary, /^trace \(unit, ms per chunk over 2 chunks\): sync ×2: .*; async ×1: .*; failing ×1: /);
  const numbers = [...summary.matchAll(/(\d+\.\d+) (wall|cpu|main-thread cpu)/g)].map((m) => Number(m[1]));
  assert.equal(numbers.length, 9, 'wall, process CPU and main-thread CPU for each of the three spans');
  assert.ok(numbers.every((n) => Number.isFinite(n) && n >= 0), summary);
});

test('a traced batch job logs its spans per chunk at the end: one task call, append, fsync and state file per window', async () => {
  const input = join(work, 'rows.jsonl');
  writeFileSync(input, Array.from({ length: 20 }, (_, i) => JSON.stringify({ text: `t${i}` })).join('\n'));
  const job = (): BatchFileJob => ({ input, text: 'text', chunkSize: 3, window: 9, output: 'out.jsonl', allowEmpty: true, process: async (rows) => rows.map((r) => ({ n: r.text.length })) });
  const run = async (dir: string, trace?: JobTrace) => {
    const events: JobRunEvent[] = [];
    mkdirSync(dir, { recursive: true });
    await runBatchFile(job(), { signal: new AbortController().signal, workDir: dir, resume: false, emit: (e) => events.push(e), trace });
    return events.filter((e) => e.kind === 'log').map((e) => (e as { message: string }).message);
  };
  assert.deepEqual(await run(join(work, 'untraced')), [], 'no trace, no log');
  const [log, ...more] = await run(join(work, 'traced'), new JobTrace(true));
  assert.equal(more.length, 0);
  assert.match(log, /^trace \(batch out\.jsonl, 20 rows, chunkSize 3, window 9, ms per chunk over 7 chunks\)/);
  for (const span of ['task call ×3', 'serialise ×3', 'append ×3', 'fsync ×3', 'state file ×3', 'progress emit ×3', 'whole run ×1']) assert.ok(log.includes(`${span}:`), `${span} in ${log}`);
});

test('GEUL_JOB_TRACE=1 through a runner and its child process: the job log holds the child\'s spans and the runner\'s queue writes', { timeout: 240_000 }, async () => {
  const model = join(await fixturesDir(), 'tiny-bert-embed');
  writeTextsJsonl(join(work, 'texts.jsonl'), 40);
  const config = loadConfig({ offline: true, dataDir: join(work, 'data'), cacheDir: join(work, 'cache'), logLevel: 'silent', jobs: { heartbeatMs: 50 } }, { skipFile: true, env: {} });
  const queue = new SqliteJobQueue(':memory:');
  const before = process.env.GEUL_JOB_TRACE;
  process.env.GEUL_JOB_TRACE = '1'; // read by the runner at launch; the forked child inherits it
  const runner = new JobRunner(queue, config, (err) => { throw err; });
  try {
    const params = { input: join(work, 'texts.jsonl'), model, chunkSize: 10, window: 20 };
    const job = await queue.submit({ type: 'embed', params, runParams: params, owner: 'local' });
    runner.start();
    const done = await waitFor(async () => {
      const j = await queue.get(job.id);
      return j && ['succeeded', 'failed', 'cancelled'].includes(j.state) ? j : undefined;
    }, 'the traced job to finish', 6000, 40);
    assert.equal(done.state, 'succeeded', JSON.stringify(done.error));
    const logs = await waitFor(async () => {
      const messages = (await queue.events(job.id, 0)).filter((e) => e.kind === 'log').map((e) => String(e.data.message));
      return messages.some((m) => m.startsWith('trace (runner')) ? messages : undefined;
    }, 'the runner\'s trace log');
    const child = logs.find((m) => m.startsWith('trace (batch embeddings.jsonl, 40 rows'));
    assert.ok(child && /task call ×2: /.test(child) && /fsync ×2: /.test(child) && /progress IPC send ×\d+: /.test(child), logs.join('\n'));
    const parent = logs.find((m) => m.startsWith('trace (runner'))!;
    assert.match(parent, /ms per chunk over 4 chunks/);
    assert.match(parent, /progress write ×3: /, 'one queue write per progress event (0, 20, 40)');
  } finally {
    if (before === undefined) delete process.env.GEUL_JOB_TRACE;
    else process.env.GEUL_JOB_TRACE = before;
    await runner.close(5000);
    await queue.close();
  }
});
