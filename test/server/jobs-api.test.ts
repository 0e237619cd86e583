// /v1/jobs over inject(): submit → 201 in the shape, watch over SSE with a Last-Event-ID reconnect, the embed
// output row by row, artifacts (Range, no path escape), cancel, cursor lists, 400s naming the field.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/server/app.js';
import { fixturesDir } from '../helpers/fixtures.js';
import { post, serverConfig } from '../helpers/server.js';
import { parseSse, waitFor, writeTextsJsonl, writeToyTsv } from '../jobs/helpers.js';
import type { ApiBody, JobBody } from '../jobs/helpers.js';

const work = mkdtempSync(join(tmpdir(), 'geul-jobs-api-'));
let app: FastifyInstance;

before(async () => {
  const fixtures = await fixturesDir();
  app = await buildServer(serverConfig({ defaults: { embeddings: join(fixtures, 'tiny-bert-embed') } }));
  writeTextsJsonl(join(work, 'texts.jsonl'), 120);
  writeToyTsv(join(work, 'toy.tsv'));
});
after(() => app.close());

/** Reads a live SSE stream over a real port until `enough` events came, then drops the connection. */
async function readSome(url: string, headers: Record<string, string>, enough: number): Promise<ReturnType<typeof parseSse>> {
  const controller = new AbortController();
  const res = await fetch(url, { headers, signal: controller.signal });
  const reader = res.body!.getReader();
  let text = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    text += Buffer.from(value).toString();
    const events = parseSse(text.slice(0, text.lastIndexOf('\n\n') + 2));
    if (events.length >= enough) {
      controller.abort();
      return events;
    }
  }
  return parseSse(text);
}

const get = async (url: string, headers: Record<string, string> = {}) => {
  const res = await app.inject({ method: 'GET', url, headers });
  return { status: res.statusCode, headers: res.headers, body: res.body, json: () => JSON.parse(res.body) as ApiBody };
};
const finished = (id: string) => waitFor(async () => {
  const job = (await get(`/v1/jobs/${id}`)).json();
  return ['succeeded', 'failed', 'cancelled'].includes(job.state) ? job : undefined;
}, `job ${id} to finish`);

