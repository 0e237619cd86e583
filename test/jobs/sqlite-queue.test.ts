// The embedded queue's contract: the state machine, owner limits at claim, cancel in each state, cursor pages,
// increasing event ids, crash recovery (running → queued, a pending cancel honoured) and persistence across opens.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteJobQueue } from '../../src/jobs/sqlite-queue.js';

const submit = (q: SqliteJobQueue, owner = 'a', type = 'embed') => q.submit({ type, params: { n: 1 }, runParams: { n: 1, path: '/x' }, owner });

test('queued → running → succeeded, with a state event per transition and increasing event ids', () => {
  const q = new SqliteJobQueue(':memory:');
  const job = submit(q);
  assert.equal(job.state, 'queued');
  assert.equal(job.attempts, 0);
  const claimed = q.claim('w1', { maxRunningPerOwner: 1 })!;
  assert.equal(claimed.id, job.id);
  assert.equal(claimed.state, 'running');
  assert.equal(claimed.attempts, 1);
  assert.ok(claimed.startedAt !== null);
  assert.equal(q.claim('w1', { maxRunningPerOwner: 1 }), undefined, 'nothing else queued');
  q.progress(job.id, 5, 10);
  q.appendEvent(job.id, 'progress', { step: 5, total: 10 });
  const done = q.finish(job.id, { state: 'succeeded' })!;
  assert.equal(done.state, 'succeeded');
  assert.equal(done.step, 5);
  assert.ok(done.finishedAt !== null);
  assert.equal(q.finish(job.id, { state: 'failed', error: { code: 'X', message: 'y' } })!.state, 'succeeded', 'a final state never changes');
  const events = q.events(job.id, 0);
  assert.deepEqual(events.map((e) => e.kind), ['state', 'state', 'progress', 'state']);
  assert.deepEqual(events.filter((e) => e.kind === 'state').map((e) => e.data.state), ['queued', 'running', 'succeeded']);
  assert.ok(events.every((e, i) => i === 0 || e.id > events[i - 1].id));
  assert.deepEqual(q.events(job.id, events[1].id).map((e) => e.id), events.slice(2).map((e) => e.id), 'events after a cursor');
  q.close();
});

test('a failure keeps its catalog code and message; claims respect the per-owner running limit, oldest first', () => {
  const q = new SqliteJobQueue(':memory:');
  const a1 = submit(q, 'a');
  const a2 = submit(q, 'a');
  const b1 = submit(q, 'b');
  assert.equal(q.claim('w', { maxRunningPerOwner: 1 })!.id, a1.id);
  assert.equal(q.claim('w', { maxRunningPerOwner: 1 })!.id, b1.id, "a's second job waits while a runs one");
  assert.equal(q.claim('w', { maxRunningPerOwner: 1 }), undefined);
  q.finish(a1.id, { state: 'failed', error: { code: 'DATA_INVALID', message: 'bad row' } });
  assert.deepEqual(q.get(a1.id)!.error, { code: 'DATA_INVALID', message: 'bad row' });
  assert.deepEqual(q.events(a1.id, 0).at(-1)!.data, { state: 'failed', error: { code: 'DATA_INVALID', message: 'bad row' } });
  assert.equal(q.claim('w', { maxRunningPerOwner: 1 })!.id, a2.id);
  q.close();
});

test('cancel: queued at once, running on request (heartbeat reports it), final unchanged; pending limit', () => {
  const q = new SqliteJobQueue(':memory:');
  const running = submit(q);
  const queued = submit(q);
  q.claim('w', { maxRunningPerOwner: 5 });
  assert.equal(q.requestCancel(queued.id)!.state, 'cancelled');
  assert.equal(q.heartbeat(running.id, 'w').cancelRequested, false);
  const asked = q.requestCancel(running.id)!;
  assert.equal(asked.state, 'running');
  assert.equal(asked.cancelRequested, true);
  assert.equal(q.heartbeat(running.id, 'w').cancelRequested, true);
  q.finish(running.id, { state: 'cancelled' });
  assert.equal(q.requestCancel(running.id)!.state, 'cancelled');
  assert.equal(q.requestCancel('job_missing'), undefined);
  submit(q, 'c');
  assert.throws(() => q.submit({ type: 'embed', params: {}, runParams: {}, owner: 'c', maxPending: 1 }), (err: Error & { code?: string }) => err.code === 'JOB_LIMIT');
  q.close();
});

test('lists: newest first, filtered by owner, state and type, paged with after/has_more', () => {
  const q = new SqliteJobQueue(':memory:');
  const ids = Array.from({ length: 5 }, (_, i) => submit(q, i % 2 === 0 ? 'a' : 'b', i < 3 ? 'embed' : 'train').id);
  const page = q.list({ limit: 2 });
  assert.deepEqual(page.data.map((j) => j.id), [ids[4], ids[3]]);
  assert.equal(page.hasMore, true);
  const rest = q.list({ limit: 10, after: ids[3] });
  assert.deepEqual(rest.data.map((j) => j.id), [ids[2], ids[1], ids[0]]);
  assert.equal(rest.hasMore, false);
  assert.deepEqual(q.list({ limit: 10, owner: 'a' }).data.map((j) => j.id), [ids[4], ids[2], ids[0]]);
  assert.deepEqual(q.list({ limit: 10, type: 'train' }).data.map((j) => j.id), [ids[4], ids[3]]);
  assert.deepEqual(q.list({ limit: 10, state: 'running' }).data, []);
  assert.throws(() => q.list({ limit: 1, after: 'job_nope' }), /after: no job/);
  q.close();
});

test('after a crash: running jobs are re-queued (a pending cancel becomes cancelled); everything persists across opens', () => {
  const path = join(mkdtempSync(join(tmpdir(), 'geul-queue-')), 'jobs.sqlite');
  const q = new SqliteJobQueue(path);
  const resumes = submit(q);
  const cancelling = submit(q);
  q.claim('w', { maxRunningPerOwner: 5 });
  q.claim('w', { maxRunningPerOwner: 5 });
  q.requestCancel(cancelling.id);
  q.db.close(); // the process dies: nothing is finished
  const reopened = new SqliteJobQueue(path);
  assert.equal(reopened.requeueRunning(), 2);
  assert.equal(reopened.get(resumes.id)!.state, 'queued');
  assert.equal(reopened.get(cancelling.id)!.state, 'cancelled');
  const again = reopened.claim('w2', { maxRunningPerOwner: 5 })!;
  assert.equal(again.id, resumes.id);
  assert.equal(again.attempts, 2, 'the second attempt knows it resumes');
  assert.deepEqual(again.runParams, { n: 1, path: '/x' });
  assert.deepEqual(reopened.events(resumes.id, 0).filter((e) => e.kind === 'state').map((e) => e.data.state), ['queued', 'running', 'queued', 'running']);
  reopened.close();
});
