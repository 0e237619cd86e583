// Redis mode with real processes: one `geul serve --redis` that only enqueues and two `geul worker`s sharing the job
// folders. Jobs spread over both workers; a worker SIGKILLed mid-job loses it to the other, which resumes it from the
// last chunk (every row exactly once); a job computing for several lock durations keeps its lock; SSE replays from
// Last-Event-ID across the processes, and a cancel sent to the API server reaches the worker running the job; a
// worker stopped with SIGTERM hands its job back at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { RedisJobQueue } from '../../src/jobs/redis-queue.js';
import { redisUrl } from '../helpers/redis.js';
import { alive, eventsUntil, parseSse, redisProcesses, runnerPids, waitFor, writeTextsJsonl, type JobBody } from './helpers.js';

const LOCK_MS = 4000;
const FINAL = ['succeeded', 'failed', 'cancelled'];

test('Redis mode: two workers share the jobs, survive a SIGKILLed worker, keep long locks; SSE and cancel through the API', { timeout: 300_000 }, async (t) => {
  const url = await redisUrl(t);
  if (!url) return;
  const { dir, artifacts, prefix, procs, api: serve, worker } = await redisProcesses(t, url, 'redis-workers', LOCK_MS);
  const inspect = await RedisJobQueue.open({ url, prefix, lockDurationMs: LOCK_MS, stalledIntervalMs: 300, attempts: 3, backoffMs: 100, consumer: false });
  t.after(() => inspect.close());

  const api = await serve('api');
  procs.push(api);
  const base = api.match[1];
  const workers = await Promise.all([worker(1), worker(2)]);
  procs.push(...workers);
  const workerPids = workers.map((w) => Number(w.match[1]));

  const submit = async (rows: number, name: string): Promise<string> => {
    writeTextsJsonl(join(dir, name), rows);
    // Windows of 100 rows: a commit (and a progress event) every 100 rows, so the kill and lock checks below see progress early.
    const res = await fetch(`${base}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: 'embed', params: { input: join(dir, name), id: 'id', chunkSize: 10, window: 100 } }) });
    assert.equal(res.status, 201, await res.clone().text());
    return ((await res.json()) as JobBody).id;
  };
  const getJob = async (id: string) => (await (await fetch(`${base}/v1/jobs/${id}`)).json()) as JobBody;
  const finished = (id: string) => waitFor(async () => { const j = await getJob(id); return FINAL.includes(j.state) ? j : undefined; }, `job ${id} to finish`, 6000, 50);
  const allEvents = async (id: string) => parseSse(await (await fetch(`${base}/v1/jobs/${id}/events`)).text());
  const rowsOf = async (job: JobBody) => {
    const artifact = job.artifacts.find((a) => a.name === 'embeddings.jsonl')!;
    return (await (await fetch(`${base}${artifact.url}`)).text()).trim().split('\n').map((l) => JSON.parse(l) as { index: number; id: string; embedding: number[] });
  };

  await t.test('the API server only enqueues; jobs spread over both workers', async () => {
    const ids = await Promise.all([0, 1, 2, 3].map((i) => submit(300, `spread-${i}.jsonl`)));
    const used = new Set<number>();
    for (const id of ids) {
      const job = await finished(id);
      assert.equal(job.state, 'succeeded', JSON.stringify(job.error));
      assert.equal((await rowsOf(job)).length, 300);
      assert.ok(existsSync(join(artifacts, id, 'embeddings.jsonl')), 'published into the --artifacts folder');
      const pids = runnerPids(await allEvents(id));
      assert.equal(pids.length, 1, 'one attempt each');
      assert.ok(workerPids.includes(pids[0]), 'run by a worker, not by the API server');
      used.add(pids[0]);
    }
    assert.equal(used.size, 2, `both workers ran jobs (${[...used].join(', ')})`);
  });

  await t.test('a worker SIGKILLed mid-job: the other resumes it from the last chunk, every row exactly once', async () => {
    const rows = 3000;
    const id = await submit(rows, 'kill.jsonl');
    const started = await waitFor(async () => {
      const job = await getJob(id);
      assert.ok(!FINAL.includes(job.state), `the job ended before the kill: ${JSON.stringify(job)}`);
      return job.progress.step >= 200 ? job : undefined;
    }, 'the job to get past row 200', 6000, 10);
    assert.equal(started.state, 'running');
    const events = await eventsUntil(base, id, 3); // queued, running, the "attempt 1 started" log
    const victim = runnerPids(events)[0];
    const childPid = events.find((e) => e.data.runnerPid === victim)!.data.pid as number;
    const dead = workers.find((w) => Number(w.match[1]) === victim)!;
    const exited = new Promise((resolve) => dead.child.once('exit', resolve));
    dead.child.kill('SIGKILL');
    await exited;
    await waitFor(async () => (alive(childPid) ? undefined : true), `the job's child ${childPid} to die with its worker`, 500, 20);

    const job = await finished(id);
    assert.equal(job.state, 'succeeded', JSON.stringify(job.error));
    const after = await allEvents(id);
    assert.deepEqual(after.filter((e) => e.event === 'state').map((e) => e.data.state), ['queued', 'running', 'queued', 'running', 'succeeded']);
    assert.ok(after.some((e) => e.event === 'log' && /lock expired/.test(String(e.data.message))));
    const pids = runnerPids(after);
    assert.deepEqual(pids, [victim, workerPids.find((p) => p !== victim)], 'the second attempt ran on the other worker');
    const restartAt = after.findIndex((e) => e.event === 'log' && /attempt 2/.test(String(e.data.message)));
    const resumedFrom = after.slice(restartAt).find((e) => e.event === 'progress')?.data.step as number;
    assert.ok(resumedFrom >= 200, `resumed from row ${resumedFrom}, not from the start`);
    const lines = await rowsOf(job);
    assert.deepEqual(lines.map((l) => l.index), Array.from({ length: rows }, (_, i) => i));
    assert.deepEqual(lines.map((l) => l.id), Array.from({ length: rows }, (_, i) => `r${i}`));
    assert.ok(lines.every((l) => l.embedding.length === lines[0].embedding.length && l.embedding.every(Number.isFinite)));
  });

  await t.test('a job computing for several lock durations keeps its lock; SSE replays from Last-Event-ID; cancel reaches the worker', async () => {
    // Far more rows than three lock durations can embed on a fast idle machine (60,000 rows finished within them here): the cancel below ends it.
    const rows = 400_000;
    const id = await submit(rows, 'long.jsonl');
    const running = await waitFor(async () => { const j = await getJob(id); return j.state === 'running' && j.started_at !== null ? j : undefined; }, 'the long job to start', 3000, 20);
    // Let it run for three lock durations (its own progress shows it computing all along).
    const since = Date.now();
    await waitFor(async () => (Date.now() - since > 3 * LOCK_MS ? true : undefined), 'three lock durations', 1000, 50);
    const now = await getJob(id);
    assert.equal(now.state, 'running', JSON.stringify(now.error));
    assert.ok(now.progress.step > running.progress.step);
    assert.equal(await inspect.bull.getJobState(id), 'active', 'BullMQ still holds it active under its renewed lock');
    const events = await eventsUntil(base, id, 4);
    assert.equal(events.filter((e) => e.event === 'state').length, 2, 'queued, running: never taken for stalled');
    assert.equal(runnerPids(events).length, 1, 'one attempt');

    // Reconnect after the 4th event: exactly what came after it, through to the final state after the cancel.
    const rest = fetch(`${base}/v1/jobs/${id}/events`, { headers: { 'last-event-id': String(events[3].id) } }).then(async (r) => parseSse(await r.text()));
    const cancel = await fetch(`${base}/v1/jobs/${id}/cancel`, { method: 'POST' });
    assert.equal(cancel.status, 200);
    const replay = await rest;
    assert.ok(replay.every((e, i) => e.id > events[3].id && (i === 0 || e.id > replay[i - 1].id)));
    assert.deepEqual(replay.at(-1)!.data, { state: 'cancelled' });
    const full = await allEvents(id);
    assert.deepEqual(replay.map((e) => e.id), full.slice(4).map((e) => e.id), 'nothing missed, nothing twice');
    const job = await getJob(id);
    assert.equal(job.state, 'cancelled');
    assert.ok(job.progress.step < rows, 'stopped by the cancel, not finished');
  });

  await t.test('SIGTERM to a worker mid-job: it hands the job back at once and another worker resumes it', async () => {
    const third = await worker(3);
    procs.push(third);
    const rows = 3000;
    const id = await submit(rows, 'term.jsonl');
    await waitFor(async () => {
      const job = await getJob(id);
      assert.ok(!FINAL.includes(job.state), `the job ended before the SIGTERM: ${JSON.stringify(job)}`);
      return job.progress.step >= 200 ? job : undefined;
    }, 'the job to get past row 200', 6000, 10);
    const first = runnerPids(await eventsUntil(base, id, 3))[0];
    const leaving = [...workers, third].find((w) => Number(w.match[1]) === first)!;
    const code = new Promise((resolve) => leaving.child.once('exit', resolve));
    leaving.child.kill('SIGTERM');
    assert.equal(await code, 0, leaving.stderr());
    const job = await finished(id);
    assert.equal(job.state, 'succeeded', JSON.stringify(job.error));
    const after = await allEvents(id);
    assert.deepEqual(after.filter((e) => e.event === 'state').map((e) => e.data.state), ['queued', 'running', 'queued', 'running', 'succeeded']);
    assert.ok(after.some((e) => e.event === 'log' && /worker shut down/.test(String(e.data.message))), 'handed back, not left to its lock expiring');
    assert.ok(!after.some((e) => e.event === 'log' && /lock expired/.test(String(e.data.message))));
    assert.notEqual(runnerPids(after)[1], first);
    assert.deepEqual((await rowsOf(job)).map((l) => l.index), Array.from({ length: rows }, (_, i) => i));
  });
});