test('an embed job: 201 with the job object, SSE replay from Last-Event-ID, every row once in input order, Range downloads', { timeout: 120_000 }, async () => {
  const res = await post(app, '/v1/jobs', { type: 'embed', params: { input: join(work, 'texts.jsonl'), id: 'id', chunkSize: 25 } });
  assert.equal(res.status, 201, res.body);
  const job = res.json() as ApiBody;
  assert.deepEqual(Object.keys(job).sort(), ['artifacts', 'created_at', 'error', 'finished_at', 'id', 'object', 'params', 'progress', 'started_at', 'state', 'type'].sort());
  assert.equal(job.object, 'job');
  assert.equal(job.type, 'embed');
  assert.equal(job.params.chunkSize, 25);
  assert.equal(job.params.pooling, 'mean', 'defaults are applied and shown');
  assert.deepEqual(Object.keys(job.progress).sort(), ['eta_s', 'step', 'total']);

  const stream = await get(`/v1/jobs/${job.id}/events`);
  assert.match(String(stream.headers['content-type']), /text\/event-stream/);
  const events = parseSse(stream.body);
  assert.deepEqual(events.filter((e) => e.event === 'state').map((e) => e.data.state), ['queued', 'running', 'succeeded']);
  assert.equal(events.at(-1)?.event, 'state', 'the stream ends after the final state');
  assert.ok(events.some((e) => e.event === 'progress' && e.data.step === 120 && e.data.total === 120));
  for (let i = 1; i < events.length; i++) assert.ok(events[i].id > events[i - 1].id, 'event ids increase');
  const middle = events[Math.floor(events.length / 2)].id;
  const replay = parseSse((await get(`/v1/jobs/${job.id}/events`, { 'last-event-id': String(middle) })).body);
  assert.deepEqual(replay.map((e) => e.id), events.filter((e) => e.id > middle).map((e) => e.id), 'a reconnect replays exactly what came after its id');

  const done = await finished(job.id);
  assert.equal(done.state, 'succeeded', JSON.stringify(done.error));
  assert.deepEqual(done.progress, { step: 120, total: 120, eta_s: null });
  const artifact = done.artifacts.find((a: { name: string }) => a.name === 'embeddings.jsonl');
  assert.ok(artifact, JSON.stringify(done.artifacts));
  assert.ok(!done.artifacts.some((a: { name: string }) => a.name.startsWith('.')), 'internal state files are not artifacts');
  const file = await get(artifact.url);
  assert.equal(file.status, 200);
  assert.equal(Number(file.headers['content-length']), artifact.bytes);
  const rows = file.body.trim().split('\n').map((l) => JSON.parse(l) as { index: number; id: string; embedding: number[] });
  assert.deepEqual(rows.map((r) => r.index), Array.from({ length: 120 }, (_, i) => i));
  assert.deepEqual(rows.map((r) => r.id), Array.from({ length: 120 }, (_, i) => `r${i}`));
  // The vectors are the model's: the same as POST /v1/embeddings gives for that text.
  const direct = (await post(app, '/v1/embeddings', { input: 'cat rain number 0' })).json() as { data: { embedding: number[] }[] };
  direct.data[0].embedding.forEach((v, d) => assert.ok(Math.abs(v - rows[0].embedding[d]) < 1e-5));

  const part = await get(artifact.url, { range: 'bytes=0-9' });
  assert.equal(part.status, 206);
  assert.equal(part.headers['content-range'], `bytes 0-9/${artifact.bytes}`);
  assert.equal(part.body, file.body.slice(0, 10));
  assert.equal((await get(artifact.url, { range: `bytes=${artifact.bytes + 5}-` })).status, 416);
  for (const escape of ['..%2F..%2Fjobs.sqlite', '.embeddings.jsonl.state.json', '%2e%2e/%2e%2e/jobs.sqlite', 'nothing.txt']) {
    assert.equal((await get(`/v1/jobs/${job.id}/artifacts/${escape}`)).status, 404, escape);
  }
});

test('a live stream dropped mid-job and resumed with Last-Event-ID misses nothing and repeats nothing', { timeout: 120_000 }, async () => {
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  const res = await post(app, '/v1/jobs', { type: 'embed', params: { input: join(work, 'texts.jsonl'), chunkSize: 2 } });
  const { id } = res.json();
  const first = await readSome(`${address}/v1/jobs/${id}/events`, {}, 4);
  assert.equal(first.length, 4);
  const rest = await readSome(`${address}/v1/jobs/${id}/events`, { 'last-event-id': String(first.at(-1)!.id) }, Infinity);
  assert.equal(rest.at(-1)?.data.state, 'succeeded', 'the resumed stream runs to the final state');
  const whole = parseSse((await get(`/v1/jobs/${id}/events`)).body);
  assert.deepEqual([...first, ...rest].map((e) => e.id), whole.map((e) => e.id));
});

test('a job that fails: state failed with the catalog error, in the job and as its final state event', { timeout: 60_000 }, async () => {
  const res = await post(app, '/v1/jobs', { type: 'embed', params: { input: join(work, 'texts.jsonl'), text: 'body' } });
  const job = await finished(res.json().id as string);
  assert.equal(job.state, 'failed');
  assert.equal(job.error?.code, 'DATA_COLUMN_MISSING');
  assert.match(job.error!.message, /Column "body" is missing/);
  assert.deepEqual(job.artifacts, [], 'nothing half-written is published');
  const events = parseSse((await get(`/v1/jobs/${job.id}/events`)).body);
  assert.deepEqual(events.at(-1)?.data, { state: 'failed', error: job.error });
});

