// The JobQueue contract every backend must pass (run by each backend's test file, as hono runs one router suite
// against every router): the state machine, owner limits at claim, cancel in each state, cursor pages,
// increasing event ids, crash recovery (running → queued, a pending cancel honoured), a job that dies in every run
// failing after jobs.attempts runs, and persistence across opens.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { JobQueue } from '../../src/jobs/queue.js';

const submit = (q: JobQueue, owner = 'a', type = 'embed') => q.submit({ type, params: { n: 1 }, runParams: { n: 1, path: '/x' }, owner });

export interface QueueHarness {
  /** A new, empty queue (undefined: the backend is not available here and the test was skipped through `t`). */
  open(t: TestContext): Promise<JobQueue | undefined>;
  /** The process owning `queue` dies (nothing finished, nothing closed cleanly); the same queue opened again. */
  reopenAfterCrash(queue: JobQueue): Promise<JobQueue>;
  /** The runs the queues are opened with (jobs.attempts). */
  attempts: number;
}

export function queueContract(name: string, harness: QueueHarness): void {
  test(`${name}: queued → running → succeeded, with a state event per transition and increasing event ids`, async (t) => {
    const q = await harness.open(t);
    if (!q) return;
    const job = await submit(q);
    assert.equal(job.state, 'queued');
    assert.equal(job.attempts, 0);
    const claimed = (await q.claim('w1', { maxRunningPerOwner: 1 }))!;
    assert.equal(claimed.id, job.id);
    assert.equal(claimed.state, 'running');
    assert.equal(claimed.attempts, 1);
    assert.ok(claimed.startedAt !== null);
    assert.equal(await q.claim('w1', { maxRunningPerOwner: 1 }), undefined, 'nothing else queued');
    await q.progress(job.id, 5, 10);
    await q.appendEvent(job.id, 'progress', { step: 5, total: 10 });
    const done = (await q.finish(job.id, { state: 'succeeded' }))!;
    assert.equal(done.state, 'succeeded');
    assert.equal(done.step, 5);
    assert.ok(done.finishedAt !== null);
    assert.equal((await q.finish(job.id, { state: 'failed', error: { code: 'X', message: 'y' } }))!.state, 'succeeded', 'a final state never changes');
    const events = await q.events(job.id, 0);
    assert.deepEqual(events.map((e) => e.kind), ['state', 'state', 'progress', 'state']);
    assert.deepEqual(events.filter((e) => e.kind === 'state').map((e) => e.data.state), ['queued', 'running', 'succeeded']);
    assert.ok(events.every((e, i) => i === 0 || e.id > events[i - 1].id));
    assert.deepEqual((await q.events(job.id, events[1].id)).map((e) => e.id), events.slice(2).map((e) => e.id), 'events after a cursor');
    await q.close();
  });

  test(`${name}: progressEvent records the step and its progress event in one call, wakes listeners, and leaves a final job's step alone`, async (t) => {
    const q = await harness.open(t);
    if (!q) return;
    const job = await submit(q);
    await q.claim('w1', { maxRunningPerOwner: 1 });
    const woken: string[] = [];
    const stop = q.onChange((id) => woken.push(id));
    const first = await q.progressEvent(job.id, 64, 1000);
    const second = await q.progressEvent(job.id, 1000, 1000);
    assert.ok(second > first, 'event ids increase');
    const running = (await q.get(job.id))!;
    assert.deepEqual([running.step, running.total], [1000, 1000]);
    const progress = (await q.events(job.id, 0)).filter((e) => e.kind === 'progress');
    assert.deepEqual(progress.map((e) => [e.id, e.data]), [[first, { step: 64, total: 1000 }], [second, { step: 1000, total: 1000 }]]);
    // Redis delivers change notifications through its pub/sub connection: wait for them, bounded by tries.
    for (let i = 0; i < 500 && woken.filter((id) => id === job.id).length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(woken.filter((id) => id === job.id).length >= 2, 'each progressEvent is a change SSE streams wake up on');
    stop();
    await q.finish(job.id, { state: 'succeeded' });
    await q.progressEvent(job.id, 5, 1000);
    assert.equal((await q.get(job.id))!.step, 1000, 'a final job keeps its step');
    await q.close();
  });

  test(`${name}: a failure keeps its catalog code and message; claims respect the per-owner running limit, oldest first`, async (t) => {
    const q = await harness.open(t);
    if (!q) return;
    const a1 = await submit(q, 'a');
    const a2 = await submit(q, 'a');
    const b1 = await submit(q, 'b');
    assert.equal((await q.claim('w', { maxRunningPerOwner: 1 }))!.id, a1.id);
    assert.equal((await q.claim('w', { maxRunningPerOwner: 1 }))!.id, b1.id, "a's second job waits while a runs one");
    assert.equal(await q.claim('w', { maxRunningPerOwner: 1 }), undefined);
    await q.finish(a1.id, { state: 'failed', error: { code: 'DATA_INVALID', message: 'bad row' } });
    assert.deepEqual((await q.get(a1.id))!.error, { code: 'DATA_INVALID', message: 'bad row' });
    assert.deepEqual((await q.events(a1.id, 0)).at(-1)!.data, { state: 'failed', error: { code: 'DATA_INVALID', message: 'bad row' } });
    assert.equal((await q.claim('w', { maxRunningPerOwner: 1 }))!.id, a2.id);
    await q.close();
  });

  test(`${name}: cancel: queued at once, running on request (heartbeat reports it), final unchanged; pending limit`, async (t) => {
    const q = await harness.open(t);
    if (!q) return;
    const running = await submit(q);
    const queued = await submit(q);
    await q.claim('w', { maxRunningPerOwner: 5 });
    const cancelledQueued = (await q.requestCancel(queued.id))!;
    assert.equal(cancelledQueued.state, 'cancelled');
    assert.equal(cancelledQueued.cancelRequestedAt, cancelledQueued.finishedAt, 'a queued job: asked and cancelled at once');
    assert.equal((await q.heartbeat(running.id, 'w')).cancelRequested, false);
    assert.equal((await q.get(running.id))!.cancelRequestedAt, null);
    const asked = (await q.requestCancel(running.id))!;
    assert.equal(asked.state, 'running');
    assert.equal(asked.cancelRequested, true);
    assert.equal(typeof asked.cancelRequestedAt, 'number', 'when the cancel was asked for');
    assert.equal((await q.requestCancel(running.id))!.cancelRequestedAt, asked.cancelRequestedAt, 'a second cancel keeps the first time');
    assert.equal((await q.heartbeat(running.id, 'w')).cancelRequested, true);
    await q.finish(running.id, { state: 'cancelled' });
    assert.equal((await q.requestCancel(running.id))!.state, 'cancelled');
    assert.equal(await q.requestCancel('job_missing'), undefined);
    await submit(q, 'c');
    await assert.rejects(() => q.submit({ type: 'embed', params: {}, runParams: {}, owner: 'c', maxPending: 1 }), (err: Error & { code?: string }) => err.code === 'JOB_LIMIT');
    await q.close();
  });

  test(`${name}: lists: newest first, filtered by owner, state and type, paged with after/has_more`, async (t) => {
    const q = await harness.open(t);
    if (!q) return;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await submit(q, i % 2 === 0 ? 'a' : 'b', i < 3 ? 'embed' : 'train')).id);
    const page = (await q.list({ limit: 2 }));
    assert.deepEqual(page.data.map((j) => j.id), [ids[4], ids[3]]);
    assert.equal(page.hasMore, true);
    const rest = (await q.list({ limit: 10, after: ids[3] }));
    assert.deepEqual(rest.data.map((j) => j.id), [ids[2], ids[1], ids[0]]);
    assert.equal(rest.hasMore, false);
    assert.deepEqual((await q.list({ limit: 10, owner: 'a' })).data.map((j) => j.id), [ids[4], ids[2], ids[0]]);
    assert.deepEqual((await q.list({ limit: 10, type: 'train' })).data.map((j) => j.id), [ids[4], ids[3]]);
    assert.deepEqual((await q.list({ limit: 10, state: 'running' })).data, []);
    await assert.rejects(async () => (await q.list({ limit: 1, after: 'job_nope' })), /after: no job/);
    await q.close();
  });

  test(`${name}: after a crash, running jobs are re-queued (a pending cancel becomes cancelled); everything persists`, async (t) => {
    const q = await harness.open(t);
    if (!q) return;
    const resumes = await submit(q);
    const cancelling = await submit(q);
    await q.claim('w', { maxRunningPerOwner: 5 });
    await q.claim('w', { maxRunningPerOwner: 5 });
    await q.requestCancel(cancelling.id);
    const reopened = await harness.reopenAfterCrash(q);
    assert.equal(await reopened.requeueRunning(), 2);
    assert.equal((await reopened.get(resumes.id))!.state, 'queued');
    assert.equal((await reopened.get(cancelling.id))!.state, 'cancelled');
    const again = (await reopened.claim('w2', { maxRunningPerOwner: 5 }))!;
    assert.equal(again.id, resumes.id);
    assert.equal(again.attempts, 2, 'the second attempt knows it resumes');
    assert.deepEqual(again.runParams, { n: 1, path: '/x' });
    assert.deepEqual((await reopened.events(resumes.id, 0)).filter((e) => e.kind === 'state').map((e) => e.data.state), ['queued', 'running', 'queued', 'running']);
    await reopened.close();
  });

  test(`${name}: a job whose worker dies in every run fails with JOB_PROCESS_DIED after jobs.attempts runs, not run again`, async (t) => {
    const opened = await harness.open(t);
    if (!opened) return;
    let q: JobQueue = opened;
    const doomed = await submit(q);
    for (let run = 1; run <= harness.attempts; run++) {
      const claimed = (await q.claim('w', { maxRunningPerOwner: 5 }))!;
      assert.equal(claimed.id, doomed.id);
      assert.equal(claimed.attempts, run);
      q = await harness.reopenAfterCrash(q);
      await q.requeueRunning();
    }
    const later = await submit(q);
    assert.equal((await q.claim('w', { maxRunningPerOwner: 5 }))?.id, later.id, 'the exhausted job is skipped, the next one runs');
    const failed = (await q.get(doomed.id))!;
    assert.equal(failed.state, 'failed');
    assert.equal(failed.error?.code, 'JOB_PROCESS_DIED');
    assert.match(failed.error!.message, new RegExp(`each of its ${harness.attempts} runs`));
    assert.ok(failed.finishedAt !== null);
    assert.equal(failed.attempts, harness.attempts, 'no run beyond the limit');
    assert.deepEqual((await q.events(doomed.id, 0)).filter((e) => e.kind === 'state').at(-1)!.data, { state: 'failed', error: failed.error });
    assert.deepEqual((await q.list({ limit: 10, state: 'queued' })).data, []);
    await q.close();
  });

  test(`${name}: runs a graceful shutdown released do not count against jobs.attempts`, async (t) => {
    const opened = await harness.open(t);
    if (!opened) return;
    let q: JobQueue = opened;
    const job = await submit(q);
    for (let run = 1; run <= harness.attempts; run++) {
      assert.equal((await q.claim('w', { maxRunningPerOwner: 5 }))?.id, job.id);
      assert.ok(q.release, 'the queue can release a job');
      await q.release(job.id);
      q = await harness.reopenAfterCrash(q);
      await q.requeueRunning();
    }
    const again = (await q.claim('w', { maxRunningPerOwner: 5 }))!;
    assert.equal(again?.id, job.id, 'still runs after as many restarts as jobs.attempts');
    assert.equal(again.attempts, harness.attempts + 1);
    await q.close();
  });
}
