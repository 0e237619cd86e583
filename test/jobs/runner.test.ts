// The child-process runner: jobs.concurrency children at once; jobs.maxRunningPerKey per owner when keys are on (with
// auth off every job is "local" and only the concurrency limits them); closing leaves the jobs running to resume; a
// job whose process dies while its server lives (embedded mode) is failed at once, not left running until a restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/core/config.js';
import { JobRunner } from '../../src/jobs/runner.js';
import { SqliteJobQueue } from '../../src/jobs/sqlite-queue.js';
import { waitFor, writeToyTsv } from './helpers.js';

const work = mkdtempSync(join(tmpdir(), 'geul-runner-'));
writeToyTsv(join(work, 'toy.tsv'));
const params = { data: { source: join(work, 'toy.tsv'), maxLength: 10, vocabSize: 50 }, model: { name: 'bow' }, run: { epochs: 2000, batchSize: 8, threads: 1 } };

async function runTwo(perOwnerLimit: boolean): Promise<{ running: number; queued: number; stillRunning: string[] }> {
  const config = loadConfig({ offline: true, dataDir: join(work, `data-${perOwnerLimit}`), cacheDir: join(work, 'cache'), logLevel: 'silent', jobs: { concurrency: 2, maxRunningPerKey: 1, heartbeatMs: 20 } }, { skipFile: true, env: {} });
  const queue = new SqliteJobQueue(':memory:');
  const runner = new JobRunner(queue, config, (err) => { throw err; }, perOwnerLimit);
  for (let i = 0; i < 2; i++) await queue.submit({ type: 'train', params, runParams: params, owner: 'local' });
  runner.start();
  await waitFor(async () => ((await queue.list({ limit: 10, state: 'running' })).data.length > 0 ? true : undefined), 'a job to run');
  if (!perOwnerLimit) await waitFor(async () => ((await queue.list({ limit: 10, state: 'running' })).data.length === 2 ? true : undefined), 'both jobs to run');
  else for (let beat = 0; beat < 5; beat++) await new Promise((r) => setTimeout(r, 40)); // several heartbeats, each a chance to claim more
  const running = (await queue.list({ limit: 10, state: 'running' })).data.length;
  const queued = (await queue.list({ limit: 10, state: 'queued' })).data.length;
  await runner.close(5000);
  const stillRunning = (await queue.list({ limit: 10, state: 'running' })).data.map((j) => j.id);
  await queue.close();
  return { running, queued, stillRunning };
}

test('auth off: two jobs of the one local owner run at once (jobs.concurrency 2)', { timeout: 120_000 }, async () => {
  const { running, queued, stillRunning } = await runTwo(false);
  assert.equal(running, 2);
  assert.equal(queued, 0);
  assert.equal(stillRunning.length, 2, 'closing the runner is not a cancel: both stay running, to resume');
});

test('per-key limit: one running job per owner, the other waits queued', { timeout: 120_000 }, async () => {
  const { running, queued } = await runTwo(true);
  assert.equal(running, 1);
  assert.equal(queued, 1);
});

test('embedded: a job whose process dies (the OOM killer, say) fails with JOB_PROCESS_DIED at once; the next job runs', { timeout: 120_000 }, async () => {
  const config = loadConfig({ offline: true, dataDir: join(work, 'data-died'), cacheDir: join(work, 'cache'), logLevel: 'silent', jobs: { concurrency: 1, heartbeatMs: 20 } }, { skipFile: true, env: {} });
  const queue = new SqliteJobQueue(':memory:');
  const runner = new JobRunner(queue, config, (err) => { throw err; }, false);
  const doomed = await queue.submit({ type: 'train', params, runParams: params, owner: 'local' });
  const next = await queue.submit({ type: 'train', params, runParams: params, owner: 'local' });
  runner.start();
  try {
    const pid = await waitFor(async () => (await queue.events(doomed.id, 0)).find((e) => typeof e.data.pid === 'number')?.data.pid as number | undefined, 'the job\'s process to start');
    process.kill(pid, 'SIGKILL');
    const failed = await waitFor(async () => { const j = await queue.get(doomed.id); return j?.state === 'failed' ? j : undefined; }, 'the job to be failed');
    assert.equal(failed.error?.code, 'JOB_PROCESS_DIED');
    assert.match(failed.error!.message, /exited unexpectedly \(signal SIGKILL\)/);
    assert.equal(failed.attempts, 1);
    assert.ok(failed.finishedAt !== null);
    assert.deepEqual((await queue.events(doomed.id, 0)).filter((e) => e.kind === 'state').map((e) => e.data.state), ['queued', 'running', 'failed']);
    // The runner's slot is free again: the next queued job starts without a restart.
    await waitFor(async () => ((await queue.get(next.id))?.state === 'running' ? true : undefined), 'the next job to start');
  } finally {
    await runner.close(5000);
    await queue.close();
  }
});

test('closing: heartbeats go on while a child is still exiting, so its job keeps its lock until the child is gone', { timeout: 120_000 }, async () => {
  const config = loadConfig({ offline: true, dataDir: join(work, 'data-close'), cacheDir: join(work, 'cache'), logLevel: 'silent', jobs: { concurrency: 1, heartbeatMs: 20 } }, { skipFile: true, env: {} });
  const queue = new SqliteJobQueue(':memory:');
  const beats: number[] = [];
  const heartbeat = queue.heartbeat.bind(queue);
  queue.heartbeat = (id, worker) => {
    beats.push(performance.now());
    return heartbeat(id, worker);
  };
  const runner = new JobRunner(queue, config, (err) => { throw err; }, false);
  const job = await queue.submit({ type: 'train', params, runParams: params, owner: 'local' });
  runner.start();
  const pid = await waitFor(async () => (await queue.events(job.id, 0)).find((e) => typeof e.data.pid === 'number')?.data.pid as number | undefined, 'the job\'s process to start');
  await waitFor(async () => ((await queue.get(job.id))?.step ?? 0) > 0 || undefined, 'the job to make progress');
  // A stopped child cannot answer the abort: close() waits out its grace, then kills it.
  process.kill(pid, 'SIGSTOP');
  const closing = performance.now();
  await runner.close(400);
  const closed = performance.now();
  const during = beats.filter((t) => t > closing && t < closed).length;
  assert.ok(closed - closing >= 350, `close waited ${Math.round(closed - closing)} ms for the stopped child`);
  assert.ok(during >= 3, `${during} heartbeats in the ${Math.round(closed - closing)} ms close() waited (every 20 ms expected)`);
  const settled = beats.length;
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(beats.length, settled, 'no heartbeats after close() returned');
  assert.equal((await queue.get(job.id))?.state, 'running', 'closing is not a cancel: the job stays running, to resume');
  await queue.close();
});
