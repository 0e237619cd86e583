// A stream that fails on the server's side after its 200 was sent is refunded like a 5xx answer; a finished one is charged.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { geulError } from '../../src/core/errors.js';
import { buildServer } from '../../src/server/app.js';
import { Inference } from '../../src/server/inference.js';
import type { Task } from '../../src/tasks/types.js';
import { KeyStore, parseQuota, utcDay } from '../../src/store/keys.js';
import { post, serverConfig } from '../helpers/server.js';

/** The real inference service, except that generation streams one piece and then fails (or finishes) as told. */
class ScriptedInference extends Inference {
  failMidStream = true;
  override load(): Promise<unknown> {
    return Promise.resolve(true);
  }
  override async stream(_task: Task, _item: unknown, _options: Record<string, unknown>, onText: (text: string) => void): Promise<unknown> {
    onText('piece');
    if (this.failMidStream) throw geulError('INTERNAL');
    return { text: 'piece', tokens: 1, finish_reason: 'length' };
  }
}

const keys = new KeyStore(':memory:');
let app: FastifyInstance;
let inference: ScriptedInference;

before(async () => {
  const config = serverConfig({ auth: 'required', defaults: { generate: 'acme/any' } });
  inference = new ScriptedInference(config);
  app = await buildServer(config, { keys, inference });
});
after(async () => {
  await app.close();
  keys.close();
});

for (const [route, body] of [['/v1/generate', { inputs: 'abcd', stream: true }], ['/v1/completions', { prompt: 'abcd', stream: true }]] as const) {
  test(`${route}: a mid-stream server failure costs nothing, a finished stream is charged`, async () => {
    const { key, info } = keys.create({ name: `quota${route.replace(/\//g, '-')}`, scopes: ['tasks'], quota: parseQuota('1000chars/day') });
    const headers = { authorization: `Bearer ${key}` };
    inference.failMidStream = true;
    const failed = await post(app, route, body, headers);
    assert.equal(failed.status, 200, failed.body);
    assert.match(failed.body, /piece/);
    assert.match(failed.body, /INTERNAL/);
    assert.equal(keys.usage(info.id, utcDay(Date.now())), 0, 'the failed stream was refunded');
    inference.failMidStream = false;
    const done = await post(app, route, body, headers);
    assert.equal(done.status, 200, done.body);
    assert.ok(keys.usage(info.id, utcDay(Date.now())) > 0, 'a finished stream is charged');
  });
}
