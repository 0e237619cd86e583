// A graceful server shutdown mid-training: the job's child is asked to abort, checkpoints mid-epoch and exits; the job
// stays running in the queue, and the next server resumes it from that checkpoint to the end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jobWorkDir } from '../../src/jobs/runner.js';
import { SqliteJobQueue } from '../../src/jobs/sqlite-queue.js';
import { buildServer } from '../../src/server/app.js';
import { post, serverConfig } from '../helpers/server.js';
import { parseSse, waitFor, writeToyTsv, type ApiBody } from '../jobs/helpers.js';

test('close() mid-epoch checkpoints the running job; the next server resumes it and it succeeds', { timeout: 180_000 }, async () => {
  const work = mkdtempSync(join(tmpdir(), 'geul-jobs-shutdown-'));
  writeToyTsv(join(work, 'toy.tsv'), 800);
  const config = serverConfig();
  const first = await buildServer(config);
  // 640 training rows in batches of 4: 160 steps an epoch, so the first epoch's own checkpoint is far away even when a
  // loaded machine delivers the abort late.
  const res = await post(first, '/v1/jobs', {
    type: 'train', params: { data: { source: join(work, 'toy.tsv'), maxLength: 10, vocabSize: 50 }, model: { name: 'lstm', dim: 8, hidden: 8 }, run: { epochs: 2, batchSize: 4, seed: 2, threads: 1 } },
  });
  const { id } = res.json() as { id: string };
  await waitFor(async () => ((JSON.parse((await first.inject({ url: `/v1/jobs/${id}` })).body) as ApiBody).progress.step > 2 ? true : undefined), 'training steps');
  await first.close();
  const dir = jobWorkDir(config, id);
  assert.ok(existsSync(join(dir, 'run', 'checkpoint.bin')), 'the aborted child checkpointed before exiting');
  const queue = new SqliteJobQueue(join(config.dataDir, 'jobs.sqlite'));
  const stopped = (await queue.get(id))!;
  await queue.close();
  assert.equal(stopped.state, 'running', 'a shutdown is not a cancel: the job stays running, to resume');
  assert.ok(stopped.step < 160, `stopped in the first epoch (step ${stopped.step})`);

  const second = await buildServer(config);
  try {
    const done = await waitFor(async () => {
      const job = JSON.parse((await second.inject({ url: `/v1/jobs/${id}` })).body) as ApiBody;
      return ['succeeded', 'failed', 'cancelled'].includes(job.state) ? job : undefined;
    }, 'the resumed job');
    assert.equal(done.state, 'succeeded', JSON.stringify(done.error));
    const events = parseSse((await second.inject({ url: `/v1/jobs/${id}/events` })).body);
    assert.ok(events.some((e) => e.event === 'log' && e.data.message === 'resuming from the last checkpoint'));
    assert.deepEqual(events.filter((e) => e.event === 'state').map((e) => e.data.state), ['queued', 'running', 'queued', 'running', 'succeeded']);
  } finally {
    await second.close();
  }
});
