// Two API servers in Redis mode (in-process, inject()) sharing one Redis and one jobs folder, each with its own data
// dir: a file uploaded on A is known to B (GET, content, list, a batch that names it), and deleted on B it is gone on A.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/server/app.js';
import { fixturesDir } from '../helpers/fixtures.js';
import { dropRedisPrefix, redisUrl, uniqueRedisPrefix } from '../helpers/redis.js';
import { post, serverConfig } from '../helpers/server.js';
import { multipartBody, waitFor } from '../jobs/helpers.js';

type Json = Record<string, unknown> & { id: string; data: { id: string }[] };
const get = async (app: FastifyInstance, url: string) => {
  const res = await app.inject({ method: 'GET', url });
  return { status: res.statusCode, body: res.body, json: () => JSON.parse(res.body) as Json };
};

test('replicas on one Redis share file records: upload on A, read, list, batch and delete on B', { timeout: 120_000 }, async (t) => {
  const url = await redisUrl(t);
  if (!url) return;
  const prefix = uniqueRedisPrefix();
  const shared = mkdtempSync(join(tmpdir(), 'geul-files-replicas-'));
  const replica = async (withWorker: boolean) => buildServer(serverConfig(
    { modelsDir: await fixturesDir(), defaults: { embeddings: 'tiny-bert-embed' } },
    { redis: url, redisPrefix: prefix, jobs: { dir: join(shared, 'jobs'), withWorker, attempts: 1 } },
  ));
  const a = await replica(false);
  const b = await replica(true);
  t.after(async () => {
    await a.close();
    await b.close();
    await dropRedisPrefix(url, prefix);
  });

  const lines = Array.from({ length: 4 }, (_, i) => ({ custom_id: `r${i}`, method: 'POST', url: '/v1/embeddings', body: { input: `text number ${i}` } }));
  const content = lines.map((l) => JSON.stringify(l)).join('\n');
  const { payload, contentType } = multipartBody({ purpose: 'batch' }, { name: 'requests.jsonl', content });
  const uploaded = await a.inject({ method: 'POST', url: '/v1/files', payload, headers: { 'content-type': contentType } });
  assert.equal(uploaded.statusCode, 200, uploaded.body);
  const file = JSON.parse(uploaded.body) as Json;

  // B has its own SQLite: the record can only come from Redis, the bytes from the shared jobs folder.
  const onB = await get(b, `/v1/files/${file.id}`);
  assert.equal(onB.status, 200, onB.body);
  assert.deepEqual(onB.json(), file);
  assert.equal((await get(b, `/v1/files/${file.id}/content`)).body, content);
  const data = await a.inject({ method: 'POST', url: '/v1/files', ...(() => {
    const m = multipartBody({ purpose: 'data' }, { name: 'texts.txt', content: 'one\ntwo\n' });
    return { payload: m.payload, headers: { 'content-type': m.contentType } };
  })() });
  const dataId = (JSON.parse(data.body) as Json).id;
  assert.deepEqual((await get(b, '/v1/files')).json().data.map((f) => f.id), [dataId, file.id], 'newest first, on either replica');
  assert.deepEqual((await get(b, '/v1/files?purpose=batch')).json().data.map((f) => f.id), [file.id]);
  assert.deepEqual((await get(b, `/v1/files?limit=1&after=${dataId}`)).json().data.map((f) => f.id), [file.id]);

  // A batch created on B from A's upload runs (on B's worker) and its output file is readable on A.
  const created = await post(b, '/v1/batches', { input_file_id: file.id, endpoint: '/v1/embeddings', completion_window: '24h' });
  assert.equal(created.status, 200, created.body);
  const batchId = created.json().id as string;
  const done = await waitFor(async () => {
    const batch = (await get(a, `/v1/batches/${batchId}`)).json();
    return ['completed', 'failed', 'cancelled'].includes(String(batch.status)) ? batch : undefined;
  }, `batch ${batchId}`, 3000, 50);
  assert.equal(done.status, 'completed', JSON.stringify(done));
  const output = (await get(b, `/v1/files/${String(done.output_file_id)}/content`)).body.trim().split('\n').map((l) => JSON.parse(l) as { custom_id: string; response: { status_code: number } });
  assert.deepEqual(output.map((l) => [l.custom_id, l.response.status_code]).sort(), lines.map((l) => [l.custom_id, 200]));

  // A job submitted on A may name the file too (file ids resolve through Redis on every replica).
  const job = await post(a, '/v1/jobs', { type: 'embed', params: { input: dataId } });
  assert.equal(job.status, 201, job.body);
  const ran = await waitFor(async () => {
    const j = (await get(b, `/v1/jobs/${String(job.json().id)}`)).json();
    return ['succeeded', 'failed', 'cancelled'].includes(String(j.state)) ? j : undefined;
  }, 'the embed job', 3000, 50);
  assert.equal(ran.state, 'succeeded', JSON.stringify(ran));

  // Deleted on B: gone on A, and its bytes are gone from the shared folder.
  const path = join(shared, 'jobs', 'files', `${file.id}.jsonl`);
  assert.ok(existsSync(path));
  const deleted = await b.inject({ method: 'DELETE', url: `/v1/files/${file.id}` });
  assert.equal(deleted.statusCode, 200, deleted.body);
  assert.equal((await get(a, `/v1/files/${file.id}`)).status, 404);
  assert.ok(!existsSync(path));
  assert.ok(!(await get(a, '/v1/files')).json().data.some((f) => f.id === file.id), 'not listed on A either');
});
