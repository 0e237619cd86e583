// A training job's validation file over HTTP (inject): `data.valid` as an uploaded file or an allowed server dataset;
// all of `data.source` trains and the held-out metrics (metrics.json) count exactly the validation file's rows.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/server/app.js';
import { fixturesDir } from '../helpers/fixtures.js';
import { post, serverConfig } from '../helpers/server.js';
import { multipartBody, waitFor, writeToyTsv, type ApiBody } from '../jobs/helpers.js';

const TRAIN_ROWS = 48;
const VALID_ROWS = 18;
const work = mkdtempSync(join(tmpdir(), 'geul-jobs-valid-'));
let app: FastifyInstance;

before(async () => {
  writeToyTsv(join(work, 'train.tsv'), TRAIN_ROWS);
  writeToyTsv(join(work, 'held-out.tsv'), VALID_ROWS);
  app = await buildServer(serverConfig({ modelsDir: await fixturesDir(), datasets: { heldout: join(work, 'held-out.tsv') } }));
});
after(() => app.close());

interface RunMetrics { labels: string[]; confusion: number[][]; per_class: Record<string, { support: number }> }

async function upload(path: string): Promise<string> {
  const { payload, contentType } = multipartBody({ purpose: 'data' }, { name: basename(path), content: readFileSync(path) });
  const res = await app.inject({ method: 'POST', url: '/v1/files', payload, headers: { 'content-type': contentType } });
  assert.equal(res.statusCode, 200, res.body);
  return (res.json() as { id: string }).id;
}

/** Submits a job, waits for it to end, and returns its run's metrics.json. */
async function runToMetrics(type: string, params: Record<string, unknown>): Promise<{ job: ApiBody; metrics: RunMetrics }> {
  const res = await post(app, '/v1/jobs', { type, params });
  assert.equal(res.status, 201, res.body);
  const id = (res.json() as ApiBody).id;
  const job = await waitFor(async () => {
    const body = (await app.inject({ url: `/v1/jobs/${id}` })).json() as ApiBody;
    return ['succeeded', 'failed', 'cancelled'].includes(body.state) ? body : undefined;
  }, `job ${id}`);
  assert.equal(job.state, 'succeeded', JSON.stringify(job.error));
  const metrics = await app.inject({ url: `/v1/jobs/${id}/artifacts/run/metrics.json` });
  assert.equal(metrics.statusCode, 200, metrics.body);
  return { job, metrics: metrics.json() as RunMetrics };
}

function assertHeldOutIsTheValidationFile(metrics: RunMetrics): void {
  assert.equal(metrics.confusion.flat().reduce((a, b) => a + b, 0), VALID_ROWS, 'the confusion matrix counts the validation rows');
  assert.deepEqual(metrics.labels.map((l) => metrics.per_class[l]!.support), [VALID_ROWS / 2, VALID_ROWS / 2]);
}

test('train: an uploaded training file, a server dataset as validation data', { timeout: 120_000 }, async () => {
  const source = await upload(join(work, 'train.tsv'));
  const { job, metrics } = await runToMetrics('train', {
    data: { source, valid: 'dataset:heldout', maxLength: 10, vocabSize: 50 }, model: { name: 'lstm', dim: 8, hidden: 8 },
    run: { epochs: 1, batchSize: 16, seed: 3, threads: 1 },
  });
  assert.equal((job.params.data as { valid: string }).valid, 'dataset:heldout', 'the job shows the validation data as given');
  // 48 rows in batches of 16: 3 steps, so none of the training rows was held out.
  assert.equal(job.progress.total, TRAIN_ROWS / 16);
  assertHeldOutIsTheValidationFile(metrics);
});

test('finetune: a fixture encoder, an uploaded validation file', { timeout: 120_000 }, async () => {
  const [source, valid] = [await upload(join(work, 'train.tsv')), await upload(join(work, 'held-out.tsv'))];
  const { job, metrics } = await runToMetrics('finetune', {
    data: { source, valid }, model: { base: 'tiny-bert-embed' }, run: { epochs: 1, batchSize: 16, seed: 3, threads: 1 },
  });
  assert.equal(job.progress.total, TRAIN_ROWS / 16);
  assertHeldOutIsTheValidationFile(metrics);
});
