// A real `geul serve` SIGKILLed in the middle of an OpenAI batch, then restarted on the same data dir: the batch's job
// is re-queued, resumes after its last committed chunk, and the output file answers every custom_id exactly once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixturesDir } from '../helpers/fixtures.js';
import { spawnServe, type SpawnedServer } from '../helpers/server.js';
import { parseSse, waitFor } from '../jobs/helpers.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

async function serve(dir: string): Promise<SpawnedServer> {
  const config = join(dir, 'config.json');
  writeFileSync(config, JSON.stringify({ jobs: { heartbeatMs: 100 } }));
  return spawnServe(['--import', 'tsx', 'src/cli/bin.ts', 'serve', '--port', '0', '--workers', '1', '--data-dir', join(dir, 'data'),
    '--default', `embeddings=${join(await fixturesDir(), 'tiny-bert-embed')}`, '--log-level', 'warn'], { ...process.env, GEUL_CONFIG: config });
}
const getJson = async (url: string) => (await (await fetch(url)).json()) as Json;

test('SIGKILL during a batch: after a restart every custom_id is answered exactly once', { timeout: 240_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'geul-batches-crash-'));
  const lines = 2000;
  const requests = Array.from({ length: lines }, (_, i) => JSON.stringify({ custom_id: `id-${i}`, method: 'POST', url: '/v1/embeddings', body: { input: `sentence number ${i}` } })).join('\n');
  const first = await serve(dir);
  const exited = new Promise((resolve) => first.child.on('exit', resolve));
  let second: SpawnedServer | undefined;
  try {
    const form = new FormData();
    form.set('purpose', 'batch');
    form.set('file', new Blob([requests]), 'requests.jsonl');
    const file = (await (await fetch(`${first.url}/v1/files`, { method: 'POST', body: form })).json()) as Json;
    const created = await fetch(`${first.url}/v1/batches`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ input_file_id: file.id, endpoint: '/v1/embeddings', completion_window: '24h' }) });
    assert.equal(created.status, 200);
    const batch = (await created.json()) as Json;
    const jobId = `job_${String(batch.id).slice('batch_'.length)}`;
    await waitFor(async () => {
      const job = await getJson(`${first.url}/v1/jobs/${jobId}`);
      assert.ok(job.state === 'queued' || job.state === 'running', `the batch ended before the crash: ${JSON.stringify(job)}`);
      return job.progress.step >= 200 ? job : undefined;
    }, 'the batch to get going', 6000, 10);
    first.child.kill('SIGKILL');
    await exited;

    second = await serve(dir);
    const url = second.url;
    const done = await waitFor(async () => {
      const b = await getJson(`${url}/v1/batches/${batch.id}`);
      return ['completed', 'failed', 'cancelled'].includes(b.status) ? b : undefined;
    }, 'the resumed batch to finish', 6000, 50);
    assert.equal(done.status, 'completed', JSON.stringify(done));
    assert.deepEqual(done.request_counts, { total: lines, completed: lines, failed: 0 });
    const events = parseSse(await (await fetch(`${url}/v1/jobs/${jobId}/events`)).text());
    const restartAt = events.findIndex((e) => e.event === 'log' && /attempt 2/.test(String(e.data.message)));
    assert.ok(restartAt > 0, 'the job ran again after the restart');
    const resumedFrom = events.slice(restartAt).find((e) => e.event === 'progress')?.data.step as number;
    assert.ok(resumedFrom >= 192 && resumedFrom < lines, `resumed after the committed chunks (line ${resumedFrom}), not from the start`);
    const output = (await (await fetch(`${url}/v1/files/${done.output_file_id}/content`)).text()).trim().split('\n').map((l) => JSON.parse(l) as Json);
    assert.equal(output.length, lines);
    assert.deepEqual(output.map((o) => o.custom_id), Array.from({ length: lines }, (_, i) => `id-${i}`), 'each once, in input order');
    assert.ok(output.every((o) => o.response.status_code === 200 && o.response.body.data[0].embedding.length > 0));
    assert.equal(done.error_file_id, null, 'no errors: no error file');
  } finally {
    first.child.kill('SIGKILL');
    second?.child.kill('SIGKILL');
  }
});
