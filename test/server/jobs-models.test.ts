// Which models a training job may start from over HTTP: a finetune base or pretrain tokenizer must be a model of the
// server's catalog (--models) by name, resolved to its folder; a server path or a hub id is refused for non-admin keys
// (400 naming the field), admins may name any; and every new job type's invalid params are a 400 naming the field.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { GeulConfig } from '../../src/core/config.js';
import { SqliteJobQueue } from '../../src/jobs/sqlite-queue.js';
import { buildServer } from '../../src/server/app.js';
import { KeyStore } from '../../src/store/keys.js';
import { fixturesDir } from '../helpers/fixtures.js';
import { post, serverConfig } from '../helpers/server.js';

let app: FastifyInstance;
let config: GeulConfig;
let fixtures: string;
let queue: SqliteJobQueue;
const keys = new KeyStore(':memory:');
const alice = keys.create({ name: 'alice', scopes: ['jobs'] }).key;
const admin = keys.create({ name: 'root', scopes: ['admin'] }).key;
const auth = (key: string) => ({ authorization: `Bearer ${key}` });

before(async () => {
  fixtures = await fixturesDir();
  config = serverConfig({ auth: 'required', modelsDir: fixtures }, { jobs: { concurrency: 0 } });
  app = await buildServer(config, { keys });
  queue = SqliteJobQueue.open(config.dataDir);
});
after(async () => {
  await app.close();
  await queue.close();
  keys.close();
});

/** What the runner would get for a submitted job. */
const runParams = async (id: string) => (await queue.get(id))!.runParams as { model: { base?: string; tokenizer?: string } };
const finetune = (base: string) => ({ type: 'finetune', params: { data: { source: 'hf://datasets/owner/data' }, model: { base } } });

test('a non-admin key fine-tunes a catalog model by name; the runner gets its folder, the client sees the name', async () => {
  const res = await post(app, '/v1/jobs', finetune('tiny-bert-mlm'), auth(alice));
  assert.equal(res.status, 201, res.body);
  const job = res.json() as { id: string; params: { model: { base: string } } };
  assert.equal(job.params.model.base, 'tiny-bert-mlm');
  assert.equal((await runParams(job.id)).model.base, join(fixtures, 'tiny-bert-mlm'));
});

test('a non-admin key may not name a server folder, a relative path or a hub id as a base or tokenizer', async () => {
  for (const base of [join(fixtures, 'tiny-bert-mlm'), '../data', 'tiny-bert-mlm/../tiny-gpt2', 'google-bert/bert-base-uncased']) {
    const res = await post(app, '/v1/jobs', finetune(base), auth(alice));
    assert.equal(res.status, 400, base);
    assert.match(res.json().error!.message, /params\.model\.base: no model/, base);
  }
  const pretrain = await post(app, '/v1/jobs', { type: 'pretrain', params: { data: { sources: ['hf://datasets/a/b'] }, model: { size: 'tiny', tokenizer: '/etc' } } }, auth(alice));
  assert.equal(pretrain.status, 400);
  assert.match(pretrain.json().error!.message, /params\.model\.tokenizer: no model/);
  const train = await post(app, '/v1/jobs', { type: 'train', params: { data: { source: 'hf://datasets/a/b', tokenizer: '/etc' }, model: { name: 'lstm' } } }, auth(alice));
  assert.equal(train.status, 400);
  assert.match(train.json().error!.message, /params\.data\.tokenizer: no model/);
});

test('an admin key may name a folder on the server; it reaches the runner unchanged', async () => {
  const folder = join(fixtures, 'tiny-bert-mlm');
  const res = await post(app, '/v1/jobs', finetune(folder), auth(admin));
  assert.equal(res.status, 201, res.body);
  assert.equal((await runParams((res.json() as { id: string }).id)).model.base, folder);
});

test('invalid params of the new job types: 400 naming the field', async () => {
  const cases: [unknown, RegExp][] = [
    [{ type: 'classify', params: { input: 'file-x', top_k: 0 } }, /params\.top_k/],
    [{ type: 'translate', params: {} }, /params\.input: is required/],
    [{ type: 'translate', params: { input: 'file-x', num_beams: 40 } }, /params\.num_beams/],
    [{ type: 'finetune', params: { data: { source: 'x' }, model: { base: 'tiny-bert-mlm' }, run: { epochs: 0 } } }, /params\.run\.epochs/],
    [{ type: 'pretrain', params: { data: { sources: ['x'] }, model: { vocabSize: 100 } } }, /params\.model\.size/],
  ];
  for (const [body, field] of cases) {
    const res = await post(app, '/v1/jobs', body, auth(admin));
    assert.equal(res.status, 400, JSON.stringify(body));
    assert.match(res.json().error!.message, field, JSON.stringify(body));
  }
});
