// The official `openai` SDK, unchanged, against a server on 127.0.0.1: upload a batch file, create a batch, poll it,
// download its output and error files, page through batches and files, cancel, delete.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI, { toFile } from 'openai';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/server/app.js';
import { fixturesDir } from '../helpers/fixtures.js';
import { serverConfig } from '../helpers/server.js';
import { waitFor } from '../jobs/helpers.js';

let app: FastifyInstance;
let openai: OpenAI;

before(async () => {
  app = await buildServer(serverConfig({ modelsDir: await fixturesDir(), defaults: { embeddings: 'tiny-bert-embed', classify: 'tiny-bert-sentiment' } }));
  openai = new OpenAI({ baseURL: `${await app.listen({ host: '127.0.0.1', port: 0 })}/v1`, apiKey: 'unused-on-loopback', maxRetries: 0, timeout: 30_000 });
});
after(() => app.close());

const requests = (lines: unknown[]) => toFile(Buffer.from(lines.map((l) => JSON.stringify(l)).join('\n')), 'requests.jsonl');
const finished = (id: string) => waitFor(async () => {
  const batch = await openai.batches.retrieve(id);
  return ['completed', 'failed', 'cancelled'].includes(batch.status) ? batch : undefined;
}, `batch ${id}`);

test('files.create → batches.create → retrieve until completed → files.content of the output and error files', { timeout: 120_000 }, async () => {
  const lines = Array.from({ length: 5 }, (_, i) => ({ custom_id: `r${i}`, method: 'POST', url: '/v1/embeddings', body: { model: 'tiny-bert-embed', input: `text ${i}` } }));
  const file = await openai.files.create({ file: await requests([...lines, { custom_id: 'bad', method: 'GET', url: '/v1/embeddings', body: {} }]), purpose: 'batch' });
  assert.equal(file.purpose, 'batch');
  const batch = await openai.batches.create({ input_file_id: file.id, endpoint: '/v1/embeddings', completion_window: '24h', metadata: { by: 'sdk' } });
  assert.equal(batch.input_file_id, file.id);
  const done = await finished(batch.id);
  assert.equal(done.status, 'completed');
  assert.deepEqual(done.request_counts, { total: 6, completed: 5, failed: 1 });

  const output = (await (await openai.files.content(done.output_file_id!)).text()).trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(output.map((o) => o.custom_id).sort(), lines.map((l) => l.custom_id));
  const direct = await openai.embeddings.create({ model: 'tiny-bert-embed', input: 'text 2', encoding_format: 'float' });
  assert.deepEqual(output.find((o) => o.custom_id === 'r2').response.body.data[0].embedding, direct.data[0].embedding);
  const [bad] = (await (await openai.files.content(done.error_file_id!)).text()).trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(bad.custom_id, 'bad');
  assert.match(bad.error.message, /method/);

  const listed: string[] = [];
  for await (const b of openai.batches.list({ limit: 1 })) listed.push(b.id);
  assert.ok(listed.includes(batch.id), 'the SDK pages through batches with after');
  const files: string[] = [];
  for await (const f of openai.files.list({ limit: 2 })) files.push(f.id);
  assert.ok(files.includes(file.id) && files.includes(done.output_file_id!));
  assert.equal((await openai.files.retrieve(done.output_file_id!)).purpose, 'batch_output');
  assert.deepEqual(await openai.files.delete(file.id), { id: file.id, object: 'file', deleted: true });
  const gone = await openai.files.retrieve(file.id).then(() => undefined, (err: unknown) => err);
  assert.ok(gone instanceof OpenAI.NotFoundError);
});

test('a classify batch (geul\'s endpoint through the SDK), and the SDK\'s error classes for a bad request and cancel', { timeout: 120_000 }, async () => {
  const file = await openai.files.create({ file: await requests([{ custom_id: 'c', method: 'POST', url: '/v1/classify', body: { inputs: ['good'] } }]), purpose: 'batch' });
  const done = await finished((await openai.batches.create({ input_file_id: file.id, endpoint: '/v1/classify' as '/v1/embeddings', completion_window: '24h' })).id);
  const [line] = (await (await openai.files.content(done.output_file_id!)).text()).trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(line.response.body.map((r: { label: string }[]) => r.map((x) => x.label).sort()), [['NEGATIVE', 'POSITIVE']], 'one ranked list per input, as POST /v1/classify');

  const invalid = await openai.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' }).then(() => undefined, (err: unknown) => err);
  assert.ok(invalid instanceof OpenAI.BadRequestError);
  assert.match(invalid.message, /endpoint/);
  const finishedBatch = await openai.batches.cancel(done.id);
  assert.equal(finishedBatch.status, 'completed', 'a finished batch stays as it is');
});
