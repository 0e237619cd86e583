// Redis mode as deployed behind a load balancer: two `geul serve --redis` API replicas (own data dirs, one Redis
// prefix) and real `geul worker`s. A job submitted on replica A is watched live through replica B, B's stream is
// resumed with Last-Event-ID, and a cancel sent to B reaches the worker, which stops the job's process; both replicas
// then read it cancelled. With a second worker, a training job whose worker is SIGKILLed after a checkpoint resumes
// on the other worker from that checkpoint (not from step 0) and succeeds with every epoch once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { redisUrl } from '../helpers/redis.js';
import { alive, eventsUntil, parseSse, redisProcesses, runnerPids, waitFor, writeTextsJsonl, writeToyTsv, type JobBody } from './helpers.js';

const LOCK_MS = 4000;
const FINAL = ['succeeded', 'failed', 'cancelled'];

test('Redis mode with two API replicas: watch and cancel through the other replica; a training job resumes on another worker', { timeout: 600_000 }, async (t) => {
  const url = await redisUrl(t);
  if (!url) return;
  const { dir, procs, api: replica, worker } = await redisProcesses(t, url, 'redis-replicas', LOCK_MS);
  const started = await Promise.all([replica('api-a'), replica('api-b'), worker(1)]);
  procs.push(...started);
  const [a, b] = started.slice(0, 2).map((p) => p.match[1]);
  assert.notEqual(a, b);
  const firstWorker = started[2];

  const submit = async (body: unknown): Promise<string> => {
    const res = await fetch(`${a}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal(res.status, 201, await res.clone().text());
    return ((await res.json()) as JobBody).id;
  };
  const getJob = async (base: string, id: string) => (await (await fetch(`${base}/v1/jobs/${id}`)).json()) as JobBody;
  const allEvents = async (base: string, id: string) => parseSse(await (await fetch(`${base}/v1/jobs/${id}/events`)).text());

  await t.test('submitted on A, watched on B (resumed with Last-Event-ID), cancelled on B: the worker stops it', async () => {
    writeTextsJsonl(join(dir, 'long.jsonl'), 60_000);
    const id = await submit({ type: 'embed', params: { input: join(dir, 'long.jsonl'), id: 'id', chunkSize: 10 } });
    // Live through B: queued, running and the runner's "attempt 1 started" log, written by the worker.
    const first = await eventsUntil(b, id, 3);
    assert.deepEqual(first.filter((e) => e.event === 'state').map((e) => e.data.state), ['queued', 'running']);
    assert.deepEqual(runnerPids(first), [Number(firstWorker.match[1])], 'run by the worker, not by either replica');
    const childPid = first.find((e) => typeof e.data.pid === 'number')!.data.pid as number;
    await waitFor(async () => ((await getJob(b, id)).progress.step > 0 ? true : undefined), 'progress to show on B', 6000, 20);
    const seen = await eventsUntil(b, id, 5);

    // B's stream is cut after the 5th event; the reconnect names it and gets exactly what followed, to the final state.
    const rest = fetch(`${b}/v1/jobs/${id}/events`, { headers: { 'last-event-id': String(seen[4].id) } }).then(async (r) => parseSse(await r.text()));
    const cancel = await fetch(`${b}/v1/jobs/${id}/cancel`, { method: 'POST' });
    assert.equal(cancel.status, 200);
    const replay = await rest;
    assert.ok(replay.every((e, i) => e.id > seen[4].id && (i === 0 || e.id > replay[i - 1].id)), 'only newer events, in order');
    assert.deepEqual(replay.at(-1)!.data, { state: 'cancelled' });
    const full = await allEvents(a, id);
    assert.deepEqual(full.slice(0, 5).map((e) => e.id), seen.map((e) => e.id), 'A and B stream the same events');
    assert.deepEqual(replay.map((e) => e.id), full.slice(5).map((e) => e.id), 'nothing missed, nothing twice');

    // The worker got the cancel (from Redis, not from the replica it was sent to) and ended the job's process.
    await waitFor(async () => (alive(childPid) ? undefined : true), `the job's process ${childPid} to stop`, 1000, 20);
    for (const base of [a, b]) {
      const job = await getJob(base, id);
      assert.equal(job.state, 'cancelled', `on ${base}`);
      assert.ok(job.progress.step < 60_000, 'stopped by the cancel, not finished');
      assert.ok(job.finished_at !== null);
    }
    assert.equal(firstWorker.child.exitCode, null, 'the worker itself keeps running');
  });

  await t.test('a training job whose worker is SIGKILLed after a checkpoint resumes from it on the other worker', async () => {
    procs.push(await worker(2));
    const workers = procs.slice(2);
    writeToyTsv(join(dir, 'toy.tsv'));
    // 128 training rows in batches of 8: 16 steps an epoch, a checkpoint at each epoch's end; past step 40 the one of epoch 2 exists.
    const spec = { data: { source: join(dir, 'toy.tsv'), maxLength: 10, vocabSize: 50 }, model: { name: 'lstm', dim: 8, hidden: 8 }, optim: { lr: 0.02 }, run: { epochs: 8, batchSize: 8, seed: 5, threads: 1 } };
    const id = await submit({ type: 'train', params: spec });
    await waitFor(async () => {
      const job = await getJob(b, id);
      assert.ok(!FINAL.includes(job.state), `the job ended before the kill: ${JSON.stringify(job)}`);
      return job.state === 'running' && job.progress.step > 40 ? job : undefined;
    }, 'the training to get past step 40', 6000, 10);
    const events = await eventsUntil(b, id, 3);
    const [victimPid] = runnerPids(events);
    const childPid = events.find((e) => typeof e.data.pid === 'number')!.data.pid as number;
    const victim = workers.find((w) => Number(w.match[1]) === victimPid)!;
    const survivor = workers.find((w) => w !== victim)!;
    const exited = new Promise((resolve) => victim.child.once('exit', resolve));
    victim.child.kill('SIGKILL');
    await exited;
    await waitFor(async () => (alive(childPid) ? undefined : true), `the job's process ${childPid} to die with its worker`, 500, 20);

    const job = await waitFor(async () => { const j = await getJob(a, id); return FINAL.includes(j.state) ? j : undefined; }, 'the resumed job to finish', 6000, 50);
    assert.equal(job.state, 'succeeded', JSON.stringify(job.error));
    const after = await allEvents(b, id);
    assert.deepEqual(after.filter((e) => e.event === 'state').map((e) => e.data.state), ['queued', 'running', 'queued', 'running', 'succeeded']);
    assert.deepEqual(runnerPids(after), [victimPid, Number(survivor.match[1])], 'the second attempt ran on the other worker');
    const second = after.findIndex((e) => e.event === 'log' && /attempt 2/.test(String(e.data.message)));
    assert.ok(after.slice(second).some((e) => e.event === 'log' && e.data.message === 'resuming from the last checkpoint'));
    const resumedAt = after.slice(second).find((e) => e.event === 'progress')?.data.step as number;
    assert.ok(resumedAt >= 16, `resumed at step ${resumedAt}: from a checkpoint, not from scratch`);
    const metrics = JSON.parse(await (await fetch(`${b}/v1/jobs/${id}/artifacts/run/metrics.json`)).text()) as { history: { epoch: number }[] };
    assert.deepEqual(metrics.history.map((h) => h.epoch), [1, 2, 3, 4, 5, 6, 7, 8], 'every epoch once');
  });
});