test('invalid params: 400 naming the field', async () => {
  const cases: [unknown, RegExp][] = [
    [{ type: 'train', params: { data: { source: 'a.tsv' }, model: { name: 'lstm' }, run: { batchSize: 0 } } }, /params\.run\.batchSize/],
    [{ type: 'train', params: { data: { source: 'a.tsv' }, model: { name: 'lstm' }, colour: 1 } }, /params\.colour: unknown field/],
    [{ type: 'train', params: { data: {}, model: { name: 'lstm' } } }, /params\.data/],
    [{ type: 'embed', params: { input: 'x.jsonl', chunkSize: 'big' } }, /params\.chunkSize/],
    [{ type: 'word2vec', params: { corpus: [] } }, /params\.corpus/],
    [{ type: 'paint', params: {} }, /type: unknown job type "paint"/],
    [{ params: {} }, /request/],
  ];
  for (const [body, message] of cases) {
    const res = await post(app, '/v1/jobs', body);
    assert.equal(res.status, 400, res.body);
    assert.equal(res.json().error?.code, 'INVALID_INPUT');
    assert.match(res.json().error!.message, message);
  }
});

test('cancel: a running training job stops after a checkpoint, the queued one behind it at once; lists page with a cursor', { timeout: 120_000 }, async () => {
  const train = (epochs: number) => post(app, '/v1/jobs', {
    type: 'train', params: { data: { source: join(work, 'toy.tsv'), maxLength: 10, vocabSize: 50 }, model: { name: 'lstm', dim: 8, hidden: 8 }, run: { epochs, batchSize: 8, seed: 3, threads: 1 } },
  });
  const first = await train(1000);
  assert.equal(first.status, 201, first.body);
  const running = first.json() as { id: string };
  const queued = (await train(1)).json() as { id: string };
  const underway = await waitFor(async () => {
    const job = (await get(`/v1/jobs/${running.id}`)).json() as JobBody;
    assert.ok(job.progress, JSON.stringify(job));
    return job.progress.step > 0 ? job : undefined;
  }, 'the first training steps');
  assert.equal(underway.state, 'running');
  assert.equal(typeof underway.progress.total, 'number', JSON.stringify(underway.progress));
  const eta = underway.progress.eta_s;
  assert.ok(typeof eta === 'number' && Number.isFinite(eta) && eta >= 0, `a running job with a total has an ETA: ${JSON.stringify(underway.progress)}`);
  assert.equal((await get('/health')).status, 200, 'the server answers while a job computes (in its child process)');
  const cancelledQueued = (await post(app, `/v1/jobs/${queued.id}/cancel`, {})).json();
  assert.equal(cancelledQueued.state, 'cancelled', 'a queued job is cancelled at once');
  assert.equal((await post(app, `/v1/jobs/${running.id}/cancel`, {})).status, 200);
  const done = await finished(running.id);
  assert.equal(done.state, 'cancelled');
  assert.ok(done.artifacts.some((a: { name: string }) => a.name === 'run/checkpoint.bin'), 'cancel wrote a checkpoint first');
  const events = parseSse((await get(`/v1/jobs/${running.id}/events`)).body);
  assert.equal(events.at(-1)?.data.state, 'cancelled');
  assert.ok(events.some((e) => e.event === 'metrics' && typeof e.data.loss === 'number'), 'training metrics are recorded');

  const page1 = (await get('/v1/jobs?limit=2')).json();
  assert.equal(page1.object, 'list');
  assert.deepEqual(page1.data.map((j: { id: string }) => j.id), [queued.id, running.id], 'newest first');
  assert.equal(page1.has_more, true);
  const page2 = (await get(`/v1/jobs?limit=3&after=${running.id}`)).json();
  assert.equal(page2.has_more, false);
  assert.deepEqual(page2.data.map((j) => j.type), ['embed', 'embed', 'embed'], 'the embed jobs of the tests before');
  const cancelled = (await get('/v1/jobs?state=cancelled&type=train')).json();
  assert.deepEqual(cancelled.data.map((j: { id: string }) => j.id).sort(), [queued.id, running.id].sort());
  assert.equal((await get('/v1/jobs?state=sleeping')).status, 400);
  assert.equal((await get('/v1/jobs/job_nope')).status, 404);
  assert.ok(!existsSync(join(work, 'run')), 'jobs write only into their own folders');
});
