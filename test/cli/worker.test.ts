// `geul worker` and `geul serve --redis` start-up failures: no Redis URL (exit 2, INVALID_CONFIG) and an unreachable
// Redis (exit 3, one REDIS_UNREACHABLE line naming the URL, never its password); no Redis server needed. Also what
// the worker's --jobs-dir and --artifacts set: the job folders and the artifact store, each on its own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { workerOverrides } from '../../src/cli/commands/worker.js';
import { loadConfig } from '../../src/core/config.js';
import { LocalArtifactStore, openArtifactStore } from '../../src/jobs/artifact-store.js';
import { jobsDir } from '../../src/jobs/runner.js';
import { runCli } from '../helpers/cli.js';

test('geul worker without --redis, and worker/serve with Redis unreachable, exit with one catalogued line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'geul-worker-'));
  const env = { GEUL_REDIS_URL: '' };
  const missing = await runCli(['worker', '--data-dir', dir], { env });
  assert.equal(missing.code, 2, missing.stderr);
  assert.match(missing.stderr, /^geul: .*pass --redis URL.*\[INVALID_CONFIG\]\n$/);
  // A port nothing listens on: bound, then closed, so the connection is refused.
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const url = `redis://user:secret@127.0.0.1:${port}`;
  for (const args of [['worker', '--redis', url, '--data-dir', dir], ['serve', '--port', '0', '--workers', '1', '--redis', url, '--data-dir', dir, '--log-level', 'silent']]) {
    const down = await runCli(args, { env });
    assert.equal(down.code, 3, down.stderr);
    assert.match(down.stderr, new RegExp(`^geul: Cannot reach Redis at redis://user:\\*\\*\\*@127\\.0\\.0\\.1:${port}: .*\\[REDIS_UNREACHABLE\\]\\n$`));
    assert.ok(!down.stderr.includes('secret'));
  }
});

test('worker --artifacts sets the artifact store apart from the job folders (--jobs-dir); s3:// names a bucket', async () => {
  const config = (flags: Parameters<typeof workerOverrides>[0], env: NodeJS.ProcessEnv = {}) =>
    loadConfig({ dataDir: '/srv/worker-data', ...workerOverrides(flags) }, { skipFile: true, env });
  const both = config({ jobsDir: '/shared/jobs', artifacts: '/shared/artifacts', concurrency: 2 });
  assert.equal(jobsDir(both), '/shared/jobs');
  assert.deepEqual([both.jobs.artifacts.store, both.jobs.artifacts.dir, both.jobs.concurrency, both.jobs.withWorker], ['local', '/shared/artifacts', 2, true]);
  const store = await openArtifactStore(both);
  assert.ok(store instanceof LocalArtifactStore);
  assert.equal(store.root, '/shared/artifacts');
  // --artifacts alone leaves the job folders where they were (the data dir's, or GEUL_JOBS_DIR).
  const alone = config({ artifacts: '/shared/artifacts' });
  assert.equal(jobsDir(alone), join('/srv/worker-data', 'jobs'));
  assert.equal(jobsDir(config({ artifacts: '/shared/artifacts' }, { GEUL_JOBS_DIR: '/env/jobs' })), '/env/jobs');
  const s3 = config({ jobsDir: '/shared/jobs', artifacts: 's3://bucket/geul/prod' });
  assert.deepEqual([s3.jobs.artifacts.store, s3.jobs.artifacts.bucket, s3.jobs.artifacts.prefix, jobsDir(s3)], ['s3', 'bucket', 'geul/prod/', '/shared/jobs']);
  // Without --artifacts the store is the job folders (nothing copied), as in embedded mode.
  assert.equal(((await openArtifactStore(config({ jobsDir: '/shared/jobs' }))) as LocalArtifactStore).root, '/shared/jobs');
});
